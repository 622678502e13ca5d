/**
 * Time to first row and throughput of `encode` to stdout (JSONL), streaming (today) against whole
 * windows (the previous behaviour: a window of 4,096 rows was a barrier), in the same run:
 *   - a big file (generated lines): when the first row reaches stdout, and rows/s over the whole file;
 *   - slow stdin (a line every --gap ms): how long after its line each row comes out.
 * Uses the built-in model. Run: node build/bench/latency.js [--rows 100000] [--threads 2] [--gap 1000] [--lines 5]
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable, Writable} from 'node:stream';
import {parseArgs} from 'node:util';
import {Encoder} from '../src/encoder/encoder.js';
import {resolveModel} from '../src/models/resolve.js';
import {encodeToVectorFile, openEncodeSource} from '../src/pipelines/encode.js';
import {duration, int, printSection, rate} from './lib/format.js';

const {values} = parseArgs({
  options: {rows: {type: 'string', default: '100000'}, threads: {type: 'string', default: '2'}, gap: {type: 'string', default: '1000'}, lines: {type: 'string', default: '5'}},
});
const ROWS = Number(values.rows);
const GAP = Number(values.gap);
const LINES = Number(values.lines);

const WORDS = 'the quick brown fox jumps over a lazy dog while rain falls on green hills near an old stone bridge'.split(' ');
const line = (i: number): string => Array.from({length: 4 + ((i * 7919) % 29)}, (_, k) => WORDS[(i * 31 + k * 7) % WORDS.length]).join(' ');

/** A stdout that records when each row arrived (ms since `start`). */
function timedStdout(start: number): {stream: Writable; rows: number[]} {
  const rows: number[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const t = performance.now() - start;
      for (const byte of chunk) if (byte === 10) rows.push(t);
      done();
    },
  });
  return {stream, rows};
}

async function bigFile(encoder: Encoder, input: string, streaming: boolean): Promise<{first: number; total: number; rows: number}> {
  const start = performance.now();
  const out = timedStdout(start);
  const source = await openEncodeSource({input, output: '-'});
  await encodeToVectorFile(encoder, source, {input, output: '-', stdout: out.stream, streaming});
  return {first: out.rows[0]!, total: performance.now() - start, rows: out.rows.length};
}

/** Lines written every GAP ms on a stdin that stays open until the last; each row's delay after its line. */
async function slowStdin(encoder: Encoder, streaming: boolean): Promise<number[]> {
  const start = performance.now();
  const sent: number[] = [];
  const stdin = new Readable({read() {}});
  const out = timedStdout(start);
  void (async () => {
    for (let i = 0; i < LINES; i++) {
      sent.push(performance.now() - start);
      stdin.push(`${line(i)}\n`);
      await new Promise((r) => setTimeout(r, GAP));
    }
    stdin.push(null);
  })();
  const source = await openEncodeSource({input: '-', output: '-', stdin});
  await encodeToVectorFile(encoder, source, {input: '-', output: '-', stdin, stdout: out.stream, streaming});
  return out.rows.map((t, i) => t - sent[i]!);
}

const dir = mkdtempSync(join(tmpdir(), 'sbertkit-latency-'));
try {
  const input = join(dir, 'big.txt');
  writeFileSync(input, Array.from({length: ROWS}, (_, i) => line(i)).join('\n') + '\n');
  const spec = await resolveModel(undefined);
  const encoder = await Encoder.load(spec, {threads: Number(values.threads)});
  try {
    console.log(`encode latency: ${spec.name}, ${values.threads} threads, ${int(ROWS)} generated lines; slow stdin: ${LINES} lines, one every ${GAP} ms`);
    for (const streaming of [false, true]) {
      const big = await bigFile(encoder, input, streaming);
      const delays = await slowStdin(encoder, streaming);
      printSection(streaming ? 'streaming (eager windows, flush on stall)' : 'baseline (whole 4,096-row windows)', [
        ['big file: first row after', duration(big.first)],
        ['big file: throughput', `${rate(big.rows, big.total, 'rows')} (${int(big.rows)} rows in ${duration(big.total)})`],
        ['slow stdin: row delay after its line', delays.map((d) => duration(d)).join(', ')],
      ]);
    }
  } finally {
    await encoder.close();
  }
} finally {
  rmSync(dir, {recursive: true, force: true});
}
