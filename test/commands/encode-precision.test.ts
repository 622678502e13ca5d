/**
 * `encode --precision` and the search of compact files, end to end with the real binary. The float32
 * vectors of the same texts (read with apache-arrow) are the ground truth: stored values are checked
 * against the reference quantizer of test/helpers over them (read with DuckDB), searches against a
 * naive Hamming top-k over their signs.
 */
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {tableFromIPC} from 'apache-arrow';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {openVectorWriter} from '../../src/io/vectors/write-vectors.js';
import {VectorQuantizer} from '../../src/vectors/quantize.js';
import {runCli} from '../helpers/cli.js';
import {sqlString, useDuckDb} from '../helpers/duckdb.js';
import {mulberry32} from '../helpers/prng.js';
import {referenceLevels, referencePack, referenceRanges} from '../helpers/reference-quantize.js';
import {tempDir} from '../helpers/tmp.js';

const WORDS = ['cat', 'dog', 'mat', 'park', 'runs', 'sits', 'the', 'a', 'red', 'big', 'train', 'station', 'book', 'reads', 'warm', 'day', 'sun', 'home', 'late', 'fast'];
const DIM = TINY_BERT.hidden;

let dir: string;
let modelDir: string;
let env: Record<string, string>;
/** The float32 vectors of in.csv (all rows) and of queries.txt, from encode's Arrow output. */
let floats: Float32Array[];
let queryFloats: Float32Array[];

function sentences(count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({length: count}, () => Array.from({length: 3 + Math.floor(rand() * 5)}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' '));
}

async function readArrowVectors(path: string): Promise<Float32Array[]> {
  const table = tableFromIPC(await readFile(path));
  const column = table.getChild('embedding')!;
  return Array.from({length: table.numRows}, (_, i) => Float32Array.from(column.get(i)!.toArray() as Float32Array));
}

const encode = (args: string[]) => runCli(['encode', ...args, '--model', modelDir, '--json'], {env});
const result = (stdout: string) => (JSON.parse(stdout) as {result: Record<string, unknown>; warnings: string[]});
const query = useDuckDb();

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
  await writeFile(join(dir, 'in.csv'), 'text\n' + sentences(60, 1).join('\n') + '\n');
  await writeFile(join(dir, 'calib.txt'), sentences(40, 2).join('\n') + '\n');
  await writeFile(join(dir, 'queries.txt'), sentences(6, 3).join('\n') + '\n');
  for (const [input, output] of [['in.csv', 'float.arrow'], ['calib.txt', 'calib.arrow'], ['queries.txt', 'queries.arrow']]) {
    const r = await encode([join(dir, input!), '-o', join(dir, output!)]);
    assert.equal(r.code, 0, r.stderr);
  }
  floats = await readArrowVectors(join(dir, 'float.arrow'));
  queryFloats = await readArrowVectors(join(dir, 'queries.arrow'));
});

async function parquetVectors(path: string): Promise<number[][]> {
  return (await query(`SELECT embedding FROM read_parquet(${sqlString(path)})`)).map((row) => row.embedding as number[]);
}

async function parquetMetadata(path: string): Promise<Record<string, string>> {
  const kv = await query(`SELECT key::VARCHAR AS key, value::VARCHAR AS value FROM parquet_kv_metadata(${sqlString(path)})`);
  return Object.fromEntries(kv.map((row) => [row.key, row.value])) as Record<string, string>;
}

const parsedRanges = (text: string) => {
  const [min, max] = JSON.parse(text) as number[][];
  return {min: Float32Array.from(min!), max: Float32Array.from(max!)};
};

describe('encode --precision int8/uint8: where the ranges come from', () => {
  test('from the data: every row when the input is within --calibration-rows (sentence-transformers without calibration)', async () => {
    const out = join(dir, 'int8.parquet');
    const r = await encode([join(dir, 'in.csv'), '--precision', 'int8', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const summary = result(r.stdout).result;
    assert.deepEqual([summary.precision, summary.calibration, summary.clipped], ['int8', 'all 60 rows of the input', 0]);
    const metadata = await parquetMetadata(out);
    assert.equal(metadata['sbertkit.precision'], 'int8');
    assert.equal(metadata['sbertkit.calibration'], 'all 60 rows of the input');
    const ranges = referenceRanges(floats);
    assert.deepEqual(parsedRanges(metadata['sbertkit.ranges']!), ranges);
    assert.deepEqual(await parquetVectors(out), floats.map((v) => referenceLevels(v, ranges, true).levels));
    const types = await query(`SELECT column_type FROM (DESCRIBE SELECT embedding FROM read_parquet(${sqlString(out)}))`);
    assert.equal(types[0]!.column_type, 'TINYINT[]');
  });

  test('from the first --calibration-rows rows: later values outside them are clipped and counted', async () => {
    const out = join(dir, 'uint8-first.parquet');
    const r = await encode([join(dir, 'in.csv'), '--precision', 'uint8', '--calibration-rows', '5', '-o', out, '--batch-size', '4']);
    assert.equal(r.code, 0, r.stderr);
    const ranges = referenceRanges(floats.slice(0, 5));
    const expected = floats.map((v) => referenceLevels(v, ranges, false));
    const clipped = expected.reduce((sum, e) => sum + e.clipped, 0);
    assert.ok(clipped > 0);
    const summary = result(r.stdout).result;
    assert.deepEqual([summary.calibration, summary.clipped], ['the first 5 rows of the input', clipped]);
    const metadata = await parquetMetadata(out);
    assert.deepEqual(parsedRanges(metadata['sbertkit.ranges']!), ranges);
    assert.equal(metadata['sbertkit.calibration'], 'the first 5 rows of the input');
    assert.deepEqual(await parquetVectors(out), expected.map((e) => e.levels));
  });

  test('from a --calibration file: its min and max, whatever the input', async () => {
    const out = join(dir, 'int8-calib.parquet');
    const calib = join(dir, 'calib.arrow');
    const r = await encode([join(dir, 'in.csv'), '--precision', 'int8', '--calibration', calib, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const ranges = referenceRanges(await readArrowVectors(calib));
    const expected = floats.map((v) => referenceLevels(v, ranges, true));
    assert.deepEqual(result(r.stdout).result.clipped, expected.reduce((sum, e) => sum + e.clipped, 0));
    const metadata = await parquetMetadata(out);
    assert.deepEqual(parsedRanges(metadata['sbertkit.ranges']!), ranges);
    assert.equal(metadata['sbertkit.calibration'], `${calib} (40 rows)`);
    assert.deepEqual(await parquetVectors(out), expected.map((e) => e.levels));
    // The data's own ranges differ: the calibration file was used.
    assert.notDeepEqual(ranges, referenceRanges(floats));
  });
});

describe('encode --precision int8 of an empty input', () => {
  test('a valid empty file, without ranges, that reads back', async () => {
    await writeFile(join(dir, 'empty.txt'), '');
    const out = join(dir, 'empty-int8.parquet');
    const r = await encode([join(dir, 'empty.txt'), '--precision', 'int8', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([result(r.stdout).result.rows, result(r.stdout).result.calibration], [0, 'all 0 rows of the input']);
    assert.deepEqual(await parquetVectors(out), []);
    const metadata = await parquetMetadata(out);
    assert.deepEqual([metadata['sbertkit.precision'], metadata['sbertkit.ranges']], ['int8', undefined]);
    const search = await runCli(['mine-paraphrases', out, '--quiet'], {env});
    assert.deepEqual([search.code, search.stdout], [0, '']);
  });
});

describe('encode --precision binary, searched by Hamming distance', () => {
  /** The naive Hamming top-k of each query's signs over the corpus' signs, ties to the lower row. */
  function naiveTop(k: number): number[][] {
    const signs = (v: Float32Array) => Array.from(v, (x) => x > 0);
    return queryFloats.map((q) => {
      const qs = signs(q);
      return floats
        .map((c, row) => ({row, h: signs(c).filter((bit, i) => bit !== qs[i]).length}))
        .sort((a, b) => a.h - b.h || a.row - b.row)
        .slice(0, k)
        .map((x) => x.row);
    });
  }

  test('the file holds packbits bytes - 128; similarity search equals the naive Hamming top-k; --rescore reranks by the float queries', async () => {
    const out = join(dir, 'binary.parquet');
    const r = await encode([join(dir, 'in.csv'), '--precision', 'binary', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await parquetVectors(out), floats.map((v) => referencePack(v).map((b) => b - 128)));
    assert.equal((await parquetMetadata(out))['sbertkit.dimension'], String(DIM));

    const search = await runCli(['similarity', '--corpus', out, '--queries', join(dir, 'queries.arrow'), '--top-k', '5', '--metric', 'dot', '--json', '-o', join(dir, 'hits.jsonl')], {env});
    assert.equal(search.code, 0, search.stderr);
    assert.equal(result(search.stdout).result.backend, 'hamming');
    const hits = (await readFile(join(dir, 'hits.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {query_id: number; corpus_id: number; score: number});
    const naive = naiveTop(5);
    queryFloats.forEach((q, qid) => {
      const mine = hits.filter((h) => h.query_id === qid);
      assert.deepEqual(mine.map((h) => h.corpus_id), naive[qid], `query ${qid}`);
      // dot of the +1/-1 vectors = dim - 2 * hamming
      for (const h of mine) {
        const distance = floats[h.corpus_id]!.reduce((n, x, i) => n + (x > 0 !== q[i]! > 0 ? 1 : 0), 0);
        assert.equal(h.score, DIM - 2 * distance);
      }
    });

    const rescored = await runCli(['similarity', '--corpus', out, '--queries', join(dir, 'queries.arrow'), '--top-k', '3', '--rescore', '10', '--metric', 'dot', '-o', join(dir, 'rescored.jsonl'), '--quiet'], {env});
    assert.equal(rescored.code, 0, rescored.stderr);
    const reranked = (await readFile(join(dir, 'rescored.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {query_id: number; corpus_id: number; score: number});
    naiveTop(10).forEach((candidates, qid) => {
      const q = queryFloats[qid]!;
      const want = candidates
        .map((row) => ({row, s: Math.fround(Array.from(floats[row]!).reduce((sum, x, i) => sum + (x > 0 ? 1 : -1) * q[i]!, 0))}))
        .sort((a, b) => b.s - a.s || a.row - b.row)
        .slice(0, 3);
      const mine = reranked.filter((h) => h.query_id === qid);
      assert.deepEqual(mine.map((h) => h.corpus_id), want.map((w) => w.row), `query ${qid}`);
      mine.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.s) < 1e-5));
    });
  });

  test('mine-paraphrases on a ubinary Arrow file: pairs scored as the cosine of the +1/-1 vectors', async () => {
    const out = join(dir, 'ubinary.arrow');
    assert.equal((await encode([join(dir, 'in.csv'), '--precision', 'ubinary', '-o', out])).code, 0);
    const r = await runCli(['mine-paraphrases', out, '--max-pairs', '20', '--json', '-o', join(dir, 'pairs.jsonl')], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(result(r.stdout).result.backend, 'hamming');
    const pairs = (await readFile(join(dir, 'pairs.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {score: number; id1: number; id2: number});
    assert.equal(pairs.length, 20);
    for (const p of pairs) {
      const distance = floats[p.id1]!.reduce((n, x, i) => n + (x > 0 !== floats[p.id2]![i]! > 0 ? 1 : 0), 0);
      assert.ok(Math.abs(p.score - (DIM - 2 * distance) / DIM) < 1e-6);
    }
    for (let i = 1; i < pairs.length; i++) assert.ok(pairs[i - 1]!.score >= pairs[i]!.score);
  });
});

describe('encode --precision: bad input is one line, exit 2, no output', () => {
  const cases: {name: string; args: () => string[]; line: RegExp}[] = [
    {name: 'an unknown precision', args: () => ['--precision', 'int4'], line: /Expected --precision=int4 to be one of: float32, float16, int8, uint8, binary, ubinary/},
    {name: '--calibration with binary', args: () => ['--precision', 'binary', '--calibration', join(dir, 'calib.arrow')], line: /--calibration is for --precision int8 or uint8 \(their ranges\), not binary/},
    {name: 'a missing calibration file', args: () => ['--precision', 'int8', '--calibration', join(dir, 'none.parquet')], line: /none\.parquet: no such file/},
    {name: 'a calibration file of another dimension', args: () => ['--precision', 'int8', '--calibration', join(dir, 'dim3.jsonl')], line: /dim3\.jsonl: calibration vectors have dimension 3, the model's have 32/},
    {name: 'a binary calibration file', args: () => ['--precision', 'uint8', '--calibration', join(dir, 'binary-calib.parquet')], line: /binary-calib\.parquet: calibration vectors must be floats \(float32 or float16\), this file holds binary vectors/},
    {name: 'a calibration file of another model', args: () => ['--precision', 'int8', '--calibration', join(dir, 'other-model.arrow')], line: /other-model\.arrow: made with model some\/other-model, but the input is encoded with /},
  ];
  before(async () => {
    await writeFile(join(dir, 'dim3.jsonl'), '{"embedding":[1,2,3]}\n');
    const writer = await openVectorWriter(join(dir, 'other-model.arrow'), {format: 'arrow', dimension: DIM, idType: 'int', metadata: {'sbertkit.model': 'some/other-model'}});
    await writer.write(floats.slice(0, 3).map((vector, id) => ({id, vector, fields: {}})));
    await writer.commit();
    const binary = await openVectorWriter(join(dir, 'binary-calib.parquet'), {format: 'parquet', dimension: DIM, idType: 'int', quantizer: new VectorQuantizer('binary', DIM)});
    await binary.write(floats.slice(0, 3).map((vector, id) => ({id, vector, fields: {}})));
    await binary.commit();
  });
  for (const c of cases) {
    test(c.name, async () => {
      const out = join(dir, `bad-${c.name.replace(/\W+/g, '-')}.parquet`);
      const r = await runCli(['encode', join(dir, 'in.csv'), ...c.args(), '-o', out, '--model', modelDir], {env});
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, c.line);
      assert.ok(!existsSync(out));
    });
  }

  test('similarity --rescore with a float corpus', async () => {
    const r = await runCli(['similarity', '--corpus', join(dir, 'float.arrow'), '--queries', join(dir, 'queries.arrow'), '--rescore', '5'], {env});
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim(), 'sbertkit similarity: --rescore is for binary corpora (encode --precision binary or ubinary); this corpus is read as floats');
  });
});

describe('encode --precision to JSONL', () => {
  test('int8: integer arrays and a warning that the ranges are not kept', async () => {
    const out = join(dir, 'int8.jsonl');
    const r = await encode([join(dir, 'in.csv'), '--precision', 'int8', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(result(r.stdout).warnings.length, 1);
    assert.match(result(r.stdout).warnings[0]!, /JSONL has no place for metadata/);
    const ranges = referenceRanges(floats);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {embedding: number[]});
    assert.deepEqual(lines.map((l) => l.embedding), floats.map((v) => referenceLevels(v, ranges, true).levels));
  });
});
