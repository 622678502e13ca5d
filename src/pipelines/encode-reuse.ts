/**
 * `encode --reuse OLD`: the vectors of a previous encode, keyed by the sha256 of their text, so that
 * unchanged texts take their vector from OLD and only new or changed ones go through the model.
 *
 * Which text a row of OLD is of comes from its `text_sha256` column (encode --text-hash or --reuse),
 * else from a kept column named like --text-column (encode --keep-columns text), hashed here; a file
 * with neither is refused. Whether OLD's vectors are what this run would make comes from its
 * metadata: every setting that shapes a vector (model, revision, ONNX graph checksum when recorded,
 * dimension, pooling, normalization, max_seq_length, truncate-dim, prompt, overflow mode and overlap)
 * and the precision must be the same, else the run stops naming the first setting that differs:
 * silently re-encoding everything would hide a mistake that costs hours on a large corpus.
 *
 * int8/uint8 OLD is read back through its ranges (each level's middle) and this run quantizes with the
 * same ranges, so a reused row gets back exactly the integers OLD stored, and new rows are comparable.
 *
 * OLD is read whole before the model loads: a map from hash to row plus its vectors as float32
 * (about 1.5 GB for a million 384-d rows, binary files unpacked too), so -o may name OLD itself.
 */
import {EXIT, SbertkitError} from '../errors.js';
import {openVectors} from '../io/vectors/read-vectors.js';
import {ONNX_SHA256_KEY, TEXT_HASH_COLUMN, textHash} from '../io/vectors/text-hash.js';
import type {VectorFileMetadata} from '../io/vectors/types.js';
import type {VectorMatrix} from '../vectors/matrix.js';
import {MatrixBuilder} from '../vectors/matrix-builder.js';
import {needsRanges, type Precision, type QuantizationRanges} from '../vectors/quantize.js';
import {CALIBRATION_KEY, recordedRanges} from '../io/vectors/precision-metadata.js';

export interface ReuseTable {
  /** OLD as given. */
  file: string;
  metadata: VectorFileMetadata;
  precision: Precision;
  dimension: number;
  /** Rows in OLD. */
  rows: number;
  /** Where the hashes came from: 'text_sha256' or the kept text column's name. */
  keyedBy: string;
  /**
   * int8/uint8 OLD: its ranges, which this run must quantize with (a reused row's integers mean
   * something only with them), and where they came from (OLD's sbertkit.calibration).
   */
  ranges?: QuantizationRanges;
  calibration?: string;
  /** OLD's vector of the text with this sha256 (its first row of that text). */
  vectorOf(hash: string): Float32Array | undefined;
}

/** Reads OLD: its metadata, and a vector per distinct text hash. */
export async function readReuseTable(path: string, textColumn: string): Promise<ReuseTable> {
  const source = await openVectors(path);
  const fail = (message: string, field?: string): SbertkitError => new SbertkitError(message, {file: source.file, ...(field === undefined ? {} : {field}), exitCode: EXIT.BAD_INPUT});
  const index = new Map<string, number>();
  let vectors: VectorMatrix | undefined;
  let rows = 0;
  let keyedBy: string;
  let ranges: QuantizationRanges | undefined;
  try {
    if (source.metadata['sbertkit.model'] === undefined) {
      throw fail(
        `--reuse needs a vector file that says which model made it (sbertkit.model metadata), and this ${source.format} file does not${source.format === 'jsonl' ? ' (JSONL has no place for metadata)' : ''}; write it as Parquet or Arrow`,
      );
    }
    ranges = recordedRanges(source.metadata, source.dimension, source.file);
    if (needsRanges(source.precision) && ranges === undefined) {
      throw fail(`--reuse of ${source.precision} vectors needs the ranges they were quantized with, and this file records none (sbertkit.ranges metadata)`);
    }
    keyedBy = source.fieldNames.includes(TEXT_HASH_COLUMN) ? TEXT_HASH_COLUMN : source.fieldNames.includes(textColumn) ? textColumn : '';
    if (keyedBy === '') {
      throw fail(`--reuse cannot tell which text each vector is of: no ${TEXT_HASH_COLUMN} column and no '${textColumn}' column; write it with encode --text-hash (or --keep-columns ${textColumn})`);
    }
    const hashed = keyedBy === TEXT_HASH_COLUMN;
    const builder = new MatrixBuilder(source.dimension);
    for await (const batch of source.batches) {
      const keys = batch.fields[keyedBy] ?? [];
      for (let i = 0; i < batch.vectors.rows; i++) {
        const key = keys[i];
        // Kept columns keep their JSON types now: only a string is a text (or a hash) to match.
        if (key === undefined || key === null) continue;
        if (typeof key !== 'string') {
          if (hashed) throw fail(`row ${rows + i + 1}: ${TEXT_HASH_COLUMN} is not a string`, TEXT_HASH_COLUMN);
          continue;
        }
        const hash = hashed ? key.toLowerCase() : textHash(key);
        if (hashed && !/^[0-9a-f]{64}$/.test(hash)) throw fail(`row ${rows + i + 1}: '${key}' is not a sha256 (64 hex digits)`, TEXT_HASH_COLUMN);
        if (!index.has(hash)) index.set(hash, rows + i);
      }
      rows += batch.vectors.rows;
      builder.append(batch.vectors);
    }
    vectors = builder.finish();
  } finally {
    await source.close();
  }
  const matrix = vectors;
  return {
    file: source.file,
    metadata: source.metadata,
    precision: source.precision,
    dimension: source.dimension,
    rows,
    keyedBy,
    ranges,
    calibration: source.metadata[CALIBRATION_KEY],
    vectorOf: (hash) => {
      const row = index.get(hash);
      return row === undefined ? undefined : matrix.row(row);
    },
  };
}

/** Metadata keys that tell how OLD's vectors were made, with the value an older file means by leaving one out. */
const SHAPING_KEYS: ReadonlyArray<{key: string; name: string; absent?: string}> = [
  {key: 'sbertkit.model', name: 'model'},
  {key: 'sbertkit.model_revision', name: 'model revision'},
  {key: 'sbertkit.pooling', name: 'pooling'},
  {key: 'sbertkit.normalized', name: 'normalization'},
  {key: 'sbertkit.max_seq_length', name: 'max_seq_length'},
  // Before the dimension: a different --truncate-dim is the cause, a different dimension its effect.
  {key: 'sbertkit.truncate_dim', name: 'truncate-dim'},
  {key: 'sbertkit.dimension', name: 'dimension'},
  // Files from before prompts and --on-overflow were made without a prompt, truncating.
  {key: 'sbertkit.prompt', name: 'prompt', absent: ''},
  {key: 'sbertkit.on_overflow', name: 'on-overflow', absent: 'truncate'},
  {key: 'sbertkit.chunk_overlap', name: 'chunk-overlap'},
];

const shown = (value: string | undefined): string => (value === undefined ? 'none' : `'${value}'`);

/**
 * Refuses OLD when its vectors are not what this run would make; `current` is the metadata this run
 * writes (vectorFileMetadata plus the precision and the graph checksum). A file that records no graph
 * checksum is trusted on its model name, with a warning.
 */
export function checkReusable(table: ReuseTable, current: VectorFileMetadata, precision: Precision, warn: (message: string) => void): void {
  const refuse = (message: string): never => {
    throw new SbertkitError(`cannot reuse these vectors: ${message}; encode without --reuse, or with the settings OLD was made with`, {file: table.file, exitCode: EXIT.BAD_INPUT});
  };
  for (const {key, name, absent} of SHAPING_KEYS) {
    const before = table.metadata[key] ?? absent;
    const now = current[key] ?? absent;
    if (before !== now) refuse(`they were made with ${name} ${shown(before)}, this run uses ${shown(now)}`);
  }
  if (table.precision !== precision) refuse(`they are stored as ${table.precision}, this run writes ${precision}`);
  if (table.dimension !== Number(current['sbertkit.dimension'])) refuse(`they have dimension ${table.dimension}, the model's vectors ${current['sbertkit.dimension']}`);
  const before = table.metadata[ONNX_SHA256_KEY];
  const now = current[ONNX_SHA256_KEY];
  if (before === undefined) warn(`${table.file} does not record its model's ONNX graph checksum (made without --text-hash): trusting that '${table.metadata['sbertkit.model']}' is the same graph as now`);
  else if (now !== undefined && before !== now) refuse(`model '${current['sbertkit.model']}' is another ONNX graph now (sha256 ${now.slice(0, 12)}..., the vectors' ${before.slice(0, 12)}...)`);
}
