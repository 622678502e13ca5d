import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {parse} from 'csv-parse/sync';
import {openRowWriter, type RowValue} from '../../../src/io/rows/write-rows.js';
import {listDir, tempDir} from '../../helpers/tmp.js';

const rows: Record<string, RowValue>[] = [
  {a: 'plain', b: 1.5, c: true},
  {a: 'comma, "quote"\nnewline', b: -2, c: null},
  {a: 'tab\there', b: 0},
];

describe('openRowWriter', () => {
  it('CSV: header plus RFC 4180 quoting, read back by csv-parse', async () => {
    const dir = await tempDir();
    const path = join(dir, 'pairs.csv');
    const writer = await openRowWriter(path, {format: 'csv', columns: ['a', 'b', 'c']});
    await writer.write(rows.slice(0, 2));
    await writer.write(rows.slice(2));
    assert.deepEqual(await writer.commit(), {rows: 3});
    const parsed = parse(await readFile(path, 'utf8')) as string[][];
    assert.deepEqual(parsed, [
      ['a', 'b', 'c'],
      ['plain', '1.5', 'true'],
      ['comma, "quote"\nnewline', '-2', ''],
      ['tab\there', '0', ''],
    ]);
  });

  it('JSONL: one object per line in column order, missing values as null', async () => {
    const dir = await tempDir();
    const path = join(dir, 'pairs.jsonl');
    const writer = await openRowWriter(path, {format: 'jsonl', columns: ['c', 'a', 'b']});
    await writer.write(rows);
    await writer.commit();
    const lines = (await readFile(path, 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(parsed, [
      {c: true, a: 'plain', b: 1.5},
      {c: null, a: 'comma, "quote"\nnewline', b: -2},
      {c: null, a: 'tab\there', b: 0},
    ]);
    assert.deepEqual(Object.keys(parsed[0]!), ['c', 'a', 'b']);
  });

  it('TSV: tabs and newlines inside values become spaces so rows stay one line', async () => {
    const dir = await tempDir();
    const path = join(dir, 'pairs.tsv');
    const writer = await openRowWriter(path, {format: 'tsv', columns: ['a', 'b']});
    await writer.write(rows);
    await writer.commit();
    const lines = (await readFile(path, 'utf8')).split('\n').map((line) => line.split('\t'));
    assert.deepEqual(lines, [['a', 'b'], ['plain', '1.5'], ['comma, "quote" newline', '-2'], ['tab here', '0'], ['']]);
  });

  it('abort leaves nothing behind', async () => {
    const dir = await tempDir();
    const writer = await openRowWriter(join(dir, 'x.csv'), {format: 'csv', columns: ['a']});
    await writer.write([{a: 'x'}]);
    await writer.abort();
    assert.deepEqual(await listDir(dir), []);
  });
});
