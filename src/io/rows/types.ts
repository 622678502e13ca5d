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
   * A kept input value whose type the data decides (value-columns.ts): JSONL keeps it as it was,
   * CSV/TSV write its text, and Parquet/Arrow fix the column's type from the first batch written.
   */
  | {kind: 'value'}
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
  /** The input field the values come from, when it has another name (`id` from --id-column): what messages name. */
  inputField?: string;
  /**
   * A value column's stored type decided beforehand instead of from the first batch written, and what
   * decided it (for messages): encode --shard types every part from the whole input's first rows, so
   * all parts share one schema.
   */
  preset?: {kind: FixedKind; by: string};
}

/** What a value column is stored as in Parquet/Arrow (value-columns.ts). */
export type FixedKind = 'int' | 'float' | 'bool' | 'string';

/**
 * A JSON value kept as its source text: a nested object or array (`nested`), or a number neither
 * Int64 nor a double can hold as written (`number`: an integer beyond ±2^63, an overflow like 1e400).
 * JSONL writes the text as it is; the other formats write it as a string.
 */
export class JsonText {
  constructor(
    readonly text: string,
    readonly kind: 'nested' | 'number',
  ) {}
}

/**
 * One cell: null/undefined is a missing value; a vector cell is the typed array of its element type.
 * In `value` columns an integer is a bigint and a number is a decimal (so 1.0 stays a float), and a
 * JsonText is a value kept as its JSON text; `int` columns take bigints too.
 */
export type Cell = KeptValue | VectorCell | undefined;

/** A kept input column's value (a `value` column's cell). */
export type KeptValue = string | number | bigint | boolean | JsonText | null;
export type VectorCell = Float32Array | Uint16Array | Int8Array | Uint8Array;
export type TypedRow = Readonly<Record<string, Cell>> & {readonly [ROW_ORIGIN]?: RowOrigin};

/** Where a row came from, so a writer can name the input line whose value it cannot write. */
export interface RowOrigin {
  file: string;
  line: number;
}

/** The key under which a row carries its RowOrigin (a symbol: never a column). */
export const ROW_ORIGIN: unique symbol = Symbol('sbertkit.rowOrigin');

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
  value: (name: string, nullable = true): Column => ({name, type: {kind: 'value'}, nullable}),
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
