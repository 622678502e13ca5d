/**
 * Benchmark: community detection (sbertkit cluster's default) on seeded synthetic vectors with planted
 * groups: N x 384 rows, half of them in groups of 5-200 noisy copies of a random direction (cosine
 * ~0.9 to it, ~0.8 among members), the rest random. Prints time per pass, communities found, and the
 * peak RSS of the process. Each size runs in its own process, so peaks do not carry over.
 *
 *   npm run bench:cluster [-- --rows 50000,100000 --dim 384 --threshold=0.75 --min-size 10]
 *
 * --threshold -1 is the worst case for sentence-transformers' loop (one community swallows every
 * row); here it costs the counting pass plus one candidate.
 */
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {communityDetection} from '../src/algorithms/community.js';
import {VectorMatrix} from '../src/vectors/matrix.js';
import {normalizeRows} from '../src/vectors/metric.js';
import {mulberry32} from '../test/helpers/prng.js';
import {int, mib, printSection} from './lib/format.js';
import {peakRssMiB} from './lib/measure.js';

const {values} = parseArgs({
  options: {
    rows: {type: 'string', default: '50000,100000'},
    dim: {type: 'string', default: '384'},
    threshold: {type: 'string', default: '0.75'},
    'min-size': {type: 'string', default: '10'},
    threads: {type: 'string'},
  },
});
const sizes = values.rows.split(',').map(Number);
const dim = Number(values.dim);
const threshold = Number(values.threshold);
const minSize = Number(values['min-size']);
const threads = values.threads === undefined ? undefined : Number(values.threads);

if (sizes.length > 1) {
  for (const rows of sizes) {
    const args = [fileURLToPath(import.meta.url), '--rows', String(rows), '--dim', String(dim), `--threshold=${threshold}`, '--min-size', String(minSize)];
    if (threads !== undefined) args.push('--threads', String(threads));
    const child = spawnSync(process.execPath, args, {stdio: 'inherit'});
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
} else {
  await run(sizes[0]!);
}

/** Planted groups (see the header), seeded by the row count; returns the rows and how many are in groups. */
function planted(n: number, d: number): {vectors: VectorMatrix; grouped: number; groups: number} {
  const rand = mulberry32(n);
  // Sum of three uniforms: mean 0, variance 1/4; scaled to unit variance.
  const gauss = () => (rand() + rand() + rand() - 1.5) * 2;
  const data = new Float32Array(n * d);
  const noise = 0.48 / Math.sqrt(d); // |noise| ~ 0.48: cosine ~0.9 to the direction
  let row = 0;
  let groups = 0;
  const direction = new Float32Array(d);
  while (row < n / 2) {
    const size = Math.min(Math.floor(n / 2) - row, 5 + Math.floor(rand() * 196));
    if (size <= 0) break;
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (direction[i] = gauss()) ** 2;
    for (let i = 0; i < d; i++) direction[i]! /= Math.sqrt(norm);
    for (let m = 0; m < size; m++, row++) for (let i = 0; i < d; i++) data[row * d + i] = direction[i]! + noise * gauss();
    groups++;
  }
  const grouped = row;
  for (; row < n; row++) for (let i = 0; i < d; i++) data[row * d + i] = gauss();
  return {vectors: new VectorMatrix(Array.from({length: n}, (_, i) => i), d, data), grouped, groups};
}

async function run(rows: number): Promise<void> {
  const {vectors, grouped, groups} = planted(rows, dim);
  const unit = normalizeRows(vectors);
  console.log(`sbertkit cluster benchmark: community detection, ${int(rows)} x ${dim} (${int(grouped)} rows in ${int(groups)} planted groups), threshold ${threshold}, min size ${minSize}, threads ${threads ?? 'all'}`);
  const marks: Record<string, number> = {};
  const started = performance.now();
  const result = await communityDetection(unit, {
    threshold,
    minSize,
    threads,
    onProgress: (phase, done, total) => {
      if (done === total || phase === 'communities') marks[phase] = performance.now();
    },
  });
  const ended = performance.now();
  const counted = marks.counting ?? ended;
  const clustered = result.clusters.reduce((s, c) => s + c.members.length, 0);
  printSection(undefined, [
    ['pass 1 (counting)', `${((counted - started) / 1000).toFixed(2)} s`],
    ['pass 2 (communities)', `${((ended - counted) / 1000).toFixed(2)} s (${int(result.visited)} of ${int(result.candidates)} candidates decided, ${int(result.fetched)} needed their score row)`],
    ['total', `${((ended - started) / 1000).toFixed(2)} s`],
    ['communities', `${int(result.clusters.length)} (largest ${int(result.clusters[0]?.members.length ?? 0)}), ${int(clustered)} rows clustered`],
    ['peak RSS', mib(peakRssMiB())],
  ]);
}
