import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {tableFromIPC} from 'apache-arrow';
import {parse} from 'csv-parse/sync';
import {SbertkitError} from '../../../src/errors.js';
import {column, type Column, type RowFormat, type TypedRow} from '../../../src/io/rows/types.js';
import {openRowWriter} from '../../../src/io/rows/write-rows.js';
import {useDuckDb} from '../../helpers/duckdb.js';
import {listDir, tempDir} from '../../helpers/tmp.js';

const COLUMNS = {a: column.string('a'), b: column.float('b'), c: column.bool('c')};
const cols = (...names: (keyof typeof COLUMNS)[]): Column[] => names.map((n) => COLUMNS[n]);

const rows: TypedRow[] = [
  {a: 'plain', b: 1.5, c: true},
  {a: 'comma, "quote"\nnewline', b: -2, c: null},
  {a: 'tab\there', b: 0},
];

describe('openRowWriter', () => {
  it('CSV: header plus RFC 4180 quoting, read back by csv-parse', async () => {
    const dir = await tempDir();
    const path = join(dir, 'pairs.csv');
    const writer = await openRowWriter(path, {format: 'csv', columns: cols('a', 'b', 'c')});
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
    const writer = await openRowWriter(path, {format: 'jsonl', columns: cols('c', 'a', 'b')});
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
    const writer = await openRowWriter(path, {format: 'tsv', columns: cols('a', 'b')});
    await writer.write(rows);
    await writer.commit();
    const lines = (await readFile(path, 'utf8')).split('\n').map((line) => line.split('\t'));
    assert.deepEqual(lines, [['a', 'b'], ['plain', '1.5'], ['comma, "quote" newline', '-2'], ['tab here', '0'], ['']]);
  });

  it('abort leaves nothing behind', async () => {
    const dir = await tempDir();
    const writer = await openRowWriter(join(dir, 'x.csv'), {format: 'csv', columns: cols('a')});
    await writer.write([{a: 'x'}]);
    await writer.abort();
    assert.deepEqual(await listDir(dir), []);
  });
});

describe('typed columns in every format, read back by independent readers', () => {
  const TYPED: Column[] = [
    column.int('n', false),
    column.string('s'),
    column.float('x'),
    column.bool('ok'),
    column.vector('v', 3),
  ];
  const vec = (...values: number[]) => Float32Array.from(values);
  const typedRows: TypedRow[] = [
    {n: 1, s: 'plain', x: 0.25, ok: true, v: vec(0.1, -2, 3.5)},
    {n: -7, s: 'comma, "quote"', x: -1e-9, ok: false, v: vec(1 / 3, 0, -0.5)},
    {n: 2 ** 40, s: null, x: null, ok: null, v: vec(7, 8, 9)},
  ];
  /** What every reader should give back: vectors as float32-rounded plain numbers. */
  const expected = typedRows.map((r) => ({n: r.n, s: r.s, x: r.x, ok: r.ok, v: Array.from(r.v as Float32Array)}));

  const query = useDuckDb();

  async function write(format: RowFormat, name: string): Promise<string> {
    const path = join(await tempDir(), name);
    const writer = await openRowWriter(path, {format, columns: TYPED, metadata: {origin: 'test'}, rowGroupSize: 2});
    await writer.write(typedRows.slice(0, 1));
    await writer.write(typedRows.slice(1));
    assert.deepEqual(await writer.commit(), {rows: typedRows.length});
    return path;
  }

  it('Parquet: DuckDB reads BIGINT, VARCHAR, DOUBLE, BOOLEAN, FLOAT[] and the metadata', async () => {
    const path = await write('parquet', 't.parquet');
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`);
    assert.deepEqual(types.map((t) => `${t.column_name}:${t.column_type}`), ['n:BIGINT', 's:VARCHAR', 'x:DOUBLE', 'ok:BOOLEAN', 'v:FLOAT[]']);
    const got = await query(`SELECT n, s, x, ok, v FROM read_parquet('${path}')`);
    assert.deepEqual(got.map((r) => ({...r, n: Number(r.n as bigint), v: r.v})), expected);
    const meta = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}') WHERE decode(key) = 'origin'`);
    assert.deepEqual(meta, [{k: 'origin', v: 'test'}]);
  });

  for (const format of ['arrow', 'arrow-stream'] as const) {
    it(`${format}: apache-arrow reads the same values, nulls and metadata`, async () => {
      const path = await write(format, format === 'arrow' ? 't.arrow' : 't.arrows');
      const table = tableFromIPC(await readFile(path));
      assert.equal(table.schema.metadata.get('origin'), 'test');
      assert.equal(table.batches.length, 2, 'rowGroupSize 2 gives two record batches');
      const got = table.toArray().map((r) => {
        const o = r.toJSON() as Record<string, unknown>;
        return {n: Number(o.n as bigint), s: o.s, x: o.x, ok: o.ok, v: Array.from(o.v as Iterable<number>)};
      });
      assert.deepEqual(got, expected);
    });
  }

  it('JSONL: typed JSON values, vectors as float32 round-trip numbers', async () => {
    const path = await write('jsonl', 't.jsonl');
    const got = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(got.map((r) => ({...r, v: (r.v as number[]).map(Math.fround)})), expected);
  });

  it('CSV: DuckDB reads the header and values; the vector cell is a JSON array', async () => {
    const path = await write('csv', 't.csv');
    const got = await query(`SELECT n, s, x, ok, v FROM read_csv('${path}', header = true, columns = {'n': 'BIGINT', 's': 'VARCHAR', 'x': 'DOUBLE', 'ok': 'BOOLEAN', 'v': 'VARCHAR'})`);
    assert.deepEqual(
      got.map((r) => ({...r, n: Number(r.n as bigint), v: (JSON.parse(r.v as string) as number[]).map(Math.fround)})),
      expected,
    );
  });

  it('an empty table still has its header (CSV) or schema (Parquet)', async () => {
    for (const [format, name] of [['csv', 'e.csv'], ['parquet', 'e.parquet']] as const) {
      const path = join(await tempDir(), name);
      const writer = await openRowWriter(path, {format, columns: TYPED});
      assert.deepEqual(await writer.commit(), {rows: 0});
      if (format === 'csv') assert.equal(await readFile(path, 'utf8'), 'n,s,x,ok,v\n');
      else assert.deepEqual((await query(`SELECT count(*) AS c FROM read_parquet('${path}')`))[0], {c: 0n});
    }
  });

  it('a missing value in a non-nullable column and an id that is not an integer are one clear error', async () => {
    for (const [row, pattern] of [
      [{s: 'x', v: vec(1, 2, 3)}, /column 'n' has a missing value/],
      [{n: 1.5, v: vec(1, 2, 3)}, /n 1\.5 is not an integer/],
      [{n: 1, v: vec(1, 2)}, /v has 2 values, expected 3/],
    ] as const) {
      const dir = await tempDir();
      const writer = await openRowWriter(join(dir, 'x.jsonl'), {format: 'jsonl', columns: TYPED});
      await assert.rejects(writer.write([row]), (e: unknown) => e instanceof SbertkitError && pattern.test(e.message));
      assert.deepEqual(await listDir(dir), [], 'the failed write removed the temp file');
    }
  });
});
