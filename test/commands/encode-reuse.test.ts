/**
 * `encode --reuse OLD` end to end with the real binary. The ground truth is a full encode of the new
 * input. To see which rows were taken from OLD rather than encoded, OLD is also written by the test
 * itself with marker vectors no model makes (100 + row + j / 1000), keyed by texts or hashes the test
 * chose: a row of the output holds its marker exactly when it was reused, and its model vector
 * exactly when it was encoded; the tokens counted equal those of encoding only the new texts.
 * Files are read with DuckDB and apache-arrow; hashes are node:crypto's sha256.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {copyFile, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {tableFromIPC} from 'apache-arrow';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {sqlString, useDuckDb} from '../helpers/duckdb.js';
import {mulberry32} from '../helpers/prng.js';
import {referenceLevels} from '../helpers/reference-quantize.js';
import {tempDir} from '../helpers/tmp.js';
import {openVectorWriter} from '../../src/io/vectors/write-vectors.js';

const WORDS = ['cat', 'dog', 'mat', 'park', 'runs', 'sits', 'the', 'a', 'red', 'big', 'train', 'station', 'book', 'reads', 'warm', 'day', 'sun', 'home', 'late', 'fast'];
const DIM = TINY_BERT.hidden;

let dir: string;
let modelDir: string;
let env: Record<string, string>;
/** Texts of the old and the new input, and the texts of the new input that the old one lacks (in order, with repeats). */
let oldTexts: string[];
let newTexts: string[];
let freshTexts: string[];

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const marker = (row: number): Float32Array => Float32Array.from({length: DIM}, (_, j) => 100 + row + j / 1000);

function sentences(count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({length: count}, (_, i) => `${i} ` + Array.from({length: 3 + Math.floor(rand() * 6)}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' '));
}

const jsonl = (texts: string[], prefix: string): string => texts.map((text, i) => JSON.stringify({id: `${prefix}${i}`, text})).join('\n') + '\n';

const encode = (args: string[]) => runCli(['encode', ...args, '--model', modelDir, '--id-column', 'id', '--json'], {env});
type Envelope = {result: Record<string, unknown>; warnings: string[]};
const envelope = (stdout: string): Envelope => JSON.parse(stdout) as Envelope;
const query = useDuckDb();

interface Rows {
  ids: string[];
  vectors: Float32Array[];
  hashes?: string[];
}

async function parquetRows(path: string): Promise<Rows> {
  const columns = (await query(`SELECT name FROM parquet_schema(${sqlString(path)})`)).map((row) => row.name as string);
  const hashColumn = columns.includes('text_sha256');
  const rows = await query(`SELECT id, embedding${hashColumn ? ', text_sha256' : ''} FROM read_parquet(${sqlString(path)})`);
  return {
    ids: rows.map((row) => row.id as string),
    vectors: rows.map((row) => Float32Array.from(row.embedding as number[])),
    ...(hashColumn ? {hashes: rows.map((row) => row.text_sha256 as string)} : {}),
  };
}

async function parquetMetadata(path: string): Promise<Record<string, string>> {
  const kv = await query(`SELECT key::VARCHAR AS key, value::VARCHAR AS value FROM parquet_kv_metadata(${sqlString(path)})`);
  // Only sbertkit's own keys: the file's Arrow schema (ARROW:schema) is not something to copy.
  return Object.fromEntries(kv.filter((row) => String(row.key).startsWith('sbertkit.')).map((row) => [row.key, row.value])) as Record<string, string>;
}

/** OLD as the test makes it: the old texts (or their hashes) with marker vectors, under `metadata`. */
async function writeMarkedOld(path: string, key: 'text' | 'text_sha256', metadata: Record<string, string>): Promise<void> {
  const writer = await openVectorWriter(path, {format: 'parquet', dimension: DIM, idType: 'string', fieldNames: [key], metadata});
  await writer.write(oldTexts.map((text, i) => ({id: `a${i}`, vector: marker(i), fields: {[key]: key === 'text' ? text : sha256(text)}})));
  await writer.commit();
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let j = 0; j < expected.length; j++) assert.ok(Math.abs(actual[j]! - expected[j]!) <= tolerance, `${what}, dimension ${j}: ${actual[j]} vs ${expected[j]}`);
}

/** The full encode of the new input, the reference every reuse run must equal. */
let full: Rows;

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
  oldTexts = sentences(40, 1);
  oldTexts.push(oldTexts[7]!); // a repeated text in OLD
  const added = sentences(6, 2).map((text) => `new ${text}`);
  // New input: some rows removed, some changed, some added (first, middle, last), one old text repeated.
  newTexts = [added[0]!];
  oldTexts.forEach((text, i) => {
    if ([3, 10, 17, 25].includes(i)) return;
    newTexts.push([5, 12, 30].includes(i) ? `${text} again` : text);
    if (i === 20) newTexts.push(added[1]!, added[2]!, oldTexts[2]!);
  });
  newTexts.push(added[3]!, added[4]!, added[5]!, added[4]!);
  const known = new Set(oldTexts);
  freshTexts = newTexts.filter((text) => !known.has(text));
  await writeFile(join(dir, 'old.jsonl'), jsonl(oldTexts, 'a'));
  await writeFile(join(dir, 'new.jsonl'), jsonl(newTexts, 'b'));
  await writeFile(join(dir, 'fresh.jsonl'), jsonl(freshTexts, 'f'));
  const r = await encode([join(dir, 'new.jsonl'), '-o', join(dir, 'full.parquet')]);
  assert.equal(r.code, 0, r.stderr);
  full = await parquetRows(join(dir, 'full.parquet'));
  assert.equal(freshTexts.length, 3 + 6 + 1); // changed + added (one twice)
});

describe('encode --reuse', () => {
  test('rows of OLD are taken from it, only new or changed texts are encoded (marker vectors in OLD)', async () => {
    const oldFile = join(dir, 'marked-by-hash.parquet');
    await writeMarkedOld(oldFile, 'text_sha256', await metadataOfAnEncode());
    const out = join(dir, 'reused.parquet');
    const r = await encode([join(dir, 'new.jsonl'), '--reuse', oldFile, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const result = envelope(r.stdout).result;
    const rows = await parquetRows(out);
    assert.deepEqual(rows.ids, full.ids);
    let reused = 0;
    newTexts.forEach((text, i) => {
      const oldRow = oldTexts.indexOf(text);
      if (oldRow >= 0) {
        reused++;
        assert.deepEqual(rows.vectors[i], marker(oldRow), `row ${i} should be OLD's row ${oldRow}`);
      } else {
        assertClose(rows.vectors[i]!, full.vectors[i]!, 1e-6, `row ${i} (new text) should be encoded`);
      }
    });
    assert.equal(reused, newTexts.length - freshTexts.length);
    assert.deepEqual([result.rows, result.reused, result.encoded], [newTexts.length, reused, freshTexts.length]);
    // The model ran on exactly the new texts: as many tokens as encoding them alone.
    const alone = await encode([join(dir, 'fresh.jsonl'), '-o', join(dir, 'fresh.parquet')]);
    assert.equal(alone.code, 0, alone.stderr);
    assert.equal(result.tokens, envelope(alone.stdout).result.tokens);
    assert.deepEqual(rows.hashes, newTexts.map(sha256));
  });

  test('OLD keyed by a kept text column (a file from before --text-hash) works the same, with a warning about the graph', async () => {
    const oldFile = join(dir, 'marked-by-text.parquet');
    const {[`sbertkit.onnx_sha256`]: _graph, ...metadata} = await metadataOfAnEncode();
    await writeMarkedOld(oldFile, 'text', metadata);
    const r = await encode([join(dir, 'new.jsonl'), '--reuse', oldFile, '-o', join(dir, 'reused-by-text.parquet')]);
    assert.equal(r.code, 0, r.stderr);
    const {result, warnings} = envelope(r.stdout);
    assert.deepEqual([result.reused, result.encoded], [newTexts.length - freshTexts.length, freshTexts.length]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /does not record its model's ONNX graph checksum/);
    const rows = await parquetRows(join(dir, 'reused-by-text.parquet'));
    assert.deepEqual(rows.vectors[1], marker(0));
  });

  test('the output equals a full encode, in order; chained, and in place over OLD', async () => {
    const oldFile = join(dir, 'old.parquet');
    let r = await encode([join(dir, 'old.jsonl'), '--text-hash', '-o', oldFile]);
    assert.equal(r.code, 0, r.stderr);
    const old = await parquetRows(oldFile);
    assert.deepEqual(old.hashes, oldTexts.map(sha256));

    const out = join(dir, 'new-reusing.parquet');
    r = await encode([join(dir, 'new.jsonl'), '--reuse', oldFile, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const rows = await parquetRows(out);
    assert.deepEqual(rows.ids, full.ids);
    rows.vectors.forEach((vector, i) => assertClose(vector, full.vectors[i]!, 1e-6, `row ${i}`));
    // Reused rows are OLD's stored vectors bit for bit.
    newTexts.forEach((text, i) => {
      const oldRow = oldTexts.indexOf(text);
      if (oldRow >= 0) assert.deepEqual(rows.vectors[i], old.vectors[oldRow]);
    });

    // The output is a reuse file in turn: the same input again encodes nothing.
    r = await encode([join(dir, 'new.jsonl'), '--reuse', out, '-o', join(dir, 'again.parquet')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([envelope(r.stdout).result.reused, envelope(r.stdout).result.encoded, envelope(r.stdout).result.tokens], [newTexts.length, 0, 0]);

    // -o may be OLD itself: it is read whole before the output is written. (Without --json: the summary line.)
    const inPlace = join(dir, 'in-place.parquet');
    await copyFile(oldFile, inPlace);
    r = await runCli(['encode', join(dir, 'new.jsonl'), '--model', modelDir, '--id-column', 'id', '--reuse', inPlace, '-o', inPlace], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`encoded ${freshTexts.length} of ${newTexts.length} texts, ${newTexts.length - freshTexts.length} reused from `));
    const replaced = await parquetRows(inPlace);
    assert.deepEqual(replaced.ids, full.ids);
    replaced.vectors.forEach((vector, i) => assertClose(vector, full.vectors[i]!, 1e-6, `in place, row ${i}`));
  });

  test('stdin to stdout: texts piped in, JSONL rows with their text_sha256 out, equal to the full encode', async () => {
    const oldFile = join(dir, 'old-for-stdin.parquet');
    const made = await encode([join(dir, 'old.jsonl'), '--text-hash', '-o', oldFile]);
    assert.equal(made.code, 0, made.stderr);
    const r = await runCli(['encode', '-', '--model', modelDir, '--reuse', oldFile], {env, stdin: newTexts.join('\n') + '\n'});
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as {id: number; text_sha256: string; embedding: number[]});
    assert.deepEqual(lines.map((line) => line.id), newTexts.map((_, i) => i));
    assert.deepEqual(lines.map((line) => line.text_sha256), newTexts.map(sha256));
    lines.forEach((line, i) => assertClose(Float32Array.from(line.embedding), full.vectors[i]!, 1e-6, `stdin row ${i}`));
    assert.match(r.stderr, new RegExp(`encoded ${freshTexts.length} of ${newTexts.length} texts`));
  });

  test('--shard: a part with text hashes is not taken for one without (or back), and --reuse works per part', async () => {
    const part = join(dir, 'part.parquet');
    const skipped = async (args: string[]): Promise<boolean> => {
      const r = await encode([join(dir, 'new.jsonl'), '--shard', '0/2', '-o', part, ...args]);
      assert.equal(r.code, 0, r.stderr);
      return envelope(r.stdout).result.skipped as boolean;
    };
    assert.equal(await skipped(['--text-hash']), false);
    assert.equal(await skipped(['--text-hash']), true);
    assert.equal(await skipped([]), false);
    assert.equal((await parquetRows(part)).hashes, undefined);
    assert.equal(await skipped([]), true);
    assert.equal(await skipped(['--text-hash']), false);
    const oldFile = join(dir, 'old-for-parts.parquet');
    const made = await encode([join(dir, 'old.jsonl'), '--text-hash', '-o', oldFile]);
    assert.equal(made.code, 0, made.stderr);
    // A reuse run makes the same part as a --text-hash run: nothing to redo.
    assert.equal(await skipped(['--reuse', oldFile]), true);
    const reusedPart = join(dir, 'part-reused.parquet');
    const r = await encode([join(dir, 'new.jsonl'), '--shard', '0/2', '--reuse', oldFile, '-o', reusedPart]);
    assert.equal(r.code, 0, r.stderr);
    const rows = await parquetRows(reusedPart);
    const fullById = new Map(full.ids.map((id, i) => [id, full.vectors[i]!]));
    assert.ok(rows.ids.length > 0 && rows.ids.length < full.ids.length);
    rows.ids.forEach((id, i) => assertClose(rows.vectors[i]!, fullById.get(id)!, 1e-6, `part row ${id}`));
  });

  test('an Arrow OLD works; a binary run reuses binary OLD exactly', async () => {
    const oldArrow = join(dir, 'old.arrow');
    let r = await encode([join(dir, 'old.jsonl'), '--text-hash', '-o', oldArrow]);
    assert.equal(r.code, 0, r.stderr);
    r = await encode([join(dir, 'new.jsonl'), '--reuse', oldArrow, '-o', join(dir, 'from-arrow.arrow')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(envelope(r.stdout).result.encoded, freshTexts.length);
    const table = tableFromIPC(await readFile(join(dir, 'from-arrow.arrow')));
    const embedding = table.getChild('embedding')!;
    for (let i = 0; i < table.numRows; i++) assertClose(Float32Array.from(embedding.get(i)!.toArray() as Float32Array), full.vectors[i]!, 1e-6, `arrow row ${i}`);

    const oldBinary = join(dir, 'old-binary.parquet');
    r = await encode([join(dir, 'old.jsonl'), '--text-hash', '--precision', 'binary', '-o', oldBinary]);
    assert.equal(r.code, 0, r.stderr);
    const fullBinary = join(dir, 'full-binary.parquet');
    r = await encode([join(dir, 'new.jsonl'), '--precision', 'binary', '-o', fullBinary]);
    assert.equal(r.code, 0, r.stderr);
    const reusedBinary = join(dir, 'reused-binary.parquet');
    r = await encode([join(dir, 'new.jsonl'), '--reuse', oldBinary, '--precision', 'binary', '-o', reusedBinary]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(envelope(r.stdout).result.encoded, freshTexts.length);
    const bytes = async (path: string) => (await query(`SELECT embedding FROM read_parquet(${sqlString(path)})`)).map((row) => JSON.stringify(row.embedding));
    assert.deepEqual(await bytes(reusedBinary), await bytes(fullBinary));
  });

  test('int8/uint8: the run quantizes with OLD\'s ranges, reused rows keep OLD\'s integers exactly', async () => {
    for (const precision of ['int8', 'uint8'] as const) {
      const oldFile = join(dir, `old-${precision}.parquet`);
      let r = await encode([join(dir, 'old.jsonl'), '--text-hash', '--precision', precision, '-o', oldFile]);
      assert.equal(r.code, 0, r.stderr);
      const out = join(dir, `reused-${precision}.parquet`);
      r = await encode([join(dir, 'new.jsonl'), '--reuse', oldFile, '--precision', precision, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(envelope(r.stdout).result.encoded, freshTexts.length);
      const oldMetadata = await parquetMetadata(oldFile);
      const newMetadata = await parquetMetadata(out);
      assert.equal(newMetadata['sbertkit.ranges'], oldMetadata['sbertkit.ranges']);
      assert.equal(newMetadata['sbertkit.calibration'], oldMetadata['sbertkit.calibration']);
      const integers = async (path: string) => (await query(`SELECT embedding FROM read_parquet(${sqlString(path)})`)).map((row) => (row.embedding as number[]).map(Number));
      const oldRows = await integers(oldFile);
      const newRows = await integers(out);
      // OLD's ranges, as its metadata lists them: [[min...], [max...]].
      const [min, max] = JSON.parse(oldMetadata['sbertkit.ranges']!) as [number[], number[]];
      const ranges = {min: Float32Array.from(min), max: Float32Array.from(max)};
      newTexts.forEach((text, i) => {
        const oldRow = oldTexts.indexOf(text);
        if (oldRow >= 0) {
          assert.deepEqual(newRows[i], oldRows[oldRow], `${precision} row ${i}: OLD's row ${oldRow} exactly`);
        } else {
          // Encoded now, quantized by the test's own quantizer with OLD's ranges; fp32 agrees within
          // 1e-5 across batchings, which can move a value that sits on a level's edge by one level.
          const expected = referenceLevels(full.vectors[i]!, ranges, precision === 'int8').levels;
          newRows[i]!.forEach((level, j) => assert.ok(Math.abs(level - expected[j]!) <= 1, `${precision} row ${i} dim ${j}: ${level} vs ${expected[j]}`));
        }
      });
    }
  });

  test('OLD made otherwise is refused with one line naming what differs', async () => {
    const oldFile = join(dir, 'old-for-refusals.parquet');
    let r = await encode([join(dir, 'old.jsonl'), '--text-hash', '-o', oldFile]);
    assert.equal(r.code, 0, r.stderr);
    const refused = async (args: string[], pattern: RegExp, model = modelDir): Promise<void> => {
      const out = join(dir, 'refused.parquet');
      const run = await runCli(['encode', join(dir, 'new.jsonl'), '--model', model, '--id-column', 'id', '-o', out, ...args], {env});
      assert.equal(run.code, 2, run.stderr);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, pattern);
    };
    await refused(['--reuse', oldFile, '--truncate-dim', '8'], /cannot reuse these vectors: they were made with truncate-dim none, this run uses '8'/);
    await refused(['--reuse', oldFile, '--prompt', 'query: '], /made with prompt '', this run uses 'query: '/);
    await refused(['--reuse', oldFile, '--no-normalize'], /made with normalization 'true', this run uses 'false'/);
    await refused(['--reuse', oldFile, '--max-seq-length', '8'], /made with max_seq_length '16', this run uses '8'/);
    await refused(['--reuse', oldFile, '--precision', 'float16'], /stored as float32, this run writes float16/);
    await refused(['--reuse', oldFile, '--precision', 'int8'], /stored as float32, this run writes int8/);
    await refused(['--reuse', oldFile, '--precision', 'int8', '--calibration', oldFile], /--calibration does not go with --reuse: a int8 run that reuses vectors quantizes with the reused file's ranges/);

    await refused(['--reuse', oldFile, '--keep-columns', 'text_sha256'], /kept column 'text_sha256' clashes with the text hashes/);
    r = await encode([join(dir, 'old.jsonl'), '-o', join(dir, 'plain.parquet')]);
    assert.equal(r.code, 0, r.stderr);
    await refused(['--reuse', join(dir, 'plain.parquet')], /plain\.parquet.*no text_sha256 column and no 'text' column; write it with encode --text-hash/);
    r = await encode([join(dir, 'old.jsonl'), '--text-hash', '-o', join(dir, 'old.jsonl.out.jsonl')]);
    assert.equal(r.code, 0, r.stderr);
    await refused(['--reuse', join(dir, 'old.jsonl.out.jsonl')], /JSONL has no place for metadata/);

    // Another graph under the same model path: the checksum in OLD tells.
    const otherDir = await tempDir();
    const other = (await writeBertModelFolder(join(otherDir, 'model'), {config: {...TINY_BERT, seed: 99}, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
    const metadata = await parquetMetadata(oldFile);
    const moved = join(dir, 'other-graph.parquet');
    await writeMarkedOld(moved, 'text_sha256', {...metadata, 'sbertkit.model': other});
    await refused(['--reuse', moved], /model '.*' is another ONNX graph now/, other);
  });
});

/** The metadata an encode with --text-hash writes for this model (what a reusable OLD carries). */
async function metadataOfAnEncode(): Promise<Record<string, string>> {
  const path = join(dir, 'metadata-probe.parquet');
  const r = await encode([join(dir, 'fresh.jsonl'), '--text-hash', '-o', path]);
  assert.equal(r.code, 0, r.stderr);
  const metadata = await parquetMetadata(path);
  assert.match(metadata['sbertkit.onnx_sha256'] ?? '', /^[0-9a-f]{64}$/);
  return metadata;
}
