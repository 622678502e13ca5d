/**
 * Benchmark: memory stays bounded however long the input is. Runs the real CLI (`sbertkit encode`,
 * built-in model, CSV in, Parquet out) on a synthetic CSV of N rows and of 4N rows, each in its own
 * process, and prints wall time and peak RSS. The baseline is the N-row run in the same invocation:
 * a streaming pipeline keeps the 4N/N peak-memory ratio near 1, a buffering one approaches 4.
 *
 *   npm run bench:memory [-- --rows N]
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {int, mib, printSection} from './lib/format.js';
import {repoRoot} from '../test/helpers/paths.js';
import {writeSyntheticCsv} from './lib/synthetic.js';

interface Run {
  rows: number;
  seconds: number;
  peakMiB: number;
  outputMiB: number;
}

function encode(csv: string, out: string, rows: number): Run {
  const started = performance.now();
  // GNU time is not on every machine; the child reports its own peak RSS through a preload instead.
  const result = spawnSync(process.execPath, ['--import', 'data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss_kb="+process.resourceUsage().maxRSS+"\\n"))', join(repoRoot(), 'bin', 'run.js'), 'encode', csv, '-o', out, '--id-column', 'id', '--quiet'], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`encode failed (${result.status}): ${result.stderr}`);
  const kb = Number(/maxrss_kb=(\d+)/.exec(result.stderr)?.[1]);
  return {rows, seconds: (performance.now() - started) / 1000, peakMiB: kb / 1024, outputMiB: statSync(out).size / 2 ** 20};
}

const {values} = parseArgs({options: {rows: {type: 'string', default: '20000'}}});
const base = Number(values.rows);
const dir = mkdtempSync(join(tmpdir(), 'sbertkit-bench-mem-'));
try {
  const runs: Run[] = [];
  for (const rows of [base, 4 * base]) {
    const csv = join(dir, `in-${rows}.csv`);
    await writeSyntheticCsv(csv, rows);
    runs.push(encode(csv, join(dir, `out-${rows}.parquet`), rows));
  }
  console.log('sbertkit encode memory benchmark: built-in model, CSV -> Parquet, default window 4096');
  for (const r of runs) {
    printSection(`${int(r.rows)} rows`, [
      ['wall time', `${r.seconds.toFixed(1)} s (${int(r.rows / r.seconds)} rows/s, model load included)`],
      ['peak RSS', mib(r.peakMiB)],
      ['output', `${r.outputMiB.toFixed(1)} MiB Parquet`],
    ]);
  }
  const [small, large] = runs as [Run, Run];
  console.log(`peak RSS ratio ${int(large.rows)}/${int(small.rows)} rows: ${(large.peakMiB / small.peakMiB).toFixed(2)}x (4x the input; ~1x means streaming)`);
} finally {
  rmSync(dir, {recursive: true, force: true});
}
