/**
 * The encode pipeline: text source -> encoder -> vector sink. The command only turns flags into these
 * options; library users can call this directly.
 */
import type {SentenceEncoder} from '../encoder/types.js';
import {EXIT, SbertkitError} from '../errors.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {detectVectorFormat} from '../io/formats.js';
import {openTexts, type TextSource} from '../io/text/read-texts.js';
import type {TextFormat, VectorFormat} from '../io/formats.js';
import type {VectorRecord} from '../io/vectors/types.js';
import {openVectorWriter, type VectorWriter} from '../io/vectors/write-vectors.js';

export interface EncodeFileOptions {
  input: string;
  output: string;
  inputFormat?: TextFormat;
  format?: VectorFormat;
  textColumn?: string;
  idColumn?: string;
  keepColumns?: string[];
  quote?: boolean;
  stdin?: NodeJS.ReadableStream;
  /** Rows written per writer call; also the Parquet row-group granularity floor. */
  writeChunk?: number;
  onBatch?: (rows: number) => void;
}

export interface EncodeFileResult {
  output: string;
  format: VectorFormat;
  rows: number;
  /** True when stdout's reader went away (e.g. `| head`) and we stopped without error. */
  stoppedEarly: boolean;
}

/**
 * Opens and checks the input (format, header, columns) and the output format, without a model: callers
 * do this before loading the encoder so bad input fails in milliseconds, not after a model load.
 */
export async function openEncodeSource(options: EncodeFileOptions): Promise<TextSource> {
  outputFormat(options.output, options.format);
  await checkOutputWritable(options.output);
  return openTexts(options.input, {
    format: options.inputFormat ?? (options.input === '-' ? 'txt' : undefined),
    textColumn: options.textColumn,
    idColumn: options.idColumn,
    keepColumns: options.keepColumns,
    quote: options.quote,
    stdin: options.stdin,
  });
}

/** Encodes every record of `source` and writes the vector file; the output appears only on success. */
export async function encodeToVectorFile(encoder: SentenceEncoder, source: TextSource, options: EncodeFileOptions): Promise<EncodeFileResult> {
  const format = outputFormat(options.output, options.format);
  const chunk = options.writeChunk ?? 1024;
  let writer: VectorWriter | undefined;
  try {
    writer = await openVectorWriter(options.output, {
      format,
      dimension: encoder.dimension,
      idType: options.idColumn ? 'string' : 'int',
      fieldNames: options.keepColumns ?? [],
      metadata: vectorFileMetadata(encoder),
    });
    let pending: VectorRecord[] = [];
    let rows = 0;
    for await (const {record, vector} of encoder.embedStream(source.records, options.onBatch)) {
      pending.push({id: record.id, vector, fields: record.fields});
      if (pending.length >= chunk) {
        await writer.write(pending);
        rows += pending.length;
        pending = [];
        if (writer.closed) break;
      }
    }
    if (pending.length > 0 && !writer.closed) {
      await writer.write(pending);
      rows += pending.length;
    }
    const stoppedEarly = writer.closed;
    await writer.commit();
    return {output: options.output, format, rows, stoppedEarly};
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await source.close();
  }
}

/** Schema metadata that tells a reader which model made the vectors. */
export function vectorFileMetadata(encoder: SentenceEncoder): Record<string, string> {
  return {
    'sbertkit.model': encoder.spec.name,
    ...(encoder.spec.revision ? {'sbertkit.model_revision': encoder.spec.revision} : {}),
    'sbertkit.dimension': String(encoder.dimension),
    'sbertkit.pooling': encoder.pooling,
    'sbertkit.normalized': String(encoder.normalized),
    'sbertkit.max_seq_length': String(encoder.maxSeqLength),
  };
}

function outputFormat(output: string, explicit: VectorFormat | undefined): VectorFormat {
  if (explicit) return explicit;
  if (output === '-') return 'jsonl';
  const detected = detectVectorFormat(output);
  if (detected === undefined) {
    throw new SbertkitError(`cannot tell the output format of '${output}' from its extension; use --format parquet|arrow|arrow-stream|jsonl`, {exitCode: EXIT.BAD_INPUT});
  }
  return detected;
}
