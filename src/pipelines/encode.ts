/**
 * The encode pipeline: text source -> encoder -> vector file. Input, columns and output are checked
 * before the model loads, so bad input fails in milliseconds; the output appears only on success.
 *
 * --precision stores compact vectors (src/vectors/quantize.ts). int8/uint8 need per dimension ranges:
 * from --calibration FILE (a vector file, read before the model loads), else from the first
 * --calibration-rows rows of the input itself (default 10,000), held in memory until they are all
 * encoded, so the run stays one streaming pass; when the input has no more rows than that, the
 * ranges are those of all of it, exactly sentence-transformers' quantize_embeddings without
 * calibration. Later rows outside the ranges are clipped and counted (`clipped`).
 *
 * --reuse OLD (encode-reuse.ts) takes the vector of every text OLD already has and encodes only the
 * others (encoder/reuse-stream.ts); --text-hash (implied by --reuse) writes each text's sha256 beside
 * its vector so that the output can be OLD next time.
 */
import {addStats, emptyStats, type EncodeStats, type SentenceEncoder} from '../encoder/types.js';
import {embedStreamReusing, type MergedChunk} from '../encoder/reuse-stream.js';
import type {TextRecord} from '../io/text/types.js';
import {ONNX_SHA256_KEY, TEXT_HASH_COLUMN, textHash} from '../io/vectors/text-hash.js';
import {fileSha256} from '../models/fingerprint.js';
import type {InvalidUtf8Policy} from '../io/input/utf8.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../io/output/same-file.js';
import {STDIN, type TextFormat, type VectorFormat, VECTOR_FORMATS} from '../io/formats.js';
import {resolveRowFormat} from '../io/rows/write-rows.js';
import {keepShard, type Shard} from '../io/shard/partition.js';
import {openTexts, type TextSource} from '../io/text/read-texts.js';
import type {VectorFileMetadata, VectorRecord} from '../io/vectors/types.js';
import {openVectorWriter, type ValuePresets, type VectorWriter} from '../io/vectors/write-vectors.js';
import {openVectors} from '../io/vectors/read-vectors.js';
import {EXIT, SbertkitError} from '../errors.js';
import type {VectorMatrix} from '../vectors/matrix.js';
import {needsRanges, PRECISIONS, RangeTracker, VectorQuantizer, type Precision, type QuantizationRanges} from '../vectors/quantize.js';
import {secondsSince, type PipelineServices} from './context.js';
import {checkComparable} from './vector-input.js';
import {checkReusable, readReuseTable, type ReuseTable} from './encode-reuse.js';

/** Rows whose ranges calibrate int8/uint8 when no --calibration file is given. */
export const DEFAULT_CALIBRATION_ROWS = 10_000;
import {locateOverflow} from './text-overflow.js';

export interface EncodeOptions {
  /**
   * Stored types of the id and kept columns fixed beforehand (runEncodeShard: from the whole input's
   * first rows, so every part has one schema); without it the output's first batch decides.
   */
  presets?: ValuePresets;
  input: string;
  output: string;
  inputFormat?: TextFormat;
  format?: VectorFormat;
  textColumn?: string;
  idColumn?: string;
  keepColumns?: string[];
  /** CSV/TSV/txt: kept columns typed from their text (integers, decimals, booleans, empty = null); JSONL keeps its own types. */
  inferTypes?: boolean;
  quote?: boolean;
  /** Bytes that are not UTF-8: fail (default) or replace and count. */
  onInvalidUtf8?: InvalidUtf8Policy;
  /** CSV field separator (default ','). */
  delimiter?: string;
  /** Stream for input '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Stream for output '-' (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  /**
   * Rows go out as soon as they and every row before them are encoded (EmbedStreamOptions.eager),
   * and a stalled input flushes what it gave (default true). False: whole windows, the previous
   * behaviour, kept as the baseline of bench/latency.ts.
   */
  streaming?: boolean;
  /** How vectors are stored (default float32). */
  precision?: Precision;
  /** int8/uint8: a vector file whose per dimension min/max are the ranges. */
  calibration?: string;
  /** int8/uint8 without --calibration: the ranges come from this many first rows (default 10,000). */
  calibrationRows?: number;
  /** Only the rows of this part (io/shard/partition.ts); runEncodeShard adds the manifest and the rerun check. */
  shard?: Shard;
  /** A previous output: texts it has (same sha256, same model and settings) take its vector instead of being encoded. */
  reuse?: string;
  /** Write a text_sha256 column (and the graph checksum in the metadata), so the output can be a later --reuse file. Implied by reuse. */
  textHash?: boolean;
}

export interface EncodeResult {
  input: string;
  output: string;
  format: VectorFormat;
  model: string;
  dimension: number;
  rows: number;
  /** Real (unpadded) tokens after truncation. */
  tokens: number;
  /** Texts longer than max_seq_length, cut to it. */
  truncated: number;
  /** Texts longer than max_seq_length, embedded in windows and averaged (--on-overflow chunk). */
  chunked: number;
  max_seq_length: number;
  /** Input lines in which bytes that are not UTF-8 were replaced (--on-invalid-utf8 replace). */
  invalid_utf8_lines: number;
  seconds: number;
  rows_per_second: number;
  /** True when stdout's reader went away (e.g. `| head`) and encoding stopped without error. */
  stopped_early: boolean;
  precision: Precision;
  /** int8/uint8: where the ranges came from (also in the file's sbertkit.calibration metadata). */
  calibration?: string;
  /** Values outside the int8/uint8 ranges (or beyond float16's +-65504) that were clipped. */
  clipped: number;
  /** --reuse: the file vectors were taken from. */
  reuse?: string;
  /** --reuse: rows whose vector was taken from it. */
  reused?: number;
  /** --reuse: rows that went through the model (new or changed texts); reused + encoded = rows. */
  encoded?: number;
}

export async function runEncode(options: EncodeOptions, services: PipelineServices): Promise<EncodeResult> {
  const started = performance.now();
  checkPrecisionOptions(options);
  const source = await openEncodeSource(options);
  const stdin = (options.stdin ?? process.stdin) as NodeJS.ReadStream;
  if (options.input === STDIN && stdin.isTTY) services.status('reading texts from the terminal (one per line; Ctrl-D to end)');
  let encoder: SentenceEncoder;
  let calibration: Calibration | undefined;
  let reuse: ReuseTable | undefined;
  const precision = options.precision ?? 'float32';
  try {
    if (options.calibration !== undefined) calibration = await readCalibration(options.calibration);
    if (options.reuse !== undefined) {
      reuse = await readReuseTable(options.reuse, options.textColumn ?? 'text');
      // Known before any model loads (or downloads); the rest of the check needs the model.
      if (reuse.precision !== precision) throw new SbertkitError(`cannot reuse these vectors: they are stored as ${reuse.precision}, this run writes ${precision}`, {file: reuse.file, exitCode: EXIT.BAD_INPUT});
    }
    encoder = await services.loadEncoder();
  } catch (error) {
    await source.close();
    throw error;
  }
  if (precision !== 'float32' && precision !== 'float16' && encodeOutputFormat(options.output, options.format) === 'jsonl') {
    services.warn(`JSONL has no place for metadata: the ${precision} vectors are written as integers without their precision${needsRanges(precision) ? ' and ranges' : ''}, and read back as those integers; write Parquet or Arrow to read them back as vectors`);
  }
  let metadata: VectorFileMetadata;
  try {
    // Before the bar, so a warning about OLD does not collide with it.
    const graphSha256 = options.reuse !== undefined || options.textHash === true ? await fileSha256(encoder.spec.onnxPath) : undefined;
    metadata = {...vectorFileMetadata(encoder), ...(graphSha256 === undefined ? {} : {[ONNX_SHA256_KEY]: graphSha256})};
    if (reuse !== undefined) checkReusable(reuse, metadata, precision, (message) => services.warn(message));
  } catch (error) {
    await source.close();
    await encoder.close();
    throw error;
  }
  // Created after the model loads so conversion/download messages do not collide with the bar.
  // Rows are unknown until the end: a file's bar measures bytes read against its size (stdin has none).
  const progress = services.progress('encoding', 'texts', undefined, {position: source.position});
  try {
    if (calibration !== undefined) checkCalibration(calibration, encoder);
    const written = await encodeToVectorFile(encoder, source, {
      ...options,
      metadata,
      reuseTable: reuse,
      // With --reuse of int8/uint8 vectors, OLD's ranges (and where they came from) carry over.
      ranges: calibration?.ranges ?? reuse?.ranges,
      calibrationSource: calibration?.description ?? (reuse?.ranges === undefined ? undefined : (reuse.calibration ?? `the ranges of ${reuse.file}`)),
      onBatch: (rows) => progress.increment(rows),
    });
    progress.stop();
    const seconds = secondsSince(started);
    return {
      input: options.input,
      output: options.output,
      format: written.format,
      model: encoder.spec.name,
      dimension: encoder.dimension,
      rows: written.stats.rows + written.reused,
      tokens: written.stats.tokens,
      truncated: written.stats.truncated,
      chunked: written.stats.chunked,
      max_seq_length: encoder.maxSeqLength,
      invalid_utf8_lines: source.invalidUtf8Lines,
      seconds,
      rows_per_second: Number((seconds > 0 ? (written.stats.rows + written.reused) / seconds : 0).toFixed(1)),
      stopped_early: written.stoppedEarly,
      precision,
      ...(written.calibration !== undefined ? {calibration: written.calibration} : {}),
      clipped: written.clipped,
      ...(reuse === undefined ? {} : {reuse: reuse.file, reused: written.reused, encoded: written.stats.rows}),
    };
  } catch (error) {
    // encodeToVectorFile closes the source itself; a failed calibration check comes before it.
    await source.close();
    throw error;
  } finally {
    progress.stop();
    await encoder.close();
  }
}

/** "encoded 3 texts (42 tokens, 0 truncated) with M [dim 384] in 0.4 s (7.5 texts/s) -> out.parquet" */
export function encodeSummary(r: EncodeResult): string {
  const truncated = (r.truncated > 0 ? `, ${r.truncated} truncated to ${r.max_seq_length} tokens` : ', 0 truncated') + (r.chunked > 0 ? `, ${r.chunked} texts chunked` : '');
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  const replaced = r.invalid_utf8_lines > 0 ? `, ${r.invalid_utf8_lines} lines with invalid UTF-8 replaced` : '';
  const calibration = r.calibration !== undefined ? `, ranges from ${r.calibration}` : '';
  const clipped = r.clipped > 0 ? `, ${r.clipped} values clipped` : '';
  const precision = r.precision !== 'float32' ? ` as ${r.precision}${calibration}${clipped}` : '';
  const what = r.reused === undefined ? `encoded ${r.rows} texts` : `encoded ${r.encoded} of ${r.rows} texts, ${r.reused} reused from ${r.reuse}`;
  return `${what} (${r.tokens} tokens${truncated}${replaced}) with ${r.model} [dim ${r.dimension}] in ${r.seconds.toFixed(1)} s (${r.rows_per_second} texts/s) -> ${r.output === STDIN ? 'stdout' : r.output}${precision}${stopped}`;
}

/** The output format: --format, else the extension; stdout defaults to JSONL. */
export function encodeOutputFormat(output: string, explicit: VectorFormat | undefined): VectorFormat {
  return resolveRowFormat<VectorFormat>(output, explicit, 'jsonl', VECTOR_FORMATS);
}

/**
 * Opens and checks the input (format, header, columns) and the output (not the input itself, format,
 * writable folder), without a model.
 */
export async function openEncodeSource(options: EncodeOptions): Promise<TextSource> {
  if ((options.reuse !== undefined || options.textHash === true) && options.keepColumns?.includes(TEXT_HASH_COLUMN)) {
    throw new SbertkitError(`kept column '${TEXT_HASH_COLUMN}' clashes with the text hashes --text-hash and --reuse write; rename or drop it`, {field: '--keep-columns', exitCode: EXIT.BAD_INPUT});
  }
  await refuseOutputOverInput(options.output, [options.input]);
  encodeOutputFormat(options.output, options.format);
  await checkOutputWritable(options.output);
  const source = await openEncodeTexts(options);
  return options.shard === undefined ? source : keepShard(source, options.shard);
}

/** Every record of the input as encode reads it (columns, types, decoding), before any --shard cut. */
export function openEncodeTexts(options: EncodeOptions): Promise<TextSource> {
  return openTexts(options.input, {
    delimiter: options.delimiter,
    format: options.inputFormat ?? (options.input === STDIN ? 'txt' : undefined),
    textColumn: options.textColumn,
    idColumn: options.idColumn,
    keepColumns: options.keepColumns,
    inferTypes: options.inferTypes,
    quote: options.quote,
    onInvalidUtf8: options.onInvalidUtf8,
    stdin: options.stdin,
  });
}

export interface EncodeToFileResult {
  format: VectorFormat;
  stats: EncodeStats;
  /** True when stdout's reader went away and we stopped without error. */
  stoppedEarly: boolean;
  /** int8/uint8: where the ranges came from. */
  calibration?: string;
  /** Values the quantizer clipped. */
  clipped: number;
  /** Rows whose vector came from the reuse file (stats count only the rows that were encoded). */
  reused: number;
}

/**
 * Encodes every record of `source` and writes the vector file; the output appears only on success.
 * int8/uint8 without `ranges` take them from the first calibrationRows rows: the writer opens once
 * they are encoded (or the input ends), and those rows wait in memory until then.
 */
export async function encodeToVectorFile(
  encoder: SentenceEncoder,
  source: TextSource,
  options: EncodeOptions & {
    onBatch?: (rows: number) => void;
    ranges?: QuantizationRanges;
    calibrationSource?: string;
    /** The file's metadata (default vectorFileMetadata(encoder)); the precision is added here. */
    metadata?: VectorFileMetadata;
    /** --reuse, read and checked against the encoder (runEncode does both). */
    reuseTable?: ReuseTable;
  },
): Promise<EncodeToFileResult> {
  const format = encodeOutputFormat(options.output, options.format);
  const precision = options.precision ?? 'float32';
  const calibrationRows = options.calibrationRows ?? DEFAULT_CALIBRATION_ROWS;
  const tracker = needsRanges(precision) && options.ranges === undefined ? new RangeTracker(encoder.dimension) : undefined;
  const stats = emptyStats();
  let writer: VectorWriter | undefined;
  let quantizer: VectorQuantizer | undefined;
  let calibration = needsRanges(precision) ? options.calibrationSource : undefined;
  const {reuseTable} = options;
  const writesHashes = reuseTable !== undefined || options.textHash === true;
  const keepColumns = options.keepColumns ?? [];
  let reused = 0;
  const open = async (ranges: QuantizationRanges | undefined): Promise<VectorWriter> => {
    quantizer = precision === 'float32' ? undefined : new VectorQuantizer(precision, encoder.dimension, ranges);
    return openVectorWriter(options.output, {
      format,
      dimension: encoder.dimension,
      idType: options.idColumn ? 'value' : 'int',
      idField: options.idColumn,
      presets: options.presets,
      fieldNames: writesHashes ? [...keepColumns, TEXT_HASH_COLUMN] : keepColumns,
      metadata: {...(options.metadata ?? vectorFileMetadata(encoder)), 'sbertkit.precision': precision},
      stdout: options.stdout,
      quantizer,
      calibration,
    });
  };
  try {
    if (tracker === undefined) writer = await open(options.ranges);
    // Rows held back only while int8/uint8 ranges are still being measured; otherwise each chunk is
    // handed to the writer as it comes (text formats write it at once, columnar ones fill row groups).
    let pending: VectorRecord[] = [];
    const records = writesHashes ? withTextHashes(source.records) : source.records;
    const streamOptions = {onBatch: options.onBatch, eager: options.streaming ?? true};
    const chunks: AsyncIterable<MergedChunk<TextRecord>> =
      reuseTable === undefined
        ? plainChunks(encoder.embedStream(records, streamOptions))
        : embedStreamReusing(encoder, records, (record) => reuseTable.vectorOf(record.fields[TEXT_HASH_COLUMN] as string), streamOptions);
    for await (const embedded of chunks) {
      addStats(stats, embedded.stats);
      if (embedded.reused > 0) {
        reused += embedded.reused;
        options.onBatch?.(embedded.reused);
      }
      embedded.records.forEach((record, i) => {
        const vector = embedded.vectors[i]!;
        if (writer === undefined && tracker!.rows < calibrationRows) tracker!.add(vector);
        pending.push({id: record.id, vector, fields: record.fields, origin: {file: source.file, line: record.line}});
      });
      if (writer === undefined) {
        if (tracker!.rows < calibrationRows) continue;
        calibration = `the first ${calibrationRows} rows of the input`;
        writer = await open(tracker!.ranges());
      }
      if (!writer.closed) await writer.write(pending);
      pending = [];
      if (writer.closed) break;
    }
    if (writer === undefined) {
      // The input ended within the calibration rows: the ranges are those of all of it.
      calibration = `all ${tracker!.rows} rows of the input`;
      writer = await open(tracker!.ranges());
    }
    if (pending.length > 0 && !writer.closed) await writer.write(pending);
    const stoppedEarly = writer.closed;
    await writer.commit();
    return {format, stats, stoppedEarly, ...(calibration !== undefined ? {calibration} : {}), clipped: quantizer?.clipped ?? 0, reused};
  } catch (error) {
    await writer?.abort();
    throw locateOverflow(error, source.file);
  } finally {
    await source.close();
  }
}

/** Each record with the sha256 of its text among its fields, where the writer finds the text_sha256 column. */
async function* withTextHashes(records: AsyncIterable<TextRecord>): AsyncGenerator<TextRecord> {
  for await (const record of records) yield {...record, fields: {...record.fields, [TEXT_HASH_COLUMN]: textHash(record.text)}};
}

/** embedStream's chunks in the shape of the reusing stream's (no row reused). */
async function* plainChunks(chunks: AsyncIterable<{records: TextRecord[]; vectors: VectorMatrix; stats: EncodeStats}>): AsyncGenerator<MergedChunk<TextRecord>> {
  for await (const chunk of chunks) yield {records: chunk.records, vectors: chunk.records.map((_, i) => chunk.vectors.row(i)), stats: chunk.stats, reused: 0};
}

/** A known precision; --calibration and --calibration-rows only mean something for int8/uint8. */
function checkPrecisionOptions(options: EncodeOptions): void {
  const precision = options.precision ?? 'float32';
  if (!PRECISIONS.includes(precision)) throw new SbertkitError(`unknown precision '${precision}'; use ${PRECISIONS.join(', ')}`, {exitCode: EXIT.BAD_INPUT});
  if (options.calibrationRows !== undefined && (!Number.isInteger(options.calibrationRows) || options.calibrationRows < 1)) {
    throw new SbertkitError(`--calibration-rows must be a positive integer, got ${options.calibrationRows}`, {exitCode: EXIT.BAD_INPUT});
  }
  if (options.reuse !== undefined && needsRanges(precision)) {
    // A reused row's integers mean something only with OLD's ranges, so the run takes those.
    const flag = options.calibration !== undefined ? '--calibration' : options.calibrationRows !== undefined ? '--calibration-rows' : undefined;
    if (flag !== undefined) throw new SbertkitError(`${flag} does not go with --reuse: a ${precision} run that reuses vectors quantizes with the reused file's ranges`, {field: flag, exitCode: EXIT.BAD_INPUT});
  }
  if (needsRanges(precision)) return;
  for (const [flag, value] of [['--calibration', options.calibration], ['--calibration-rows', options.calibrationRows]] as const) {
    if (value !== undefined) throw new SbertkitError(`${flag} is for --precision int8 or uint8 (their ranges), not ${precision}`, {exitCode: EXIT.BAD_INPUT});
  }
}

interface Calibration {
  file: string;
  ranges: QuantizationRanges;
  rows: number;
  dimension: number;
  model: string | undefined;
  /** "calib.parquet (5000 rows)", for the summary and the metadata. */
  description: string;
}

/** The per dimension min/max of a calibration vector file, read batch by batch (float vectors only). */
async function readCalibration(path: string): Promise<Calibration> {
  const source = await openVectors(path);
  const fail = (message: string): SbertkitError => new SbertkitError(message, {file: source.file, exitCode: EXIT.BAD_INPUT});
  let tracker: RangeTracker | undefined;
  try {
    if (source.precision !== 'float32' && source.precision !== 'float16') {
      throw fail(`calibration vectors must be floats (float32 or float16), this file holds ${source.precision} vectors`);
    }
    for await (const batch of source.batches) {
      tracker ??= new RangeTracker(source.dimension);
      for (let i = 0; i < batch.vectors.rows; i++) tracker.add(batch.vectors.row(i));
    }
  } finally {
    await source.close();
  }
  const ranges = tracker?.ranges();
  if (tracker === undefined || ranges === undefined) throw fail('the calibration file has no vectors');
  return {file: source.file, ranges, rows: tracker.rows, dimension: source.dimension, model: source.metadata['sbertkit.model'], description: `${source.file} (${tracker.rows} rows)`};
}

/** Calibration vectors must be of the encoder's dimension and, when the file says, of its model. */
function checkCalibration(calibration: Calibration, encoder: SentenceEncoder): void {
  if (calibration.dimension !== encoder.dimension) {
    throw new SbertkitError(`calibration vectors have dimension ${calibration.dimension}, the model's have ${encoder.dimension}`, {file: calibration.file, exitCode: EXIT.BAD_INPUT});
  }
  checkComparable([
    {file: 'the input', kind: 'texts', vectors: {rows: 1, dimension: encoder.dimension}, model: encoder.spec.name},
    {file: calibration.file, kind: 'vectors', vectors: {rows: calibration.rows, dimension: calibration.dimension}, model: calibration.model},
  ]);
}

/** Schema metadata that tells a reader which model made the vectors. */
export function vectorFileMetadata(encoder: SentenceEncoder): VectorFileMetadata {
  return {
    'sbertkit.model': encoder.spec.name,
    ...(encoder.spec.revision ? {'sbertkit.model_revision': encoder.spec.revision} : {}),
    'sbertkit.dimension': String(encoder.dimension),
    'sbertkit.pooling': encoder.pooling,
    'sbertkit.normalized': String(encoder.normalized),
    'sbertkit.max_seq_length': String(encoder.maxSeqLength),
    ...(encoder.truncateDim === undefined ? {} : {'sbertkit.truncate_dim': String(encoder.truncateDim)}),
    // Recorded even when empty: a reader can then tell "no prompt" from "made before prompts existed".
    'sbertkit.prompt': encoder.prompt.text,
    ...(encoder.prompt.name === undefined ? {} : {'sbertkit.prompt_name': encoder.prompt.name}),
    'sbertkit.on_overflow': encoder.overflow.mode,
    ...(encoder.overflow.mode === 'chunk' ? {'sbertkit.chunk_overlap': String(encoder.overflow.overlap)} : {}),
  };
}
