/**
 * VectorRecords <-> Arrow RecordBatches, shared by the Arrow IPC and Parquet readers and writers.
 * Imports apache-arrow statically, so it must itself only be reached through a dynamic import.
 *
 * Layout: `id` (Int64 or Utf8), each kept field (Utf8, nullable), `embedding` FixedSizeList<Float32>.
 */
import {
  Field,
  FixedSizeList,
  Float,
  Float32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Type,
  Utf8,
  type Data,
  type DataType,
  type Vector,
} from 'apache-arrow';
import {SbertkitError, EXIT} from '../../errors.js';
import type {VectorFileMetadata, VectorRecord} from './types.js';

export {EMBEDDING_COLUMN, ID_COLUMN} from './types.js';
import {EMBEDDING_COLUMN, ID_COLUMN} from './types.js';

export interface VectorLayout {
  dimension: number;
  idType: 'int' | 'string';
  /** Kept text columns, written between id and embedding. */
  fieldNames: string[];
  metadata?: VectorFileMetadata;
}

export function vectorSchema(layout: VectorLayout): Schema {
  const fields = [
    new Field(ID_COLUMN, layout.idType === 'int' ? new Int64() : new Utf8(), false),
    ...layout.fieldNames.map((name) => new Field(name, new Utf8(), true)),
    new Field(EMBEDDING_COLUMN, embeddingType(layout.dimension), false),
  ];
  return new Schema(fields, new Map(Object.entries(layout.metadata ?? {})));
}

function embeddingType(dimension: number): FixedSizeList<Float32> {
  return new FixedSizeList(dimension, new Field('item', new Float32(), false));
}

/** Builds one batch; `schema` must be the writer's single Schema instance (IPC writers compare it). */
export function vectorBatch(schema: Schema, layout: VectorLayout, records: VectorRecord[]): RecordBatch {
  const n = records.length;
  const {dimension} = layout;
  const flat = new Float32Array(n * dimension);
  const ints = layout.idType === 'int' ? new BigInt64Array(n) : undefined;
  const strings = layout.idType === 'string' ? new Array<string>(n) : undefined;
  for (let i = 0; i < n; i++) {
    const record = records[i]!;
    if (record.vector.length !== dimension) {
      throw new SbertkitError(`vector for id ${record.id} has ${record.vector.length} values, expected ${dimension}`, {exitCode: EXIT.MODEL});
    }
    flat.set(record.vector, i * dimension);
    if (ints !== undefined) {
      if (typeof record.id !== 'number' || !Number.isSafeInteger(record.id)) {
        throw new SbertkitError(`id ${JSON.stringify(record.id)} is not an integer; write string ids instead`);
      }
      ints[i] = BigInt(record.id);
    } else strings![i] = String(record.id);
  }
  const idData = ints !== undefined ? makeData({type: new Int64(), length: n, data: ints}) : utf8Data(strings!);
  const fieldData = layout.fieldNames.map((name) => utf8Data(records.map((record) => record.fields[name] ?? null)));
  const embedding = makeData({
    type: embeddingType(dimension),
    length: n,
    nullCount: 0,
    child: makeData({type: new Float32(), length: n * dimension, data: flat}),
  });
  const struct = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [idData, ...fieldData, embedding] as Data[],
  });
  return new RecordBatch(schema, struct);
}

/**
 * Builds a Utf8 column directly (offsets + bytes + validity bitmap): apache-arrow's generic builder
 * (vectorFromArray) costs ~10 us per string, which dominated batch building.
 */
function utf8Data(values: (string | null)[]): Data<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value === null || value === undefined) nullCount++;
    else bytes += Buffer.byteLength(value, 'utf8');
    offsets[i + 1] = bytes;
  }
  const data = Buffer.allocUnsafe(bytes);
  const validity = nullCount === 0 ? undefined : new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    data.write(value, offsets[i]!, 'utf8');
    if (validity !== undefined) validity[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount,
    nullBitmap: validity,
    valueOffsets: offsets,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

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
    throw new SbertkitError(`column '${vectorColumn}' is ${vectorField.type}, expected a list of floats`, {file, field: vectorColumn});
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
 * Yields the records of one batch. `rowOffset` is the 0-based number of the batch's first row in the
 * file (for default ids and messages). Every row must have shape.dimension values; the first row sets
 * it when the type did not. Vectors are copied so a record kept by the caller does not pin the whole
 * batch buffer.
 */
export function* batchRecords(
  batch: RecordBatch,
  layout: ReadLayout,
  shape: {dimension: number | undefined},
  file: string,
  rowOffset: number,
): Generator<VectorRecord> {
  const ids = layout.idColumn === undefined ? undefined : (batch.getChild(layout.idColumn) ?? undefined);
  const vectors = batch.getChild(layout.vectorColumn)!;
  const fields = layout.fieldNames.map((name) => [name, batch.getChild(name)!] as const);
  for (let i = 0; i < batch.numRows; i++) {
    const row = rowOffset + i;
    const value = vectors.get(i) as Vector<Float> | null;
    if (value === null) throw new SbertkitError(`row ${row + 1}: '${layout.vectorColumn}' is null`, {file});
    shape.dimension ??= value.length;
    if (value.length !== shape.dimension) {
      throw new SbertkitError(`row ${row + 1}: '${layout.vectorColumn}' has ${value.length} values, expected ${shape.dimension}`, {file});
    }
    const vector = Float32Array.from(value.toArray() as ArrayLike<number>);
    const record: VectorRecord = {id: ids === undefined ? row : idValue(ids.get(i), row, file), vector, fields: {}};
    for (const [name, column] of fields) {
      const cell: unknown = column.get(i);
      if (cell !== null && cell !== undefined) record.fields[name] = typeof cell === 'string' ? cell : String(cell);
    }
    yield record;
  }
}

function idValue(value: unknown, row: number, file: string): string | number {
  if (typeof value === 'string' || typeof value === 'number') return value;
  // Int64 ids come back as bigint; ids beyond 2^53 stay exact as strings.
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value);
  if (value === null || value === undefined) throw new SbertkitError(`row ${row + 1}: id is null`, {file});
  return String(value);
}
