/**
 * Soak check: `sbertkit encode` on a long generated CSV (default 1,000,000 rows; built-in model,
 * CSV -> Parquet) with the child's RSS sampled every second from /proc. A streaming pipeline's RSS
 * rises while the model and the first windows load, then stays flat: the report gives the peak and
 * the slope of RSS over the second half of the run (MiB per minute and per 100k rows). The baseline
 * is the same run's first half. A second run with `--threads 1` must give the same vectors (max
 * |diff| <= 1e-5; the report also says whether the files are byte-identical).
 *
 *   npm run bench:soak [-- --rows N]
 */
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {openVectors} from '../src/io/vectors/read-vectors.js';
import {repoRoot} from '../test/helpers/paths.js';
import {int, mib, printSection} from './lib/format.js';
import {writeSyntheticCsv} from './lib/synthetic.js';

interface Sample {
  seconds: number;
  rssMiB: number;
}

interface SoakRun {
  label: string;
  seconds: number;
  samples: Sample[];
}

/** Resident set size of a live process from /proc (Linux), or undefined once it is gone. */
function rssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

async function encode(label: string, csv: string, out: string, extra: string[]): Promise<SoakRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'encode', csv, '-o', out, '--id-column', 'id', '--quiet', ...extra], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const samples: Sample[] = [];
  const timer = setInterval(() => {
    const rss = rssMiB(child.pid!);
    if (rss !== undefined) samples.push({seconds: (performance.now() - started) / 1000, rssMiB: rss});
  }, 1000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${label}: encode exited ${code}: ${stderr}`);
  return {label, seconds: (performance.now() - started) / 1000, samples};
}

/** Least-squares slope of RSS (MiB) over time (s). */
function slope(samples: readonly Sample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((s, p) => s + p.seconds, 0) / n;
  const my = samples.reduce((s, p) => s + p.rssMiB, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.seconds - mx) * (p.rssMiB - my);
    den += (p.seconds - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function maxAbsDiff(a: string, b: string): Promise<{rows: number; diff: number}> {
  const [x, y] = [await openVectors(a), await openVectors(b)];
  const left = x.batches[Symbol.asyncIterator]();
  const right = y.batches[Symbol.asyncIterator]();
  let diff = 0;
  let rows = 0;
  // Row groups are the same size in both files (same dimension, same writer), so batches line up.
  for (;;) {
    const [l, r] = [await left.next(), await right.next()];
    if (l.done || r.done) {
      if (l.done !== r.done) throw new Error('the two outputs have different row counts');
      break;
    }
    if (l.value.vectors.rows !== r.value.vectors.rows) throw new Error('the two outputs have different batch sizes');
    const [p, q] = [l.value.vectors.data, r.value.vectors.data];
    for (let i = 0; i < p.length; i++) diff = Math.max(diff, Math.abs(p[i]! - q[i]!));
    rows += l.value.vectors.rows;
  }
  return {rows, diff};
}

const {values} = parseArgs({options: {rows: {type: 'string', default: '1000000'}}});
const rows = Number(values.rows);
const dir = mkdtempSync(join(tmpdir(), 'sbertkit-bench-soak-'));
try {
  const csv = join(dir, 'in.csv');
  await writeSyntheticCsv(csv, rows);
  console.log(`sbertkit encode soak: ${int(rows)} rows (${mib(statSync(csv).size / 2 ** 20)} CSV), built-in model, CSV -> Parquet`);
  const runs = [await encode('default threads', csv, join(dir, 'a.parquet'), []), await encode('--threads 1', csv, join(dir, 'b.parquet'), ['--threads', '1'])];
  for (const run of runs) {
    const peak = Math.max(...run.samples.map((s) => s.rssMiB));
    const half = run.samples.filter((s) => s.seconds >= run.seconds / 2);
    const firstHalf = run.samples.filter((s) => s.seconds < run.seconds / 2 && s.seconds >= 5);
    const perSecond = slope(half);
    const rowsPerSecond = rows / run.seconds;
    printSection(run.label, [
      ['wall time', `${run.seconds.toFixed(0)} s (${int(rowsPerSecond)} rows/s, model load included)`],
      ['RSS samples', `${run.samples.length}, one a second`],
      ['peak RSS', mib(peak)],
      ['mean RSS, first half (from 5 s)', mib(firstHalf.reduce((s, p) => s + p.rssMiB, 0) / Math.max(1, firstHalf.length))],
      ['mean RSS, second half', mib(half.reduce((s, p) => s + p.rssMiB, 0) / Math.max(1, half.length))],
      ['RSS slope, second half', `${(perSecond * 60).toFixed(2)} MiB/min, ${((perSecond / rowsPerSecond) * 100_000).toFixed(2)} MiB per 100k rows`],
    ]);
  }
  const [a, b] = [join(dir, 'a.parquet'), join(dir, 'b.parquet')];
  const {rows: compared, diff} = await maxAbsDiff(a, b);
  const identical = Buffer.compare(await readFile(a), await readFile(b)) === 0;
  console.log(`default vs --threads 1: ${int(compared)} rows, max |diff| ${diff.toExponential(2)} (${diff <= 1e-5 ? 'within' : 'OVER'} 1e-5), files ${identical ? 'byte-identical' : 'differ in bytes'}`);
} finally {
  rmSync(dir, {recursive: true, force: true});
}
