/**
 * Benchmark: `sbertkit dedupe` on a million seeded synthetic 384-d vectors with planted near-duplicate
 * groups, through the real CLI on an Arrow vector file (the "after encoding" case: encode once, dedupe
 * the vectors). Prints wall time, the CLI's peak RSS, and recall and precision of the removed rows
 * against the planted truth; and, as the baseline measured in the same run, exact all-pairs search
 * timed on a sample and scaled to the full size (what --exact would cost).
 *
 *   npm run bench:dedupe [-- --rows 1000000 --dim 384 --threshold 0.9 --probes 3]
 *
 * Data: rows around 2,000 topic centres (cosine ~0.3-0.6 within a topic, never near the threshold),
 * and 10% of the rows are near-copies of another row (cosine 0.963-0.995 to it, >= 0.927 among the
 * copies of one row), in shuffled order so a copy often comes before its original. A removed row is
 * correct when it belongs to a planted group and its kept row is in the same group.
 * Targets (issue 11): under 120 s after encoding, RSS under 3 GB, recall >= 0.95, precision >= 0.99.
 */
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {nearNeighbours} from '../src/algorithms/neighbour-lists.js';
import {openVectorWriter} from '../src/io/vectors/write-vectors.js';
import {VectorMatrix} from '../src/vectors/matrix.js';
import {mulberry32} from '../test/helpers/prng.js';
import {int, printSection} from './lib/format.js';

const {values} = parseArgs({
  options: {
    rows: {type: 'string', default: '1000000'},
    dim: {type: 'string', default: '384'},
    threshold: {type: 'string', default: '0.9'},
    probes: {type: 'string'},
    buckets: {type: 'string'},
    'baseline-rows': {type: 'string', default: '40000'},
    keep: {type: 'boolean', default: false},
  },
});
const n = Number(values.rows);
const d = Number(values.dim);
const threshold = Number(values.threshold);

interface Planted {
  vectors: VectorMatrix;
  /** Planted group of each row (-1: none). */
  group: Int32Array;
  groups: number;
  /** Rows that must go: each group's size - 1. */
  toRemove: number;
}

function planted(rows: number, dim: number): Planted {
  const rand = mulberry32(rows * 7 + dim);
  const gauss = () => (rand() + rand() + rand() - 1.5) * 2;
  const topics = 2000;
  const centres = Array.from({length: topics}, () => Float32Array.from({length: dim}, gauss));
  const unitInto = (v: Float32Array) => {
    let s = 0;
    for (const x of v) s += x * x;
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= k;
  };
  const data = new Float32Array(rows * dim);
  const group = new Int32Array(rows).fill(-1);
  // Originals first: 90% of the rows. Then copies of randomly chosen originals, 1-4 per chosen one.
  const originals = Math.round(rows * 0.9);
  const row = new Float32Array(dim);
  for (let r = 0; r < originals; r++) {
    const c = centres[Math.floor(rand() * topics)]!;
    for (let i = 0; i < dim; i++) row[i] = 0.9 * c[i]! + gauss();
    unitInto(row);
    data.set(row, r * dim);
  }
  let r = originals;
  let groups = 0;
  let toRemove = 0;
  while (r < rows) {
    const source = Math.floor(rand() * originals);
    if (group[source] !== -1) continue;
    const copies = Math.min(rows - r, 1 + Math.floor(rand() * 4));
    group[source] = groups;
    for (let c = 0; c < copies; c++, r++) {
      // orig + eps * (random unit direction): cosine 1 / sqrt(1 + eps^2) for a near-orthogonal direction.
      const eps = 0.1 + 0.18 * rand();
      for (let i = 0; i < dim; i++) row[i] = gauss();
      unitInto(row);
      for (let i = 0; i < dim; i++) row[i] = data[source * dim + i]! + eps * row[i]!;
      unitInto(row);
      data.set(row, r * dim);
      group[r] = groups;
    }
    toRemove += copies;
    groups++;
  }
  // Shuffle rows (Fisher-Yates on a permutation), so copies come before their originals too.
  const perm = Int32Array.from({length: rows}, (_, i) => i);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const shuffled = new Float32Array(rows * dim);
  const shuffledGroup = new Int32Array(rows);
  perm.forEach((from, to) => {
    shuffled.set(data.subarray(from * dim, (from + 1) * dim), to * dim);
    shuffledGroup[to] = group[from]!;
  });
  return {vectors: new VectorMatrix(Array.from({length: rows}, (_, i) => i), dim, shuffled), group: shuffledGroup, groups, toRemove};
}

async function writeArrow(path: string, vectors: VectorMatrix): Promise<void> {
  const writer = await openVectorWriter(path, {format: 'arrow', dimension: vectors.dimension, idType: 'int', metadata: {'sbertkit.model': 'synthetic'}});
  const chunk = 16384;
  for (let p = 0; p < vectors.rows; p += chunk) {
    const records = [];
    for (let r = p; r < Math.min(vectors.rows, p + chunk); r++) records.push({id: r, vector: vectors.row(r), fields: {}});
    await writer.write(records);
  }
  await writer.commit();
}

/** Runs the CLI, sampling its peak RSS (VmHWM) from /proc until it exits. */
async function runCli(args: string[]): Promise<{seconds: number; peakMiB: number; stdout: string; stderr: string; code: number}> {
  const started = performance.now();
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../bin/run.js', import.meta.url)), ...args], {stdio: ['ignore', 'pipe', 'pipe']});
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // The process has exited.
    }
  };
  const timer = setInterval(sample, 100);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  return {seconds: (performance.now() - started) / 1000, peakMiB: peak, stdout, stderr, code};
}

const dir = mkdtempSync(join(tmpdir(), 'sbertkit-bench-dedupe-'));
try {
  console.log(`sbertkit dedupe benchmark: ${int(n)} x ${d} synthetic vectors, threshold ${threshold}`);
  let t = performance.now();
  const data = planted(n, d);
  const input = join(dir, 'vectors.arrow');
  await writeArrow(input, data.vectors);
  console.log(`  data: ${int(data.groups)} planted groups, ${int(data.toRemove)} rows to remove; written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // Baseline: exact neighbour lists on a sample, scaled by (n / sample)^2 to what --exact would take.
  const sampleRows = Math.min(n, Number(values['baseline-rows']));
  const sample = new VectorMatrix(Array.from({length: sampleRows}, (_, i) => i), d, data.vectors.data.subarray(0, sampleRows * d));
  t = performance.now();
  await nearNeighbours(sample, {threshold, backend: 'exact'});
  const baselineSeconds = ((performance.now() - t) / 1000) * (n / sampleRows) ** 2;

  const map = join(dir, 'map.jsonl');
  const args = ['dedupe', input, '-o', join(dir, 'kept.arrow'), '--duplicates', map, '--threshold', String(threshold), '--json'];
  if (values.probes !== undefined) args.push('--probes', values.probes);
  if (values.buckets !== undefined) args.push('--buckets', values.buckets);
  // Free the generator's copy before the CLI runs: the machine's memory is shared.
  (data as {vectors?: VectorMatrix}).vectors = undefined;
  const run = await runCli(args);
  if (run.code !== 0) {
    console.error(run.stderr);
    throw new Error(`dedupe exited with ${run.code}`);
  }
  const envelope = JSON.parse(run.stdout.trim().split('\n').pop()!) as {result: Record<string, unknown> & {neighbour_recall?: {recall: number}}};

  let correct = 0;
  let removed = 0;
  for (const line of readFileSync(map, 'utf8').split('\n')) {
    if (line === '') continue;
    const {removed_id: gone, kept_id: kept} = JSON.parse(line) as {removed_id: number; kept_id: number};
    removed++;
    if (data.group[gone]! >= 0 && data.group[gone] === data.group[kept]) correct++;
  }
  const recall = correct / data.toRemove;
  const precision = removed === 0 ? 1 : correct / removed;
  const r = envelope.result;
  printSection('dedupe (CLI, vector file in, kept vectors + duplicates map out)', [
    ['wall time', `${run.seconds.toFixed(1)} s (target < 120 s)`],
    ['peak RSS', `${int(run.peakMiB)} MiB (target < 3072 MiB)`],
    ['backend', `${String(r.backend)}${r.buckets === undefined ? '' : `, ${String(r.buckets)} buckets, ${String(r.probes)} probes`}`],
    ['removed', `${int(removed)} of ${int(data.toRemove)} planted`],
    ['recall', `${recall.toFixed(4)} (target >= 0.95)`],
    ['precision', `${precision.toFixed(4)} (target >= 0.99)`],
    ['neighbour recall', r.neighbour_recall === undefined ? 'exact' : `${r.neighbour_recall.recall.toFixed(4)} on a sample (reported by the CLI)`],
    ['baseline', `exact all pairs ~${baselineSeconds.toFixed(0)} s (timed on ${int(sampleRows)} rows, scaled by rows^2)`],
    ['ratio', `${(baselineSeconds / run.seconds).toFixed(1)}x faster than exact`],
  ]);
} finally {
  if (!values.keep) rmSync(dir, {recursive: true, force: true});
}
