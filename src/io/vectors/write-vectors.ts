/**
 * The one writer for embedded records: Parquet, Arrow IPC (file or stream) or JSONL, to a file
 * (atomically) or stdout. Records are buffered into batches of `rowGroupSize` and each batch is
 * serialized as soon as it fills, so memory stays bounded however large the input is.
 * The Arrow/Parquet encoders (and their heavy libraries) are loaded only when used.
 */
import {SbertkitError} from '../../errors.js';
import {openOutput, type OpenOutputOptions, type OutputSink} from '../output/atomic-output.js';
import type {VectorFileMetadata, VectorRecord} from './types.js';
import type {VectorFormat} from '../formats.js';
import type {VectorLayout} from './arrow-batches.js';

export interface VectorWriterOptions extends OpenOutputOptions {
  format: VectorFormat;
  dimension: number;
  /** Schema key/value metadata (model name, dimension, pooling, normalize...). Not stored in JSONL. */
  metadata?: VectorFileMetadata;
  /** Kept text columns, written between id and embedding. */
  fieldNames?: string[];
  idType: 'int' | 'string';
  /** Rows per Parquet row group / Arrow record batch (default: about 16 MiB of floats). */
  rowGroupSize?: number;
}

export interface VectorWriter {
  write(records: VectorRecord[]): Promise<void>;
  commit(): Promise<{rows: number}>;
  abort(): Promise<void>;
  /** True once stdout's reader went away: stop producing and commit. */
  readonly closed: boolean;
}

/** One format's serializer; it owns the bytes it writes to the sink, the writer owns batching. */
export interface BatchEncoder {
  encode(records: VectorRecord[]): Promise<void>;
  /** Writes trailers (footer, end-of-stream); called once, before the sink is committed. */
  finish(): Promise<void>;
  /** Stops any background work after a failure. */
  abort(): Promise<void>;
}

/**
 * Rows per batch so that one batch holds about 16 MiB of float32 values (~10k rows at 384-d, ~5k at
 * 768-d). The Parquet path holds several copies of a batch at once (JS records, Arrow batch, IPC
 * bytes, wasm table, encoded row group) and wasm memory never shrinks, so peak memory is roughly
 * 8-10x this; measured: ~270 MB of wasm memory with 32 MiB batches.
 */
export function defaultRowGroupSize(dimension: number): number {
  return Math.max(1024, Math.min(65536, Math.floor((16 * 1024 * 1024) / (4 * Math.max(1, dimension)))));
}

export async function openVectorWriter(output: string, options: VectorWriterOptions): Promise<VectorWriter> {
  const layout: VectorLayout = {
    dimension: options.dimension,
    idType: options.idType,
    fieldNames: options.fieldNames ?? [],
    metadata: options.metadata,
  };
  checkLayout(layout);
  const rowGroupSize = options.rowGroupSize ?? defaultRowGroupSize(layout.dimension);
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) throw new SbertkitError(`row group size must be a positive integer, got ${rowGroupSize}`);

  const sink = await openOutput(output, options);
  let encoder: BatchEncoder;
  try {
    encoder = await createEncoder(options.format, sink, layout, rowGroupSize);
  } catch (error) {
    await sink.abort();
    throw error;
  }

  // JSONL has no batches to fill; its records go out as they come.
  const batchRows = options.format === 'jsonl' ? 1 : rowGroupSize;
  let buffer: VectorRecord[] = [];
  let rows = 0;
  let state: 'open' | 'committed' | 'aborted' = 'open';

  const flush = async (all: boolean): Promise<void> => {
    while (buffer.length >= batchRows || (all && buffer.length > 0)) {
      const batch = buffer.length <= rowGroupSize ? buffer : buffer.slice(0, rowGroupSize);
      buffer = batch === buffer ? [] : buffer.slice(rowGroupSize);
      await encoder.encode(batch);
    }
  };
  const fail = async (error: unknown): Promise<never> => {
    state = 'aborted';
    await encoder.abort().catch(() => {});
    await sink.abort();
    throw error;
  };

  return {
    async write(records) {
      if (state !== 'open') throw new Error(`vector writer for ${sink.target} is already ${state}`);
      if (sink.closed) return;
      for (const record of records) buffer.push(record);
      rows += records.length;
      try {
        await flush(false);
      } catch (error) {
        await fail(error);
      }
    },
    async commit() {
      if (state !== 'open') throw new Error(`vector writer for ${sink.target} is already ${state}`);
      try {
        await flush(true);
        await encoder.finish();
        await sink.commit();
      } catch (error) {
        await fail(error);
      }
      state = 'committed';
      return {rows};
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await encoder.abort().catch(() => {});
      await sink.abort();
    },
    get closed() {
      return sink.closed;
    },
  };
}

function checkLayout(layout: VectorLayout): void {
  if (!Number.isInteger(layout.dimension) || layout.dimension < 1) {
    throw new SbertkitError(`vector dimension must be a positive integer, got ${layout.dimension}`);
  }
  const names = new Set<string>(['id', 'embedding']);
  for (const name of layout.fieldNames) {
    if (names.has(name)) throw new SbertkitError(`kept column '${name}' clashes with another output column; rename or drop it`, {field: name});
    names.add(name);
  }
}

async function createEncoder(format: VectorFormat, sink: OutputSink, layout: VectorLayout, rowGroupSize: number): Promise<BatchEncoder> {
  switch (format) {
    case 'jsonl':
      return (await import('../rows/encode-jsonl.js')).jsonlEncoder(sink, layout);
    case 'arrow':
    case 'arrow-stream':
      return (await import('../rows/encode-arrow.js')).arrowEncoder(sink, layout, format === 'arrow' ? 'file' : 'stream');
    case 'parquet':
      return (await import('../rows/encode-parquet.js')).parquetEncoder(sink, layout, rowGroupSize);
    default:
      throw new SbertkitError(`unknown vector format '${String(format)}'`);
  }
}
