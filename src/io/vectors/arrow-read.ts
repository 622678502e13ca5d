/**
 * Arrow RecordBatches -> VectorRecords, shared by the Arrow IPC and Parquet vector readers: finds the
 * id and vector columns in a schema, and yields one batch's records. Imports apache-arrow statically,
 * so it must itself only be reached through a dynamic import.
 *
 * Compact vectors (encode --precision) are turned back into floats here: float16 widened, int8/uint8
 * dequantized with the file's ranges, binary unpacked to +1/-1, or, when the caller asks for packed
 * binary (search), kept as packed bits in a BitMatrix.
 */
import {createRequire} from 'node:module';
import {FixedSizeList, Type, type DataType, type Int, type RecordBatch, type Schema, type Vector} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {VectorMatrix, type RowId} from '../../vectors/matrix.js';
import {BitMatrix} from '../../vectors/packed-bits.js';
import {isBinary, packedCopier, storedLength, vectorDecoder, type StoredElement} from '../../vectors/quantize.js';
import {storedLayout, type StoredLayout} from './precision-metadata.js';
import type {KeptValue} from '../rows/types.js';
import {ID_COLUMN, type AnyVectorBatch, type BinaryMode, type VectorFileMetadata} from './types.js';

/**
 * apache-arrow decodes Arrow's flatbuffer metadata without verifying it, so a damaged length makes it
 * loop over a "list" of a billion fields or blocks until the heap runs out (found by the vector
 * fuzzer). Every element of a flatbuffer vector takes at least one byte, so a vector that claims more
 * elements than its buffer has bytes left is damaged: flatbuffers' ByteBuffer (the instance
 * apache-arrow loads) refuses such a length. Installed once, when this module is first imported.
 */
function guardFlatbufferVectors(): void {
  interface ByteBufferLike {
    __vector_len(offset: number): number;
    __vector(offset: number): number;
    capacity(): number;
  }
  const requireFromArrow = createRequire(import.meta.resolve('apache-arrow'));
  const proto = (requireFromArrow('flatbuffers') as {ByteBuffer: {prototype: ByteBufferLike & {sbertkitGuard?: true}}}).ByteBuffer.prototype;
  if (proto.sbertkitGuard) return;
  proto.sbertkitGuard = true;
  const vectorLength = proto.__vector_len;
  proto.__vector_len = function (this: ByteBufferLike, offset: number): number {
    const length = vectorLength.call(this, offset);
    if (length < 0 || this.__vector(offset) + length > this.capacity()) throw new Error('damaged metadata: a list runs past the end of its message');
    return length;
  };
}
guardFlatbufferVectors();

export interface ReadLayout {
  /** undefined: no id column in the file, ids are 0-based row numbers. */
  idColumn: string | undefined;
  vectorColumn: string;
  /** From a FixedSizeList type (and, for binary, the metadata); undefined for variable lists (taken from the first row). */
  dimension: number | undefined;
  fieldNames: string[];
  /** How the vectors are stored (precision, ranges). */
  stored: StoredLayout;
}

/**
 * Finds the id and vector columns in a file's schema. The id column is optional only when the
 * caller did not name one (files from other tools often have none); the vector column is required.
 */
export function readLayout(schema: Schema, file: string, idColumn: string | undefined, vectorColumn: string, metadata: VectorFileMetadata): ReadLayout {
  const names = schema.fields.map((field) => field.name);
  const missing = (column: string, flag: string): SbertkitError =>
    new SbertkitError(`column '${column}' not found (${flag}); columns are ${names.join(', ')}`, {file, field: column});
  const vectorField = schema.fields.find((field) => field.name === vectorColumn);
  if (vectorField === undefined) throw missing(vectorColumn, '--vector-column');
  const element = listElement(vectorField.type);
  if (element === undefined) {
    throw new SbertkitError(`column '${vectorColumn}' is ${describeType(vectorField.type)}, expected a list of floats (or of 8-bit integers)`, {file, field: vectorColumn});
  }
  const id = idColumn ?? ID_COLUMN;
  const hasId = names.includes(id);
  if (!hasId && idColumn !== undefined) throw missing(idColumn, '--id-column');
  const listSize = vectorField.type.typeId === Type.FixedSizeList ? (vectorField.type as FixedSizeList).listSize : undefined;
  const stored = storedLayout(metadata, element, listSize, file, vectorColumn);
  return {
    idColumn: hasId ? id : undefined,
    vectorColumn,
    dimension: stored.dimension,
    fieldNames: names.filter((name) => name !== vectorColumn && name !== id),
    stored,
  };
}

/** apache-arrow's toString of a damaged type (a list without its child) throws. */
function describeType(type: DataType): string {
  try {
    return String(type);
  } catch {
    return 'a damaged type';
  }
}

/** The element type of a list column sbertkit can read as vectors, or undefined. */
function listElement(type: DataType): StoredElement | undefined {
  const lists = [Type.FixedSizeList, Type.List, Type.LargeList];
  if (!lists.includes(type.typeId)) return undefined;
  const child = type.children[0]?.type;
  if (child === undefined) return undefined;
  if (child.typeId === Type.Float) return child.ArrayType === Uint16Array ? 'float16' : 'float32';
  if (child.typeId === Type.Int && (child as Int).bitWidth === 8) return (child as Int).isSigned ? 'int8' : 'uint8';
  return undefined;
}

/** Key/value metadata of an Arrow schema as a plain record. */
export function schemaMetadata(schema: Schema): VectorFileMetadata {
  return Object.fromEntries(schema.metadata);
}

/**
 * One Arrow batch as a VectorBatch. A non-null FixedSizeList<Float32> column (what sbertkit and most
 * tools write) becomes a view of the batch's buffer, without a copy; other lists are decoded row by
 * row into one buffer (floats, or packed bytes for binary vectors in 'packed' mode). `rowOffset` is
 * the 0-based number of the batch's first row in the file (for default ids and messages). Every row
 * must have shape.dimension values; the first row sets it when the type did not.
 */
export function readBatch(batch: RecordBatch, layout: ReadLayout, shape: {dimension: number | undefined}, file: string, rowOffset: number, binary: BinaryMode = 'unpack'): AnyVectorBatch {
  const n = batch.numRows;
  const column = batch.getChild(layout.vectorColumn)!;
  checkRowCount(column, layout.vectorColumn, file);
  const idColumn = layout.idColumn === undefined ? undefined : (batch.getChild(layout.idColumn) ?? undefined);
  const ids: RowId[] = new Array(n);
  for (let i = 0; i < n; i++) ids[i] = idColumn === undefined ? rowOffset + i : idValue(idColumn.get(i), rowOffset + i, file);

  const fields: Record<string, (KeptValue | undefined)[]> = {};
  for (const name of layout.fieldNames) {
    const values = batch.getChild(name)!;
    const cell = keptCell(values.type);
    const cells: (KeptValue | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const value: unknown = values.get(i);
      cells[i] = value === null || value === undefined ? undefined : cell(value);
    }
    fields[name] = cells;
  }

  const {precision} = layout.stored;
  const packed = binary === 'packed' && isBinary(precision);
  // An empty batch must not set the dimension of a variable-length column.
  if (n === 0) return {vectors: packed ? new BitMatrix([], shape.dimension ?? 0, new Uint8Array(0)) : VectorMatrix.empty(shape.dimension ?? 0), fields};
  if (packed) {
    const dimension = binaryDimension(column, layout, shape);
    const bytes = storedLength(precision, dimension);
    const data = new Uint8Array(n * bytes);
    decodeRows(column, n, layout.vectorColumn, bytes, file, rowOffset, packedCopier(precision, bytes), data, bytes);
    return {vectors: new BitMatrix(ids, dimension, data), fields};
  }
  let data = precision === 'float32' ? zeroCopyVectors(column, n, shape.dimension) : undefined;
  if (data === undefined) {
    if (layout.stored.declared && (precision === 'int8' || precision === 'uint8') && layout.stored.ranges === undefined) {
      throw new SbertkitError(`${precision} vectors without their ranges (sbertkit.ranges metadata) cannot be read as floats`, {file, field: layout.vectorColumn});
    }
    const dimension = isBinary(precision) ? binaryDimension(column, layout, shape) : listDimension(column, shape);
    const stride = storedLength(precision, dimension);
    data = new Float32Array(n * dimension);
    decodeRows(column, n, layout.vectorColumn, stride, file, rowOffset, vectorDecoder(precision, dimension, layout.stored.ranges), data, dimension);
  }
  return {vectors: new VectorMatrix(ids, shape.dimension ?? 0, data), fields};
}

/**
 * How a kept column's Arrow values become kept values, so a file re-written (dedupe) keeps its column
 * types: integers as bigints (Int64 stays Int64), floats as numbers, booleans and strings as they
 * are; any other type (dates, lists, structs) as its text, as before kept columns had types.
 */
function keptCell(type: DataType): (value: unknown) => KeptValue {
  switch (type.typeId) {
    case Type.Int:
      return (value) => (typeof value === 'bigint' ? value : BigInt(value as number));
    case Type.Float:
      return (value) => value as number;
    case Type.Bool:
      return (value) => value as boolean;
    default:
      return (value) => (typeof value === 'string' ? value : String(value));
  }
}

/**
 * apache-arrow trusts the row count a batch declares; a damaged file can declare millions of rows over
 * a few bytes, and reading them would allocate for all of them. Every row of a float list column
 * needs room in its buffers (listSize floats, or one offset), so the count is checked against them.
 */
function checkRowCount(column: Vector, name: string, file: string): void {
  for (const chunk of column.data) {
    const rows = chunk.offset + chunk.length;
    const child = chunk.children[0];
    const room =
      chunk.type.typeId === Type.FixedSizeList
        ? Math.floor((child?.values?.length ?? 0) / Math.max(1, (chunk.type as FixedSizeList).listSize))
        : (chunk.valueOffsets?.length ?? 0) - 1;
    if (rows > room) {
      throw new SbertkitError(`column '${name}' declares ${rows} rows but holds data for ${Math.max(0, room)}; the file is damaged`, {file, field: name});
    }
  }
}

/** The batch's float32 values as a view, when the column is a FixedSizeList<Float32> without nulls. */
function zeroCopyVectors(column: Vector, n: number, dimension: number | undefined): Float32Array | undefined {
  const chunk = column.data[0];
  if (chunk === undefined || column.data.length !== 1 || chunk.type.typeId !== Type.FixedSizeList || chunk.nullCount > 0) return undefined;
  const size = (chunk.type as FixedSizeList).listSize;
  const values = chunk.children[0]?.values;
  if (!(values instanceof Float32Array) || (dimension !== undefined && size !== dimension)) return undefined;
  // Arrow JS slices child buffers with their parent, so the view starts at this batch's first value.
  return values.subarray(0, n * size);
}

/** The dimension of float rows: the list size, or (variable lists) the first row's length. */
function listDimension(column: Vector, shape: {dimension: number | undefined}): number {
  shape.dimension ??= firstLength(column);
  return shape.dimension;
}

/** The bits of binary rows: from the layout, else (variable lists) 8 per byte of the first row. */
function binaryDimension(column: Vector, layout: ReadLayout, shape: {dimension: number | undefined}): number {
  shape.dimension ??= layout.dimension ?? 8 * firstLength(column);
  return shape.dimension;
}

function firstLength(column: Vector): number {
  for (let i = 0; i < column.length; i++) {
    const value = column.get(i) as Vector | null;
    if (value !== null) return value.length;
  }
  return 0;
}

type RowCopy<T> = (stored: ArrayLike<number>, offset: number, out: T, outOffset: number) => void;

/**
 * Decodes every row of `column` (`stride` stored values each) into `out`, `outStride` values per row:
 * straight from the child buffer for a null-free FixedSizeList, else row by row.
 */
function decodeRows<T>(column: Vector, n: number, name: string, stride: number, file: string, rowOffset: number, copy: RowCopy<T>, out: T, outStride: number): void {
  const chunk = column.data[0];
  if (chunk !== undefined && column.data.length === 1 && chunk.type.typeId === Type.FixedSizeList && chunk.nullCount === 0 && (chunk.type as FixedSizeList).listSize === stride) {
    // Arrow JS slices child buffers with their parent, so the values start at this batch's first row.
    const values = chunk.children[0]!.values as ArrayLike<number>;
    for (let i = 0; i < n; i++) copy(values, i * stride, out, i * outStride);
    return;
  }
  for (let i = 0; i < n; i++) {
    const row = rowOffset + i;
    const value = column.get(i) as Vector | null;
    if (value === null) throw new SbertkitError(`row ${row + 1}: '${name}' is null`, {file});
    if (value.length !== stride) throw new SbertkitError(`row ${row + 1}: '${name}' has ${value.length} values, expected ${stride}`, {file});
    copy(value.toArray() as ArrayLike<number>, 0, out, i * outStride);
  }
}

function idValue(value: unknown, row: number, file: string): RowId {
  if (typeof value === 'string' || typeof value === 'number') return value;
  // Int64 ids come back as bigint; ids beyond 2^53 stay exact as strings.
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value);
  if (value === null || value === undefined) throw new SbertkitError(`row ${row + 1}: id is null`, {file});
  return String(value);
}
