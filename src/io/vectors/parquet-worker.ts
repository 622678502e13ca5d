/**
 * Worker-thread side of the Parquet reader: parquet-wasm runs here, not in the main thread, because
 * it panics on some damaged files, and a panic inside its async reads is a wasm `unreachable` trap
 * thrown from a microtask: no try/catch of the caller sees it, the process dies with a wasm stack
 * trace, and the wasm instance is left unusable. Here it ends only this worker, which the reader
 * (read-parquet.ts) reports as a one-line error.
 *
 * Protocol, one request at a time: {open, path} -> {opened, rowGroups, metadata, schema (Arrow IPC)};
 * {read, group} -> {group, ipc (Arrow IPC)}; any failure -> {error, message}.
 */
import {openAsBlob} from 'node:fs';
import {parentPort} from 'node:worker_threads';
import * as parquet from 'parquet-wasm';

/** parquet-wasm/arrow-rs store the Arrow schema under this key; it is not user metadata. */
const ARROW_SCHEMA_KEY = 'ARROW:schema';

export type ParquetRequest = {type: 'open'; path: string} | {type: 'read'; group: number};
export type ParquetReply =
  | {type: 'opened'; rowGroups: number; metadata: Record<string, string>; schema: Uint8Array}
  | {type: 'group'; ipc: Uint8Array}
  | {type: 'error'; message: string};

const port = parentPort!;
let reader: parquet.ParquetFile | undefined;

async function handle(request: ParquetRequest): Promise<void> {
  if (request.type === 'open') {
    reader = await parquet.ParquetFile.fromFile(await openAsBlob(request.path));
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
    port.postMessage({type: 'opened', rowGroups, metadata, schema} satisfies ParquetReply, [schema.buffer as ArrayBuffer]);
    return;
  }
  const table = await reader!.read({rowGroups: [request.group]});
  const ipc = table.intoIPCStream(); // consumes (frees) the wasm table
  port.postMessage({type: 'group', ipc} satisfies ParquetReply, [ipc.buffer as ArrayBuffer]);
}

port.on('message', (request: ParquetRequest) => {
  handle(request).catch((error: unknown) => {
    port.postMessage({type: 'error', message: error instanceof Error ? error.message : String(error)} satisfies ParquetReply);
  });
});
