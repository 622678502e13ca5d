/**
 * Runs batches on several ONNX Runtime sessions in worker threads at once. onnxruntime-node's run()
 * blocks the thread that calls it, so one session can only use intra-op parallelism, which pays off
 * poorly on the small matrices of short sentences; whole batches in parallel use the cores better.
 * Each batch still runs on exactly one session, so its vectors do not depend on the pool size.
 */
import {Worker} from 'node:worker_threads';
import {EXIT, SbertkitError} from '../errors.js';
import {onSignalExit} from '../signal-exit.js';
import type {BatchRunner, EmbedJob, EmbeddedRows} from './onnx-session.js';

interface Pending {
  resolve: (output: EmbeddedRows) => void;
  reject: (error: Error) => void;
}

interface SessionInfo {
  outputName: string;
  wantsTokenTypeIds: boolean;
}

type WorkerError = {message: string; file?: string; exitCode?: number};

type WorkerMessage =
  | ({type: 'ready'} & SessionInfo)
  | {type: 'result'; id: number; output: EmbeddedRows}
  | {type: 'error'; id: number; error: WorkerError}
  /** The session could not be loaded. */
  | {type: 'failed'; error: WorkerError};

const toError = (e: WorkerError) => new SbertkitError(e.message, {file: e.file, exitCode: e.exitCode ?? EXIT.MODEL});

/** Starts the compiled worker script next to this module. */
function startWorker(workerData: {onnxPath: string; threads: number}): Worker {
  return new Worker(new URL('./session-worker.js', import.meta.url), {workerData});
}

/**
 * One worker thread with its session and the batches sent to it but not answered yet. A postMessage()
 * to a dead thread is silently dropped, so the worker has to notice its own end and settle every
 * pending batch itself, or their callers would wait forever.
 */
class PoolWorker {
  readonly ready: Promise<SessionInfo>;
  /** Called once if the thread stops on its own (crash, exit), not when terminate() stopped it. */
  onStop: (error: SbertkitError) => void = () => {};
  /** Why the thread stopped, once it has. */
  stoppedWith?: SbertkitError;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private terminating = false;
  private settleReady?: {resolve: (info: SessionInfo) => void; reject: (error: Error) => void};

  constructor(
    /** 1-based, for error messages. */
    readonly number: number,
    readonly thread: Worker,
  ) {
    this.ready = new Promise((resolve, reject) => (this.settleReady = {resolve, reject}));
    thread.on('message', (m: WorkerMessage) => this.receive(m));
    // An uncaught error in the thread emits 'error' and then 'exit'; the first one names the cause.
    thread.on('error', (error) => this.stop(error.message));
    thread.on('exit', (code) => this.stop(`exited with code ${code}`));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  embed(job: EmbedJob): Promise<EmbeddedRows> {
    const id = this.nextId++;
    const {ids, lengths, typeIds} = job.tokens;
    // The packed arrays are the caller's to give away (built for this batch): moved, not copied.
    const transfer = [ids.buffer, lengths.buffer, ...(typeIds ? [typeIds.buffer] : [])] as ArrayBuffer[];
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject});
      this.thread.postMessage({type: 'embed', id, job}, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await this.thread.terminate();
  }

  private receive(m: WorkerMessage): void {
    if (m.type === 'ready') return this.settleReady?.resolve(m);
    if (m.type === 'failed') return this.settleReady?.reject(toError(m.error));
    const pending = this.pending.get(m.id);
    if (pending === undefined) return;
    this.pending.delete(m.id);
    if (m.type === 'result') pending.resolve(m.output);
    else pending.reject(toError(m.error));
  }

  private stop(reason: string): void {
    if (this.stoppedWith) return;
    const error = this.terminating
      ? new SbertkitError('the ONNX Runtime worker pool was closed before the batch finished', {exitCode: EXIT.MODEL})
      : new SbertkitError(`ONNX Runtime worker ${this.number} stopped: ${reason}`, {exitCode: EXIT.MODEL});
    this.stoppedWith = error;
    this.settleReady?.reject(error);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (this.terminating) return;
    // An 'error' may come before the thread is gone; make sure a worker out of the pool is not left running.
    void this.thread.terminate();
    this.onStop(error);
  }
}

/*
 * Terminating a worker thread while ONNX Runtime is inside a native call in it (loading a session,
 * run()) aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'").
 * So workers are only terminated once idle: after every worker has reported on its session load, and
 * after every batch handed out has settled. On SIGINT/SIGTERM/SIGHUP the same orderly stop runs before
 * the process exits (src/signal-exit.ts).
 */
export class SessionPool implements BatchRunner {
  private lastStop?: SbertkitError;
  private closing?: Promise<void>;
  private readonly unregister: () => void;
  /** Batches sent and not settled yet, so close() can wait for them. */
  private readonly running = new Set<Promise<void>>();

  /** The live workers: one that stops is removed, so no batch is sent to it any more. */
  private readonly workers: PoolWorker[];

  private constructor(
    started: readonly PoolWorker[],
    readonly outputName: string,
    readonly wantsTokenTypeIds: boolean,
    readonly threads: number,
  ) {
    this.workers = [...started];
    this.unregister = onSignalExit(() => this.close());
    for (const w of started) {
      w.onStop = (error) => this.remove(w, error);
      // It may have stopped after it was ready but before the pool existed to hear of it.
      if (w.stoppedWith) this.remove(w, w.stoppedWith);
    }
  }

  /** Starts `size` workers, each with a session of `threadsPerSession` intra-op threads. */
  static async create(onnxPath: string, size: number, threadsPerSession: number): Promise<SessionPool> {
    const workers = Array.from({length: size}, (_, i) => new PoolWorker(i + 1, startWorker({onnxPath, threads: threadsPerSession})));
    // As in close(): terminating a thread while ORT is inside a native call (here, loading its
    // session) aborts the process, so every worker first reports ready, failed or stopped. A signal
    // during the load takes the same path.
    const stopLoading = async (): Promise<void> => {
      await Promise.allSettled(workers.map((w) => w.ready));
      await Promise.all(workers.map((w) => w.terminate()));
    };
    const unregister = onSignalExit(stopLoading);
    try {
      const infos = await Promise.all(workers.map((w) => w.ready));
      return new SessionPool(workers, infos[0]!.outputName, infos[0]!.wantsTokenTypeIds, size * threadsPerSession);
    } catch (error) {
      await stopLoading();
      throw error;
    } finally {
      unregister();
    }
  }

  /**
   * How many batches can usefully be in flight at once. Never 0, even with every worker gone: the
   * encoder starts this many lanes, and with none it would skip the batches instead of failing.
   */
  get concurrency(): number {
    return Math.max(1, this.workers.length);
  }

  get pooledInGraph(): boolean {
    return this.outputName === 'sentence_embedding';
  }

  /** Test hook: the live worker threads, so a test can stop one the way a crash would. */
  get workerThreadsForTest(): readonly Worker[] {
    return this.workers.map((w) => w.thread);
  }

  embed(job: EmbedJob): Promise<EmbeddedRows> {
    // Once close() has begun no new batch starts: close() waits only for the batches it saw, and a
    // batch started during that wait would be torn down mid-run.
    if (this.closing !== undefined || this.workers.length === 0) return Promise.reject(this.noWorkerError());
    // The least busy worker: batches differ in size, so strict turns would leave a worker idle.
    const entry = this.workers.reduce((best, w) => (w.inFlight < best.inFlight ? w : best));
    const result = entry.embed(job);
    this.track(result);
    return result;
  }

  /** Lets the batches already handed out finish (new ones are refused), then ends the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unregister();
      // e.g. one batch failed and the encoder closes while others still run: they finish first.
      await Promise.all(this.running);
      const live = this.workers.splice(0);
      await Promise.all(live.map((w) => w.terminate()));
    })();
    return this.closing;
  }

  /** Keeps `result` in `running` until it settles, either way. */
  private track(result: Promise<EmbeddedRows>): void {
    const settled = result.then(
      () => {},
      () => {},
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
  }

  private remove(worker: PoolWorker, error: SbertkitError): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) this.workers.splice(index, 1);
    this.lastStop = error;
  }

  private noWorkerError(): SbertkitError {
    if (this.closing !== undefined) return new SbertkitError('the ONNX Runtime worker pool is closed', {exitCode: EXIT.MODEL});
    return new SbertkitError(`no ONNX Runtime worker is left to run the batch (${this.lastStop?.message ?? 'all stopped'})`, {exitCode: EXIT.MODEL});
  }
}
