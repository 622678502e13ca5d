/**
 * Benchmark: paraphrase mining at scale, exact. N seeded random unit vectors (default 100,000 x 384)
 * -> every row's top-10 neighbours (src/vectors exact blocked search) -> all distinct pairs. Prints
 * time, achieved GFLOP/s (floor: N x N x dim x 2 flops) and the ratio to the baseline measured in the
 * same run: the bare matrix product (Gemm only, no TopK, no merging) over the same blocks, i.e. the
 * same flops at the machine's product speed. Target: within 1.3x of it; peak RSS under 2 GB.
 *
 *   npm run bench:mine [-- --rows N --dim D]
 */
import {parseArgs} from 'node:util';
import {minePairs} from '../src/algorithms/paraphrase-mining.js';
import {GraphBuilder} from '../src/onnx/graph-builder.js';
import {loadOrt} from '../src/onnx/runtime.js';
import {EXACT_SEARCH_DEFAULTS, exactSearch} from '../src/vectors/exact-search.js';
import {VectorMatrix} from '../src/vectors/matrix.js';
import {int, mib, printSection} from './lib/format.js';
import {peakRssMiB} from './lib/measure.js';
import {unitVectors} from './lib/synthetic.js';

const {values} = parseArgs({options: {rows: {type: 'string', default: '100000'}, dim: {type: 'string', default: '384'}, 'top-k': {type: 'string', default: '10'}}});
const rows = Number(values.rows);
const dim = Number(values.dim);
const topK = Number(values['top-k']);

/**
 * The baseline: the same block grid through the product alone. Its output is reduced to one max per
 * row inside the graph, so the baseline does not pay for copying the 64 MiB score block back to
 * JS, which the search does not do either (TopK returns k values per row).
 */
async function bareProducts(m: VectorMatrix): Promise<number> {
  const ort = await loadOrt();
  const g = new GraphBuilder('gemm');
  const scores = g.op('Gemm', [g.input('queries', 'float32', ['q', 'd']), g.input('corpus', 'float32', ['c', 'd'])], {transB: 1});
  g.op('ReduceMax', [scores], {axes: [1], keepdims: 1}, 'row_max');
  g.output('row_max', 'float32', ['q', 1]);
  const session = await ort.InferenceSession.create(g.toBytes(17), {graphOptimizationLevel: 'all', executionMode: 'sequential'});
  const {queryBlock, corpusBlock} = EXACT_SEARCH_DEFAULTS;
  const started = performance.now();
  for (let c0 = 0; c0 < m.rows; c0 += corpusBlock) {
    const c1 = Math.min(m.rows, c0 + corpusBlock);
    const corpus = new ort.Tensor('float32', m.data.subarray(c0 * dim, c1 * dim), [c1 - c0, dim]);
    for (let q0 = 0; q0 < m.rows; q0 += queryBlock) {
      const q1 = Math.min(m.rows, q0 + queryBlock);
      await session.run({queries: new ort.Tensor('float32', m.data.subarray(q0 * dim, q1 * dim), [q1 - q0, dim]), corpus});
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await session.release();
  return seconds;
}

const matrix = unitVectors(rows, dim, 42);
const flops = 2 * rows * rows * dim;
console.log(`sbertkit mine-paraphrases benchmark: ${int(rows)} x ${dim} random unit vectors, top-${topK}, exact, cosine`);
const baseline = await bareProducts(matrix);
const started = performance.now();
const neighbours = await exactSearch(matrix, matrix, {k: topK, metric: 'cosine', selfSearch: true});
const searched = performance.now();
const pairs = minePairs(neighbours, {maxPairs: 0});
const seconds = (performance.now() - started) / 1000;
printSection('bare matrix products (baseline: same blocks, same flops, one max per row out)', [
  ['time', `${baseline.toFixed(1)} s`],
  ['speed', `${(flops / baseline / 1e9).toFixed(1)} GFLOP/s`],
]);
printSection('mine-paraphrases (search + pairs)', [
  ['time', `${seconds.toFixed(1)} s (search ${((searched - started) / 1000).toFixed(1)} s, pairs ${((performance.now() - searched) / 1000).toFixed(1)} s)`],
  ['speed', `${(flops / seconds / 1e9).toFixed(1)} GFLOP/s (floor: ${int(rows)}^2 x ${dim} x 2 flops)`],
  ['pairs', int(pairs.scores.length)],
  ['peak RSS', `${mib(peakRssMiB())} (target < 2048 MiB)`],
]);
console.log(`ratio to the bare products: ${(seconds / baseline).toFixed(2)}x (target <= 1.3x)`);
