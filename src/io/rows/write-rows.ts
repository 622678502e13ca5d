/**
 * The one writer for tables of typed rows (pairs, neighbours, clusters, duplicate maps, and vector
 * files): JSONL, CSV, TSV, Parquet or Arrow IPC (file or stream), to a file atomically or to stdout
 * with a quiet EPIPE. Rows are buffered into batches of `rowGroupSize` for the columnar formats and
 * each batch is serialized as soon as it fills, so memory stays bounded however large the table is.
 * The Arrow/Parquet encoders (and their heavy libraries) are loaded only when used.
 */
import {EXIT, SbertkitError} from '../../errors.js';
import {isGzipPath, STDIN} from '../formats.js';
import {openOutput, type OpenOutputOptions, type OutputSink} from '../output/atomic-output.js';
import {ValueColumns} from './value-columns.js';
import {ROW_FORMATS, VECTOR_ELEMENT_BYTES, type BatchEncoder, type Column, type RowFormat, type RowSchema, type TypedRow} from './types.js';

export interface RowWriterOptions extends OpenOutputOptions {
  format: RowFormat;
  columns: readonly Column[];
  /** Schema key/value metadata, kept by Parquet and Arrow. */
  metadata?: Record<string, string>;
  /** Rows per Parquet row group / Arrow record batch (default: about 16 MiB of cells). */
  rowGroupSize?: number;
}

export interface RowWriter {
  /** A missing cell is null (JSONL), an empty field (CSV/TSV) or a null (Arrow/Parquet). */
  write(rows: readonly TypedRow[]): Promise<void>;
  commit(): Promise<{rows: number}>;
  abort(): Promise<void>;
  /** True once stdout's reader went away: stop producing and commit. */
  readonly closed: boolean;
}

const EXTENSIONS: Record<string, RowFormat> = {
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  parquet: 'parquet',
  arrow: 'arrow',
  feather: 'arrow',
  ipc: 'arrow',
  arrows: 'arrow-stream',
};

/** Table format implied by an output name ("pairs.csv" -> csv), or undefined for stdout and unknown extensions. */
export function rowFormatFromPath(path: string): RowFormat | undefined {
  if (path === STDIN) return undefined;
  const ext = /\.([^./\\]+)$/.exec(path.replace(/\.gz$/i, ''))?.[1]?.toLowerCase();
  return ext === undefined ? undefined : EXTENSIONS[ext];
}

/**
 * The format to write: the explicit one, else the output's extension, else `stdoutDefault` for
 * stdout. `allowed` narrows the formats a command offers (encode writes no CSV).
 */
export function resolveRowFormat<F extends RowFormat>(output: string, explicit: F | undefined, stdoutDefault: F, allowed: readonly F[] = ROW_FORMATS as readonly F[]): F {
  if (explicit !== undefined) return explicit;
  if (output === STDIN) return stdoutDefault;
  const detected = rowFormatFromPath(output);
  if (detected === undefined || !(allowed as readonly RowFormat[]).includes(detected)) {
    throw new SbertkitError(`cannot tell the output format of '${output}' from its extension; use --format ${allowed.join('|')}`, {exitCode: EXIT.BAD_INPUT});
  }
  return detected as F;
}

/**
 * Rows per batch so that one batch holds about 16 MiB of vector values (~10k rows at 384-d, ~5k at
 * 768-d); tables without a vector column count 8 bytes a cell. The Parquet path holds several copies
 * of a batch at once (JS rows, Arrow batch, IPC bytes, wasm table, encoded row group) and wasm memory
 * never shrinks, so peak memory is roughly 8-10x this; measured: ~270 MB of wasm memory with 32 MiB batches.
 */
export function defaultRowGroupSize(columns: readonly Column[]): number {
  const vectorBytes = columns.reduce((sum, c) => sum + (c.type.kind === 'vector' ? VECTOR_ELEMENT_BYTES[c.type.element ?? 'float32'] * c.type.dimension : 0), 0);
  const bytesPerRow = vectorBytes > 0 ? vectorBytes : 8 * Math.max(1, columns.length);
  return Math.max(1024, Math.min(65536, Math.floor((16 * 1024 * 1024) / bytesPerRow)));
}

export function checkColumns(columns: readonly Column[]): void {
  const names = new Set<string>();
  for (const column of columns) {
    if (names.has(column.name)) throw new SbertkitError(`duplicate output column '${column.name}'`, {field: column.name});
    names.add(column.name);
    if (column.type.kind === 'vector' && (!Number.isInteger(column.type.dimension) || column.type.dimension < 1)) {
      throw new SbertkitError(`vector dimension must be a positive integer, got ${column.type.dimension}`);
    }
  }
}

export async function openRowWriter(output: string, options: RowWriterOptions): Promise<RowWriter> {
  const schema: RowSchema = {columns: options.columns, metadata: options.metadata};
  checkColumns(schema.columns);
  const rowGroupSize = options.rowGroupSize ?? defaultRowGroupSize(schema.columns);
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) throw new SbertkitError(`row group size must be a positive integer, got ${rowGroupSize}`);
  if (isGzipPath(output) && options.format !== 'jsonl' && options.format !== 'csv' && options.format !== 'tsv') {
    throw new SbertkitError(`${options.format} files compress their own columns; drop the .gz from the name`, {file: output, exitCode: EXIT.BAD_INPUT});
  }

  const sink = await openOutput(output, options);
  // Text formats have no batches to fill; their rows go out as they come.
  const text = options.format === 'jsonl' || options.format === 'csv' || options.format === 'tsv';
  // Parquet/Arrow need a type for each kept value column: the first batch fixes it, so the encoder
  // (which writes the schema) is made only then.
  const values = !text && ValueColumns.any(schema.columns) ? new ValueColumns(schema.columns, sink.target) : undefined;
  let encoder: BatchEncoder | undefined;
  const encoderFor = async (first: readonly TypedRow[]): Promise<BatchEncoder> =>
    (encoder ??= await createEncoder(options.format, sink, values === undefined ? schema : {...schema, columns: values.fix(first)}, rowGroupSize));
  if (values === undefined) {
    try {
      await encoderFor([]);
    } catch (error) {
      await sink.abort();
      throw error;
    }
  }

  const batchRows = text ? 1 : rowGroupSize;
  let buffer: TypedRow[] = [];
  let rows = 0;
  let state: 'open' | 'committed' | 'aborted' = 'open';

  const flush = async (all: boolean): Promise<void> => {
    while (buffer.length >= batchRows || (all && buffer.length > 0)) {
      const batch = buffer.length <= rowGroupSize ? buffer : buffer.slice(0, rowGroupSize);
      buffer = batch === buffer ? [] : buffer.slice(rowGroupSize);
      const target = await encoderFor(batch);
      await target.encode(values === undefined ? batch : values.convert(batch));
    }
  };
  const fail = async (error: unknown): Promise<never> => {
    state = 'aborted';
    await encoder?.abort().catch(() => {});
    await sink.abort();
    throw error;
  };

  return {
    async write(batch) {
      if (state !== 'open') throw new Error(`row writer for ${sink.target} is already ${state}`);
      if (sink.closed) return;
      for (const row of batch) buffer.push(row);
      rows += batch.length;
      try {
        await flush(false);
      } catch (error) {
        await fail(error);
      }
    },
    async commit() {
      if (state !== 'open') throw new Error(`row writer for ${sink.target} is already ${state}`);
      try {
        await flush(true);
        // A table with no rows still gets its schema (value columns as Utf8).
        await (await encoderFor([])).finish();
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
      await encoder?.abort().catch(() => {});
      await sink.abort();
    },
    get closed() {
      return sink.closed;
    },
  };
}

async function createEncoder(format: RowFormat, sink: OutputSink, schema: RowSchema, rowGroupSize: number): Promise<BatchEncoder> {
  switch (format) {
    case 'jsonl':
      return (await import('./encode-jsonl.js')).jsonlEncoder(sink, schema);
    case 'csv':
    case 'tsv':
      return (await import('./encode-delimited.js')).delimitedEncoder(sink, schema, format);
    case 'arrow':
    case 'arrow-stream':
      return (await import('./encode-arrow.js')).arrowEncoder(sink, schema, format === 'arrow' ? 'file' : 'stream');
    case 'parquet':
      return (await import('./encode-parquet.js')).parquetEncoder(sink, schema, rowGroupSize);
    default:
      throw new SbertkitError(`unknown table format '${String(format)}'`);
  }
}
