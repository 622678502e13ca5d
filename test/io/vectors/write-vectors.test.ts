/**
 * Vector writers checked by independent readers (DuckDB for Parquet, apache-arrow's tableFromIPC for
 * Arrow IPC, JSON.parse for JSONL), then read back through openVectors.
 */
import assert from 'node:assert/strict';
import {createReadStream} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {describe, it} from 'node:test';
import {tableFromIPC, type Table} from 'apache-arrow';
import {SbertkitError} from '../../../src/errors.js';
import {openVectors} from '../../../src/io/vectors/read-vectors.js';
import type {VectorFormat} from '../../../src/io/formats.js';
import type {VectorRecord} from '../../../src/io/vectors/types.js';
import {openVectorWriter, type VectorWriterOptions} from '../../../src/io/vectors/write-vectors.js';
import {sqlString, useDuckDb} from '../../helpers/duckdb.js';
import {mulberry32} from '../../helpers/prng.js';
import {collect, listDir, tempDir} from '../../helpers/tmp.js';

const METADATA = {model: 'sentence-transformers/all-MiniLM-L6-v2', dimension: '5', pooling: 'mean', normalize: 'true'};

/** Deterministic float32 values with awkward decimals (not short in base 10). */
function makeRecords(count: number, dimension: number, stringIds = false): VectorRecord[] {
  const rand = mulberry32(12345);
  const next = (): number => rand() - 0.5;
  return Array.from({length: count}, (_, i): VectorRecord => ({
    id: stringIds ? `doc-${i}` : i * 3,
    vector: Float32Array.from({length: dimension}, () => next() * (i % 7 === 0 ? 1e-3 : 2)),
    fields: i % 4 === 3 ? {text: `text ${i}, "quoted"`} : {text: `text ${i}, "quoted"`, lang: i % 2 === 0 ? 'en' : 'de'},
  }));
}

async function writeAll(path: string, records: VectorRecord[], options: Partial<VectorWriterOptions> & {format: VectorFormat}): Promise<void> {
  const writer = await openVectorWriter(path, {
    dimension: records[0]?.vector.length ?? 5,
    idType: typeof records[0]?.id === 'string' ? 'string' : 'int',
    fieldNames: ['text', 'lang'],
    metadata: METADATA,
    ...options,
  });
  // Uneven write sizes, so batches straddle write() calls.
  for (let i = 0; i < records.length; i += 7) await writer.write(records.slice(i, i + 7));
  assert.deepEqual(await writer.commit(), {rows: records.length});
}

/** What openVectors should give back for records written with kept fields text and lang. */
function expectedRecords(records: VectorRecord[]): VectorRecord[] {
  return records.map(({id, vector, fields}) => ({id, vector, fields: {...fields}}));
}

const query = useDuckDb();

describe('Parquet', () => {
  it('is read by DuckDB with ids, kept columns, exact float32 embeddings and key/value metadata', async () => {
    const dir = await tempDir();
    const path = join(dir, 'vectors.parquet');
    const records = makeRecords(23, 5);
    await writeAll(path, records, {format: 'parquet', rowGroupSize: 10});

    const rows = await query(`SELECT id, text, lang, embedding FROM read_parquet(${sqlString(path)}) ORDER BY id`);
    assert.equal(rows.length, records.length);
    rows.forEach((row, i) => {
      const record = records[i]!;
      assert.equal(row.id, BigInt(record.id));
      assert.equal(row.text, record.fields.text);
      assert.equal(row.lang, record.fields.lang ?? null);
      assert.deepEqual(row.embedding, Array.from(record.vector));
    });

    const types = (await query(`SELECT column_type FROM (DESCRIBE SELECT id, text, embedding FROM read_parquet(${sqlString(path)}))`)).map((row) => String(row.column_type));
    assert.equal(types[0], 'BIGINT');
    assert.equal(types[1], 'VARCHAR');
    assert.match(types[2]!, /^FLOAT\[/);

    const kv = await query(`SELECT key::VARCHAR AS key, value::VARCHAR AS value FROM parquet_kv_metadata(${sqlString(path)})`);
    const metadata = Object.fromEntries(kv.map((row) => [row.key, row.value]));
    for (const [key, value] of Object.entries(METADATA)) assert.equal(metadata[key], value, key);

    const source = await openVectors(path);
    assert.equal(source.dimension, 5);
    assert.deepEqual(source.metadata, METADATA);
    assert.deepEqual(source.fieldNames, ['text', 'lang']);
    assert.deepEqual(await collect(source.records), expectedRecords(records));
  });

  it('streams 20k rows as many row groups', async () => {
    const dir = await tempDir();
    const path = join(dir, 'big.parquet');
    const records = makeRecords(20_000, 16, true);
    await writeAll(path, records, {format: 'parquet', rowGroupSize: 3000, fieldNames: []});

    const groups = await query(
      `SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata(${sqlString(path)}) GROUP BY row_group_id ORDER BY row_group_id`,
    );
    assert.deepEqual(groups.map((group) => Number(group.n)), [3000, 3000, 3000, 3000, 3000, 3000, 2000]);
    const ids = await query(`SELECT id FROM read_parquet(${sqlString(path)})`);
    assert.deepEqual(ids.map((row) => row.id), records.map((record) => record.id));
    const sample = await query(`SELECT embedding FROM read_parquet(${sqlString(path)}) WHERE id = 'doc-12345'`);
    assert.deepEqual(sample[0]!.embedding, Array.from(records[12345]!.vector));

    const source = await openVectors(path);
    assert.equal(source.dimension, 16);
    let i = 0;
    for await (const record of source.records) {
      assert.equal(record.id, records[i]!.id);
      assert.deepEqual(record.vector, records[i]!.vector);
      i++;
    }
    assert.equal(i, records.length);
  });

  it('reads a Parquet file written by DuckDB (variable-length list, no id column)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'foreign.parquet');
    await query(
      `COPY (SELECT * FROM (VALUES ('a', [0.5, -1.25]::FLOAT[]), ('b', [2.0, 3.0]::FLOAT[])) t(name, embedding)) TO ${sqlString(path)} (FORMAT parquet)`,
    );
    const source = await openVectors(path);
    assert.equal(source.dimension, 2);
    assert.deepEqual(source.fieldNames, ['name']);
    assert.deepEqual(await collect(source.records), [
      {id: 0, vector: Float32Array.from([0.5, -1.25]), fields: {name: 'a'}},
      {id: 1, vector: Float32Array.from([2, 3]), fields: {name: 'b'}},
    ]);
  });
});

describe('Arrow IPC', () => {
  for (const format of ['arrow', 'arrow-stream'] as const) {
    it(`${format}: read by apache-arrow's tableFromIPC, then round-trips through openVectors`, async () => {
      const dir = await tempDir();
      const path = join(dir, format === 'arrow' ? 'v.arrow' : 'v.arrows');
      const records = makeRecords(30, 5);
      await writeAll(path, records, {format, rowGroupSize: 8});

      const table: Table = tableFromIPC(await readFile(path));
      assert.equal(table.batches.length, 4);
      assert.deepEqual(
        table.schema.fields.map((field) => `${field.name}:${String(field.type)}:${field.nullable}`),
        ['id:Int64:false', 'text:Utf8:true', 'lang:Utf8:true', 'embedding:FixedSizeList[5]<Float32>:false'],
      );
      assert.deepEqual(Object.fromEntries(table.schema.metadata), METADATA);
      assert.deepEqual(Array.from(table.getChild('id')!.toArray() as BigInt64Array), records.map((r) => BigInt(r.id)));
      assert.deepEqual(table.getChild('lang')!.toArray(), records.map((r) => r.fields.lang ?? null));
      records.forEach((record, i) => assert.deepEqual(table.getChild('embedding')!.get(i)!.toArray(), record.vector));

      const source = await openVectors(path, {format});
      assert.equal(source.dimension, 5);
      assert.deepEqual(source.metadata, METADATA);
      assert.deepEqual(await collect(source.records), expectedRecords(records));
    });
  }

  it('arrow-stream to stdout is a valid stream', async () => {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const records = makeRecords(5, 3, true);
    const writer = await openVectorWriter('-', {format: 'arrow-stream', dimension: 3, idType: 'string', stdout});
    await writer.write(records);
    await writer.commit();
    const table = tableFromIPC(Buffer.concat(chunks));
    assert.deepEqual(table.getChild('id')!.toArray(), records.map((r) => r.id));
  });
});

describe('JSONL', () => {
  it('writes the shortest floats that parse back to the same float32', async () => {
    const dir = await tempDir();
    const path = join(dir, 'v.jsonl');
    const records = makeRecords(12, 5);
    records[0]!.vector.set([0.1, 1 / 3, -0, 1e-8, 3.4028234663852886e38]);
    await writeAll(path, records, {format: 'jsonl'});

    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    assert.equal(lines.pop(), '');
    assert.ok(lines[0]!.includes('"embedding":[0.1,0.33333334,-0,1e-8,3.4028235e+38]'), lines[0]);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line) as {id: number; text: string; lang: string | null; embedding: number[]};
      const record = records[i]!;
      assert.deepEqual(Object.keys(parsed), ['id', 'text', 'lang', 'embedding']);
      assert.equal(parsed.id, record.id);
      assert.equal(parsed.text, record.fields.text);
      assert.equal(parsed.lang, record.fields.lang ?? null);
      assert.deepEqual(Float32Array.from(parsed.embedding), record.vector);
    });

    const source = await openVectors(path);
    assert.equal(source.dimension, 5);
    assert.deepEqual(source.fieldNames, ['text', 'lang']);
    assert.deepEqual(await collect(source.records), expectedRecords(records));
  });

  it('reports a row with the wrong number of values by line', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.jsonl');
    await (await import('node:fs/promises')).writeFile(path, '{"id":1,"embedding":[1,2]}\n\n{"id":2,"embedding":[1,2,3]}\n');
    // Rows are parsed a batch at a time, so the error may come at open (first batch) or while reading.
    await assert.rejects(async () => collect((await openVectors(path)).records), (error: unknown) => {
      assert.ok(error instanceof SbertkitError);
      assert.equal(error.toLine(), `${path}:3: field 'embedding' has 3 values, expected 2`);
      return true;
    });
  });
});

describe('every vector format', () => {
  const formats = ['parquet', 'arrow', 'arrow-stream', 'jsonl'] as const;

  for (const format of formats) {
    it(`${format}: zero rows give a valid empty file; stdin reads it back`, async () => {
      const dir = await tempDir();
      const path = join(dir, `empty.${format}`);
      const writer = await openVectorWriter(path, {format, dimension: 4, idType: 'int', metadata: METADATA});
      assert.deepEqual(await writer.commit(), {rows: 0});
      const source = await openVectors('-', {format, stdin: createReadStream(path)});
      assert.equal(source.dimension, format === 'jsonl' ? 0 : 4);
      assert.deepEqual(await collect(source.records), []);
    });

    it(`${format}: reads from stdin`, async () => {
      const dir = await tempDir();
      const path = join(dir, `in.${format}`);
      const records = makeRecords(9, 3, true);
      await writeAll(path, records, {format, rowGroupSize: 4});
      const source = await openVectors('-', {format, stdin: createReadStream(path)});
      assert.equal(source.file, '<stdin>');
      assert.deepEqual(await collect(source.records), expectedRecords(records));
    });

    it(`${format}: abort and failed writes leave no target and no temp file`, async () => {
      const dir = await tempDir();
      const aborted = await openVectorWriter(join(dir, `a.${format}`), {format, dimension: 3, idType: 'int', rowGroupSize: 2});
      await aborted.write(makeRecords(5, 3));
      await aborted.abort();
      assert.deepEqual(await listDir(dir), []);

      const failing = await openVectorWriter(join(dir, `b.${format}`), {format, dimension: 3, idType: 'int', rowGroupSize: 2});
      const bad = makeRecords(3, 3);
      bad[1]!.vector = new Float32Array(4);
      await assert.rejects(() => failing.write(bad), /has 4 values, expected 3/);
      await failing.abort();
      assert.deepEqual(await listDir(dir), []);
    });
  }

  it('names the missing vector column and the columns there are', async () => {
    const dir = await tempDir();
    const path = join(dir, 'v.arrow');
    await writeAll(path, makeRecords(2, 3), {format: 'arrow'});
    await assert.rejects(() => openVectors(path, {vectorColumn: 'vec'}), (error: unknown) => {
      assert.ok(error instanceof SbertkitError);
      assert.equal(error.toLine(), `${path}: column 'vec' not found (--vector-column); columns are id, text, lang, embedding`);
      return true;
    });
  });

  for (const name of ['v.parquet', 'v.arrow', 'v.arrows', 'v.jsonl']) {
    it(`reports a missing file (${name})`, async () => {
      const path = join(await tempDir(), name);
      await assert.rejects(() => openVectors(path), (error: unknown) => {
        assert.ok(error instanceof SbertkitError);
        assert.equal(error.toLine(), `${path}: no such file`);
        return true;
      });
    });
  }
});
