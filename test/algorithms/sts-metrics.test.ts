import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {sharedDir} from '../helpers/paths.js';
import {averageRanks, cosine, dot, negEuclidean, negManhattan, pearson, spearman, stsMetrics} from '../../src/algorithms/sts-metrics.js';
import {naivePearson, naiveRanks, naiveSpearman} from '../helpers/naive-stats.js';
import {mulberry32} from '../helpers/prng.js';

const close = (actual: number, expected: number, tol = 1e-12, msg?: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${msg ?? ''} expected ${expected}, got ${actual}`);

// ---- averageRanks ----

test('averageRanks: hand-worked ties', () => {
  // sorted: 1 (rank 1), 2 2 (ranks 2,3 -> 2.5), 3 (rank 4)
  assert.deepEqual([...averageRanks([2, 1, 3, 2])], [2.5, 1, 4, 2.5]);
  // all equal: ranks 1..4 averaged -> 2.5 each
  assert.deepEqual([...averageRanks([7, 7, 7, 7])], [2.5, 2.5, 2.5, 2.5]);
  // 5 5 5 at the top of [0, 5, 5, 1, 5]: sorted 0 (1), 1 (2), 5 5 5 (3,4,5 -> 4)
  assert.deepEqual([...averageRanks([0, 5, 5, 1, 5])], [1, 4, 4, 2, 4]);
  assert.deepEqual([...averageRanks([])], []);
});

test('averageRanks: matches counting ranks on random data with many ties', () => {
  const r = mulberry32(1);
  for (let trial = 0; trial < 20; trial++) {
    const x = Array.from({length: 1 + Math.floor(r() * 200)}, () => Math.floor(r() * 11) / 2); // 0, 0.5, ..., 5
    assert.deepEqual([...averageRanks(x)], naiveRanks(x));
  }
});

test('averageRanks: NaN is rejected', () => {
  assert.throws(() => averageRanks([1, NaN, 2]), RangeError);
});

// ---- pearson / spearman ----

test('pearson: hand-worked small cases', () => {
  // x=[1,2,3], y=[1,3,2]: centred dx=[-1,0,1], dy=[-1,1,0]; Σdxdy=1, Σdx²=2, Σdy²=2 -> 1/2
  close(pearson([1, 2, 3], [1, 3, 2]), 0.5);
  close(pearson([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  close(pearson([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // x=[0,0,1,1], y=[0,1,0,1]: Σdxdy = (−.5)(−.5)+(−.5)(.5)+(.5)(−.5)+(.5)(.5) = 0 -> 0
  close(pearson([0, 0, 1, 1], [0, 1, 0, 1]), 0);
});

test('spearman: hand-worked case with ties equals the scipy docs example', () => {
  // x ranks [1,2,3,4,5]; y=[5,6,7,8,7] ranks [1,2,3.5,5,3.5] (the two 7s share ranks 3 and 4).
  // Centred: dx=[-2,-1,0,1,2], dy=[-2,-1,.5,2,.5]; Σdxdy = 4+1+0+2+1 = 8; Σdx² = 10; Σdy² = 9.5
  // rho = 8 / sqrt(95) = 0.8207826816681233 (also the value printed in scipy.stats.spearmanr's docs).
  close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / Math.sqrt(95));
  close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233);
});

test('spearman: ties on both sides, worked by hand', () => {
  // gold [0,0,5,5] ranks [1.5,1.5,3.5,3.5]; pred [1,2,2,3] ranks [1,2.5,2.5,4]
  // centred gold [-1,-1,1,1], pred [-1.5,0,0,1.5]; Σ = 1.5+0+0+1.5 = 3; Σg² = 4; Σp² = 4.5
  // rho = 3 / sqrt(18) = 0.7071067811865475
  close(spearman([0, 0, 5, 5], [1, 2, 2, 3]), 3 / Math.sqrt(18));
});

test('pearson and spearman match naive implementations on random data with many ties', () => {
  const r = mulberry32(42);
  for (let trial = 0; trial < 50; trial++) {
    const n = 2 + Math.floor(r() * 300);
    const gold = Array.from({length: n}, () => Math.round(r() * 25) / 5); // 26 distinct levels: lots of ties
    const pred = gold.map((g) => (r() < 0.3 ? Math.round(r() * 4) : g + r() * 3)); // some ties in pred too
    if (new Set(gold).size < 2 || new Set(pred).size < 2) continue;
    close(pearson(gold, pred), naivePearson(gold, pred), 1e-9, 'pearson');
    close(spearman(gold, pred), naiveSpearman(gold, pred), 1e-9, 'spearman');
  }
});

test('pearson is stable far from zero (two-pass), spearman is invariant to monotone transforms', () => {
  // x shifted by 1e8: the one-pass formula loses everything here; the correlation is still 0.5.
  close(pearson([1e8 + 1, 1e8 + 2, 1e8 + 3], [1, 3, 2]), 0.5, 1e-9);
  const x = [0.3, 0.1, 0.9, 0.5, 0.5];
  const y = [2, 1, 4, 3, 3];
  close(spearman(x, y), spearman(x.map((v) => Math.exp(5 * v)), y), 1e-15);
  close(spearman(x, y), 1);
});

test('degenerate input: NaN for n<2, zero variance or non-finite; throws on length mismatch', () => {
  assert.ok(Number.isNaN(pearson([], [])));
  assert.ok(Number.isNaN(pearson([1], [2])));
  assert.ok(Number.isNaN(spearman([1], [2])));
  assert.ok(Number.isNaN(pearson([3, 3, 3], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
  assert.ok(Number.isNaN(pearson([1, NaN, 3], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, NaN, 3], [1, 2, 3])));
  assert.throws(() => pearson([1, 2], [1, 2, 3]), RangeError);
  assert.throws(() => spearman([1, 2], [1]), RangeError);
});

// ---- pairwise scores ----

test('pairwise scores: hand-worked vectors', () => {
  const a = Float32Array.of(1, 2, 2); // |a| = 3
  const b = Float32Array.of(2, 0, 1); // |b| = sqrt 5
  close(dot(a, b), 4);
  close(cosine(a, b), 4 / (3 * Math.sqrt(5)));
  // a-b = (-1, 2, 1): L2 = sqrt 6, L1 = 4
  close(negEuclidean(a, b), -Math.sqrt(6));
  close(negManhattan(a, b), -4);
  close(cosine(a, a), 1, 1e-15);
  assert.equal(cosine(a, new Float32Array(3)), 0, 'zero vector has cosine 0 (sklearn convention)');
  assert.throws(() => dot(a, Float32Array.of(1, 2)), RangeError);
});

test('pairwise scores accumulate in float64', () => {
  // 1e4 terms of fround(1e-4)·1: summed in float32 the total is off by ~5e-5; in float64 by ~1e-13.
  const n = 10000;
  const a = new Float32Array(n).fill(1e-4);
  const b = new Float32Array(n).fill(1);
  close(dot(a, b), n * Math.fround(1e-4), 1e-12);
});

// ---- stsMetrics on constructed embeddings ----

test('stsMetrics on embeddings built so that each score is known in closed form', () => {
  // Pair i: u = (1, 0), v = s_i·(cos θ_i, sin θ_i). Then
  //   cosine = cos θ_i, dot = s_i cos θ_i, euclidean² = 1 + s_i² − 2 s_i cos θ_i,
  //   manhattan = |1 − s_i cos θ_i| + |s_i sin θ_i|.
  // Angles are exact float32 values' cos/sin are not, so expected scores are computed from the
  // stored float32 coordinates (x, y) with the closed forms, in the test, independently of the module.
  const gold = [5, 4, 4, 2.5, 1, 0, 0];
  const theta = [0.1, 0.5, 0.4, 1.0, 1.4, 2.0, 2.5];
  const scale = [1, 3, 0.5, 2, 1, 4, 0.25];
  const e1 = gold.map(() => Float32Array.of(1, 0));
  const e2 = theta.map((t, i) => Float32Array.of(scale[i] * Math.cos(t), scale[i] * Math.sin(t)));
  const xs = e2.map((v) => v[0]);
  const ys = e2.map((v) => v[1]);
  const cos = xs.map((x, i) => x / Math.hypot(x, ys[i]));
  const dots = xs;
  const euc = xs.map((x, i) => -Math.hypot(1 - x, ys[i]));
  const man = xs.map((x, i) => -(Math.abs(1 - x) + Math.abs(ys[i])));

  const m = stsMetrics(gold, e1, e2);
  close(m.pearson_cosine, naivePearson(gold, cos), 1e-9);
  close(m.spearman_cosine, naiveSpearman(gold, cos), 1e-12);
  close(m.pearson_dot, naivePearson(gold, dots), 1e-9);
  close(m.spearman_dot, naiveSpearman(gold, dots), 1e-12);
  close(m.pearson_euclidean, naivePearson(gold, euc), 1e-9);
  close(m.spearman_euclidean, naiveSpearman(gold, euc), 1e-12);
  close(m.pearson_manhattan, naivePearson(gold, man), 1e-9);
  close(m.spearman_manhattan, naiveSpearman(gold, man), 1e-12);

  // Hand check of one value: θ strictly increasing except pair 2 (0.4 < 0.5), so cosine order is
  // [.1,.4,.5,1,1.4,2,2.5] -> cosine ranks (descending θ = ascending cos) 7,5,6,4,3,2,1.
  // Gold ranks: 5->7, 4,4->5.5,5.5, 2.5->4, 1->3, 0,0->1.5,1.5. Centred (mean 4):
  // gold [3,1.5,1.5,0,-1,-2.5,-2.5], cos [3,1,2,0,-1,-2,-3]
  // Σ = 9+1.5+3+0+1+5+7.5 = 27; Σg² = 9+2.25+2.25+0+1+6.25+6.25 = 27; Σc² = 28 -> 27/sqrt(27·28)
  close(m.spearman_cosine, 27 / Math.sqrt(27 * 28), 1e-12);
});

test('stsMetrics: constant embeddings give NaN (undefined), not a number', () => {
  const e = [Float32Array.of(1, 0), Float32Array.of(1, 0), Float32Array.of(1, 0)];
  const m = stsMetrics([1, 2, 3], e, e);
  for (const v of Object.values(m)) assert.ok(Number.isNaN(v));
  assert.throws(() => stsMetrics([1, 2], e, e), RangeError);
});

// ---- real data with heavy ties, against values computed once with scipy 1.17.1 ----

const stsbTest = (() => {
  const shared = sharedDir();
  const path = shared === undefined ? undefined : join(shared, 'data/stsb/test.tsv');
  return path !== undefined && existsSync(path) ? path : undefined;
})();

test('spearman/pearson on STS-B test gold scores match scipy', {skip: stsbTest === undefined ? 'shared STS-B data not present' : false}, () => {
  // Features computed identically in Python: |len(s1) − len(s2)| and the number of shared
  // lower-cased space-separated tokens; both are small integers, so ranks tie heavily on both sides.
  //   scipy.stats.spearmanr(gold, lenDiff)[0] = 0.008936349048617535, pearsonr = 0.025010140719998453
  //   scipy.stats.spearmanr(gold, overlap)[0] = 0.42116575840886766,  pearsonr = 0.36655353659907025
  const lines = readFileSync(stsbTest!, 'utf8').split('\n').slice(1).filter((l) => l !== '');
  const gold: number[] = [];
  const lenDiff: number[] = [];
  const overlap: number[] = [];
  for (const line of lines) {
    const [a, b, score] = line.split('\t');
    gold.push(Number(score));
    lenDiff.push(Math.abs(a.length - b.length));
    const wa = new Set(a.toLowerCase().split(' '));
    overlap.push(new Set(b.toLowerCase().split(' ').filter((w) => wa.has(w))).size);
  }
  assert.equal(gold.length, 1379);
  close(spearman(gold, lenDiff), 0.008936349048617535, 1e-12);
  close(pearson(gold, lenDiff), 0.025010140719998453, 1e-12);
  close(spearman(gold, overlap), 0.42116575840886766, 1e-12);
  close(pearson(gold, overlap), 0.36655353659907025, 1e-12);
});
