/**
 * `sbertkit similarity`, both modes, end to end. Search mode ports sentence-transformers'
 * test_semantic_search (random 1000 x 100 corpus, 20 queries, top-10, checked against a brute-force
 * cosine top-k) through vector files; pairs mode is checked against cosines of the vectors `encode`
 * writes for the same texts.
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {mulberry32} from '../helpers/prng.js';
import {tempDir} from '../helpers/tmp.js';
import {cosine} from '../helpers/vector-math.js';

let dir: string;
let modelDir: string;
let env: Record<string, string>;

const jsonLines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Gaussian-ish random vectors (sum of uniforms), like the numpy randn of the original test. */
function randomVectors(rows: number, dim: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({length: rows}, () => Array.from({length: dim}, () => rand() + rand() + rand() - 1.5));
}

async function writeVectorFile(path: string, vectors: number[][]): Promise<void> {
  await writeFile(path, vectors.map((v, i) => JSON.stringify({id: i, embedding: v})).join('\n') + '\n');
}

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
});

describe('similarity search mode', () => {
  test("sentence-transformers' semantic_search test: top-10 ids equal the brute-force cosine top-k, scores within 1e-5", async () => {
    const corpus = randomVectors(1000, 100, 1);
    const queries = randomVectors(20, 100, 2);
    await writeVectorFile(join(dir, 'corpus.jsonl'), corpus);
    await writeVectorFile(join(dir, 'queries.jsonl'), queries);
    const r = await runCli(['similarity', '--corpus', join(dir, 'corpus.jsonl'), '--queries', join(dir, 'queries.jsonl'), '--vectors', '--top-k', '10', '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    const hits = jsonLines(r.stdout);
    assert.equal(hits.length, 20 * 10);
    const f32 = (v: number[]) => Float32Array.from(v);
    queries.forEach((q, qid) => {
      const scored = corpus.map((c, j) => ({j, s: cosine(f32(q), f32(c))})).sort((a, b) => b.s - a.s || a.j - b.j);
      const mine = hits.filter((h) => h.query_id === qid);
      assert.deepEqual(mine.map((h) => h.rank), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(mine.map((h) => h.corpus_id), scored.slice(0, 10).map((x) => x.j), `query ${qid}`);
      mine.forEach((h, i) => assert.ok(Math.abs((h.score as number) - scored[i]!.s) < 1e-5));
    });
  });

  test('texts and the vector file of the same corpus give the same hits; texts are shown', async () => {
    const texts = ['the cat sat on the mat', 'a dog runs in the park', 'the market fell today', 'a cat is on a mat', 'stocks dropped sharply'];
    await writeFile(join(dir, 'docs.txt'), texts.join('\n') + '\n');
    const enc = await runCli(['encode', join(dir, 'docs.txt'), '--keep-columns', 'text', '-o', join(dir, 'docs.parquet'), '--model', modelDir, '--quiet'], {env});
    assert.equal(enc.code, 0, enc.stderr);
    const args = ['--query', 'cat on a mat', '--query', 'falling prices', '--top-k', '3', '--model', modelDir, '--quiet'];
    const fromTexts = await runCli(['similarity', '--corpus', join(dir, 'docs.txt'), ...args], {env});
    const fromVectors = await runCli(['similarity', '--corpus', join(dir, 'docs.parquet'), ...args], {env});
    assert.equal(fromTexts.code, 0, fromTexts.stderr);
    assert.equal(fromVectors.code, 0, fromVectors.stderr);
    const a = jsonLines(fromTexts.stdout);
    const b = jsonLines(fromVectors.stdout);
    assert.deepEqual(a.map((h) => [h.query_id, h.rank, h.corpus_id, h.corpus_text, h.query_text]), b.map((h) => [h.query_id, h.rank, h.corpus_id, h.corpus_text, h.query_text]));
    a.forEach((h, i) => assert.ok(Math.abs((h.score as number) - (b[i]!.score as number)) <= 1e-6));
    assert.equal(a[0]!.corpus_text, texts[a[0]!.corpus_id as number]);
  });

  test('--ann with --save-index, then --index: the same hits as exact on a small corpus, and the index is reused', async () => {
    const base = ['similarity', '--corpus', join(dir, 'corpus.jsonl'), '--queries', join(dir, 'queries.jsonl'), '--vectors', '--top-k', '5', '--quiet'];
    const exact = jsonLines((await runCli([...base, '--exact'], {env})).stdout);
    const index = join(dir, 'corpus.usearch');
    const saved = await runCli([...base, '--save-index', index, '--json'], {env});
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal((JSON.parse(saved.stderr.trim().split('\n').pop()!) as {result: {backend: string}}).result.backend, 'ann');
    const reused = await runCli([...base, '--index', index], {env});
    assert.equal(reused.code, 0, reused.stderr);
    const ann = jsonLines(reused.stdout);
    const overlap = ann.filter((h) => exact.some((e) => e.query_id === h.query_id && e.corpus_id === h.corpus_id)).length;
    assert.ok(overlap / exact.length >= 0.95, `recall@5 ${overlap / exact.length}`);
    const both = await runCli([...base, '--exact', '--index', index], {env});
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--index and --save-index are for approximate search/);
  });

  test('query and corpus of different dimensions: one line, exit 2; an empty corpus gives a valid empty output', async () => {
    await writeVectorFile(join(dir, 'q50.jsonl'), randomVectors(2, 50, 3));
    const r = await runCli(['similarity', '--corpus', join(dir, 'corpus.jsonl'), '--queries', join(dir, 'q50.jsonl'), '--vectors'], {env});
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /dimension 50 cannot be compared with .*corpus\.jsonl's of dimension 100/);

    await writeFile(join(dir, 'empty.txt'), '');
    const out = join(dir, 'empty-hits.csv');
    const e = await runCli(['similarity', '--corpus', join(dir, 'empty.txt'), '--query', 'anything', '-o', out, '--model', modelDir, '--quiet'], {env});
    assert.equal(e.code, 0, e.stderr);
    assert.equal(await readFile(out, 'utf8'), 'query_id,rank,corpus_id,score,query_text,corpus_text\n');
  });
});

describe('similarity pairs mode', () => {
  test('every row comes out with its columns in order and the cosine of its two texts', async () => {
    const rows = [
      ['the cat sat on the mat', 'a cat is on a mat', 'r1'],
      ['the dog runs', 'the market fell', 'r2'],
      ['the cat sat on the mat', 'the dog runs', 'r3'],
      ['same text', 'same text', 'r4'],
    ];
    await writeFile(join(dir, 'pairs.csv'), 'left,right,tag\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
    const r = await runCli(['similarity', join(dir, 'pairs.csv'), '--column1', 'left', '--column2', 'right', '--model', modelDir, '-o', join(dir, 'scored.csv'), '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    const lines = (await readFile(join(dir, 'scored.csv'), 'utf8')).trim().split('\n');
    assert.equal(lines[0], 'left,right,tag,score');

    // Reference: the vectors encode writes for the distinct texts.
    const distinct = [...new Set(rows.flatMap((row) => [row[0]!, row[1]!]))];
    const enc = await runCli(['encode', '--model', modelDir, '--quiet'], {stdin: distinct.join('\n') + '\n', env});
    const vec = new Map(jsonLines(enc.stdout).map((l, i) => [distinct[i]!, Float32Array.from(l.embedding as number[])]));
    rows.forEach((row, i) => {
      const cells = lines[i + 1]!.split(',');
      assert.deepEqual(cells.slice(0, 3), row);
      assert.ok(Math.abs(Number(cells[3]) - cosine(vec.get(row[0]!)!, vec.get(row[1]!)!)) <= 1e-5, `row ${i}`);
    });

    const kept = await runCli(['similarity', join(dir, 'pairs.csv'), '--column1', 'left', '--column2', 'right', '--model', modelDir, '--threshold', '0.999', '--quiet'], {env});
    assert.deepEqual(jsonLines(kept.stdout).map((l) => l.tag), ['r4'], 'only the identical pair reaches 0.999');
  });

  test('a missing column is one line naming it; neither mode given is one line', async () => {
    const r = await runCli(['similarity', join(dir, 'pairs.csv'), '--column1', 'left', '--column2', 'nope', '--model', modelDir], {env});
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /pairs\.csv:1: column 'nope' not found \(--column2\); columns are left, right, tag$/);
    const none = await runCli(['similarity', join(dir, 'pairs.csv')], {env});
    assert.equal(none.code, 2);
    assert.match(none.stderr.trim(), /give --column1 and --column2 \(pairs mode\), or --corpus/);
  });
});
