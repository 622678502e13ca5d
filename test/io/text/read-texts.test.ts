import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SbertkitError} from '../../../src/errors.js';
import {openTexts} from '../../../src/io/text/read-texts.js';
import {JsonText} from '../../../src/io/rows/types.js';
import {collect, fakeStdin, tempFile} from '../../helpers/tmp.js';

function isErrorLine(line: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SbertkitError, `expected SbertkitError, got ${String(error)}`);
    assert.equal(error.toLine(), line);
    return true;
  };
}

describe('openTexts', () => {
  it('picks text, id and kept columns from CSV', async () => {
    const path = await tempFile('t.csv', 'doc,body,lang,other\nd1,"Hello, there",en,x\nd2,Bonjour,fr,y\n');
    const source = await openTexts(path, {textColumn: 'body', idColumn: 'doc', keepColumns: ['lang']});
    assert.deepEqual(source.columns, ['doc', 'body', 'lang', 'other']);
    assert.deepEqual(await collect(source.records), [
      {id: 'd1', text: 'Hello, there', fields: {lang: 'en'}, line: 2, endLine: 2},
      {id: 'd2', text: 'Bonjour', fields: {lang: 'fr'}, line: 3, endLine: 3},
    ]);
  });

  it('passes the row spans through: endLine on each record, headerEndLine on the source', async () => {
    const path = await tempFile('s.csv', '\nid,text\n1,"two\r\nlines"\n\n2,one\n');
    const source = await openTexts(path, {idColumn: 'id'});
    assert.equal(source.headerEndLine, 2);
    assert.deepEqual(await collect(source.records), [
      {id: '1', text: 'two\nlines', fields: {}, line: 3, endLine: 4},
      {id: '2', text: 'one', fields: {}, line: 6, endLine: 6},
    ]);
    assert.equal((await openTexts('-', {format: 'txt', stdin: fakeStdin('a\n')})).headerEndLine, 0);
  });

  it('numbers rows from 0 when there is no id column (txt from stdin)', async () => {
    const source = await openTexts('-', {format: 'txt', stdin: fakeStdin('a\n\nc\n')});
    assert.deepEqual(await collect(source.records), [
      {id: 0, text: 'a', fields: {}, line: 1, endLine: 1},
      {id: 1, text: '', fields: {}, line: 2, endLine: 2},
      {id: 2, text: 'c', fields: {}, line: 3, endLine: 3},
    ]);
  });

  it("reports how many lines had invalid UTF-8 replaced (onInvalidUtf8: 'replace')", async () => {
    const path = await tempFile('l1.csv', Buffer.from('id,text\n1,caf\xe9\n2,ok\n3,na\xefve\n', 'latin1'));
    const source = await openTexts(path, {idColumn: 'id', onInvalidUtf8: 'replace'});
    assert.deepEqual((await collect(source.records)).map((r) => r.text), ['caf\ufffd', 'ok', 'na\ufffdve']);
    assert.equal(source.invalidUtf8Lines, 2);
  });

  it('keeps JSONL integer ids beyond 2^53 exactly: bigints within Int64, their digits beyond', async () => {
    // 2^53 + 1 and 2^53 are one double: read as numbers, these two ids would collide.
    const lines = [
      '{"id": 9007199254740993, "text": "a", "n": 18446744073709551617}',
      '{"id":9007199254740992,"text":"b"}',
      '{ "meta": {"id": 1}, "\\u0069d" : -12345678901234567890123 , "text": "c" }',
      '{"id": 1, "text": "d", "id": 90071992547409931}',
      '{"id": 42, "text": "e"}',
    ];
    const path = await tempFile('big.jsonl', lines.join('\n') + '\n');
    const source = await openTexts(path, {idColumn: 'id', keepColumns: ['n']});
    const records = await collect(source.records);
    assert.deepEqual(records.map((r) => r.id), [9007199254740993n, 9007199254740992n, '-12345678901234567890123', 90071992547409931n, 42]);
    // Beyond Int64 too: kept as its digits (JSON text), never rounded.
    assert.deepEqual(records[0]!.fields, {n: new JsonText('18446744073709551617', 'number')});
  });

  it('keeps JSONL numeric ids as numbers', async () => {
    const path = await tempFile('t.jsonl', '{"id":10,"text":"x","tag":"a"}\n{"id":"s","text":"y"}\n');
    const source = await openTexts(path, {idColumn: 'id', keepColumns: ['tag']});
    assert.deepEqual(await collect(source.records), [
      {id: 10, text: 'x', fields: {tag: 'a'}, line: 1, endLine: 1},
      {id: 's', text: 'y', fields: {}, line: 2, endLine: 2},
    ]);
  });

  it('checks every requested column against the header before reading rows', async () => {
    const path = await tempFile('h.tsv', 'sentence\tscore\nx\t1\n');
    await assert.rejects(
      () => openTexts(path),
      isErrorLine(`${path}:1: column 'text' not found (--text-column); columns are sentence, score`),
    );
    await assert.rejects(
      () => openTexts(path, {textColumn: 'sentence', idColumn: 'key'}),
      isErrorLine(`${path}:1: column 'key' not found (--id-column); columns are sentence, score`),
    );
    await assert.rejects(
      () => openTexts(path, {textColumn: 'sentence', keepColumns: ['score', 'lang']}),
      isErrorLine(`${path}:1: column 'lang' not found (--keep-columns); columns are sentence, score`),
    );
  });

  it('reports a JSONL row whose text field is missing or not a string', async () => {
    const missing = await tempFile('m.jsonl', '{"text":"ok"}\n{"txt":"typo"}\n');
    await assert.rejects(async () => collect((await openTexts(missing)).records), isErrorLine(`${missing}:2: field 'text' is missing`));
    const wrongType = await tempFile('w.jsonl', '{"text":"ok"}\n\n{"text":42}\n');
    await assert.rejects(
      async () => collect((await openTexts(wrongType)).records),
      isErrorLine(`${wrongType}:3: field 'text' is not a string (got number)`),
    );
  });
});
