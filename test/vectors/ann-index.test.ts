/**
 * The usearch adapter: distances come back as the same similarities the exact path gives (checked
 * row by row against the float64 metric), recall against exact search, the saved index round trip,
 * and the refusals (another corpus, manhattan).
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {AnnIndex} from '../../src/vectors/ann-index.js';
import {exactSearch} from '../../src/vectors/exact-search.js';
import {similarity, type Metric} from '../../src/vectors/metric.js';
import {searchTopK} from '../../src/vectors/search.js';
import {randomMatrix} from '../helpers/random-vectors.js';
import {tempDir} from '../helpers/tmp.js';

const corpus = randomMatrix(2000, 24, 1);
const queries = randomMatrix(60, 24, 2);

describe('AnnIndex (usearch)', () => {
  for (const metric of ['cosine', 'dot', 'euclidean'] as const satisfies readonly Metric[]) {
    test(`${metric}: scores are the metric's similarities; recall@10 against exact >= 0.95`, async () => {
      const index = await AnnIndex.build(corpus, {metric, threads: 1});
      const ann = index.search(queries, 10);
      const exact = await exactSearch(queries, corpus, {k: 10, metric, threads: 1});
      let found = 0;
      for (let q = 0; q < queries.rows; q++) {
        const got = ann.row(q);
        assert.equal(got.indices.length, 10);
        got.indices.forEach((row, i) => {
          const want = similarity(metric, queries.row(q), corpus.row(row));
          assert.ok(Math.abs(got.scores[i]! - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${metric} q${q}: ${got.scores[i]} vs ${want}`);
          if (i > 0) assert.ok(got.scores[i - 1]! >= got.scores[i]!, 'best first');
        });
        const truth = new Set(exact.row(q).indices);
        found += Array.from(got.indices).filter((row) => truth.has(row)).length;
      }
      assert.ok(found / (queries.rows * 10) >= 0.95, `recall ${found / (queries.rows * 10)}`);
    });
  }

  test('a saved index gives the same results; another corpus or metric is refused', async () => {
    const dir = await tempDir();
    const path = join(dir, 'corpus.usearch');
    const built = await AnnIndex.build(corpus, {metric: 'cosine', threads: 1});
    await built.save(path, corpus);
    const loaded = await AnnIndex.load(path, corpus, {metric: 'cosine', threads: 1});
    const a = built.search(queries, 5);
    const b = loaded.search(queries, 5);
    assert.deepEqual(Array.from(b.indices), Array.from(a.indices));
    assert.deepEqual(Array.from(b.scores), Array.from(a.scores));
    const other = randomMatrix(2000, 24, 3);
    await assert.rejects(AnnIndex.load(path, other, {metric: 'cosine'}), /does not fit this corpus: it holds vectors of another corpus/);
    await assert.rejects(AnnIndex.load(path, corpus, {metric: 'dot'}), /does not fit this corpus: it holds metric cosine, not dot/);
    await assert.rejects(AnnIndex.load(join(dir, 'none.usearch'), corpus, {metric: 'cosine'}), /not an sbertkit index/);
  });

  test('self search never returns the query row; manhattan has no ANN; auto stays exact for small inputs', async () => {
    const small = randomMatrix(50, 8, 4);
    const self = (await AnnIndex.build(small, {metric: 'cosine', threads: 1})).search(small, 5, true);
    for (let q = 0; q < small.rows; q++) assert.ok(!Array.from(self.row(q).indices).includes(q));
    await assert.rejects(searchTopK(small, small, {k: 3, metric: 'manhattan', backend: 'ann'}), /no manhattan metric; use --exact/);
    assert.equal((await searchTopK(small, small, {k: 3, metric: 'cosine'})).backend, 'exact');
    assert.equal((await searchTopK(small, small, {k: 3, metric: 'cosine', backend: 'ann'})).backend, 'ann');
  });
});
