/**
 * Arrow RecordBatches -> VectorRecords, shared by the Arrow IPC and Parquet vector readers: finds the
 * id and vector columns in a schema, and yields one batch's records. Imports apache-arrow statically,
 * so it must itself only be reached through a dynamic import.
 */
import {createRequire} from 'node:module';
import {FixedSizeList, Type, type DataType, type Float, type RecordBatch, type Schema, type Vector} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {VectorMatrix, type RowId} from '../../vectors/matrix.js';
import {ID_COLUMN, type VectorBatch, type VectorFileMetadata} from './types.js';

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
  /** From a FixedSizeList type; undefined for variable lists (taken from the first row). */
  dimension: number | undefined;
  fieldNames: string[];
}

/**
 * Finds the id and vector columns in a file's schema. The id column is optional only when the
 * caller did not name one (files from other tools often have none); the vector column is required.
 */
export function readLayout(schema: Schema, file: string, idColumn: string | undefined, vectorColumn: string): ReadLayout {
  const names = schema.fields.map((field) => field.name);
  const missing = (column: string, flag: string): SbertkitError =>
    new SbertkitError(`column '${column}' not found (${flag}); columns are ${names.join(', ')}`, {file, field: column});
  const vectorField = schema.fields.find((field) => field.name === vectorColumn);
  if (vectorField === undefined) throw missing(vectorColumn, '--vector-column');
  if (!isFloatList(vectorField.type)) {
    throw new SbertkitError(`column '${vectorColumn}' is ${describeType(vectorField.type)}, expected a list of floats`, {file, field: vectorColumn});
  }
  const id = idColumn ?? ID_COLUMN;
  const hasId = names.includes(id);
  if (!hasId && idColumn !== undefined) throw missing(idColumn, '--id-column');
  const dimension = vectorField.type.typeId === Type.FixedSizeList ? (vectorField.type as FixedSizeList).listSize : undefined;
  return {
    idColumn: hasId ? id : undefined,
    vectorColumn,
    dimension,
    fieldNames: names.filter((name) => name !== vectorColumn && name !== id),
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

function isFloatList(type: DataType): boolean {
  const lists = [Type.FixedSizeList, Type.List, Type.LargeList];
  if (!lists.includes(type.typeId)) return false;
  const child = type.children[0]?.type;
  return child !== undefined && child.typeId === Type.Float;
}

/** Key/value metadata of an Arrow schema as a plain record. */
export function schemaMetadata(schema: Schema): VectorFileMetadata {
  return Object.fromEntries(schema.metadata);
}

/**
 * One Arrow batch as a VectorBatch. A non-null FixedSizeList<Float32> column (what sbertkit and most
 * tools write) becomes a view of the batch's buffer, without a copy; other float lists are copied
 * row by row into one buffer. `rowOffset` is the 0-based number of the batch's first row in the file
 * (for default ids and messages). Every row must have shape.dimension values; the first row sets it
 * when the type did not.
 */
export function readBatch(batch: RecordBatch, layout: ReadLayout, shape: {dimension: number | undefined}, file: string, rowOffset: number): VectorBatch {
  const n = batch.numRows;
  const column = batch.getChild(layout.vectorColumn)!;
  checkRowCount(column, layout.vectorColumn, file);
  const idColumn = layout.idColumn === undefined ? undefined : (batch.getChild(layout.idColumn) ?? undefined);
  const ids: RowId[] = new Array(n);
  for (let i = 0; i < n; i++) ids[i] = idColumn === undefined ? rowOffset + i : idValue(idColumn.get(i), rowOffset + i, file);

  const data = zeroCopyVectors(column, n, shape.dimension) ?? copyVectors(column, n, layout.vectorColumn, shape, file, rowOffset);

  const fields: Record<string, (string | undefined)[]> = {};
  for (const name of layout.fieldNames) {
    const values = batch.getChild(name)!;
    const cells: (string | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const cell: unknown = values.get(i);
      cells[i] = cell === null || cell === undefined ? undefined : typeof cell === 'string' ? cell : String(cell);
    }
    fields[name] = cells;
  }
  return {vectors: new VectorMatrix(ids, shape.dimension ?? 0, data), fields};
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

function copyVectors(column: Vector, n: number, name: string, shape: {dimension: number | undefined}, file: string, rowOffset: number): Float32Array {
  let data: Float32Array | undefined;
  for (let i = 0; i < n; i++) {
    const row = rowOffset + i;
    const value = column.get(i) as Vector<Float> | null;
    if (value === null) throw new SbertkitError(`row ${row + 1}: '${name}' is null`, {file});
    shape.dimension ??= value.length;
    if (value.length !== shape.dimension) {
      throw new SbertkitError(`row ${row + 1}: '${name}' has ${value.length} values, expected ${shape.dimension}`, {file});
    }
    data ??= new Float32Array(n * shape.dimension);
    data.set(value.toArray() as ArrayLike<number>, i * shape.dimension);
  }
  return data ?? new Float32Array(0);
}

function idValue(value: unknown, row: number, file: string): RowId {
  if (typeof value === 'string' || typeof value === 'number') return value;
  // Int64 ids come back as bigint; ids beyond 2^53 stay exact as strings.
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value);
  if (value === null || value === undefined) throw new SbertkitError(`row ${row + 1}: id is null`, {file});
  return String(value);
}
