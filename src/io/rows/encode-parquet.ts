/**
 * Streaming Parquet encoder on parquet-wasm's transformParquetStream: a WHATWG stream of wasm
 * RecordBatches goes in, a stream of Parquet bytes comes out. Each batch becomes one row group
 * (max row group size = batch size) and is flushed when written, so memory holds about one batch.
 *
 * Batches cross into wasm as Arrow IPC (apache-arrow batch -> IPC bytes -> wasm Table). The wasm Table
 * must be freed right away: it is not garbage-collected and would otherwise leak one batch per row group.
 */
import {tableToIPC, Table} from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import {SbertkitError} from '../../errors.js';
import type {OutputSink} from '../output/atomic-output.js';
import {arrowBatch, arrowSchema} from './arrow-columns.js';
import type {BatchEncoder, RowSchema, TypedRow} from './types.js';

export function parquetEncoder(sink: OutputSink, schema: RowSchema, rowGroupSize: number): BatchEncoder {
  const arrow = arrowSchema(schema);
  const properties = new parquet.WriterPropertiesBuilder()
    .setMaxRowGroupSize(rowGroupSize)
    .setCompression(parquet.Compression.SNAPPY)
    // Dictionaries never pay off for embeddings or unique ids, and trying them first is slow.
    .setDictionaryEnabled(false)
    .setCreatedBy('sbertkit')
    .setKeyValueMetadata(new Map(Object.entries(schema.metadata ?? {})))
    .build();

  // Identity transform = a push-to-pull bridge with backpressure: writer.ready waits while wasm has
  // not taken the previous batch yet.
  const bridge = new TransformStream<parquet.RecordBatch, parquet.RecordBatch>(undefined, {highWaterMark: 1}, {highWaterMark: 0});
  const input = bridge.writable.getWriter();
  let stopped = false;
  let failure: unknown;

  // transformParquetStream waits for the first batch (it needs its schema), so it is not awaited here.
  const pump = (async () => {
    const output = await parquet.transformParquetStream(bridge.readable, properties);
    for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
      if (stopped) break;
      await sink.write(chunk);
    }
  })();
  const failed = pump.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => {
      failure = error;
      input.abort(error).catch(() => {});
      throw parquetError(sink.target, error);
    },
  );
  failed.catch(() => {}); // observed by encode/finish; avoids an unhandled rejection in between

  let batches = 0;
  const send = async (rows: readonly TypedRow[]): Promise<void> => {
    const ipc = tableToIPC(new Table([arrowBatch(arrow, schema, rows)]), 'stream');
    const table = parquet.Table.fromIPCStream(ipc);
    const wasmBatches = table.recordBatches();
    table.free();
    for (const batch of wasmBatches) {
      await Promise.race([input.ready, failed]);
      await Promise.race([input.write(batch), failed]);
    }
    batches++;
  };

  return {
    async encode(rows) {
      if (failure !== undefined) throw parquetError(sink.target, failure);
      // input.* and pump can reject with the raw error before `failed` wraps it: wrap here too.
      await send(rows).catch((error: unknown) => {
        throw parquetError(sink.target, failure ?? error);
      });
    },
    async finish() {
      try {
        // With no batch there would be no schema; an empty batch makes a valid 0-row file.
        if (batches === 0) await send([]);
        await Promise.race([input.close(), failed]);
        await Promise.race([pump, failed]);
      } catch (error) {
        throw parquetError(sink.target, failure ?? error);
      }
    },
    async abort() {
      stopped = true;
      await input.abort(new Error('aborted')).catch(() => {});
      await pump.catch(() => {});
    },
  };
}

function parquetError(file: string, error: unknown): SbertkitError {
  if (error instanceof SbertkitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SbertkitError(`cannot write Parquet: ${message}`, {file, cause: error});
}
