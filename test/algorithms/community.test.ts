/**
 * Community detection against the naive all-pairs port of sentence-transformers' definition
 * (cluster-reference.ts) on seeded planted groups: the same communities, in the same order, members
 * in the same order, scores within 1e-5; whatever the block size; and bounded work when one community
 * swallows every row.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {communityDetection} from '../../src/algorithms/community.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {normalizeRows} from '../../src/vectors/metric.js';
import {naiveCommunities, plantedGroups, type RefCluster} from './cluster-reference.js';

const unitMatrix = (rows: Float32Array[]) => normalizeRows(VectorMatrix.fromRows(rows));

function assertSame(got: Awaited<ReturnType<typeof communityDetection>>, want: RefCluster[], rows: number, label: string): void {
  assert.deepEqual(got.clusters.map((c) => Array.from(c.members)), want.map((c) => c.members), label);
  got.clusters.forEach((c, k) => c.scores.forEach((s, i) => assert.ok(Math.abs(s - want[k]!.scores[i]!) <= 1e-5, `${label}: cluster ${k} member ${i}`)));
  const labels = new Array<number>(rows).fill(-1);
  want.forEach((c, k) => c.members.forEach((m) => (labels[m] = k)));
  assert.deepEqual(Array.from(got.assignment), labels, `${label}: row labels`);
}

describe('communityDetection', () => {
  for (const [seed, threshold, minSize, spread] of [
    [1, 0.75, 3, 0.35],
    [2, 0.6, 5, 0.5],
    [3, 0.85, 2, 0.3],
    [4, 0.5, 4, 0.6], // low threshold: communities overlap and the removal rule decides
    [5, 0.3, 10, 0.6],
  ] as const) {
    test(`equals the naive definition (seed ${seed}, threshold ${threshold}, min size ${minSize})`, async () => {
      const rows = plantedGroups(seed, 12, 6, 14, 30, spread);
      const want = naiveCommunities(rows, threshold, minSize);
      const unit = unitMatrix(rows);
      const got = await communityDetection(unit, {threshold, minSize});
      assertSame(got, want, rows.length, 'default blocks');
      // One or a few rows per product: gathering candidates across many blocks gives the same answer.
      const small = await communityDetection(unit, {threshold, minSize, blockValues: 3 * rows.length});
      assertSame(small, want, rows.length, 'small blocks');
    });
  }

  test('the seeded data exercises the removal rule: kept communities that lost members to earlier ones', () => {
    // Under the pre-v3 rule these communities would have been dropped; the cases above only test the
    // current rule if such communities exist.
    const stats = {trimmed: 0};
    naiveCommunities(plantedGroups(4, 12, 6, 14, 30, 0.6), 0.5, 4, stats);
    naiveCommunities(plantedGroups(5, 12, 6, 14, 30, 0.6), 0.3, 10, stats);
    assert.ok(stats.trimmed > 0, `${stats.trimmed} trimmed communities`);
  });

  test('one community swallowing every row: one community, and pass 2 stops after its first candidate', async () => {
    const rows = plantedGroups(7, 16, 1, 400, 0, 0.05);
    const got = await communityDetection(unitMatrix(rows), {threshold: 0.1, minSize: 2, blockValues: 10 * rows.length});
    assert.equal(got.clusters.length, 1);
    assert.equal(got.clusters[0]!.members.length, rows.length);
    assert.equal(got.candidates, rows.length);
    assert.equal(got.visited, 1);
    assert.ok(got.fetched <= 32, `${got.fetched} score rows fetched`);
  });

  test('no rows, min size above the row count, and identical rows', async () => {
    const none = await communityDetection(VectorMatrix.empty(4), {threshold: 0.5, minSize: 1});
    assert.deepEqual([none.clusters.length, none.assignment.length], [0, 0]);
    const rows = plantedGroups(8, 8, 2, 5, 0, 0.1);
    const tooBig = await communityDetection(unitMatrix(rows), {threshold: 0.5, minSize: rows.length + 1});
    assert.equal(tooBig.clusters.length, 0);
    assert.ok(tooBig.assignment.every((a) => a === -1));
    const same = Array.from({length: 7}, () => Float32Array.of(0.5, -1, 2));
    const one = await communityDetection(unitMatrix(same), {threshold: 0.99, minSize: 7});
    assert.deepEqual(one.clusters.map((c) => Array.from(c.members)), [[0, 1, 2, 3, 4, 5, 6]]);
  });
});
