/**
 * The worker pool when a worker dies, on a real pool over a generated BERT-layout model: the batch it
 * held fails with one clear error, the pool goes on with the workers that are left (with the same
 * vectors as a single session), and a pool with no worker left fails at once instead of hanging.
 */
import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import type {Worker} from 'node:worker_threads';
import {packBatch} from '../../src/encoder/batch-input.js';
import {OnnxSession, type EmbedJob, type EmbeddedRows} from '../../src/encoder/onnx-session.js';
import {SessionPool} from '../../src/encoder/session-pool.js';
import {EXIT, SbertkitError} from '../../src/errors.js';
import {graphNeedingPositionIds, TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';

/** Token ids of a few texts of different lengths, within TINY_BERT's vocabulary. */
const BATCH_IDS = [
  [[2, 17, 33, 3], [2, 101, 3], [2, 5, 6, 7, 8, 9, 3]],
  [[2, 400, 401, 402, 403, 3]],
  [[2, 64, 3], [2, 65, 66, 3], [2, 67, 68, 69, 3], [2, 70, 71, 72, 73, 3]],
];

let root: string;
let onnxPath: string;
let wantsTokenTypeIds: boolean;
let expected: EmbeddedRows[];

/**
 * Batch i as a fresh job each time: the pool moves a job's arrays to the worker (transfer), so a job
 * can be sent once only.
 */
const job = (i: number): EmbedJob => ({
  tokens: packBatch(BATCH_IDS[i]!.map((ids) => ({ids, truncated: false})), wantsTokenTypeIds),
  padId: 0,
  pooling: 'mean',
  normalize: true,
});
const jobs = (): EmbedJob[] => BATCH_IDS.map((_, i) => job(i));

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbertkit-pool-'));
  await writeBertModelFolder(root, {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 24});
  onnxPath = join(root, 'onnx', 'model.onnx');
  const single = await OnnxSession.create(onnxPath, {threads: 1});
  try {
    wantsTokenTypeIds = single.wantsTokenTypeIds;
    expected = [];
    for (const batch of jobs()) expected.push(await single.embed(batch));
  } finally {
    await single.close();
  }
});
after(async () => {
  await rm(root, {recursive: true, force: true});
});

/** True if `error` is the pool's model error and its message matches. */
const modelError = (pattern: RegExp) => (error: unknown) => error instanceof SbertkitError && error.exitCode === EXIT.MODEL && pattern.test(error.message);

/** Resolves when the thread has exited (events.once() would reject on the 'error' a test emits). */
const exitOf = (thread: Worker) => new Promise<number>((resolve) => thread.once('exit', resolve));

/** Settles with the promise's outcome, or 'pending' if it has not settled before the next macrotask. */
async function settledAtOnce<T>(promise: Promise<T>): Promise<{value: T} | {error: unknown} | 'pending'> {
  const next = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')));
  return Promise.race([promise.then((value) => ({value}), (error: unknown) => ({error})), next]);
}

async function assertSameAsSingleSession(pool: SessionPool): Promise<void> {
  const outputs = await Promise.all(jobs().map((batch) => pool.embed(batch)));
  outputs.forEach((output, i) => {
    assert.equal(output.dim, expected[i]!.dim);
    assert.deepEqual(output.data, expected[i]!.data, `batch ${i}`);
  });
}

describe('a worker that dies leaves the pool', () => {
  test('its batch fails with a clear error; later batches run on the worker left, unchanged', async () => {
    const pool = await SessionPool.create(onnxPath, 2, 1);
    try {
      await assertSameAsSingleSession(pool);
      const [first, second] = pool.workerThreadsForTest;
      // Kill worker 1 the way a crash would (not through close()), and hand it a batch before the pool
      // has heard of its end: both workers are idle, and ties go to the first.
      const killed = first!.terminate();
      const inFlight = pool.embed(job(0));
      await assert.rejects(inFlight, modelError(/^ONNX Runtime worker 1 stopped: exited with code 1$/));
      await killed;
      assert.deepEqual(pool.workerThreadsForTest, [second]);
      assert.equal(pool.concurrency, 1);
      await assertSameAsSingleSession(pool);
    } finally {
      await pool.close();
    }
  });

  test("an 'error' from a worker removes it at once, stops its thread, and names the cause", async () => {
    const pool = await SessionPool.create(onnxPath, 2, 1);
    try {
      const [first, second] = pool.workerThreadsForTest;
      const exited = exitOf(first!);
      // Emitted while the worker is idle: a real 'error' is an uncaught exception, not ORT mid-run.
      first!.emit('error', new Error('simulated crash'));
      assert.deepEqual(pool.workerThreadsForTest, [second]);
      await exited;
      await assertSameAsSingleSession(pool);
      second!.emit('error', new Error('second crash'));
      await assert.rejects(pool.embed(job(0)), modelError(/^no ONNX Runtime worker is left to run the batch \(ONNX Runtime worker 2 stopped: second crash\)$/));
    } finally {
      await pool.close();
    }
  });

  test('with no worker left, embed() rejects at once instead of hanging', async () => {
    const pool = await SessionPool.create(onnxPath, 2, 1);
    try {
      await Promise.all(pool.workerThreadsForTest.map((thread) => thread.terminate()));
      assert.equal(pool.workerThreadsForTest.length, 0);
      // Still 1: the encoder starts this many lanes, and with 0 it would skip the batches silently.
      assert.equal(pool.concurrency, 1);
      const outcome = await settledAtOnce(pool.embed(job(0)));
      assert.notEqual(outcome, 'pending', 'embed() did not reject at once');
      assert.ok(typeof outcome === 'object' && 'error' in outcome, 'embed() resolved without a worker');
      assert.ok(modelError(/^no ONNX Runtime worker is left to run the batch \(ONNX Runtime worker \d stopped: exited with code 1\)$/)(outcome.error), String(outcome.error));
    } finally {
      await pool.close();
    }
  });
});

describe('close()', () => {
  test('lets started batches finish, terminates every worker still running, then says the pool is closed', async () => {
    const pool = await SessionPool.create(onnxPath, 3, 1);
    const [first, ...rest] = pool.workerThreadsForTest;
    await first!.terminate();
    const exits = rest.map((thread) => exitOf(thread));
    // Started before close(): terminating a thread inside ORT's run() would abort this process, so
    // close() lets these finish.
    const started = jobs().map((batch) => pool.embed(batch));
    await pool.close();
    await Promise.all(exits);
    const outputs = await Promise.all(started);
    outputs.forEach((output, i) => assert.deepEqual(output.data, expected[i]!.data, `batch ${i}`));
    assert.equal(pool.workerThreadsForTest.length, 0);
    await assert.rejects(pool.embed(job(0)), modelError(/^the ONNX Runtime worker pool is closed$/));
  });
});

describe('create()', () => {
  test('a graph no worker can load is one model error, and the other workers are stopped safely', async () => {
    // Needs an input sbertkit cannot feed, so every worker's session fails to load, each at its own
    // moment; the pool must not terminate the others while ORT is still loading in them.
    const bad = join(root, 'needs-position-ids.onnx');
    await writeFile(bad, graphNeedingPositionIds());
    for (let round = 0; round < 8; round++) {
      await assert.rejects(SessionPool.create(bad, 4, 1), (e: unknown) => modelError(/position_ids/)(e) && (e as SbertkitError).file === bad);
    }
  });
});
