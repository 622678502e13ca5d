/**
 * Kept value columns through the row writer: JSONL writes each value as it is, CSV its text, and
 * Parquet/Arrow fix each column's type from the first batch (read back by apache-arrow and DuckDB,
 * not by sbertkit). A later value the fixed type cannot hold fails naming the input line and field,
 * and leaves no file behind.
 */
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {tableFromIPC, Type} from 'apache-arrow';
import {parse} from 'csv-parse/sync';
import {SbertkitError} from '../../../src/errors.js';
import {column, JsonText, ROW_ORIGIN, type TypedRow} from '../../../src/io/rows/types.js';
import {fixedKindOf} from '../../../src/io/rows/value-columns.js';
import {openRowWriter} from '../../../src/io/rows/write-rows.js';
import {useDuckDb} from '../../helpers/duckdb.js';
import {listDir, tempDir} from '../../helpers/tmp.js';

const COLUMNS = ['int', 'dec', 'mixnum', 'flag', 'str', 'nested', 'mixed', 'nothing'].map((name) => column.value(name));

// Two rows per kind of column; the expected outputs below are written out from these by hand.
const ROWS: TypedRow[] = [
  {int: 9007199254740993n, dec: 2.5, mixnum: 1n, flag: true, str: '007', nested: new JsonText('{"a": [1]}', 'nested'), mixed: 7n, nothing: null},
  {int: -1n, dec: 1, mixnum: 0.5, flag: null, str: '', nested: new JsonText('[]', 'nested'), mixed: 'seven'},
];

describe('fixedKindOf', () => {
  const cases: [string, unknown[], string][] = [
    ['integers', [1n, null, -2n], 'int'],
    ['decimals', [1.5, 2], 'float'],
    ['integers and decimals', [1n, 2.5], 'float'],
    ['an integer a double cannot hold among decimals', [9007199254740993n, 2.5], 'string'],
    ['booleans', [true, false, null], 'bool'],
    ['booleans and numbers', [true, 1n], 'string'],
    ['strings', ['a'], 'string'],
    ['nested values', [new JsonText('[]', 'nested')], 'string'],
    ['a number beyond Int64', [new JsonText('1e400', 'number'), 1n], 'string'],
    ['nothing but nulls', [null, undefined], 'string'],
  ];
  for (const [what, cells, kind] of cases) it(`${what} -> ${kind}`, () => assert.equal(fixedKindOf(cells as never[]), kind));
});

const query = useDuckDb();

describe('value columns in each format', () => {
  it('JSONL: values as they are (1.0 stays a decimal, big integers keep their digits, nested as written)', async () => {
    const path = join(await tempDir(), 'v.jsonl');
    const writer = await openRowWriter(path, {format: 'jsonl', columns: COLUMNS});
    await writer.write(ROWS);
    await writer.commit();
    assert.equal(
      await readFile(path, 'utf8'),
      '{"int":9007199254740993,"dec":2.5,"mixnum":1,"flag":true,"str":"007","nested":{"a": [1]},"mixed":7,"nothing":null}\n' +
        '{"int":-1,"dec":1.0,"mixnum":0.5,"flag":null,"str":"","nested":[],"mixed":"seven","nothing":null}\n',
    );
  });

  it('CSV: text, null as an empty field', async () => {
    const path = join(await tempDir(), 'v.csv');
    const writer = await openRowWriter(path, {format: 'csv', columns: COLUMNS});
    await writer.write(ROWS);
    await writer.commit();
    assert.deepEqual(parse(await readFile(path, 'utf8')), [
      ['int', 'dec', 'mixnum', 'flag', 'str', 'nested', 'mixed', 'nothing'],
      ['9007199254740993', '2.5', '1', 'true', '007', '{"a": [1]}', '7', ''],
      ['-1', '1.0', '0.5', '', '', '[]', 'seven', ''],
    ]);
  });

  it('Arrow: one type per column, read back by apache-arrow', async () => {
    const path = join(await tempDir(), 'v.arrow');
    const writer = await openRowWriter(path, {format: 'arrow', columns: COLUMNS});
    await writer.write(ROWS);
    await writer.commit();
    const table = tableFromIPC(await readFile(path));
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, [Type[f.type.typeId], (f.type as {bitWidth?: number}).bitWidth ?? (f.type as {precision?: number}).precision]]));
    assert.deepEqual(types, {
      int: ['Int', 64],
      dec: ['Float', 2], // Precision.DOUBLE
      mixnum: ['Float', 2],
      flag: ['Bool', undefined],
      str: ['Utf8', undefined],
      nested: ['Utf8', undefined],
      mixed: ['Utf8', undefined],
      nothing: ['Utf8', undefined],
    });
    const values = (name: string) => table.getChild(name)!.toArray() as unknown[];
    assert.deepEqual([...(values('int') as unknown as BigInt64Array)], [9007199254740993n, -1n]);
    assert.deepEqual([...(values('dec') as unknown as Float64Array)], [2.5, 1]);
    assert.deepEqual([...(values('mixnum') as unknown as Float64Array)], [1, 0.5]);
    assert.deepEqual([table.getChild('flag')!.get(0), table.getChild('flag')!.get(1)], [true, null]);
    assert.deepEqual([...values('str')], ['007', '']);
    assert.deepEqual([...values('nested')], ['{"a": [1]}', '[]']);
    assert.deepEqual([...values('mixed')], ['7', 'seven']);
    assert.deepEqual([...values('nothing')], [null, null]);
  });

  it('Parquet: the same types and values, read back by DuckDB', async () => {
    const path = join(await tempDir(), 'v.parquet');
    const writer = await openRowWriter(path, {format: 'parquet', columns: COLUMNS});
    await writer.write(ROWS);
    await writer.commit();
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`);
    assert.deepEqual(Object.fromEntries(types.map((r) => [r.column_name, r.column_type])), {
      int: 'BIGINT',
      dec: 'DOUBLE',
      mixnum: 'DOUBLE',
      flag: 'BOOLEAN',
      str: 'VARCHAR',
      nested: 'VARCHAR',
      mixed: 'VARCHAR',
      nothing: 'VARCHAR',
    });
    assert.deepEqual(await query(`SELECT * FROM read_parquet('${path}')`), [
      {int: 9007199254740993n, dec: 2.5, mixnum: 1, flag: true, str: '007', nested: '{"a": [1]}', mixed: '7', nothing: null},
      {int: -1n, dec: 1, mixnum: 0.5, flag: null, str: '', nested: '[]', mixed: 'seven', nothing: null},
    ]);
    // The nested text is JSON DuckDB can read.
    assert.deepEqual(await query(`SELECT json_extract(nested, '$.a[0]')::INTEGER AS a FROM read_parquet('${path}') LIMIT 1`), [{a: 1}]);
  });

  it('an empty table gets value columns as Utf8', async () => {
    const path = join(await tempDir(), 'empty.parquet');
    const writer = await openRowWriter(path, {format: 'parquet', columns: [column.value('k')]});
    await writer.commit();
    const types = await query(`SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`);
    assert.deepEqual(types, [{column_type: 'VARCHAR'}]);
  });
});

describe('value column types across batches', () => {
  const origin = (line: number) => ({[ROW_ORIGIN]: {file: 'in.jsonl', line}});
  const write = async (format: 'parquet' | 'arrow', cells: unknown[]) => {
    const dir = await tempDir();
    const path = join(dir, `v.${format}`);
    const writer = await openRowWriter(path, {format, columns: [column.value('n')], rowGroupSize: 2});
    const result = writer.write(cells.map((n, i) => ({n, ...origin(i + 1)}) as TypedRow)).then(() => writer.commit());
    return {dir, path, result};
  };

  for (const format of ['parquet', 'arrow'] as const) {
    it(`${format}: a string after an Int64 first batch fails naming line and field, and writes no file`, async () => {
      const {dir, result} = await write(format, [1n, 2n, 'three']);
      await assert.rejects(result, (error: unknown) => {
        assert.ok(error instanceof SbertkitError);
        assert.equal(error.field, 'n');
        assert.match(error.toLine(), /^in\.jsonl:3: field 'n' is a string \("three"\), but the first 2 rows made it an Int64 column of .*v\.(parquet|arrow)/);
        return true;
      });
      assert.deepEqual(await listDir(dir), []);
    });
  }

  it('a column with another input field (the id of --id-column) names that field, and stays non-null', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ids.parquet');
    const writer = await openRowWriter(path, {format: 'parquet', columns: [{...column.value('id', false), inputField: 'doc'}], rowGroupSize: 2});
    const result = writer.write([7n, 8n, 'x-9'].map((id, i) => ({id, ...origin(i + 1)}) as TypedRow)).then(() => writer.commit());
    await assert.rejects(result, (error: unknown) => error instanceof SbertkitError && error.field === 'doc' && /^in\.jsonl:3: field 'doc' is a string \("x-9"\), but the first 2 rows made it an Int64 column/.test(error.toLine()));
    const arrowPath = join(dir, 'ids.arrow');
    const ok = await openRowWriter(arrowPath, {format: 'arrow', columns: [{...column.value('id', false), inputField: 'doc'}], rowGroupSize: 2});
    await ok.write([7n, 8n].map((id, i) => ({id, ...origin(i + 1)}) as TypedRow));
    await ok.commit();
    const field = tableFromIPC(await readFile(arrowPath)).schema.fields[0]!;
    assert.equal(field.typeId, Type.Int);
    assert.equal(field.nullable, false);
  });

  it('a decimal after an Int64 first batch fails too (an Int64 cannot hold 2.5)', async () => {
    const {result} = await write('parquet', [1n, 2n, 3n, 2.5]);
    await assert.rejects(result, (error: unknown) => error instanceof SbertkitError && error.line === 4 && /field 'n' is a decimal \(2\.5\), but the first 2 rows made it an Int64 column/.test(error.message));
  });

  it('a Float64 column takes later integers a double holds, and refuses one it does not', async () => {
    const ok = await write('parquet', [0.5, 1n, 2n, -3n]);
    await ok.result;
    assert.deepEqual(await query(`SELECT n, typeof(n) AS t FROM read_parquet('${ok.path}')`), [
      {n: 0.5, t: 'DOUBLE'},
      {n: 1, t: 'DOUBLE'},
      {n: 2, t: 'DOUBLE'},
      {n: -3, t: 'DOUBLE'},
    ]);
    const bad = await write('parquet', [0.5, 1n, 9007199254740993n]);
    await assert.rejects(bad.result, (error: unknown) => error instanceof SbertkitError && /^in\.jsonl:3: field 'n' is an integer \(9007199254740993\), but the first 2 rows made it a Float64 column/.test(error.toLine()));
  });

  it('a Utf8 first batch (strings, or only nulls) takes any later value as its text', async () => {
    const arrow = await write('arrow', [null, null, 5n, true, 2.5, 'x']);
    await arrow.result;
    const table = tableFromIPC(await readFile(arrow.path));
    assert.deepEqual([...table.getChild('n')!.toArray()], [null, null, '5', 'true', '2.5', 'x']);
  });
});
