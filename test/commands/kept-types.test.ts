/**
 * Kept columns keep their types end to end (issue #13): `encode --keep-columns` and similarity's
 * passed-through columns, from JSONL (JSON types) and CSV (strings, or --infer-types) to Parquet
 * (read by DuckDB), Arrow (read by apache-arrow) and JSONL (read by JSON.parse and by its text, for
 * digits a double cannot hold). Every expected value is written out from the inputs below.
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {tableFromIPC, Type} from 'apache-arrow';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {useDuckDb} from '../helpers/duckdb.js';
import {tempDir} from '../helpers/tmp.js';

let dir: string;
let modelDir: string;
let env: Record<string, string>;
const query = useDuckDb();

const JSONL_LINES = [
  '{"text":"the cat sat","n":1,"big":9007199254740993,"price":1.0,"ok":true,"note":null,"meta":{"tags":["a","b"],"rank":12345678901234567890},"code":"007"}',
  '{"text":"a dog ran","n":-2,"big":-5,"price":2.25,"ok":false,"note":"late","meta":[],"code":"x1"}',
  '{"text":"where is it","n":30,"big":0,"price":3,"ok":null,"meta":{},"code":""}',
];
const KEPT = 'n,big,price,ok,note,meta,code';

const CSV = 'text,zip,qty,price,flag,empty\nthe cat sat,02134,3,2.50,true,\na dog ran,10001,-4,1e3,FALSE,\n';

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
  await writeFile(join(dir, 'in.jsonl'), JSONL_LINES.join('\n') + '\n');
  await writeFile(join(dir, 'in.csv'), CSV);
});

const encode = async (input: string, output: string, ...flags: string[]) => {
  const r = await runCli(['encode', join(dir, input), '-o', join(dir, output), '--model', modelDir, '--quiet', ...flags], {env});
  assert.equal(r.code, 0, r.stderr);
  return join(dir, output);
};

const columnTypes = async (path: string) =>
  Object.fromEntries((await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`)).map((r) => [r.column_name, r.column_type]));

describe('encode --keep-columns from JSONL', () => {
  test('Parquet: integers BIGINT (2^53 + 1 exact), decimals DOUBLE, booleans BOOLEAN, null NULL, nested as JSON text', async () => {
    const path = await encode('in.jsonl', 'j.parquet', '--keep-columns', KEPT);
    assert.deepEqual(await columnTypes(path), {
      id: 'BIGINT',
      n: 'BIGINT',
      big: 'BIGINT',
      price: 'DOUBLE',
      ok: 'BOOLEAN',
      note: 'VARCHAR',
      meta: 'VARCHAR',
      code: 'VARCHAR',
      embedding: 'FLOAT[]',
    });
    assert.deepEqual(await query(`SELECT * EXCLUDE (id, embedding) FROM read_parquet('${path}')`), [
      {n: 1n, big: 9007199254740993n, price: 1, ok: true, note: null, meta: '{"tags":["a","b"],"rank":12345678901234567890}', code: '007'},
      {n: -2n, big: -5n, price: 2.25, ok: false, note: 'late', meta: '[]', code: 'x1'},
      {n: 30n, big: 0n, price: 3, ok: null, note: null, meta: '{}', code: ''},
    ]);
    // The nested text is JSON, with the big integer's digits intact.
    assert.deepEqual(await query(`SELECT json_extract_string(meta, '$.rank') AS rank FROM read_parquet('${path}') LIMIT 1`), [{rank: '12345678901234567890'}]);
  });

  test('Arrow: the same types, read by apache-arrow', async () => {
    const path = await encode('in.jsonl', 'j.arrow', '--keep-columns', KEPT);
    const table = tableFromIPC(await readFile(path));
    const kinds = Object.fromEntries(table.schema.fields.map((f) => [f.name, Type[f.type.typeId]]));
    assert.deepEqual(kinds, {id: 'Int', n: 'Int', big: 'Int', price: 'Float', ok: 'Bool', note: 'Utf8', meta: 'Utf8', code: 'Utf8', embedding: 'FixedSizeList'});
    assert.equal((table.schema.fields[1]!.type as {bitWidth: number}).bitWidth, 64);
    const column = (name: string) => [0, 1, 2].map((i) => table.getChild(name)!.get(i) as unknown);
    assert.deepEqual(column('big'), [9007199254740993n, -5n, 0n]);
    assert.deepEqual(column('price'), [1, 2.25, 3]);
    assert.deepEqual(column('ok'), [true, false, null]);
    assert.deepEqual(column('note'), [null, 'late', null]);
  });

  test('JSONL: values round-trip, numbers stay numbers (1.0 a decimal), nested stays nested, null stays null', async () => {
    const path = await encode('in.jsonl', 'j.jsonl', '--keep-columns', KEPT);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    const inputs = JSONL_LINES.map((line) => JSON.parse(line) as Record<string, unknown>);
    lines.forEach((line, i) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      for (const key of KEPT.split(',')) assert.deepEqual(row[key], inputs[i]![key] ?? null, `line ${i + 1} ${key}`);
    });
    // Digits a double cannot hold, and the decimal point of 1.0, are in the text as the input had them.
    assert.match(lines[0]!, /"big":9007199254740993,/);
    assert.match(lines[0]!, /"price":1\.0,/);
    assert.match(lines[0]!, /"meta":\{"tags":\["a","b"\],"rank":12345678901234567890\}/);
    assert.match(lines[2]!, /"price":3,/);
    assert.match(lines[2]!, /"note":null/);
  });

  test('CSV output (similarity pairs): null is an empty field, nested values their JSON text', async () => {
    const pairs = join(dir, 'pairs.jsonl');
    await writeFile(pairs, JSONL_LINES.map((line) => line.replace('"text":', '"a":"x","text":')).join('\n') + '\n');
    const out = join(dir, 'pairs.csv');
    const r = await runCli(['similarity', pairs, '--column1', 'a', '--column2', 'text', '-o', out, '--model', modelDir, '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    const [header, first, , third] = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(header, 'a,text,n,big,price,ok,note,meta,code,score');
    assert.match(first!, /^x,the cat sat,1,9007199254740993,1\.0,true,,"\{""tags"":\[""a"",""b""\],""rank"":12345678901234567890\}",007,/);
    assert.match(third!, /^x,where is it,30,0,3,,,\{\},,/);
  });
});

describe('encode --keep-columns from CSV', () => {
  test('kept columns stay strings without --infer-types (an empty cell stays "")', async () => {
    const path = await encode('in.csv', 'c.parquet', '--keep-columns', 'zip,qty,price,flag,empty');
    const types = await columnTypes(path);
    assert.deepEqual([types.zip, types.qty, types.price, types.flag, types.empty], ['VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR']);
    assert.deepEqual(await query(`SELECT zip, qty, price, flag, empty FROM read_parquet('${path}')`), [
      {zip: '02134', qty: '3', price: '2.50', flag: 'true', empty: ''},
      {zip: '10001', qty: '-4', price: '1e3', flag: 'FALSE', empty: ''},
    ]);
  });

  test('--infer-types: integers, decimals, booleans, empty as null; a leading-zero zip keeps the column text', async () => {
    const path = await encode('in.csv', 'ci.parquet', '--keep-columns', 'zip,qty,price,flag,empty', '--infer-types');
    const types = await columnTypes(path);
    assert.deepEqual([types.zip, types.qty, types.price, types.flag, types.empty], ['VARCHAR', 'BIGINT', 'DOUBLE', 'BOOLEAN', 'VARCHAR']);
    assert.deepEqual(await query(`SELECT zip, qty, price, flag, empty FROM read_parquet('${path}')`), [
      {zip: '02134', qty: 3n, price: 2.5, flag: true, empty: null},
      {zip: '10001', qty: -4n, price: 1000, flag: false, empty: null},
    ]);
    const jsonl = await encode('in.csv', 'ci.jsonl', '--keep-columns', 'zip,qty,price,flag,empty', '--infer-types');
    const rows = (await readFile(jsonl, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // Per value in JSONL: "02134" stays a string, 10001 reads as an integer.
    assert.deepEqual(rows.map(({zip, qty, price, flag, empty}) => ({zip, qty, price, flag, empty})), [
      {zip: '02134', qty: 3, price: 2.5, flag: true, empty: null},
      {zip: 10001, qty: -4, price: 1000, flag: false, empty: null},
    ]);
  });

  test('similarity --infer-types types the passed-through columns, not the two texts', async () => {
    const input = join(dir, 'p.csv');
    await writeFile(input, 's1,s2,label\ntrue,1,5\nfalse,2,0\n');
    const out = join(dir, 'p.parquet');
    const r = await runCli(['similarity', input, '--column1', 's1', '--column2', 's2', '--infer-types', '-o', out, '--model', modelDir, '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    const types = await columnTypes(out);
    assert.deepEqual([types.s1, types.s2, types.label, types.score], ['VARCHAR', 'VARCHAR', 'BIGINT', 'DOUBLE']);
    assert.deepEqual(await query(`SELECT s1, s2, label FROM read_parquet('${out}')`), [
      {s1: 'true', s2: '1', label: 5n},
      {s1: 'false', s2: '2', label: 0n},
    ]);
  });
});

describe('encode --id-column keeps the id\'s type', () => {
  // Written out from these inputs: integer ids (one beyond 2^53), then string ids that look like numbers.
  const INT_IDS = ['{"doc":7,"text":"the cat sat"}', '{"doc":9007199254740993,"text":"a dog ran"}', '{"doc":-3,"text":"where is it"}'];
  const STRING_IDS = ['{"doc":"007","text":"the cat sat"}', '{"doc":"8","text":"a dog ran"}'];
  const MIXED_IDS = ['{"doc":7,"text":"the cat sat"}', '{"doc":"x-1","text":"a dog ran"}'];
  before(async () => {
    await writeFile(join(dir, 'int-ids.jsonl'), INT_IDS.join('\n') + '\n');
    await writeFile(join(dir, 'string-ids.jsonl'), STRING_IDS.join('\n') + '\n');
    await writeFile(join(dir, 'mixed-ids.jsonl'), MIXED_IDS.join('\n') + '\n');
  });

  test('JSONL: integer ids are written as JSON integers (2^53 + 1 exact), string ids as strings', async () => {
    const ints = (await readFile(await encode('int-ids.jsonl', 'int-ids.out.jsonl', '--id-column', 'doc'), 'utf8')).trim().split('\n');
    assert.deepEqual(ints.map((line) => /^\{"id":(-?\d+),/.exec(line)?.[1]), ['7', '9007199254740993', '-3']);
    const strings = (await readFile(await encode('string-ids.jsonl', 'string-ids.out.jsonl', '--id-column', 'doc'), 'utf8')).trim().split('\n');
    assert.deepEqual(strings.map((line) => (JSON.parse(line) as {id: unknown}).id), ['007', '8']);
  });

  test('Parquet: integer ids make a BIGINT id column with exact values, string or mixed ids VARCHAR', async () => {
    const ints = await encode('int-ids.jsonl', 'int-ids.parquet', '--id-column', 'doc');
    assert.equal((await columnTypes(ints)).id, 'BIGINT');
    assert.deepEqual((await query(`SELECT CAST(id AS VARCHAR) AS id FROM read_parquet('${ints}')`)).map((r) => r.id), ['7', '9007199254740993', '-3']);
    const mixed = await encode('mixed-ids.jsonl', 'mixed-ids.parquet', '--id-column', 'doc');
    assert.equal((await columnTypes(mixed)).id, 'VARCHAR');
    assert.deepEqual((await query(`SELECT id FROM read_parquet('${mixed}')`)).map((r) => r.id), ['7', 'x-1']);
  });

  test('CSV ids stay strings (a leading zero kept)', async () => {
    await writeFile(join(dir, 'ids.csv'), 'doc,text\n007,the cat sat\n8,a dog ran\n');
    const path = await encode('ids.csv', 'csv-ids.parquet', '--id-column', 'doc');
    assert.equal((await columnTypes(path)).id, 'VARCHAR');
    assert.deepEqual((await query(`SELECT id FROM read_parquet('${path}')`)).map((r) => r.id), ['007', '8']);
  });
});

describe('vector files re-written', () => {
  test('dedupe of a Parquet vector file keeps its kept columns\' types and values', async () => {
    const parquet = await encode('in.jsonl', 'd.parquet', '--keep-columns', `text,${KEPT}`);
    const out = join(dir, 'd-kept.parquet');
    const r = await runCli(['dedupe', parquet, '--threshold', '0.9999', '-o', out, '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await columnTypes(out), await columnTypes(parquet));
    const rows = `SELECT * EXCLUDE (embedding) FROM read_parquet('%') ORDER BY id`;
    assert.deepEqual(await query(rows.replace('%', out)), await query(rows.replace('%', parquet)));
  });

  test('dedupe of a JSONL vector file keeps JSON types', async () => {
    const jsonl = await encode('in.jsonl', 'd.jsonl', '--keep-columns', `text,${KEPT}`);
    const out = join(dir, 'd-kept.jsonl');
    const r = await runCli(['dedupe', jsonl, '--vectors', '--threshold', '0.9999', '-o', out, '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    const parsed = async (path: string) =>
      (await readFile(path, 'utf8')).trim().split('\n').map((line) => {
        const {embedding: _, ...rest} = JSON.parse(line) as Record<string, unknown>;
        return rest;
      });
    assert.deepEqual(await parsed(out), await parsed(jsonl));
    // And as text: 1.0 stays 1.0, 2^53 + 1 keeps its digits, the nested value is as the input wrote it.
    const first = (await readFile(out, 'utf8')).split('\n')[0]!;
    assert.match(first, /"big":9007199254740993[,}]/);
    assert.match(first, /"price":1\.0[,}]/);
    assert.match(first, /"meta":\{"tags":\["a","b"\],"rank":12345678901234567890\}/);
  });
});

describe('a kept column whose type changes after the first row group', () => {
  test('fails naming file, line and field, exit 2, and leaves no Parquet file', async () => {
    // Integers for the first 65,536 rows (encode's first row group with this model) and beyond, then a
    // string on one later line: the Int64 column cannot hold it.
    const rows = 65_540;
    const stringAt = 65_538; // 0-based row: line 65,539
    const input = join(dir, 'long.jsonl');
    await writeFile(input, Array.from({length: rows}, (_, i) => JSON.stringify({text: `row ${i % 97}`, n: i === stringAt ? 'n/a' : i})).join('\n') + '\n');
    const out = join(dir, 'long.parquet');
    const r = await runCli(['encode', input, '--keep-columns', 'n', '-o', out, '--model', modelDir, '--quiet'], {env});
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, new RegExp(`${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${stringAt + 1}: field 'n' is a string \\("n/a"\\), but the first \\d+ rows made it an Int64 column`));
    await assert.rejects(readFile(out), {code: 'ENOENT'});
  });
});
