/**
 * Neighbour lists at a threshold against all pairs in float64: complete on the exact backend however
 * many near-duplicates a row has (the lists grow past their first length), exact scores on every
 * backend, and a bucketed backend whose measured recall equals the recall counted here.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {nearNeighbours, sampleRecall, seededSample, type NeighbourLists} from '../../src/algorithms/neighbour-lists.js';
import {mulberry32} from '../../src/algorithms/random.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {normalizeRows} from '../../src/vectors/metric.js';
import {plantedGroups} from './cluster-reference.js';
import {cosine, naiveNeighbours} from './dedupe-reference.js';

function listOf(lists: NeighbourLists, r: number): {indices: number[]; scores: number[]} {
  const from = lists.offsets[r]!;
  const to = lists.offsets[r + 1]!;
  return {indices: Array.from(lists.indices.subarray(from, to)), scores: Array.from(lists.scores.subarray(from, to))};
}

describe('nearNeighbours', () => {
  test('exact lists are complete past the first list length (a group of 60 near-copies, k = 4)', async () => {
    const rows = plantedGroups(31, 24, 3, 60, 50, 0.05);
    const threshold = 0.9;
    const unit = normalizeRows(VectorMatrix.fromRows(rows));
    const {lists, backend} = await nearNeighbours(unit, {threshold, backend: 'exact', k: 4});
    assert.equal(backend, 'exact');
    const want = naiveNeighbours(rows, threshold);
    assert.ok(Math.max(...want.map((s) => s.size)) > 40, 'some row has many neighbours');
    rows.forEach((_, r) => {
      const {indices, scores} = listOf(lists, r);
      assert.deepEqual(new Set(indices.map(String)), want[r], `row ${r}`);
      for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1]! >= scores[i]!, `row ${r} sorted best first`);
      indices.forEach((j, i) => assert.ok(Math.abs(scores[i]! - cosine(rows[r]!, rows[j]!)) <= 1e-5));
      // best: the nearest row at any score.
      let best = -Infinity;
      rows.forEach((o, j) => (j !== r ? (best = Math.max(best, cosine(rows[r]!, o))) : 0));
      assert.ok(Math.abs(lists.bestScores[r]! - best) <= 1e-5, `row ${r} best`);
    });
  });

  test('bucketed: exact scores, and sampleRecall equals the recall counted against all pairs', async () => {
    const rows = plantedGroups(32, 16, 40, 6, 200, 0.2);
    const threshold = 0.85;
    const unit = normalizeRows(VectorMatrix.fromRows(rows));
    const {lists, backend, buckets, probes} = await nearNeighbours(unit, {threshold, backend: 'bucketed', buckets: 12, probes: 2});
    assert.equal(backend, 'bucketed');
    assert.equal(buckets, 12);
    assert.equal(probes, 2);
    const want = naiveNeighbours(rows, threshold);
    let pairs = 0;
    let found = 0;
    rows.forEach((_, r) => {
      const {indices, scores} = listOf(lists, r);
      indices.forEach((j, i) => {
        assert.ok(want[r]!.has(String(j)), `row ${r}: ${j} is a true neighbour`);
        assert.ok(Math.abs(scores[i]! - cosine(rows[r]!, rows[j]!)) <= 1e-5);
      });
      pairs += want[r]!.size;
      found += indices.length;
    });
    assert.ok(found / pairs > 0.8, `bucketed recall ${found / pairs}`);
    // On a sample of every row, the measured recall is the recall.
    const measured = await sampleRecall(unit, lists, threshold, rows.length, 1);
    assert.equal(measured.pairs, pairs);
    assert.equal(measured.found, found);
    // With every bucket probed, bucketed search is exact.
    const all = await nearNeighbours(unit, {threshold, backend: 'bucketed', buckets: 12, probes: 12});
    rows.forEach((_, r) => assert.deepEqual(new Set(listOf(all.lists, r).indices.map(String)), want[r], `row ${r}, all buckets`));
  });

  test('seededSample: distinct, sorted, reproducible', () => {
    const a = seededSample(1000, 100, mulberry32(5));
    assert.equal(new Set(a).size, 100);
    assert.deepEqual(Array.from(a), Array.from(a).sort((x, y) => x - y));
    assert.deepEqual(Array.from(seededSample(1000, 100, mulberry32(5))), Array.from(a));
    assert.equal(seededSample(10, 20, mulberry32(1)).length, 10);
  });
});
