/**
 * Arrow RecordBatches -> VectorRecords, shared by the Arrow IPC and Parquet vector readers: finds the
 * id and vector columns in a schema, and yields one batch's records. Imports apache-arrow statically,
 * so it must itself only be reached through a dynamic import.
 */
import {FixedSizeList, Type, type DataType, type Float, type RecordBatch, type Schema, type Vector} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {ID_COLUMN, type VectorFileMetadata, type VectorRecord} from './types.js';

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
