/**
 * minePairs over a real exact self search, against a brute-force reference written here: every
 * unordered pair scored in float64, each row's top-k neighbours, distinct pairs sorted by score
 * (higher first), then lower id1, then lower id2. Exactly max-pairs come back when that many exist.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {minePairs} from '../../src/algorithms/paraphrase-mining.js';
import {exactSearch} from '../../src/vectors/exact-search.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import type {Metric} from '../../src/vectors/metric.js';
import {randomMatrix} from '../helpers/random-vectors.js';
import {cosine} from '../helpers/vector-math.js';

/** The reference: paraphrase_mining's definition with plain loops. */
function reference(m: VectorMatrix, topK: number, maxPairs: number, threshold = -Infinity): {a: number; b: number; score: number}[] {
  const pairs = new Map<string, {a: number; b: number; score: number}>();
  for (let i = 0; i < m.rows; i++) {
    const others = Array.from({length: m.rows}, (_, j) => ({j, s: cosine(m.row(i), m.row(j))})).filter(({j}) => j !== i);
    others.sort((x, y) => y.s - x.s || x.j - y.j);
    for (const {j, s} of others.slice(0, topK)) {
      if (s < threshold) continue;
      const key = `${Math.min(i, j)},${Math.max(i, j)}`;
      if (!pairs.has(key)) pairs.set(key, {a: Math.min(i, j), b: Math.max(i, j), score: s});
    }
  }
  const all = [...pairs.values()].sort((x, y) => y.score - x.score || x.a - y.a || x.b - y.b);
  return maxPairs > 0 ? all.slice(0, maxPairs) : all;
}

async function mine(m: VectorMatrix, topK: number, maxPairs: number, threshold?: number, metric: Metric = 'cosine') {
  const neighbours = await exactSearch(m, m, {k: topK, metric, selfSearch: true, queryBlock: 7, corpusBlock: 11, threads: 1});
  const out = minePairs(neighbours, {maxPairs, threshold});
  return Array.from(out.scores, (score, p) => ({a: out.a[p]!, b: out.b[p]!, score}));
}

function assertSamePairs(got: {a: number; b: number; score: number}[], want: {a: number; b: number; score: number}[], label: string): void {
  assert.deepEqual(got.map((p) => [p.a, p.b]), want.map((p) => [p.a, p.b]), label);
  got.forEach((p, i) => assert.ok(Math.abs(p.score - want[i]!.score) <= 1e-5, `${label}: pair ${i} ${p.score} vs ${want[i]!.score}`));
}

describe('minePairs', () => {
  const m = randomMatrix(40, 6, 11);

  test('same pairs, order and scores (1e-5) as the brute-force definition', async () => {
    for (const [topK, maxPairs] of [[5, 0], [5, 37], [3, 10], [39, 0], [100, 50]] as const) {
      assertSamePairs(await mine(m, topK, maxPairs), reference(m, topK, maxPairs), `top-${topK} max ${maxPairs}`);
    }
  });

  test('exactly max-pairs when that many distinct pairs exist (symmetric pairs count once)', async () => {
    // With top-k = n - 1 every pair is found from both sides; all n(n-1)/2 are distinct.
    const all = (40 * 39) / 2;
    assert.equal((await mine(m, 39, 0)).length, all);
    for (const maxPairs of [1, 2, 500, all - 1, all]) assert.equal((await mine(m, 39, maxPairs)).length, maxPairs, `max ${maxPairs}`);
    assert.equal((await mine(m, 39, all + 5)).length, all, 'not reachable: every distinct pair');
  });

  test('threshold keeps only pairs scoring at least it', async () => {
    const got = await mine(m, 10, 0, 0.5);
    assert.ok(got.length > 0 && got.every((p) => p.score >= 0.5));
    assertSamePairs(got, reference(m, 10, 0, 0.5), 'threshold 0.5');
  });

  test('identical rows tie: lower ids first; n = 1 and n = 0 give no pairs', async () => {
    const same = new VectorMatrix([0, 1, 2, 3], 3, Float32Array.from([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]));
    assert.deepEqual((await mine(same, 3, 0)).map((p) => [p.a, p.b]), [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
    assert.deepEqual(await mine(new VectorMatrix([0], 3, Float32Array.from([1, 2, 3])), 5, 0), []);
    assert.deepEqual(await mine(new VectorMatrix([], 3, new Float32Array(0)), 5, 0), []);
  });
});
