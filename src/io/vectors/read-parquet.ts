/**
 * Parquet reading with parquet-wasm, one row group at a time, from a file-backed Blob
 * (fs.openAsBlob), so only the row group being read is in memory. parquet-wasm runs in a worker
 * thread (parquet-worker.ts), where a panic on a damaged file cannot take the process down; each row
 * group crosses over as Arrow IPC bytes (transferred, not copied) and is decoded by apache-arrow.
 * stdin is spooled to a temp file first: Parquet's footer is at the end.
 */
import {Worker} from 'node:worker_threads';
import {tableFromIPC} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';
import {checkReadableFile} from '../input/open-input.js';
import type {OpenedVectors, VectorColumns} from './types.js';
import {spoolToTempFile, type SpooledInput} from '../input/spool-stdin.js';
import {readBatch, readLayout} from './arrow-read.js';
import type {ParquetReply, ParquetRequest} from './parquet-worker.js';

/** The worker running parquet-wasm, from compiled JS or, under tsx (tests from source), from TS. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parquet-worker.js', import.meta.url));
  const api = import.meta.resolve('tsx/esm/api');
  const script = new URL('./parquet-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then(({register}) => { register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(code, {eval: true});
}

/** One request at a time to the worker; a worker that dies (a wasm panic) fails the pending one. */
class ParquetWorker {
  private readonly worker = startWorker();
  private pending: {resolve: (reply: ParquetReply) => void; reject: (error: Error) => void} | undefined;
  private dead: Error | undefined;

  constructor() {
    this.worker.on('message', (reply: ParquetReply) => this.settle((p) => p.resolve(reply)));
    this.worker.on('error', (error: Error) => this.die(error));
    this.worker.on('exit', () => this.die(new Error('the Parquet reader stopped')));
    // Held open only while a request is pending, so a reader dropped without close() does not keep
    // the process alive.
    this.worker.unref();
  }

  async request(request: ParquetRequest): Promise<ParquetReply> {
    if (this.dead !== undefined) throw this.dead;
    this.worker.ref();
    try {
      return await new Promise<ParquetReply>((resolve, reject) => {
        this.pending = {resolve, reject};
        this.worker.postMessage(request);
      });
    } finally {
      this.worker.unref();
    }
  }

  async terminate(): Promise<void> {
    this.dead ??= new Error('the Parquet reader is closed');
    await this.worker.terminate();
  }

  private die(error: Error): void {
    this.dead ??= error;
    this.settle((p) => p.reject(error));
  }

  private settle(action: (pending: NonNullable<ParquetWorker['pending']>) => void): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) action(pending);
  }
}

/** The reply, or the error it carries as an exception. */
function replyOf<T extends ParquetReply['type']>(reply: ParquetReply, type: T): Extract<ParquetReply, {type: T}> {
  if (reply.type === 'error') throw new Error(reply.message);
  if (reply.type !== type) throw new Error(`unexpected reply '${reply.type}' from the Parquet reader`);
  return reply as Extract<ParquetReply, {type: T}>;
}

export async function openParquetVectors(
  input: string,
  file: string,
  columns: VectorColumns,
  stdin?: NodeJS.ReadableStream,
): Promise<OpenedVectors> {
  let spool: SpooledInput | undefined;
  let worker: ParquetWorker | undefined;
  const close = async (): Promise<void> => {
    await worker?.terminate();
    worker = undefined;
    await spool?.cleanup();
  };

  let opened: Extract<ParquetReply, {type: 'opened'}>;
  try {
    let path = input;
    if (input === STDIN) {
      spool = await spoolToTempFile(stdin ?? process.stdin, '.parquet');
      path = spool.path;
    }
    await checkReadableFile(path, file);
    worker = new ParquetWorker();
    opened = replyOf(await worker.request({type: 'open', path}), 'opened');
  } catch (error) {
    await close();
    throw parquetError(file, error);
  }
  const {rowGroups, metadata} = opened;
  const reader = worker;
  let layout;
  try {
    layout = readLayout(tableFromIPC(opened.schema).schema, file, columns.idColumn, columns.vectorColumn);
  } catch (error) {
    await close();
    throw parquetError(file, error);
  }

  return {
    dimension: layout.dimension,
    metadata,
    fieldNames: layout.fieldNames,
    async *batches(shape) {
      let offset = 0;
      try {
        for (let group = 0; group < rowGroups; group++) {
          let table;
          try {
            table = tableFromIPC(replyOf(await reader.request({type: 'read', group}), 'group').ipc);
          } catch (error) {
            throw parquetError(file, error);
          }
          for (const batch of table.batches) {
            let read;
            try {
              read = readBatch(batch, layout, shape, file, offset);
            } catch (error) {
              throw parquetError(file, error);
            }
            yield read;
            offset += batch.numRows;
          }
        }
      } finally {
        await close();
      }
    },
    close,
  };
}

function parquetError(file: string, error: unknown): SbertkitError {
  if (error instanceof SbertkitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // A wasm trap says only "unreachable": what the user needs to know is that the file is damaged.
  const reason = message === 'unreachable' ? 'the file is damaged (the Parquet decoder failed)' : message;
  return new SbertkitError(`cannot read Parquet: ${reason}`, {file, cause: error});
}
