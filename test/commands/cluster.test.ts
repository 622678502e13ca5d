/**
 * `sbertkit cluster` end to end through the real binary: sentence-transformers' own community_detection
 * test cases (tests/util/test_retrieval.py: their inputs and expectations) fed as JSONL vector files;
 * texts encoded by the fixture model checked against the naive definition over the vectors `encode`
 * wrote; the summary table; k-means against a naive Lloyd's and across thread counts; edge cases.
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {kMeansPlusPlus} from '../../src/algorithms/kmeans.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {normalizeRows} from '../../src/vectors/metric.js';
import {naiveCommunities, naiveLloyd, plantedGroups} from '../algorithms/cluster-reference.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';
import {readJsonl} from '../helpers/jsonl.js';

interface Out {
  id: string | number;
  text?: string;
  cluster: number;
  score: number | null;
}

let dir: string;
let counter = 0;

async function vectorFile(rows: ArrayLike<number>[], ids?: (string | number)[]): Promise<string> {
  const path = join(dir, `v${counter++}.jsonl`);
  await writeFile(path, rows.map((r, i) => JSON.stringify({id: ids?.[i] ?? i, embedding: Array.from(r)}) + '\n').join(''));
  return path;
}

/** Runs cluster on a vector file and returns the output rows (in input order). */
async function cluster(rows: ArrayLike<number>[], args: string[]): Promise<Out[]> {
  const out = join(dir, `o${counter++}.jsonl`);
  const r = await runCli(['cluster', await vectorFile(rows), '--vectors', '-o', out, '--quiet', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return readJsonl<Out>(out);
}

/** Their assertion: the communities as sets, compared as a sorted list of sorted lists. */
function communities(out: Out[]): number[][] {
  const byCluster = new Map<number, number[]>();
  out.forEach((row, i) => row.cluster >= 0 && byCluster.set(row.cluster, [...(byCluster.get(row.cluster) ?? []), i]));
  return [...byCluster.values()].map((c) => c.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
}

before(async () => {
  dir = await tempDir();
});

describe('sbertkit cluster: sentence-transformers test_retrieval.py cases', () => {
  test('two clear communities', async () => {
    const e = [[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0.1, 0.9, 0], [0, 1, 0], [0.2, 0.8, 0]];
    assert.deepEqual(communities(await cluster(e, ['--threshold', '0.8', '--min-size', '2'])), [[0, 1, 2], [3, 4, 5]]);
  });

  test('no communities at a high threshold', async () => {
    const out = await cluster([[1, 0, 0], [0, 1, 0], [0, 0, 1]], ['--threshold', '0.99', '--min-size', '2']);
    assert.deepEqual(communities(out), []);
    assert.deepEqual(out.map((r) => [r.cluster, r.score]), [[-1, null], [-1, null], [-1, null]]);
  });

  test('all points in one community at a low threshold', async () => {
    assert.deepEqual(communities(await cluster([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0]], ['--threshold', '0.5', '--min-size', '2'])), [[0, 1, 2]]);
  });

  test('min community size filtering', async () => {
    const out = await cluster([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0.1, 0.9, 0]], ['--threshold', '0.8', '--min-size', '3']);
    assert.deepEqual(communities(out), [[0, 1, 2]]);
    assert.equal(out[3]!.cluster, -1);
  });

  test('overlapping communities', async () => {
    const e = [[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0.7, 0.3, 0], [0.1, 0.9, 0], [0, 1, 0]];
    const out = await cluster(e, ['--threshold', '0.8', '--min-size', '2']);
    assert.deepEqual(communities(out), [[0, 1, 2, 3], [4, 5]]);
    // Ids from 0, largest first; scores are cosines to the generating row (computed here).
    assert.deepEqual(out.map((r) => r.cluster), [0, 0, 0, 0, 1, 1]);
  });
});

describe('sbertkit cluster', () => {
  test('community detection on seeded groups equals the naive definition, scores to the centre row', async () => {
    const rows = plantedGroups(41, 16, 5, 12, 20, 0.5);
    const want = naiveCommunities(rows, 0.7, 4);
    assert.ok(want.length >= 3);
    const out = await cluster(rows, ['--threshold', '0.7', '--min-size', '4']);
    const labels = new Array<number>(rows.length).fill(-1);
    const scores = new Array<number | null>(rows.length).fill(null);
    want.forEach((c, k) => c.members.forEach((m, i) => ((labels[m] = k), (scores[m] = c.scores[i]!))));
    assert.deepEqual(out.map((r) => r.cluster), labels);
    out.forEach((r, i) => assert.ok(r.score === null ? scores[i] === null : Math.abs(r.score - scores[i]!) <= 1e-5, `row ${i}`));
  });

  test('k-means equals a naive Lloyd from the k-means++ centres of --seed, the same bytes with --threads 1 and 2', async () => {
    const rows = plantedGroups(42, 12, 6, 20, 40, 0.9);
    const initial = kMeansPlusPlus(normalizeRows(VectorMatrix.fromRows(rows)), 5, 9);
    const want = naiveLloyd(rows, initial, 100);
    const file = await vectorFile(rows);
    const outputs: string[] = [];
    for (const threads of ['1', '2']) {
      const out = join(dir, `km${threads}.jsonl`);
      const r = await runCli(['cluster', file, '--vectors', '--algorithm', 'kmeans', '--k', '5', '--seed', '9', '--threads', threads, '-o', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout).result;
      assert.deepEqual([result.rows, result.clusters, result.unclustered, result.iterations, result.converged], [rows.length, 5, 0, want.iterations, true]);
      outputs.push(await readFile(out, 'utf8'));
    }
    assert.equal(outputs[1], outputs[0]);
    const got = outputs[0]!.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Out);
    const labels = new Array<number>(rows.length);
    want.clusters.forEach((c, k) => c.members.forEach((m) => (labels[m] = k)));
    assert.deepEqual(got.map((r) => r.cluster), labels);
  });

  test('texts: clusters equal the naive definition over the vectors encode wrote; summary rows', async () => {
    const modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
    const env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
    const texts = ['the cat sat', 'a cat sat', 'the cat sat down', 'dogs run far', 'a dog runs', 'dogs ran far', 'rain today', 'sun today', 'the cat sat', 'books'];
    await writeFile(join(dir, 'in.csv'), 'key,text\n' + texts.map((t, i) => `k${i},${t}`).join('\n') + '\n');
    const vectorsFile = join(dir, 'enc.jsonl');
    const enc = await runCli(['encode', join(dir, 'in.csv'), '--id-column', 'key', '-o', vectorsFile, '--model', modelDir, '--quiet'], {env});
    assert.equal(enc.code, 0, enc.stderr);
    const vectors = (await readJsonl<{embedding: number[]}>(vectorsFile)).map((r) => Float32Array.from(r.embedding));
    // The fixture model's similarities are arbitrary: a threshold between two pairwise cosines at the 75th percentile, so
    // the communities are neither empty nor everything.
    const all: number[] = [];
    for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) all.push(dot(vectors[i]!, vectors[j]!));
    all.sort((a, b) => a - b);
    const threshold = Number(((all[Math.floor(all.length * 0.75)]! + all[Math.floor(all.length * 0.75) + 1]!) / 2).toFixed(6));
    const want = naiveCommunities(vectors, threshold, 2);
    assert.ok(want.length >= 1, 'no community at the chosen threshold');

    const out = join(dir, 'texts.csv');
    const summary = join(dir, 'summary.jsonl');
    const r = await runCli(['cluster', join(dir, 'in.csv'), '--id-column', 'key', '--threshold', String(threshold), '--min-size', '2', '-o', out, '--summary', summary, '--model', modelDir], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`cluster: ${want.length} clusters over 10 rows, ${10 - want.reduce((s, c) => s + c.members.length, 0)} unclustered`));
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(lines[0], 'id,text,cluster,score');
    const labels = new Array<number>(10).fill(-1);
    want.forEach((c, k) => c.members.forEach((m) => (labels[m] = k)));
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 3)), texts.map((t, i) => [`k${i}`, t, String(labels[i])]));
    const rowsOfSummary = await readJsonl<Record<string, unknown>>(summary);
    assert.deepEqual(
      rowsOfSummary,
      want.map((c, k) => ({cluster: k, size: c.members.length, centre_id: `k${c.members[0]}`, text_1: texts[c.members[0]!], text_2: texts[c.members[1]!], text_3: c.members.length > 2 ? texts[c.members[2]!] : null})),
    );
  });

  test('edge cases: empty input, one row, min size above the row count, identical rows', async () => {
    const emptyFile = join(dir, 'empty.jsonl');
    await writeFile(emptyFile, '');
    for (const [out, expected] of [[join(dir, 'empty-out.csv'), 'id,cluster,score\n'], [join(dir, 'empty-out.jsonl'), '']] as const) {
      const r = await runCli(['cluster', emptyFile, '--vectors', '-o', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).result.rows, 0);
      assert.equal(await readFile(out, 'utf8'), expected);
    }
    assert.deepEqual((await cluster([[0.3, 0.4]], ['--min-size', '1'])).map((r) => [r.id, r.cluster]), [[0, 0]]);
    assert.deepEqual((await cluster([[0.3, 0.4]], [])).map((r) => [r.cluster, r.score]), [[-1, null]]);
    assert.deepEqual((await cluster([[0.3, 0.4]], ['--algorithm', 'kmeans', '--k', '3'])).map((r) => r.cluster), [0]);
    const five = [[1, 0], [1, 0.01], [0.99, 0], [1, 0.02], [1, 0]];
    assert.deepEqual((await cluster(five, ['--min-size', '6', '--threshold', '0.1'])).map((r) => r.cluster), [-1, -1, -1, -1, -1]);
    const same = Array.from({length: 4}, () => [2, -1, 0.5]);
    const out = await cluster(same, ['--min-size', '4', '--threshold', '0.99']);
    assert.deepEqual(out.map((r) => r.cluster), [0, 0, 0, 0]);
    out.forEach((r) => assert.ok(Math.abs(r.score! - 1) < 1e-6));
    assert.deepEqual((await cluster(same, ['--algorithm', 'kmeans', '--k', '2'])).map((r) => r.cluster), [0, 0, 0, 0]);
  });

  test('kmeans without --k is a one-line usage error (exit 2)', async () => {
    const r = await runCli(['cluster', await vectorFile([[1, 0]]), '--vectors', '--algorithm', 'kmeans']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /needs --k/);
  });
});

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
