/**
 * The contract every reader is fuzzed against: an input either parses or fails with one SbertkitError
 * whose toLine() is a single line (exit code 2) - never another exception, never a hang, never a
 * temp file or an open file left behind. Inputs come from seeded generators and byte mutations
 * (mulberry32), so a failure names a case that reproduces; FUZZ_SEED and FUZZ_CASES search further.
 *
 * A deadline catches a reader that stops making progress while awaiting; a synchronous endless loop
 * cannot be interrupted from the same thread and shows as the test file never finishing.
 */
import assert from 'node:assert/strict';
import {existsSync, readdirSync} from 'node:fs';
import {mkdir, readdir} from 'node:fs/promises';
import {join} from 'node:path';
import {SbertkitError} from '../../../src/errors.js';
import {mulberry32} from '../../helpers/prng.js';
import {tempDir} from '../../helpers/tmp.js';

/** A seeded source of random choices. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/**
 * The seed and case count of a fuzzer: its defaults (small enough for the suite's time budget), or
 * FUZZ_SEED / FUZZ_CASES from the environment to search longer or replay another seed.
 */
export function fuzzSettings(seed: number, cases: number): {seed: number; cases: number} {
  const env = (name: string): number | undefined => (process.env[name] === undefined ? undefined : Number(process.env[name]));
  return {seed: env('FUZZ_SEED') ?? seed, cases: env('FUZZ_CASES') ?? cases};
}

/**
 * Readers that spool stdin (Parquet, Arrow files) write to os.tmpdir(). Pointing TMPDIR at a folder of
 * our own makes "nothing named sbertkit-* is left" checkable without seeing other processes' files.
 */
export async function privateTmpdir(): Promise<string> {
  const dir = join(await tempDir(), 'tmp');
  await mkdir(dir);
  process.env.TMPDIR = dir;
  return dir;
}

export async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('sbertkit-'));
}

/** Open file descriptors of this process (Linux), to catch a reader that leaks them. */
export function openFileCount(): number | undefined {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

export type Outcome = {ok: true} | {ok: false; error: SbertkitError};

/**
 * Runs one case under a deadline and checks the contract. `maxLine`, when given, bounds the line an
 * error may name (the input's line count).
 */
export async function fuzzCase(label: string, run: () => Promise<unknown>, options: {timeoutMs?: number; maxLine?: number} = {}): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), options.timeoutMs ?? 5000);
  });
  let outcome: Outcome;
  try {
    const result = await Promise.race([run().then(() => 'done' as const), deadline]);
    if (result === 'hung') assert.fail(`${label}: no result after ${options.timeoutMs ?? 5000} ms`);
    outcome = {ok: true};
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    if (!(error instanceof SbertkitError)) {
      assert.fail(`${label}: expected an SbertkitError, got ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    const line = error.toLine();
    assert.ok(!/[\r\n]/.test(line), `${label}: message is not one line: ${JSON.stringify(line)}`);
    assert.equal(error.exitCode, 2, `${label}: ${line}`);
    if (error.line !== undefined) {
      assert.ok(Number.isInteger(error.line) && error.line >= 1, `${label}: bad line number in ${line}`);
      if (options.maxLine !== undefined) assert.ok(error.line <= options.maxLine, `${label}: line ${error.line} > ${options.maxLine} in ${line}`);
    }
    outcome = {ok: false, error};
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}

/** An upper bound on the line an error may name: one per '\n' or '\r' (csv-parse counts both), plus one. */
export function lineCount(bytes: Uint8Array): number {
  let n = 1;
  for (const b of bytes) if (b === 0x0a || b === 0x0d) n++;
  return n;
}

/** Byte-level damage: flips, inserted or deleted bytes, truncation, a repeated or zeroed slice. */
export function mutate(rng: Rng, input: Uint8Array, specials: readonly number[] = []): Buffer {
  let bytes: Buffer = Buffer.from(input);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(bytes.length + 1);
    const kind = rng.int(7);
    if (kind === 0 && bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = rng.int(256);
    else if (kind === 1) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([specials.length > 0 && rng.chance(0.7) ? rng.pick(specials) : rng.int(256)]), bytes.subarray(at)]);
    else if (kind === 2) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + rng.int(8))]);
    else if (kind === 3) bytes = bytes.subarray(0, at);
    else if (kind === 4) {
      const len = 1 + rng.int(32);
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + len), bytes.subarray(at)]);
    } else if (kind === 5) bytes.fill(0, at, Math.min(bytes.length, at + 1 + rng.int(16)));
    else if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)]! ^= 1 << rng.int(8);
  }
  return bytes;
}
