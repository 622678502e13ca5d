/**
 * Exact blocked search against a brute-force reference written here: plain float64 loops over small
 * seeded sets, sorted by score (higher first) and then by lower row. Identical top-k rows and scores
 * within 1e-5 for every metric, with blocks small enough that merging across blocks is exercised.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {METRICS, type Metric} from '../../src/vectors/metric.js';
import {exactSearch} from '../../src/vectors/exact-search.js';
import type {TopK} from '../../src/vectors/top-k.js';
import {randomMatrix} from '../helpers/random-vectors.js';
import {plainScore} from '../helpers/vector-math.js';

/** The reference: every pair scored in float64, each query's list sorted by (score desc, row asc). */
function bruteForce(q: VectorMatrix, c: VectorMatrix, metric: Metric, k: number, self = false): {rows: number[]; scores: number[]}[] {
  const score = (a: Float32Array, b: Float32Array): number => plainScore(metric, a, b);
  return Array.from({length: q.rows}, (_, i) => {
    const all = Array.from({length: c.rows}, (_, j) => ({j, s: score(q.row(i), c.row(j))})).filter(({j}) => !self || j !== i);
    all.sort((x, y) => y.s - x.s || x.j - y.j);
    const top = all.slice(0, k);
    return {rows: top.map((t) => t.j), scores: top.map((t) => t.s)};
  });
}

function assertMatches(result: TopK, expected: {rows: number[]; scores: number[]}[], label: string): void {
  expected.forEach((want, q) => {
    const got = result.row(q);
    assert.deepEqual(Array.from(got.indices), want.rows, `${label}: query ${q} rows`);
    got.scores.forEach((s, i) => assert.ok(Math.abs(s - want.scores[i]!) <= 1e-5, `${label}: query ${q} rank ${i}: ${s} vs ${want.scores[i]}`));
  });
}

describe('exactSearch vs brute force', () => {
  const corpus = randomMatrix(57, 12, 1);
  const queries = randomMatrix(23, 12, 2);

  for (const metric of METRICS) {
    test(`${metric}: same top-k rows and scores (1e-5), across block sizes`, async () => {
      const expected = bruteForce(queries, corpus, metric, 7);
      for (const [queryBlock, corpusBlock] of [[1024, 16384], [5, 8], [1, 3]] as const) {
        assertMatches(await exactSearch(queries, corpus, {k: 7, metric, queryBlock, corpusBlock, threads: 1}), expected, `${metric} ${queryBlock}x${corpusBlock}`);
      }
    });
  }

  test('self search (mining): a row is never its own neighbour', async () => {
    for (const metric of METRICS) {
      const result = await exactSearch(corpus, corpus, {k: 5, metric, selfSearch: true, queryBlock: 7, corpusBlock: 9, threads: 1});
      assertMatches(result, bruteForce(corpus, corpus, metric, 5, true), `self ${metric}`);
    }
  });

  test('ties go to the lower corpus row, also across blocks', async () => {
    // Rows 2, 5, 9 and 14 are the same vector: every query ties on them.
    const base = randomMatrix(16, 8, 3);
    const data = base.data.slice();
    for (const row of [5, 9, 14]) data.set(base.row(2), row * 8);
    const tied = new VectorMatrix(base.ids, 8, data);
    const q = new VectorMatrix([0], 8, base.row(2).slice());
    for (const metric of METRICS) {
      for (const corpusBlock of [16384, 4, 3]) {
        const top = (await exactSearch(q, tied, {k: 4, metric: metric, corpusBlock, threads: 1})).row(0);
        if (metric !== 'dot') assert.deepEqual(Array.from(top.indices), [2, 5, 9, 14], `${metric} block ${corpusBlock}`);
        else assert.deepEqual(Array.from(top.indices), bruteForce(q, tied, 'dot', 4)[0]!.rows, `dot block ${corpusBlock}`);
      }
    }
  });

  test('k >= n returns every row; n = 1; empty inputs', async () => {
    const small = randomMatrix(3, 4, 4);
    const all = await exactSearch(small, small, {k: 10, metric: 'cosine', threads: 1});
    assert.deepEqual(Array.from(all.counts), [3, 3, 3]);
    assertMatches(all, bruteForce(small, small, 'cosine', 10), 'k >= n');
    const one = randomMatrix(1, 4, 5);
    assert.deepEqual(Array.from((await exactSearch(one, one, {k: 3, metric: 'dot', threads: 1})).row(0).indices), [0]);
    assert.deepEqual(Array.from((await exactSearch(one, one, {k: 3, metric: 'dot', selfSearch: true, threads: 1})).counts), [0]);
    const none = new VectorMatrix([], 4, new Float32Array(0));
    assert.equal((await exactSearch(none, small, {k: 3, metric: 'cosine', threads: 1})).queries, 0);
    assert.deepEqual(Array.from((await exactSearch(small, none, {k: 3, metric: 'cosine', threads: 1})).counts), [0, 0, 0]);
  });

  test('different dimensions are one clear error', async () => {
    await assert.rejects(exactSearch(randomMatrix(2, 4, 6), randomMatrix(2, 5, 7), {k: 1, metric: 'cosine'}), /queries have dimension 4 but the corpus has 5/);
  });
});
