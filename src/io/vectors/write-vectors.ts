/**
 * Vector files are the special case of the typed rows writer: `id` (Int64 row numbers or Utf8 ids),
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
import {column, ROW_ORIGIN, type Column, type TypedRow, type VectorElement} from '../rows/types.js';
import {openRowWriter} from '../rows/write-rows.js';
import {precisionMetadata} from './precision-metadata.js';
import {EMBEDDING_COLUMN, ID_COLUMN, type VectorFileMetadata, type VectorRecord} from './types.js';

export interface VectorWriterOptions extends OpenOutputOptions {
  format: VectorFormat;
  dimension: number;
  /** Schema key/value metadata (model name, dimension, pooling, normalize...). Not stored in JSONL. */
  metadata?: VectorFileMetadata;
  /** Kept columns, written between id and embedding with their values' types. */
  fieldNames?: string[];
  idType: 'int' | 'string';
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
export function vectorColumns(dimension: number, idType: 'int' | 'string', fieldNames: readonly string[], element: VectorElement = 'float32'): Column[] {
  if (!Number.isInteger(dimension) || dimension < 1) throw new SbertkitError(`vector dimension must be a positive integer, got ${dimension}`);
  const reserved = new Set([ID_COLUMN, EMBEDDING_COLUMN]);
  for (const name of fieldNames) {
    if (reserved.has(name)) throw new SbertkitError(`kept column '${name}' clashes with another output column; rename or drop it`, {field: name});
  }
  return [
    idType === 'int' ? column.int(ID_COLUMN, false) : column.string(ID_COLUMN, false),
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
  const columns = vectorColumns(quantizer?.length ?? options.dimension, options.idType, fieldNames, quantizer?.element);
  const metadata = quantizer === undefined ? options.metadata : {...options.metadata, ...precisionMetadata(quantizer.precision, quantizer.ranges, options.calibration)};
  const rows = await openRowWriter(output, {
    format: options.format,
    columns,
    metadata,
    rowGroupSize: options.rowGroupSize,
    stdout: options.stdout,
  });
  const stringIds = options.idType === 'string';
  const toRow = (record: VectorRecord): TypedRow => {
    const row: Record<string, TypedRow[string]> = {[ID_COLUMN]: stringIds ? String(record.id) : record.id};
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
