/**
 * The queue's cost: the same rows encoded by one `sbertkit encode` process, and by `queue submit
 * encode --parts P --wait` with W local `queue worker` processes, in the same run, on the same input
 * and model. On a 2-core box W workers share the same two cores, so this measures the queue's overhead
 * (job handling, W model loads, per-part reads of the input, oversubscribed threads), not a speed-up:
 * the figure to read is the ratio of the two rates. The merged parts are checked against the single
 * run (every id once, vectors within 1e-6) so the figures are of equal work.
 *
 * Starts its own redis-server (Debian's package) on a free loopback port, without persistence.
 * Run: npm run bench:queue -- [--rows 200000] [--workers 4] [--parts 16] [--threads 2] [--model builtin:use-lite]
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {availableParallelism, tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {readVectorMatrix} from '../src/io/vectors/read-vectors.js';
import {duration, int, printSection, rate} from './lib/format.js';

const {values} = parseArgs({
  options: {
    rows: {type: 'string', default: '200000'},
    workers: {type: 'string', default: '4'},
    parts: {type: 'string', default: '16'},
    threads: {type: 'string', default: String(availableParallelism())},
    model: {type: 'string', default: 'builtin:use-lite'},
  },
});
const ROWS = Number(values.rows);
const WORKERS = Number(values.workers);
const PARTS = Number(values.parts);
const THREADS = Number(values.threads);
// Each worker gets an equal share of the cores the single process uses (at least one thread).
const WORKER_THREADS = Math.max(1, Math.floor(THREADS / WORKERS));
const BIN = resolve('bin', 'run.js');

const WORDS = 'the quick brown fox jumps over a lazy dog while rain falls on green hills near an old stone bridge'.split(' ');
const line = (i: number): string => Array.from({length: 4 + ((i * 7919) % 29)}, (_, k) => WORDS[(i * 31 + k * 7) % WORDS.length]).join(' ');

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number};
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs the CLI to completion; returns wall time in ms. */
function timedCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const start = performance.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolveRun(performance.now() - start) : reject(new Error(`sbertkit ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

if (spawnSync('redis-server', ['--version']).error !== undefined) {
  console.log('bench:queue needs redis-server (Debian package redis-server); not run');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'sbertkit-bench-queue-'));
const port = await freePort();
const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], {stdio: 'ignore'});
const url = `redis://127.0.0.1:${port}`;
const workers: ChildProcess[] = [];
try {
  for (let i = 0; i < 50 && spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
  const input = join(dir, 'rows.csv');
  writeFileSync(input, 'id,text\n' + Array.from({length: ROWS}, (_, i) => `r${i},${line(i)}`).join('\n') + '\n');
  // The built-in model is converted on first use: do it before anything is timed.
  await timedCli(['models', 'info', values.model!, '--quiet']);

  const whole = join(dir, 'whole.parquet');
  const single = await timedCli(['encode', input, '--id-column', 'id', '--model', values.model!, '--threads', String(THREADS), '-o', whole, '--quiet']);

  const out = join(dir, 'parts');
  for (let w = 0; w < WORKERS; w++) {
    workers.push(spawn(process.execPath, [BIN, 'queue', 'worker', '--redis', url, '--threads', String(WORKER_THREADS), '--quiet'], {stdio: 'ignore'}));
  }
  const queued = await timedCli(['queue', 'submit', 'encode', input, '--id-column', 'id', '--model', values.model!, '--parts', String(PARTS), '--out', out, '--redis', url, '--wait', '--quiet']);

  // Equal work: every id once, and the same vectors as the single process.
  const reference = await readVectorMatrix(whole, {idColumn: 'id'});
  const row = new Map(reference.vectors.ids.map((id, i) => [String(id), i]));
  const dim = reference.vectors.dimension;
  let seen = 0;
  let maxDiff = 0;
  for (const name of readdirSync(out).filter((n) => n.endsWith('.parquet')).sort()) {
    const part = await readVectorMatrix(join(out, name), {idColumn: 'id'});
    part.vectors.ids.forEach((id, i) => {
      const r = row.get(String(id));
      if (r === undefined) throw new Error(`part ${name} has id ${String(id)} that the single run does not`);
      row.delete(String(id));
      seen++;
      for (let j = 0; j < dim; j++) maxDiff = Math.max(maxDiff, Math.abs(part.vectors.data[i * dim + j]! - reference.vectors.data[r * dim + j]!));
    });
  }
  if (seen !== ROWS || row.size !== 0) throw new Error(`the parts hold ${seen} rows; ${row.size} ids are missing`);

  console.log(`queue vs one process: ${int(ROWS)} generated rows, model ${values.model}, ${availableParallelism()} cores`);
  printSection(undefined, [
    [`one process (encode --threads ${THREADS})`, `${duration(single)}  ${rate(ROWS, single, 'rows')}`],
    [`queue (${WORKERS} workers x ${WORKER_THREADS} thread(s), ${PARTS} parts, submit --wait)`, `${duration(queued)}  ${rate(ROWS, queued, 'rows')}`],
    ['queue rate / one-process rate', `${(single / queued).toFixed(3)}  (overhead ${(100 * (1 - single / queued)).toFixed(1)}% of the one-process rate)`],
    ['parts vs single run', `every id once; max |diff| ${maxDiff.toExponential(2)}`],
  ]);
  console.log(`On ${availableParallelism()} cores the workers share the cores the single process used: this is the queue's overhead, not a speed-up.`);
} finally {
  for (const worker of workers) worker.kill('SIGTERM');
  redis.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, {recursive: true, force: true});
}
