/**
 * Hamming search of packed binary corpora against a naive reference written here: distances counted
 * bit by bit over the unpacked signs, every row sorted by (distance, row), and rescoring as a plain
 * float loop over the unpacked +1/-1 rows. Small blocks make the search merge across blocks; low
 * dimensions make ties plentiful, so the tie rule (lower row first) is exercised.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {hammingSearch} from '../../src/vectors/hamming-search.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {METRICS, type Metric} from '../../src/vectors/metric.js';
import {BitMatrix} from '../../src/vectors/packed-bits.js';
import {searchTopK} from '../../src/vectors/search.js';
import {mulberry32} from '../helpers/prng.js';
import {randomMatrix} from '../helpers/random-vectors.js';
import {plainScore} from '../helpers/vector-math.js';

const signs = (m: VectorMatrix, r: number): number[] => Array.from(m.row(r), (v) => (v > 0 ? 1 : -1));


/** Every corpus row by (Hamming distance of the signs, row), self excluded when asked. */
function naiveOrder(queries: VectorMatrix, corpus: VectorMatrix, q: number, self: boolean): {row: number; h: number}[] {
  const qs = signs(queries, q);
  const all = [];
  for (let r = 0; r < corpus.rows; r++) {
    if (self && r === q) continue;
    const cs = signs(corpus, r);
    let h = 0;
    for (let i = 0; i < qs.length; i++) if (qs[i] !== cs[i]) h++;
    all.push({row: r, h});
  }
  return all.sort((a, b) => a.h - b.h || a.row - b.row);
}

function packed(m: VectorMatrix): BitMatrix {
  return BitMatrix.fromSigns(m.ids, m.dimension, m.data);
}

describe('hammingSearch', () => {
  for (const dimension of [5, 13, 64, 100]) {
    for (const metric of METRICS) {
      test(`equals the naive Hamming top-k (dim ${dimension}, ${metric})`, async () => {
        const corpus = randomMatrix(300, dimension, dimension);
        const queries = randomMatrix(17, dimension, dimension + 1000);
        const top = await hammingSearch(queries, packed(corpus), {k: 12, metric, corpusBlock: 37});
        for (let q = 0; q < queries.rows; q++) {
          const want = naiveOrder(queries, corpus, q, false).slice(0, 12);
          const got = top.row(q);
          assert.deepEqual(Array.from(got.indices), want.map((w) => w.row), `query ${q}`);
          const qs = signs(queries, q);
          want.forEach((w, i) => {
            const expected = plainScore(metric, qs, signs(corpus, w.row));
            assert.ok(Math.abs(got.scores[i]! - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `query ${q} rank ${i}: ${got.scores[i]} vs ${expected}`);
          });
        }
      });
    }
  }

  test('self search (packed queries) skips each row itself; k above the corpus size gives every other row', async () => {
    const corpus = randomMatrix(40, 9, 3);
    const bits = packed(corpus);
    const top = await hammingSearch(bits, bits, {k: 100, metric: 'dot', selfSearch: true, corpusBlock: 8});
    assert.equal(top.k, 39);
    for (let q = 0; q < corpus.rows; q++) assert.deepEqual(Array.from(top.row(q).indices), naiveOrder(corpus, corpus, q, true).map((w) => w.row));
  });

  test('rescore N: the naive top N by Hamming distance, re-ranked by the float query against the +1/-1 rows', async () => {
    const corpus = randomMatrix(500, 32, 5);
    const queries = randomMatrix(10, 32, 6);
    for (const metric of METRICS) {
      for (const n of [3, 25, 500]) {
        const top = await hammingSearch(queries, packed(corpus), {k: 5, metric, rescore: n, corpusBlock: 64});
        for (let q = 0; q < queries.rows; q++) {
          const candidates = naiveOrder(queries, corpus, q, false).slice(0, Math.max(n, 5));
          const rescored = candidates
            .map(({row}) => ({row, s: Math.fround(plainScore(metric, queries.row(q), signs(corpus, row)))}))
            .sort((a, b) => b.s - a.s || a.row - b.row)
            .slice(0, 5);
          assert.deepEqual(Array.from(top.row(q).indices), rescored.map((r) => r.row), `${metric} N=${n} query ${q}`);
          rescored.forEach((r, i) => assert.ok(Math.abs(top.row(q).scores[i]! - r.s) < 1e-5));
        }
      }
    }
  });

  test('rescoring finds at least as many of the float search top-10 as Hamming alone (planted neighbours)', async () => {
    // Each query has 10 true neighbours: noisy copies of itself, among 2,000 random rows.
    const dimension = 64;
    const rand = mulberry32(8);
    const queries = randomMatrix(20, dimension, 9);
    const rows: Float32Array[] = [];
    for (let q = 0; q < queries.rows; q++) {
      for (let j = 0; j < 10; j++) rows.push(Float32Array.from(queries.row(q), (v) => v + (rand() * 2 - 1) * 0.9));
    }
    const background = randomMatrix(2000, dimension, 10);
    for (let r = 0; r < background.rows; r++) rows.push(background.row(r));
    const corpus = VectorMatrix.fromRows(rows);

    const truth = (await searchTopK(queries, corpus, {k: 10, metric: 'cosine', backend: 'exact'})).top;
    const recall = (top: {row(q: number): {indices: Int32Array}}): number => {
      let found = 0;
      for (let q = 0; q < queries.rows; q++) {
        const want = new Set(truth.row(q).indices);
        for (const row of top.row(q).indices) if (want.has(row)) found++;
      }
      return found / (queries.rows * 10);
    };
    const bits = packed(corpus);
    const hamming = recall(await hammingSearch(queries, bits, {k: 10, metric: 'cosine'}));
    const rescored = recall(await hammingSearch(queries, bits, {k: 10, metric: 'cosine', rescore: 40}));
    assert.ok(rescored >= hamming, `rescored recall ${rescored} < Hamming ${hamming}`);
    assert.ok(rescored > hamming, `on this fixture rescoring should gain (Hamming ${hamming}, rescored ${rescored})`);
  });

  test('through searchTopK: binary corpora take the Hamming backend; ANN, index and rescoring of float corpora are refused', async () => {
    const corpus = randomMatrix(50, 16, 1);
    const queries = randomMatrix(3, 16, 2);
    const outcome = await searchTopK(queries, packed(corpus), {k: 4, metric: 'cosine'});
    assert.equal(outcome.backend, 'hamming');
    assert.deepEqual(Array.from(outcome.top.row(0).indices), naiveOrder(queries, corpus, 0, false).slice(0, 4).map((w) => w.row));
    await assert.rejects(() => searchTopK(queries, packed(corpus), {k: 4, metric: 'cosine', backend: 'ann'}), /searched exactly by Hamming distance/);
    await assert.rejects(() => searchTopK(queries, corpus, {k: 4, metric: 'cosine', rescore: 10}), /--rescore is for binary corpora/);
    await assert.rejects(() => hammingSearch(packed(queries), packed(corpus), {k: 4, metric: 'cosine', rescore: 10}), /needs float queries/);
  });
});
