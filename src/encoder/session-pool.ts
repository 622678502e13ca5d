/**
 * Runs batches on several ONNX Runtime sessions in worker threads at once. onnxruntime-node's run()
 * blocks the thread that calls it, so one session can only use intra-op parallelism, which pays off
 * poorly on the small matrices of short sentences; whole batches in parallel use the cores better.
 * Each batch still runs on exactly one session, so its vectors do not depend on the pool size.
 */
import {Worker} from 'node:worker_threads';
import {EXIT, SbertkitError} from '../errors.js';
import {onSignalExit} from '../signal-exit.js';
import type {BatchInput, BatchOutput} from './onnx-session.js';

interface Pending {
  resolve: (output: BatchOutput) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

type WorkerError = {message: string; file?: string; exitCode?: number};

const toError = (e: WorkerError) => new SbertkitError(e.message, {file: e.file, exitCode: e.exitCode ?? EXIT.MODEL});

/**
 * Starts the worker script next to this module. From TypeScript sources (development under tsx) the
 * worker first registers tsx's loader, then imports the .ts script.
 */
function startWorker(workerData: {onnxPath: string; threads: number}): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./session-worker.js', import.meta.url), {workerData});
  const api = import.meta.resolve('tsx/esm/api');
  const script = new URL('./session-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then(({register}) => { register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(code, {eval: true, workerData});
}

/*
 * Terminating a worker thread while ONNX Runtime is inside a native call in it (loading a session,
 * run()) aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'").
 * So workers are only terminated once idle: after every worker has reported on its session load, and
 * after every batch handed out has settled. On SIGINT/SIGTERM the same orderly stop runs before the
 * process exits (src/signal-exit.ts).
 */
export class SessionPool {
  private nextId = 0;
  private closing?: Promise<void>;
  /** Batches handed to workers and not settled yet. */
  private readonly running = new Set<Promise<unknown>>();
  private readonly unregister: () => void;

  private constructor(
    private readonly workers: PoolWorker[],
    readonly outputName: string,
    readonly wantsTokenTypeIds: boolean,
    readonly threads: number,
  ) {
    this.unregister = onSignalExit(() => this.close());
  }

  /** Starts `size` workers, each with a session of `threadsPerSession` intra-op threads. */
  static async create(onnxPath: string, size: number, threadsPerSession: number): Promise<SessionPool> {
    const workers: PoolWorker[] = [];
    const loads = Array.from({length: size}, () => {
      const worker = startWorker({onnxPath, threads: threadsPerSession});
      const entry: PoolWorker = {worker, pending: new Map()};
      workers.push(entry);
      return new Promise<{outputName: string; wantsTokenTypeIds: boolean}>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new SbertkitError(`ONNX Runtime worker exited with code ${code} while loading`, {exitCode: EXIT.MODEL})));
        worker.once('message', (m: {type: string; outputName: string; wantsTokenTypeIds: boolean; error?: WorkerError}) =>
          m.type === 'ready' ? resolve(m) : reject(toError(m.error!)),
        );
      });
    });
    // One worker's failure must not terminate the others while they are still loading.
    const stopLoading = async (): Promise<void> => {
      await Promise.allSettled(loads);
      await Promise.all(workers.map((w) => w.worker.terminate()));
    };
    const unregister = onSignalExit(stopLoading);
    try {
      const infos = await Promise.all(loads);
      for (const entry of workers) listen(entry);
      return new SessionPool(workers, infos[0]!.outputName, infos[0]!.wantsTokenTypeIds, size * threadsPerSession);
    } catch (error) {
      await stopLoading();
      throw error;
    } finally {
      unregister();
    }
  }

  /** How many batches can usefully be in flight at once. */
  get concurrency(): number {
    return this.workers.length;
  }

  get pooledInGraph(): boolean {
    return this.outputName === 'sentence_embedding';
  }

  run(batch: BatchInput): Promise<BatchOutput> {
    if (this.closing) return Promise.reject(new SbertkitError('the ONNX Runtime worker pool is closed', {exitCode: EXIT.MODEL}));
    // The least busy worker: batches differ in size, so strict turns would leave a worker idle.
    const entry = this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
    const id = this.nextId++;
    const result = new Promise<BatchOutput>((resolve, reject) => {
      entry.pending.set(id, {resolve, reject});
      entry.worker.postMessage({type: 'run', id, batch});
    });
    const settled: Promise<unknown> = result.then(
      () => this.running.delete(settled),
      () => this.running.delete(settled),
    );
    this.running.add(settled);
    return result;
  }

  /** Lets the batches already handed out finish (new ones are refused), then ends the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unregister();
      await Promise.all(this.running);
      await Promise.all(this.workers.map((w) => w.worker.terminate()));
    })();
    return this.closing;
  }
}

function listen(entry: PoolWorker): void {
  entry.worker.on('message', (m: {type: 'result' | 'error'; id: number; output?: BatchOutput; error?: WorkerError}) => {
    const pending = entry.pending.get(m.id);
    if (pending === undefined) return;
    entry.pending.delete(m.id);
    if (m.type === 'result') pending.resolve(m.output!);
    else pending.reject(toError(m.error!));
  });
  entry.worker.on('error', (error) => {
    for (const p of entry.pending.values()) p.reject(new SbertkitError(`ONNX Runtime worker failed: ${error.message}`, {exitCode: EXIT.MODEL}));
    entry.pending.clear();
  });
}
