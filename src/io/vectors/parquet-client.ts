/**
 * Main-thread side of the Parquet worker (parquet-worker.ts): one worker for the process, started on
 * the first open, shared by every open file, and replaced after it dies. A worker that dies (a
 * parquet-wasm panic on a damaged file) fails every request pending on it and every file open in it.
 */
import {Worker} from 'node:worker_threads';
import type {ParquetReply, ParquetRequest} from './parquet-worker.js';

/**
 * The worker running parquet-wasm, from compiled JS or, under tsx (tests from source), from TS. It
 * gets none of the process's node flags: some are refused in workers (a library user's
 * `node --input-type=module -e ...` made every Parquet read fail).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parquet-worker.js', import.meta.url), {execArgv: []});
  const api = import.meta.resolve('tsx/esm/api');
  const script = new URL('./parquet-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then(({register}) => { register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(code, {eval: true, execArgv: []});
}

class WorkerHost {
  private readonly worker = startWorker();
  private readonly pending = new Map<number, {resolve: (reply: ParquetReply) => void; reject: (error: Error) => void}>();
  private nextId = 1;
  dead: Error | undefined;

  constructor() {
    this.worker.on('message', ({id, ...reply}: {id: number} & ParquetReply) => {
      const pending = this.pending.get(id);
      this.pending.delete(id);
      pending?.resolve(reply as ParquetReply);
      this.refWhileBusy();
    });
    this.worker.on('error', (error: Error) => this.die(error));
    this.worker.on('exit', () => this.die(new Error('the Parquet reader stopped')));
    this.refWhileBusy();
  }

  /** Sends a request; resolves with its reply and its id. */
  request(request: ParquetRequest): {id: number; reply: Promise<ParquetReply>} {
    const id = this.nextId++;
    const reply = new Promise<ParquetReply>((resolve, reject) => {
      if (this.dead !== undefined) return reject(this.dead);
      this.pending.set(id, {resolve, reject});
      this.worker.postMessage({id, ...request});
    });
    this.refWhileBusy();
    return {id, reply};
  }

  private die(error: Error): void {
    this.dead ??= error;
    if (host === this) host = undefined;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  /** The worker keeps the process alive only while a reply is awaited: an idle one must not. */
  private refWhileBusy(): void {
    if (this.pending.size > 0 && this.dead === undefined) this.worker.ref();
    else this.worker.unref();
  }
}

let host: WorkerHost | undefined;

/** The reply, or the error it carries as an exception. */
function replyOf<T extends ParquetReply['type']>(reply: ParquetReply, type: T): Extract<ParquetReply, {type: T}> {
  if (reply.type === 'error') throw new Error(reply.message);
  if (reply.type !== type) throw new Error(`unexpected reply '${reply.type}' from the Parquet reader`);
  return reply as Extract<ParquetReply, {type: T}>;
}

/** One Parquet file open in the worker. */
export class ParquetWorkerFile {
  private constructor(
    private readonly worker: WorkerHost,
    private readonly id: number,
    readonly info: Extract<ParquetReply, {type: 'opened'}>,
  ) {}

  static async open(path: string): Promise<ParquetWorkerFile> {
    const worker = (host ??= new WorkerHost());
    const {id, reply} = worker.request({type: 'open', path});
    return new ParquetWorkerFile(worker, id, replyOf(await reply, 'opened'));
  }

  /** One row group as Arrow IPC stream bytes. */
  async readRowGroup(group: number): Promise<Uint8Array> {
    return replyOf(await this.worker.request({type: 'read', file: this.id, group}).reply, 'group').ipc;
  }

  async close(): Promise<void> {
    if (this.worker.dead !== undefined) return;
    await this.worker.request({type: 'close', file: this.id}).reply.catch(() => {});
  }
}
