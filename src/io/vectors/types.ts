import type {VectorMatrix} from '../../vectors/matrix.js';
import type {BitMatrix} from '../../vectors/packed-bits.js';
import type {Precision} from '../../vectors/quantize.js';
import type {KeptValue, RowOrigin} from '../rows/types.js';

/** Shared types of the vector file readers and writers: records, metadata, and the per-format reader contract. */

/** Column names of the vector files sbertkit writes (and the defaults it reads). */
export const ID_COLUMN = 'id';
export const EMBEDDING_COLUMN = 'embedding';

/** One embedded record, ready to be written. */
export interface VectorRecord {
  /** A bigint only for a JSONL id beyond 2^53, under idType 'value'. */
  id: string | number | bigint;
  vector: Float32Array;
  /** Kept columns with their types (text/kept-values.ts; read back from a vector file, the file's types). */
  fields: Record<string, KeptValue>;
  /** The input line the record came from, for messages about its kept values. */
  origin?: RowOrigin;
}

/**
 * One batch of a vector file: its rows as a matrix (ids + one buffer, a view of the file's batch when
 * the layout allows) and the kept columns, column by column (undefined = missing). Binary vectors
 * read in 'packed' mode come as a BitMatrix.
 */
export interface VectorBatch<M extends VectorMatrix | BitMatrix = VectorMatrix> {
  vectors: M;
  /** Typed as written: Int64 as bigints, Float64 as numbers, Bool, Utf8; JSONL values as text/kept-values.ts reads them. */
  fields: Record<string, (KeptValue | undefined)[]>;
}

export type AnyVectorBatch = VectorBatch<VectorMatrix | BitMatrix>;

/**
 * How binary vectors (encode --precision binary|ubinary) are read: unpacked to +1/-1 floats (every
 * command can use them), or kept as packed bits (the search commands, which use Hamming distance).
 */
export type BinaryMode = 'unpack' | 'packed';

/** Key/value metadata written into a vector file's schema (model name, dimension, pooling, normalize...). */
export type VectorFileMetadata = Record<string, string>;

/** What each format's reader returns before the first record has been peeked. */
export interface OpenedVectors {
  /** undefined when only the rows can tell (variable-length lists, JSONL). */
  dimension: number | undefined;
  metadata: VectorFileMetadata;
  fieldNames: string[];
  /** How the vectors are stored ('float32' for files without precision metadata and for JSONL). */
  precision: Precision;
  /** Checks every row against shape.dimension, which the first row sets when it is undefined. */
  batches(shape: VectorShape, binary: BinaryMode): AsyncGenerator<AnyVectorBatch>;
  close(): Promise<void>;
  /** Text formats only: lines in which invalid UTF-8 was replaced so far. */
  invalidUtf8Lines?(): number;
}

/** Shared between openVectors and a format reader: the dimension every row must have. */
export interface VectorShape {
  dimension: number | undefined;
}

export interface VectorColumns {
  idColumn: string | undefined;
  vectorColumn: string;
}
