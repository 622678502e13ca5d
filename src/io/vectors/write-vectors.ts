/**
 * Vector files are the special case of the typed rows writer: `id` (Int64 row numbers, or the
 * --id-column values typed as the input gave them: IdType),
 * the kept columns (value columns: their types follow the input, rows/value-columns.ts), then `embedding` as FixedSizeList<Float32>, with the model's metadata in
 * the schema (Parquet/Arrow). Everything else (formats, batching, atomic output, EPIPE) is the rows
 * writer's. With a quantizer, `embedding` is stored compact (FixedSizeList of Float16, Int8 or
 * Uint8; binary rows as ceil(dim / 8) bytes) and the precision and ranges go into the metadata
 * (precision-metadata.ts); JSONL gets the integers, and nowhere to keep the metadata.
 */
import {SbertkitError} from '../../errors.js';
import type {VectorQuantizer} from '../../vectors/quantize.js';
import type {VectorFormat} from '../formats.js';
import type {OpenOutputOptions} from '../output/atomic-output.js';
import {column, ROW_ORIGIN, type Cell, type Column, type FixedKind, type TypedRow, type VectorElement} from '../rows/types.js';
import {openRowWriter} from '../rows/write-rows.js';
import {precisionMetadata} from './precision-metadata.js';
import {EMBEDDING_COLUMN, ID_COLUMN, type VectorFileMetadata, type VectorRecord} from './types.js';

/**
 * How the id column is stored: 'int' (row numbers), 'string' (every id as text), or 'value': the id's
 * own type, as a kept column's (value-columns.ts). --id-column uses 'value', so a JSONL id 7 is written
 * back as 7 and an all-integer id column is Int64, while CSV/TSV ids, always strings, stay Utf8.
 */
export type IdType = 'int' | 'string' | 'value';

/** Int64 ids when every id is a row number or a numeric id, else strings: ids keep the type they came with. */
export function idTypeOf(ids: readonly (string | number)[]): 'int' | 'string' {
  return ids.every((id) => typeof id === 'number') ? 'int' : 'string';
}

/** An id in a 'value' column: integers as bigints, so Int64 is chosen and 7 is not written as 7.0. */
export function valueIdCell(id: VectorRecord['id']): Cell {
  return typeof id === 'number' && Number.isInteger(id) ? BigInt(id) : id;
}

const ID_CELL: Record<IdType, (id: VectorRecord['id']) => Cell> = {
  int: (id) => id,
  string: (id) => String(id),
  value: valueIdCell,
};

/** Value columns' stored types by output column name, and what decided them (Column.preset). */
export interface ValuePresets {
  kinds: Readonly<Record<string, FixedKind>>;
  by: string;
}

export interface VectorWriterOptions extends OpenOutputOptions {
  format: VectorFormat;
  dimension: number;
  /** Schema key/value metadata (model name, dimension, pooling, normalize...). Not stored in JSONL. */
  metadata?: VectorFileMetadata;
  /** Kept columns, written between id and embedding with their values' types. */
  fieldNames?: string[];
  idType: IdType;
  /** The input field the ids come from (--id-column), named in messages about them. */
  idField?: string;
  /** Stored types of value columns (the id under 'value', kept columns) decided beforehand: ValuePresets. */
  presets?: ValuePresets;
  /** Rows per Parquet row group / Arrow record batch (default: about 16 MiB of floats). */
  rowGroupSize?: number;
  /** Stores the vectors at its precision (default: float32 as given, no precision metadata). */
  quantizer?: VectorQuantizer;
  /** Where int8/uint8 ranges came from, for the sbertkit.calibration metadata. */
  calibration?: string;
}

export interface VectorWriter {
  write(records: readonly VectorRecord[]): Promise<void>;
  commit(): Promise<{rows: number}>;
  abort(): Promise<void>;
  /** True once stdout's reader went away: stop producing and commit. */
  readonly closed: boolean;
}

/** The columns of a vector file, in the order they are written (`dimension`: stored values per row). */
export function vectorColumns(dimension: number, idType: IdType, fieldNames: readonly string[], element: VectorElement = 'float32', idField?: string): Column[] {
  if (!Number.isInteger(dimension) || dimension < 1) throw new SbertkitError(`vector dimension must be a positive integer, got ${dimension}`);
  const reserved = new Set([ID_COLUMN, EMBEDDING_COLUMN]);
  for (const name of fieldNames) {
    if (reserved.has(name)) throw new SbertkitError(`kept column '${name}' clashes with another output column; rename or drop it`, {field: name});
  }
  return [
    idType === 'int' ? column.int(ID_COLUMN, false) : idType === 'value' ? {...column.value(ID_COLUMN, false), inputField: idField} : column.string(ID_COLUMN, false),
    ...fieldNames.map((name) => column.value(name)),
    column.vector(EMBEDDING_COLUMN, dimension, false, element),
  ];
}

export async function openVectorWriter(output: string, options: VectorWriterOptions): Promise<VectorWriter> {
  const fieldNames = options.fieldNames ?? [];
  const {quantizer} = options;
  if (quantizer !== undefined && quantizer.dimension !== options.dimension) {
    throw new Error(`quantizer of dimension ${quantizer.dimension} for vectors of ${options.dimension}`);
  }
  const {presets} = options;
  const columns = vectorColumns(quantizer?.length ?? options.dimension, options.idType, fieldNames, quantizer?.element, options.idField).map((c) => {
    const kind = presets?.kinds[c.name];
    return c.type.kind === 'value' && kind !== undefined ? {...c, preset: {kind, by: presets!.by}} : c;
  });
  const metadata = quantizer === undefined ? options.metadata : {...options.metadata, ...precisionMetadata(quantizer.precision, quantizer.ranges, options.calibration)};
  const rows = await openRowWriter(output, {
    format: options.format,
    columns,
    metadata,
    rowGroupSize: options.rowGroupSize,
    stdout: options.stdout,
  });
  const idCell = ID_CELL[options.idType];
  const toRow = (record: VectorRecord): TypedRow => {
    const row: Record<string, TypedRow[string]> = {[ID_COLUMN]: idCell(record.id)};
    for (const name of fieldNames) row[name] = record.fields[name];
    row[EMBEDDING_COLUMN] = quantizer === undefined ? record.vector : quantizer.encode(record.vector);
    return record.origin === undefined ? row : {...row, [ROW_ORIGIN]: record.origin};
  };
  return {
    write: (records) => rows.write(records.map(toRow)),
    commit: () => rows.commit(),
    abort: () => rows.abort(),
    get closed() {
      return rows.closed;
    },
  };
}
