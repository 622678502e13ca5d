/**
 * Benchmark: top-10 search of Q queries (default 1,000) in a corpus of N seeded unit vectors (default
 * 1,000,000 x 384): `--data clustered` (default: 1,000 centres plus noise, closer to real embeddings,
 * whose neighbourhoods have structure) or `--data random` (uniform directions: the hardest case for
 * any graph index, where every point is nearly equidistant). Prints the exact search time (the baseline, same run), the ANN index
 * build and search times, the speed-up of the ANN search over exact, and ANN recall@10 against the
 * exact results (target >= 0.99 at the default settings).
 *
 *   npm run bench:search [-- --rows N --queries Q --dim D --data clustered|random --expansion E]
 */
import {parseArgs} from 'node:util';
import {AnnIndex, ANN_DEFAULTS} from '../src/vectors/ann-index.js';
import {exactSearch} from '../src/vectors/exact-search.js';
import {mulberry32} from '../test/helpers/prng.js';
import {int, mib, printSection} from './lib/format.js';
import {peakRssMiB} from './lib/measure.js';
import {unitVectors} from './lib/synthetic.js';

const {values} = parseArgs({
  options: {
    rows: {type: 'string', default: '1000000'},
    queries: {type: 'string', default: '1000'},
    dim: {type: 'string', default: '384'},
    data: {type: 'string', default: 'clustered'},
    expansion: {type: 'string', default: String(ANN_DEFAULTS.expansionSearch)},
  },
});
const [rows, nq, dim] = [Number(values.rows), Number(values.queries), Number(values.dim)];

const expansionSearch = Number(values.expansion);
const noise = () => rand() + rand() + rand() - 1.5;
const rand = mulberry32(7);
/** 1,000 random centres; a clustered row is a centre plus noise of the same scale. */
const centres = values.data === 'clustered' ? Array.from({length: 1000}, () => Float32Array.from({length: dim}, noise)) : undefined;

const seconds = (since: number) => (performance.now() - since) / 1000;
const corpus = unitVectors(rows, dim, 1, centres);
const queries = unitVectors(nq, dim, 2, centres);
console.log(`sbertkit search benchmark: ${int(nq)} queries, top-10, cosine, corpus ${int(rows)} x ${dim} ${values.data} unit vectors`);

let t = performance.now();
const exact = await exactSearch(queries, corpus, {k: 10, metric: 'cosine'});
const exactSeconds = seconds(t);
t = performance.now();
const index = await AnnIndex.build(corpus, {metric: 'cosine', expansionSearch});
const buildSeconds = seconds(t);
t = performance.now();
const ann = index.search(queries, 10);
const annSeconds = seconds(t);

let hits = 0;
for (let q = 0; q < nq; q++) {
  const truth = new Set(exact.row(q).indices);
  for (const row of ann.row(q).indices) if (truth.has(row)) hits++;
}
printSection('exact (baseline)', [['search', `${exactSeconds.toFixed(2)} s (${(2 * nq * rows * dim / exactSeconds / 1e9).toFixed(1)} GFLOP/s)`]]);
printSection(`ANN (usearch HNSW, connectivity ${ANN_DEFAULTS.connectivity}, expansion add ${ANN_DEFAULTS.expansionAdd} / search ${expansionSearch})`, [
  ['index build', `${buildSeconds.toFixed(1)} s (${int(rows / buildSeconds)} rows/s)`],
  ['search', `${annSeconds.toFixed(3)} s (${(exactSeconds / annSeconds).toFixed(1)}x faster than exact)`],
  ['recall@10', `${(hits / (nq * 10)).toFixed(4)} (target >= 0.99)`],
]);
console.log(`peak RSS ${mib(peakRssMiB())}`);
