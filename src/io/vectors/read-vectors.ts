/**
 * The one reader for vector files (Parquet, Arrow IPC file/stream, JSONL): a path or '-' becomes the
 * file's dimension, metadata and kept columns, plus a stream of VectorRecords read batch by batch.
 * Reads what write-vectors writes, and also files from other tools that use a list<float> column.
 */
import {SbertkitError} from '../../errors.js';
import {detectVectorFormat, STDIN, STDIN_NAME, VECTOR_FORMATS} from '../formats.js';
import type {OpenedVectors, VectorColumns, VectorFileMetadata, VectorRecord, VectorShape} from './types.js';
import type {VectorFormat} from '../formats.js';

export interface ReadVectorsOptions {
  /** Wins over the file extension; required for stdin. */
  format?: VectorFormat;
  /** Default 'id'; when not given and the file has no 'id' column, ids are 0-based row numbers. */
  idColumn?: string;
  /** Default 'embedding'. */
  vectorColumn?: string;
  /** Stream to read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
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
  /** Single-use; every row's vector length is checked against `dimension`. */
  records: AsyncIterable<VectorRecord>;
  /** Releases the file (and any stdin temp copy) when the records will not be read to the end. */
  close(): Promise<void>;
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
    : format === 'jsonl' ? await (await import('./read-jsonl.js')).openJsonlVectors(input, columns, options.stdin)
    : await (await import('./read-arrow.js')).openArrowVectors(input, file, format, columns, options.stdin);

  const shape: VectorShape = {dimension: opened.dimension};
  const generator = opened.records(shape);
  let first: IteratorResult<VectorRecord> | undefined;
  if (shape.dimension === undefined) {
    // Peek one record so callers know the dimension before they start (e.g. to size a matrix).
    try {
      first = await generator.next();
    } catch (error) {
      await opened.close();
      throw error;
    }
  }

  async function* records(): AsyncGenerator<VectorRecord> {
    if (first !== undefined && !first.done) yield first.value;
    yield* generator;
  }
  return {
    file,
    format,
    dimension: shape.dimension ?? 0,
    metadata: opened.metadata,
    fieldNames: opened.fieldNames,
    records: records(),
    close: async () => {
      await generator.return(undefined);
      await opened.close();
    },
  };
}
