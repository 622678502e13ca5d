/**
 * Worker-thread side of the Parquet reader: parquet-wasm runs here, not in the main thread, because
 * it panics on some damaged files, and a panic inside its async reads is a wasm `unreachable` trap
 * thrown from a microtask: no try/catch of the caller sees it, the process dies with a wasm stack
 * trace, and the wasm instance is left unusable. Here it ends only this worker, which the reader
 * (parquet-client.ts) reports as a one-line error and replaces.
 *
 * One worker serves every Parquet file the process opens (starting it and compiling parquet-wasm
 * costs about 0.1 s). Each request carries an id, echoed by its reply; a file is named by the id of
 * the request that opened it.
 */
import {openAsBlob} from 'node:fs';
import {parentPort} from 'node:worker_threads';
import * as parquet from 'parquet-wasm';

/** parquet-wasm/arrow-rs store the Arrow schema under this key; it is not user metadata. */
const ARROW_SCHEMA_KEY = 'ARROW:schema';

export type ParquetRequest = {type: 'open'; path: string} | {type: 'read'; file: number; group: number} | {type: 'close'; file: number};
export type ParquetReply =
  | {type: 'opened'; rowGroups: number; metadata: Record<string, string>; schema: Uint8Array}
  | {type: 'group'; ipc: Uint8Array}
  | {type: 'closed'}
  | {type: 'error'; message: string};

const port = parentPort!;
const files = new Map<number, parquet.ParquetFile>();

function reply(id: number, message: ParquetReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage({id, ...message}, transfer);
}

async function handle(id: number, request: ParquetRequest): Promise<void> {
  if (request.type === 'open') {
    const reader = await parquet.ParquetFile.fromFile(await openAsBlob(request.path));
    files.set(id, reader);
    // wasm-side objects are freed by hand: the JS wrappers are small, so GC would not hurry to.
    const meta = reader.metadata();
    const fileMeta = meta.fileMetadata();
    const metadata: Record<string, string> = {};
    for (const [key, value] of fileMeta.keyValueMetadata() as Map<string, string>) {
      if (key !== ARROW_SCHEMA_KEY) metadata[key] = value;
    }
    const rowGroups = meta.numRowGroups();
    fileMeta.free();
    meta.free();
    const schema = reader.schema().intoIPCStream(); // a copy out of wasm memory: safe to transfer
    reply(id, {type: 'opened', rowGroups, metadata, schema}, [schema.buffer as ArrayBuffer]);
  } else if (request.type === 'read') {
    const reader = files.get(request.file);
    if (reader === undefined) throw new Error('the file is not open');
    const ipc = (await reader.read({rowGroups: [request.group]})).intoIPCStream(); // frees the wasm table
    reply(id, {type: 'group', ipc}, [ipc.buffer as ArrayBuffer]);
  } else {
    files.get(request.file)?.free();
    files.delete(request.file);
    reply(id, {type: 'closed'});
  }
}

port.on('message', ({id, ...request}: {id: number} & ParquetRequest) => {
  handle(id, request as ParquetRequest).catch((error: unknown) => {
    reply(id, {type: 'error', message: error instanceof Error ? error.message : String(error)});
  });
});
