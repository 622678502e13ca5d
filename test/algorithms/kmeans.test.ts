/**
 * Spherical k-means: the Lloyd part against a naive float64 Lloyd's (cluster-reference.ts) started
 * from the same k-means++ centres, so both run the same iterations and end in the same partition;
 * k-means++ itself: reproducible for a seed, k distinct rows, k = rows takes every row, identical rows.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {kMeansPlusPlus, sphericalKMeans} from '../../src/algorithms/kmeans.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {normalizeRows} from '../../src/vectors/metric.js';
import {naiveLloyd, plantedGroups} from './cluster-reference.js';

const unitMatrix = (rows: Float32Array[]) => normalizeRows(VectorMatrix.fromRows(rows));

describe('sphericalKMeans', () => {
  for (const [seed, k, maxIter, spread] of [
    [11, 6, 100, 0.4],
    [12, 4, 100, 0.8], // fewer centroids than groups: rows move for several iterations
    [13, 9, 100, 1.0],
    [14, 5, 2, 1.0], // stopped by maxIter before converging
  ] as const) {
    test(`equals a naive Lloyd's from the same initial centres (seed ${seed}, k ${k}, max-iter ${maxIter})`, async () => {
      const rows = plantedGroups(seed, 10, 6, 15, 25, spread);
      const unit = unitMatrix(rows);
      const initial = kMeansPlusPlus(unit, k, seed);
      const want = naiveLloyd(rows, initial, maxIter);
      const got = await sphericalKMeans(unit, {k, seed, maxIter});
      assert.equal(got.iterations, want.iterations);
      assert.equal(got.converged, want.converged);
      assert.deepEqual(got.clusters.map((c) => Array.from(c.members)), want.clusters.map((c) => c.members));
      got.clusters.forEach((c, j) => c.scores.forEach((s, i) => assert.ok(Math.abs(s - want.clusters[j]!.scores[i]!) <= 1e-5, `cluster ${j} member ${i}`)));
      if (maxIter === 100) assert.ok(want.iterations > 2, `only ${want.iterations} iterations: the update step went untested`);
    });
  }

  test('the same seed gives the same clusters with 1 or 2 threads', async () => {
    const unit = unitMatrix(plantedGroups(21, 16, 8, 40, 100, 0.9));
    const one = await sphericalKMeans(unit, {k: 8, seed: 5, maxIter: 100, threads: 1});
    const two = await sphericalKMeans(unit, {k: 8, seed: 5, maxIter: 100, threads: 2});
    assert.deepEqual(Array.from(two.assignment), Array.from(one.assignment));
    assert.deepEqual(Array.from(two.scores), Array.from(one.scores));
  });
});

describe('kMeansPlusPlus', () => {
  test('reproducible for a seed, k distinct rows, every row when k = rows', () => {
    const unit = unitMatrix(plantedGroups(31, 8, 4, 10, 10, 0.5));
    const a = kMeansPlusPlus(unit, 5, 7);
    assert.deepEqual(Array.from(kMeansPlusPlus(unit, 5, 7)), Array.from(a));
    assert.equal(new Set(a).size, 5);
    assert.deepEqual(Array.from(kMeansPlusPlus(unit, unit.rows, 7)).sort((x, y) => x - y), Array.from({length: unit.rows}, (_, i) => i));
  });

  test('well separated groups: one initial centre in each group', () => {
    // With spread 0.01 a row of another group is ~10^4 times likelier than one of a covered group.
    const rows = plantedGroups(32, 8, 5, 12, 0, 0.01);
    const unit = unitMatrix(rows);
    const groupOf = (r: number) => rows.findIndex((o) => o.every((x, i) => Math.abs(x - rows[r]![i]!) < 0.2));
    const picked = Array.from(kMeansPlusPlus(unit, 5, 3), groupOf);
    assert.equal(new Set(picked).size, 5);
  });

  test('identical rows: still k distinct rows, and k-means puts every row in one cluster', async () => {
    const unit = unitMatrix(Array.from({length: 6}, () => Float32Array.of(1, 2, 3)));
    const init = kMeansPlusPlus(unit, 3, 1);
    assert.equal(new Set(init).size, 3);
    const result = await sphericalKMeans(unit, {k: 3, seed: 1, maxIter: 10});
    assert.equal(result.clusters.length, 1);
    assert.ok(result.assignment.every((a) => a === 0));
  });
});
