/**
 * Compact vector files (encode --precision) through the vector writer, checked by independent readers
 * (DuckDB for Parquet, apache-arrow's tableFromIPC for Arrow IPC, JSON.parse for JSONL) against the
 * reference quantizer of test/helpers, then read back through openVectors: as floats (dequantized,
 * widened, unpacked to +1/-1) and, for binary files, as packed bits.
 */
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {tableFromIPC} from 'apache-arrow';
import {SbertkitError} from '../../../src/errors.js';
import type {VectorFormat} from '../../../src/io/formats.js';
import {column} from '../../../src/io/rows/types.js';
import {openRowWriter} from '../../../src/io/rows/write-rows.js';
import {openVectors, readVectorMatrix} from '../../../src/io/vectors/read-vectors.js';
import {openVectorWriter} from '../../../src/io/vectors/write-vectors.js';
import {fromHalfBits, toHalfBits} from '../../../src/vectors/half-float.js';
import {BitMatrix} from '../../../src/vectors/packed-bits.js';
import {VectorQuantizer, type Precision, type QuantizationRanges} from '../../../src/vectors/quantize.js';
import {sqlString, useDuckDb} from '../../helpers/duckdb.js';
import {mulberry32} from '../../helpers/prng.js';
import {referenceDequantize, referenceLevels, referencePack, referenceRanges, referenceUnpack} from '../../helpers/reference-quantize.js';
import {collect, tempDir} from '../../helpers/tmp.js';

const DIM = 20; // not a multiple of 8: binary rows have 3 bytes, the last one padded
const ROWS = 23;

function makeVectors(count: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({length: count}, () => Float32Array.from({length: DIM}, () => (rand() - 0.5) * 0.4));
}

const vectors = makeVectors(ROWS, 5);
const ranges = referenceRanges(vectors);

/** What the file should store for each row, by the reference quantizer. */
function expectedStored(precision: Precision, row: Float32Array): number[] {
  switch (precision) {
    case 'int8':
    case 'uint8':
      return referenceLevels(row, ranges, precision === 'int8').levels;
    case 'binary':
      return referencePack(row).map((b) => b - 128);
    case 'ubinary':
      return referencePack(row);
    case 'float16':
      return Array.from(row, (x) => toHalfBits(x));
    case 'float32':
      return Array.from(row);
  }
}

/** What openVectors should read back as floats. */
function expectedFloats(precision: Precision, row: Float32Array): number[] {
  const stored = expectedStored(precision, row);
  switch (precision) {
    case 'int8':
    case 'uint8':
      return Array.from(Float32Array.from(referenceDequantize(stored, ranges, precision === 'int8')));
    case 'binary':
    case 'ubinary':
      return referenceUnpack(referencePack(row), DIM);
    case 'float16':
      return stored.map(fromHalfBits);
    case 'float32':
      return stored;
  }
}

async function writeVectors(path: string, format: VectorFormat, precision: Precision, quantizerRanges: QuantizationRanges | undefined = ranges): Promise<void> {
  const writer = await openVectorWriter(path, {
    format,
    dimension: DIM,
    idType: 'int',
    fieldNames: ['text'],
    metadata: {'sbertkit.model': 'test/model', 'sbertkit.dimension': String(DIM)},
    quantizer: new VectorQuantizer(precision, DIM, quantizerRanges),
    calibration: 'the first 23 rows of the input',
    rowGroupSize: 10,
  });
  await writer.write(vectors.map((vector, i) => ({id: i, vector, fields: {text: `t${i}`}})));
  await writer.commit();
}

const PRECISIONS = ['float16', 'int8', 'uint8', 'binary', 'ubinary'] as const;
const DUCKDB_TYPES = {float16: 'FLOAT[]', int8: 'TINYINT[]', uint8: 'UTINYINT[]', binary: 'TINYINT[]', ubinary: 'UTINYINT[]'};
const ARROW_TYPES = {float16: 'Float16', int8: 'Int8', uint8: 'Uint8', binary: 'Int8', ubinary: 'Uint8'};
const storedLength = (precision: Precision): number => (precision === 'binary' || precision === 'ubinary' ? 3 : DIM);

const query = useDuckDb();

describe('compact vectors in Parquet, read by DuckDB', () => {
  for (const precision of PRECISIONS) {
    it(`${precision}: column type, stored values and metadata`, async () => {
      const path = join(await tempDir(), `v.parquet`);
      await writeVectors(path, 'parquet', precision);
      const types = await query(`SELECT column_type FROM (DESCRIBE SELECT embedding FROM read_parquet(${sqlString(path)}))`);
      assert.equal(types[0]!.column_type, DUCKDB_TYPES[precision]);
      const rows = await query(`SELECT id, embedding FROM read_parquet(${sqlString(path)}) ORDER BY id`);
      rows.forEach((row, i) => {
        const stored = precision === 'float16' ? expectedStored(precision, vectors[i]!).map(fromHalfBits) : expectedStored(precision, vectors[i]!);
        assert.deepEqual(row.embedding, stored, `row ${i}`);
      });
      if (precision === 'float16') {
        const schema = await query(`SELECT logical_type FROM parquet_schema(${sqlString(path)}) WHERE name = 'item'`);
        assert.equal(schema[0]!.logical_type, 'Float16Type()');
      }
      const kv = await query(`SELECT key::VARCHAR AS key, value::VARCHAR AS value FROM parquet_kv_metadata(${sqlString(path)})`);
      const metadata = Object.fromEntries(kv.map((row) => [row.key, row.value])) as Record<string, string>;
      assert.equal(metadata['sbertkit.precision'], precision);
      assert.equal(metadata['sbertkit.model'], 'test/model');
      if (precision === 'int8' || precision === 'uint8') {
        // Shortest decimals that read back to the same float32 values.
        const [min, max] = JSON.parse(metadata['sbertkit.ranges']!) as number[][];
        assert.deepEqual([Float32Array.from(min!), Float32Array.from(max!)], [ranges.min, ranges.max]);
        assert.equal(metadata['sbertkit.calibration'], 'the first 23 rows of the input');
      } else {
        assert.equal(metadata['sbertkit.ranges'], undefined);
      }
    });
  }
});

describe('compact vectors read back as floats', () => {
  for (const format of ['parquet', 'arrow', 'arrow-stream'] as const) {
    for (const precision of PRECISIONS) {
      it(`${format}, ${precision}`, async () => {
        const path = join(await tempDir(), `v.${format === 'arrow-stream' ? 'arrows' : format}`);
        await writeVectors(path, format, precision);
        if (format !== 'parquet') {
          const table = tableFromIPC(await readFile(path));
          assert.equal(String(table.schema.fields.find((f) => f.name === 'embedding')!.type), `FixedSizeList[${storedLength(precision)}]<${ARROW_TYPES[precision]}>`);
          assert.equal(table.schema.metadata.get('sbertkit.precision'), precision);
        }
        const source = await openVectors(path, {format});
        assert.equal(source.dimension, DIM);
        assert.equal(source.precision, precision);
        const records = await collect(source.records);
        assert.equal(records.length, ROWS);
        records.forEach((record, i) => {
          assert.equal(record.id, i);
          assert.equal(record.fields.text, `t${i}`);
          assert.deepEqual(Array.from(record.vector), expectedFloats(precision, vectors[i]!), `row ${i}`);
        });
      });
    }
  }

  for (const precision of ['binary', 'ubinary'] as const) {
    it(`${precision} read packed: a BitMatrix of the packbits bytes (Parquet and Arrow)`, async () => {
      for (const format of ['parquet', 'arrow'] as const) {
        const path = join(await tempDir(), `v.${format}`);
        await writeVectors(path, format, precision);
        const table = await readVectorMatrix(path, {binary: 'packed'});
        assert.ok(table.vectors instanceof BitMatrix);
        assert.equal(table.vectors.dimension, DIM);
        assert.deepEqual(table.fields.text, vectors.map((_, i) => `t${i}`));
        vectors.forEach((row, i) => assert.deepEqual(Array.from((table.vectors as BitMatrix).row(i)), referencePack(row)));
      }
    });
  }

  it('float and quantized files read packed are floats as usual', async () => {
    const path = join(await tempDir(), 'v.parquet');
    await writeVectors(path, 'parquet', 'int8');
    const table = await readVectorMatrix(path, {binary: 'packed'});
    assert.ok(!(table.vectors instanceof BitMatrix));
    assert.deepEqual(Array.from(table.vectors.row(3)), expectedFloats('int8', vectors[3]!));
  });
});

describe('compact vectors in JSONL', () => {
  it('integer arrays (int8, binary) and half values (float16); no metadata, so read back as the numbers written', async () => {
    for (const precision of ['int8', 'binary', 'float16'] as const) {
      const path = join(await tempDir(), 'v.jsonl');
      await writeVectors(path, 'jsonl', precision);
      const lines = (await readFile(path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {embedding: number[]});
      lines.forEach((line, i) => {
        const stored = expectedStored(precision, vectors[i]!);
        // Half values as the shortest decimals that read back to the same float32 (so the same half).
        if (precision === 'float16') assert.deepEqual(Float32Array.from(line.embedding), Float32Array.from(stored.map(fromHalfBits)));
        else assert.deepEqual(line.embedding, stored);
      });
      const records = await collect((await openVectors(path)).records);
      assert.deepEqual(records[0]!.vector, Float32Array.from(lines[0]!.embedding));
    }
  });
});

describe('compact vector files: what the reader refuses', () => {
  /** An Arrow file of one int8 (or float32) vector column with the given metadata. */
  async function arrowFile(element: 'int8' | 'float32', metadata: Record<string, string>): Promise<string> {
    const path = join(await tempDir(), 'v.arrow');
    const writer = await openRowWriter(path, {format: 'arrow', columns: [column.vector('embedding', 4, false, element)], metadata});
    await writer.write([{embedding: element === 'int8' ? Int8Array.from([1, 2, 3, 4]) : Float32Array.from([1, 2, 3, 4])}]);
    await writer.commit();
    return path;
  }
  const fails = async (path: string, message: string): Promise<void> => {
    await assert.rejects(async () => collect((await openVectors(path)).records), (error: unknown) => {
      assert.ok(error instanceof SbertkitError, String(error));
      assert.equal(error.toLine(), `${path}: ${message}`);
      assert.equal(error.exitCode, 2);
      return true;
    });
  };

  it('an unknown precision, a precision that is not the column type, ranges that are not [[min], [max]], int8 without ranges', async () => {
    await fails(await arrowFile('int8', {'sbertkit.precision': 'int4'}), "unknown precision 'int4' in the sbertkit.precision metadata; known: float32, float16, int8, uint8, binary, ubinary");
    await fails(await arrowFile('float32', {'sbertkit.precision': 'int8'}), "column 'embedding' holds float32 values, but the sbertkit.precision metadata says int8 (stored as int8)");
    await fails(await arrowFile('int8', {'sbertkit.precision': 'int8', 'sbertkit.ranges': '[[0,0,0,0]]'}), 'sbertkit.ranges metadata is not [[min...], [max...]] of two equally long lists of numbers');
    await fails(await arrowFile('int8', {'sbertkit.precision': 'int8', 'sbertkit.ranges': '[[0,0],[1,1]]'}), 'sbertkit.ranges metadata has 2 dimensions, the vectors 4');
    await fails(await arrowFile('int8', {'sbertkit.precision': 'int8'}), 'int8 vectors without their ranges (sbertkit.ranges metadata) cannot be read as floats');
  });

  it('an int8 column without sbertkit metadata (another tool) is read as its integers', async () => {
    const records = await collect((await openVectors(await arrowFile('int8', {}))).records);
    assert.deepEqual(Array.from(records[0]!.vector), [1, 2, 3, 4]);
  });
});
