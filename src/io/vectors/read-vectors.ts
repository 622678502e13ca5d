/**
 * The one reader for vector files (Parquet, Arrow IPC file/stream, JSONL): a path or '-' becomes the
 * file's dimension, metadata and kept columns, plus a stream of VectorRecords read batch by batch.
 * Reads what write-vectors writes, and also files from other tools that use a list<float> column.
 */
import {SbertkitError} from '../../errors.js';
import {detectVectorFormat, STDIN, STDIN_NAME, VECTOR_FORMATS} from '../formats.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import {MatrixBuilder} from '../../vectors/matrix-builder.js';
import type {VectorBatch, VectorColumns, VectorFileMetadata, VectorRecord, VectorShape} from './types.js';
import type {VectorFormat} from '../formats.js';
import type {InvalidUtf8Policy} from '../input/utf8.js';

export interface ReadVectorsOptions {
  /** Wins over the file extension; required for stdin. */
  format?: VectorFormat;
  /** Default 'id'; when not given and the file has no 'id' column, ids are 0-based row numbers. */
  idColumn?: string;
  /** Default 'embedding'. */
  vectorColumn?: string;
  /** Stream to read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** JSONL: bytes that are not UTF-8 fail naming line and byte offset (default), or read as U+FFFD. */
  onInvalidUtf8?: InvalidUtf8Policy;
}

export interface VectorSource {
  /** Path as given, or '<stdin>'. */
  file: string;
  format: VectorFormat;
  /** From the schema, else from the first row; 0 for an empty file without a fixed-size type. */
  dimension: number;
  /** Schema key/value metadata ({} for JSONL). */
  metadata: VectorFileMetadata;
  /** Columns other than the id and vector columns, as written by --keep-columns. */
  fieldNames: string[];
  /**
   * The rows batch by batch, each a VectorMatrix (a view of the file's buffer where the layout allows)
   * plus its kept columns. Single-use, and shares its position with `records`: read one or the other.
   */
  batches: AsyncIterable<VectorBatch>;
  /** The rows one by one, each vector copied out of its batch so a kept record pins no batch buffer. */
  records: AsyncIterable<VectorRecord>;
  /** Releases the file (and any stdin temp copy) when the records will not be read to the end. */
  close(): Promise<void>;
  /** JSONL: lines read so far in which invalid UTF-8 was replaced; 0 for binary formats. */
  readonly invalidUtf8Lines: number;
}

export async function openVectors(input: string, options: ReadVectorsOptions = {}): Promise<VectorSource> {
  const file = input === STDIN ? STDIN_NAME : input;
  const format = options.format ?? detectVectorFormat(input);
  if (format === undefined) {
    throw new SbertkitError(`cannot tell the vector format from the name; pass a format (${VECTOR_FORMATS.join(', ')})`, {file});
  }
  const columns: VectorColumns = {idColumn: options.idColumn, vectorColumn: options.vectorColumn ?? 'embedding'};
  const opened =
    format === 'parquet' ? await (await import('./read-parquet.js')).openParquetVectors(input, file, columns, options.stdin)
    : format === 'jsonl' ? await (await import('./read-jsonl.js')).openJsonlVectors(input, columns, options.stdin, options.onInvalidUtf8)
    : await (await import('./read-arrow.js')).openArrowVectors(input, file, format, columns, options.stdin);

  const shape: VectorShape = {dimension: opened.dimension};
  const generator = opened.batches(shape);
  let first: IteratorResult<VectorBatch> | undefined;
  if (shape.dimension === undefined) {
    // Peek one batch so callers know the dimension before they start (e.g. to size a matrix).
    try {
      first = await generator.next();
    } catch (error) {
      await opened.close();
      throw error;
    }
  }

  async function* batches(): AsyncGenerator<VectorBatch> {
    if (first !== undefined && !first.done) yield first.value;
    yield* generator;
  }
  const batchStream = batches();
  async function* records(): AsyncGenerator<VectorRecord> {
    for await (const batch of batchStream) yield* batchToRecords(batch);
  }
  return {
    file,
    format,
    dimension: shape.dimension ?? 0,
    metadata: opened.metadata,
    fieldNames: opened.fieldNames,
    batches: batchStream,
    records: records(),
    close: async () => {
      await generator.return(undefined);
      await opened.close();
    },
    get invalidUtf8Lines() {
      return opened.invalidUtf8Lines?.() ?? 0;
    },
  };
}

function* batchToRecords({vectors, fields}: VectorBatch): Generator<VectorRecord> {
  const columns = Object.entries(fields);
  for (let i = 0; i < vectors.rows; i++) {
    const record: VectorRecord = {id: vectors.ids[i]!, vector: vectors.row(i).slice(), fields: {}};
    for (const [name, cells] of columns) if (cells[i] !== undefined) record.fields[name] = cells[i]!;
    yield record;
  }
}

/** A whole vector file in memory: one matrix (one copy of each batch into a single buffer) and its kept columns. */
export interface VectorTable {
  file: string;
  format: VectorFormat;
  metadata: VectorFileMetadata;
  vectors: VectorMatrix;
  /** Kept columns, one array per column aligned with the matrix rows (undefined = missing). */
  fields: Record<string, (string | undefined)[]>;
}

export async function readVectorMatrix(input: string, options: ReadVectorsOptions = {}): Promise<VectorTable> {
  const source = await openVectors(input, options);
  // Rows are copied batch by batch into one growing buffer: a batch is dropped once copied.
  let stacked: MatrixBuilder | undefined;
  const fields: Record<string, (string | undefined)[]> = {};
  let rows = 0;
  try {
    for await (const batch of source.batches) {
      for (const [name, cells] of Object.entries(batch.fields)) {
        const column = (fields[name] ??= new Array(rows));
        column.length = rows;
        for (const cell of cells) column.push(cell);
      }
      rows += batch.vectors.rows;
      (stacked ??= new MatrixBuilder(source.dimension)).append(batch.vectors);
    }
  } finally {
    await source.close();
  }
  for (const column of Object.values(fields)) column.length = rows;
  return {file: source.file, format: source.format, metadata: source.metadata, vectors: stacked?.finish() ?? VectorMatrix.empty(source.dimension), fields};
}
