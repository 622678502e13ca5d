/**
 * The one reader for vector files (Parquet, Arrow IPC file/stream, JSONL): a path or '-' becomes the
 * file's dimension, metadata and kept columns, plus a stream of VectorRecords read batch by batch.
 * Reads what write-vectors writes, and also files from other tools that use a list<float> column.
 */
import {SbertkitError} from '../../errors.js';
import {detectVectorFormat, STDIN, STDIN_NAME, VECTOR_FORMATS} from '../formats.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import {MatrixBuilder} from '../../vectors/matrix-builder.js';
import {BitMatrix} from '../../vectors/packed-bits.js';
import {isBinary, type Precision} from '../../vectors/quantize.js';
import type {AnyVectorBatch, BinaryMode, VectorBatch, VectorColumns, VectorFileMetadata, VectorRecord, VectorShape} from './types.js';
import type {VectorFormat} from '../formats.js';
import type {InvalidUtf8Policy} from '../input/utf8.js';
import type {KeptValue} from '../rows/types.js';
import {valueText} from '../rows/value-columns.js';

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
  /** Binary vectors: unpacked to +1/-1 floats (default) or kept packed (BitMatrix batches). */
  binary?: BinaryMode;
}

/** Reading binary files packed: batches and tables may hold a BitMatrix. */
export type PackedReadOptions = ReadVectorsOptions & {binary: 'packed'};

export interface VectorSource<M extends VectorMatrix | BitMatrix = VectorMatrix> {
  /** Path as given, or '<stdin>'. */
  file: string;
  format: VectorFormat;
  /** From the schema, else from the first row; 0 for an empty file without a fixed-size type. Binary: bits. */
  dimension: number;
  /** How the file stores its vectors (from its metadata; 'float32' when it has none). */
  precision: Precision;
  /** Schema key/value metadata ({} for JSONL). */
  metadata: VectorFileMetadata;
  /** Columns other than the id and vector columns, as written by --keep-columns. */
  fieldNames: string[];
  /**
   * The rows batch by batch, each a VectorMatrix (a view of the file's buffer where the layout allows)
   * plus its kept columns. Single-use, and shares its position with `records`: read one or the other.
   */
  batches: AsyncIterable<VectorBatch<M>>;
  /** The rows one by one as floats, each vector copied out of its batch so a kept record pins no batch buffer. */
  records: AsyncIterable<VectorRecord>;
  /** Releases the file (and any stdin temp copy) when the records will not be read to the end. */
  close(): Promise<void>;
  /** JSONL: lines read so far in which invalid UTF-8 was replaced; 0 for binary formats. */
  readonly invalidUtf8Lines: number;
}

export async function openVectors(input: string, options?: ReadVectorsOptions & {binary?: 'unpack'}): Promise<VectorSource>;
export async function openVectors(input: string, options: PackedReadOptions): Promise<VectorSource<VectorMatrix | BitMatrix>>;
export async function openVectors(input: string, options: ReadVectorsOptions = {}): Promise<VectorSource<VectorMatrix | BitMatrix>> {
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
  const generator = opened.batches(shape, options.binary ?? 'unpack');
  let first: IteratorResult<AnyVectorBatch> | undefined;
  if (shape.dimension === undefined) {
    // Peek one batch so callers know the dimension before they start (e.g. to size a matrix).
    try {
      first = await generator.next();
    } catch (error) {
      await opened.close();
      throw error;
    }
  }

  async function* batches(): AsyncGenerator<AnyVectorBatch> {
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
    precision: opened.precision,
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

function* batchToRecords({vectors, fields}: AnyVectorBatch): Generator<VectorRecord> {
  const columns = Object.entries(fields);
  for (let i = 0; i < vectors.rows; i++) {
    const vector = vectors instanceof BitMatrix ? vectors.unpackRow(i) : vectors.row(i).slice();
    const record: VectorRecord = {id: vectors.ids[i]!, vector, fields: {}};
    for (const [name, cells] of columns) if (cells[i] !== undefined) record.fields[name] = cells[i]!;
    yield record;
  }
}

/** A whole vector file in memory: one matrix (one copy of each batch into a single buffer) and its kept columns. */
export interface VectorTable<M extends VectorMatrix | BitMatrix = VectorMatrix> {
  file: string;
  format: VectorFormat;
  metadata: VectorFileMetadata;
  precision: Precision;
  /** A BitMatrix only for binary files read with binary: 'packed'. */
  vectors: M;
  /** Kept columns, one array per column aligned with the matrix rows (undefined = missing). */
  fields: Record<string, (KeptValue | undefined)[]>;
}

export async function readVectorMatrix(input: string, options?: ReadVectorsOptions & {binary?: 'unpack'}): Promise<VectorTable>;
export async function readVectorMatrix(input: string, options: PackedReadOptions): Promise<VectorTable<VectorMatrix | BitMatrix>>;
export async function readVectorMatrix(input: string, options: ReadVectorsOptions = {}): Promise<VectorTable<VectorMatrix | BitMatrix>> {
  const source = await openVectors(input, options as PackedReadOptions);
  // Rows are copied batch by batch into one growing buffer: a batch is dropped once copied.
  let stacked: MatrixBuilder | undefined;
  // Packed rows are 32x smaller than floats: kept as parts and joined once.
  const packed: BitMatrix[] = [];
  const fields: Record<string, (KeptValue | undefined)[]> = {};
  let rows = 0;
  try {
    for await (const batch of source.batches) {
      for (const [name, cells] of Object.entries(batch.fields)) {
        const column = (fields[name] ??= new Array(rows));
        column.length = rows;
        for (const cell of cells) column.push(cell);
      }
      rows += batch.vectors.rows;
      if (batch.vectors instanceof BitMatrix) packed.push(batch.vectors);
      else (stacked ??= new MatrixBuilder(source.dimension)).append(batch.vectors);
    }
  } finally {
    await source.close();
  }
  for (const column of Object.values(fields)) column.length = rows;
  const keepsBits = options.binary === 'packed' && isBinary(source.precision);
  const vectors = keepsBits ? BitMatrix.concat(packed, source.dimension) : (stacked?.finish() ?? VectorMatrix.empty(source.dimension));
  return {file: source.file, format: source.format, metadata: source.metadata, precision: source.precision, vectors, fields};
}

/**
 * A kept column as texts (a vector file's text column for search and paraphrase output): strings as
 * they are, other values as their JSON text; undefined when the file has no such column.
 */
export function textCells(cells: readonly (KeptValue | undefined)[] | undefined): (string | undefined)[] | undefined {
  return cells?.map((cell) => (cell === null || cell === undefined ? undefined : valueText(cell)));
}
