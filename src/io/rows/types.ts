/**
 * The typed table every result of sbertkit is written as: a list of named, typed columns and rows of
 * cells. Vector files are the special case id + kept columns + one fixed-size float vector column.
 */
export type RowFormat = 'jsonl' | 'csv' | 'tsv' | 'parquet' | 'arrow' | 'arrow-stream';
export const ROW_FORMATS: readonly RowFormat[] = ['jsonl', 'csv', 'tsv', 'parquet', 'arrow', 'arrow-stream'];

export type ColumnType =
  | {kind: 'string'}
  | {kind: 'int'}
  | {kind: 'float'}
  | {kind: 'bool'}
  /**
   * A fixed-size vector (an embedding): FixedSizeList<element> in Arrow/Parquet, an array in JSONL.
   * `element` (default float32) is how it is stored: float16 cells are half float bit patterns
   * (Uint16Array, written as their values in text formats), int8/uint8 cells are Int8Array/Uint8Array.
   */
  | {kind: 'vector'; dimension: number; element?: VectorElement};

/** Stored element types of vector columns. */
export type VectorElement = 'float32' | 'float16' | 'int8' | 'uint8';

/** Bytes per stored value. */
export const VECTOR_ELEMENT_BYTES: Readonly<Record<VectorElement, number>> = {float32: 4, float16: 2, int8: 1, uint8: 1};

export interface Column {
  name: string;
  type: ColumnType;
  /** Default true. A missing or null cell in a non-nullable column is an error. */
  nullable?: boolean;
}

/** One cell: null/undefined is a missing value; a vector cell is the typed array of its element type. */
export type Cell = string | number | boolean | VectorCell | null | undefined;
export type VectorCell = Float32Array | Uint16Array | Int8Array | Uint8Array;
export type TypedRow = Readonly<Record<string, Cell>>;

export interface RowSchema {
  columns: readonly Column[];
  /** Key/value metadata stored in Arrow/Parquet schemas (model name, dimension...); text formats have no place for it. */
  metadata?: Record<string, string>;
}

/** Column constructors, so a table reads as `[column.string('id'), column.float('score')]`. */
export const column = {
  string: (name: string, nullable = true): Column => ({name, type: {kind: 'string'}, nullable}),
  int: (name: string, nullable = true): Column => ({name, type: {kind: 'int'}, nullable}),
  float: (name: string, nullable = true): Column => ({name, type: {kind: 'float'}, nullable}),
  bool: (name: string, nullable = true): Column => ({name, type: {kind: 'bool'}, nullable}),
  vector: (name: string, dimension: number, nullable = false, element: VectorElement = 'float32'): Column => ({
    name,
    type: element === 'float32' ? {kind: 'vector', dimension} : {kind: 'vector', dimension, element},
    nullable,
  }),
};

/** One format's serializer: it owns the bytes it writes to the sink; the row writer owns batching. */
export interface BatchEncoder {
  encode(rows: readonly TypedRow[]): Promise<void>;
  /** Writes trailers (footer, end-of-stream); called once, before the sink is committed. */
  finish(): Promise<void>;
  /** Stops any background work after a failure. */
  abort(): Promise<void>;
}
