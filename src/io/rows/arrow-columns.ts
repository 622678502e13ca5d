/**
 * Typed rows -> Arrow schema and RecordBatches, shared by the Arrow IPC and Parquet encoders.
 * Imports apache-arrow statically, so it must itself only be reached through a dynamic import.
 *
 * Types: string -> Utf8, int -> Int64, float -> Float64, bool -> Bool, vector -> FixedSizeList<Float32>
 * (the layout sentence-transformers users read with pyarrow, pandas, DuckDB and Polars), or of
 * Float16, Int8 or Uint8 for compact vectors.
 */
import {
  Bool,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int8,
  Int64,
  Uint8,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import {checkCell} from './cells.js';
import type {Column, ColumnType, RowSchema, TypedRow, VectorCell, VectorElement} from './types.js';

const ELEMENTS = {
  float32: {type: () => new Float32(), array: Float32Array},
  float16: {type: () => new Float16(), array: Uint16Array},
  int8: {type: () => new Int8(), array: Int8Array},
  uint8: {type: () => new Uint8(), array: Uint8Array},
} as const satisfies Record<VectorElement, {type: () => DataType; array: new (length: number) => VectorCell}>;

function arrowType(type: ColumnType): DataType {
  switch (type.kind) {
    case 'string':
      return new Utf8();
    case 'int':
      return new Int64();
    case 'float':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'value':
      // write-rows.ts fixes value columns to one of the types above before any batch is built.
      throw new Error(`value column types must be fixed before an Arrow schema is made`);
    case 'vector':
      return new FixedSizeList(type.dimension, new Field('item', ELEMENTS[type.element ?? 'float32'].type(), false));
  }
}

export function arrowSchema(schema: RowSchema): Schema {
  const fields = schema.columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable !== false));
  return new Schema(fields, new Map(Object.entries(schema.metadata ?? {})));
}

/** Builds one batch; `arrow` must be the writer's single Schema instance (IPC writers compare it). */
export function arrowBatch(arrow: Schema, schema: RowSchema, rows: readonly TypedRow[]): RecordBatch {
  const children = schema.columns.map((column) => columnData(column, rows.map((row) => checkCell(column, row[column.name]))));
  const struct = makeData({type: new Struct(arrow.fields), length: rows.length, nullCount: 0, children: children as Data[]});
  return new RecordBatch(arrow, struct);
}

type Checked = ReturnType<typeof checkCell>;

function columnData(column: Column, cells: Checked[]): Data {
  const n = cells.length;
  const {validity, nullCount} = validityOf(cells);
  const {type} = column;
  switch (type.kind) {
    case 'string':
      return utf8Data(cells as (string | null)[]);
    case 'int': {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (cells[i] !== null) data[i] = BigInt(cells[i] as number | bigint);
      return nullCount === 0 ? makeData({type: new Int64(), length: n, data}) : makeData({type: new Int64(), length: n, nullCount, nullBitmap: validity, data});
    }
    case 'float': {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) if (cells[i] !== null) data[i] = cells[i] as number;
      return makeData({type: new Float64(), length: n, nullCount, nullBitmap: validity, data});
    }
    case 'bool': {
      const data = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) if (cells[i] === true) data[i >> 3]! |= 1 << (i & 7);
      return makeData({type: new Bool(), length: n, nullCount, nullBitmap: validity, data});
    }
    case 'value':
      throw new Error(`value column '${column.name}' must be fixed to a type before its batch is built`);
    case 'vector': {
      const {dimension} = type;
      const element = ELEMENTS[type.element ?? 'float32'];
      const flat = new element.array(n * dimension);
      for (let i = 0; i < n; i++) if (cells[i] !== null) flat.set(cells[i] as VectorCell & ArrayLike<number>, i * dimension);
      const listType = arrowType(type) as FixedSizeList;
      return makeData({
        type: listType,
        length: n,
        nullCount,
        nullBitmap: validity,
        child: makeData({type: listType.children[0]!.type, length: n * dimension, data: flat} as Parameters<typeof makeData>[0]),
      });
    }
  }
}

/** Arrow's validity bitmap (bit set = value present), or undefined when nothing is missing. */
function validityOf(cells: Checked[]): {validity: Uint8Array | undefined; nullCount: number} {
  let nullCount = 0;
  for (const cell of cells) if (cell === null) nullCount++;
  if (nullCount === 0) return {validity: undefined, nullCount};
  const validity = new Uint8Array(Math.ceil(cells.length / 8));
  for (let i = 0; i < cells.length; i++) if (cells[i] !== null) validity[i >> 3]! |= 1 << (i & 7);
  return {validity, nullCount};
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
