/** Reader-side cases of vector files that the write/read round trips in write-vectors.test.ts do not reach. */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SbertkitError} from '../../../src/errors.js';
import {openVectors} from '../../../src/io/vectors/read-vectors.js';
import {collect, tempFile} from '../../helpers/tmp.js';

describe('openVectors: JSONL text encoding', () => {
  const latin1 = Buffer.from('{"id":"a","lang":"fr","embedding":[1,2]}\n{"id":"caf\xe9","lang":"fr","embedding":[3,4]}\n', 'latin1');

  it('fails on invalid UTF-8 with line and byte offset', async () => {
    const path = await tempFile('v.jsonl', latin1);
    const offset = latin1.indexOf(0xe9);
    await assert.rejects(async () => collect((await openVectors(path)).records), (error: unknown) => {
      assert.ok(error instanceof SbertkitError, String(error));
      assert.equal(error.toLine(), `${path}:2: invalid UTF-8 (byte 0xE9 at byte offset ${offset}); convert the file to UTF-8 (e.g. iconv -f latin1 -t UTF-8) or pass --on-invalid-utf8 replace`);
      return true;
    });
  });

  it("reads U+FFFD and counts the line with onInvalidUtf8: 'replace'", async () => {
    const path = await tempFile('v.jsonl', latin1);
    const source = await openVectors(path, {onInvalidUtf8: 'replace'});
    const records = await collect(source.records);
    assert.deepEqual(records.map((r) => r.id), ['a', 'caf\ufffd']);
    assert.deepEqual(Array.from(records[1]!.vector), [3, 4]);
    assert.equal(source.invalidUtf8Lines, 1);
  });
});

describe('openVectors: JSONL ids', () => {
  it('keeps integer ids beyond 2^53 exactly, as their digits', async () => {
    const path = await tempFile('ids.jsonl', '{"id":9007199254740993,"embedding":[1,2]}\n{"id":9007199254740992,"embedding":[3,4]}\n{"id":7,"embedding":[5,6]}\n');
    const records = await collect((await openVectors(path)).records);
    assert.deepEqual(records.map((r) => r.id), ['9007199254740993', '9007199254740992', 7]);
  });
});
