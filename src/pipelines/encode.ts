/**
 * The encode pipeline: text source -> encoder -> vector file. Input, columns and output are checked
 * before the model loads, so bad input fails in milliseconds; the output appears only on success.
 */
import {addStats, emptyStats, type EncodeStats, type SentenceEncoder} from '../encoder/types.js';
import type {InvalidUtf8Policy} from '../io/input/utf8.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../io/output/same-file.js';
import {STDIN, type TextFormat, type VectorFormat, VECTOR_FORMATS} from '../io/formats.js';
import {resolveRowFormat} from '../io/rows/write-rows.js';
import {keepShard, type Shard} from '../io/shard/partition.js';
import {openTexts, type TextSource} from '../io/text/read-texts.js';
import type {VectorFileMetadata, VectorRecord} from '../io/vectors/types.js';
import {openVectorWriter, type VectorWriter} from '../io/vectors/write-vectors.js';
import {secondsSince, type PipelineServices} from './context.js';

export interface EncodeOptions {
  input: string;
  output: string;
  inputFormat?: TextFormat;
  format?: VectorFormat;
  textColumn?: string;
  idColumn?: string;
  keepColumns?: string[];
  quote?: boolean;
  /** Bytes that are not UTF-8: fail (default) or replace and count. */
  onInvalidUtf8?: InvalidUtf8Policy;
  /** Stream for input '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Stream for output '-' (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  /** Rows written per writer call. */
  writeChunk?: number;
  /** Only the rows of this part (io/shard/partition.ts); runEncodeShard adds the manifest and the rerun check. */
  shard?: Shard;
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
  max_seq_length: number;
  /** Input lines in which bytes that are not UTF-8 were replaced (--on-invalid-utf8 replace). */
  invalid_utf8_lines: number;
  seconds: number;
  rows_per_second: number;
  /** True when stdout's reader went away (e.g. `| head`) and encoding stopped without error. */
  stopped_early: boolean;
}

export async function runEncode(options: EncodeOptions, services: PipelineServices): Promise<EncodeResult> {
  const started = performance.now();
  const source = await openEncodeSource(options);
  const stdin = (options.stdin ?? process.stdin) as NodeJS.ReadStream;
  if (options.input === STDIN && stdin.isTTY) services.status('reading texts from the terminal (one per line; Ctrl-D to end)');
  let encoder: SentenceEncoder;
  try {
    encoder = await services.loadEncoder();
  } catch (error) {
    await source.close();
    throw error;
  }
  // Created after the model loads so conversion/download messages do not collide with the bar.
  const progress = services.progress('encoding', 'texts');
  try {
    const written = await encodeToVectorFile(encoder, source, {...options, onBatch: (rows) => progress.increment(rows)});
    progress.stop();
    const seconds = secondsSince(started);
    return {
      input: options.input,
      output: options.output,
      format: written.format,
      model: encoder.spec.name,
      dimension: encoder.dimension,
      rows: written.stats.rows,
      tokens: written.stats.tokens,
      truncated: written.stats.truncated,
      max_seq_length: encoder.maxSeqLength,
      invalid_utf8_lines: source.invalidUtf8Lines,
      seconds,
      rows_per_second: Number((seconds > 0 ? written.stats.rows / seconds : 0).toFixed(1)),
      stopped_early: written.stoppedEarly,
    };
  } finally {
    progress.stop();
    await encoder.close();
  }
}

/** "encoded 3 texts (42 tokens, 0 truncated) with M [dim 384] in 0.4 s (7.5 texts/s) -> out.parquet" */
export function encodeSummary(r: EncodeResult): string {
  const truncated = r.truncated > 0 ? `, ${r.truncated} truncated to ${r.max_seq_length} tokens` : ', 0 truncated';
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  const replaced = r.invalid_utf8_lines > 0 ? `, ${r.invalid_utf8_lines} lines with invalid UTF-8 replaced` : '';
  return `encoded ${r.rows} texts (${r.tokens} tokens${truncated}${replaced}) with ${r.model} [dim ${r.dimension}] in ${r.seconds.toFixed(1)} s (${r.rows_per_second} texts/s) -> ${r.output === STDIN ? 'stdout' : r.output}${stopped}`;
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
  await refuseOutputOverInput(options.output, [options.input]);
  encodeOutputFormat(options.output, options.format);
  await checkOutputWritable(options.output);
  const source = await openTexts(options.input, {
    format: options.inputFormat ?? (options.input === STDIN ? 'txt' : undefined),
    textColumn: options.textColumn,
    idColumn: options.idColumn,
    keepColumns: options.keepColumns,
    quote: options.quote,
    onInvalidUtf8: options.onInvalidUtf8,
    stdin: options.stdin,
  });
  return options.shard === undefined ? source : keepShard(source, options.shard);
}

export interface EncodeToFileResult {
  format: VectorFormat;
  stats: EncodeStats;
  /** True when stdout's reader went away and we stopped without error. */
  stoppedEarly: boolean;
}

/** Encodes every record of `source` and writes the vector file; the output appears only on success. */
export async function encodeToVectorFile(
  encoder: SentenceEncoder,
  source: TextSource,
  options: EncodeOptions & {onBatch?: (rows: number) => void},
): Promise<EncodeToFileResult> {
  const format = encodeOutputFormat(options.output, options.format);
  const chunk = options.writeChunk ?? 1024;
  const stats = emptyStats();
  let writer: VectorWriter | undefined;
  try {
    writer = await openVectorWriter(options.output, {
      format,
      dimension: encoder.dimension,
      idType: options.idColumn ? 'string' : 'int',
      fieldNames: options.keepColumns ?? [],
      metadata: vectorFileMetadata(encoder),
      stdout: options.stdout,
    });
    let pending: VectorRecord[] = [];
    for await (const embedded of encoder.embedStream(source.records, {onBatch: options.onBatch})) {
      addStats(stats, embedded.stats);
      embedded.records.forEach((record, i) => pending.push({id: record.id, vector: embedded.vectors.row(i), fields: record.fields}));
      while (pending.length >= chunk && !writer.closed) {
        await writer.write(pending.slice(0, chunk));
        pending = pending.slice(chunk);
      }
      if (writer.closed) break;
    }
    if (pending.length > 0 && !writer.closed) await writer.write(pending);
    const stoppedEarly = writer.closed;
    await writer.commit();
    return {format, stats, stoppedEarly};
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await source.close();
  }
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
  };
}
