/**
 * What an encode job is: its data (everything a worker needs to run `encode --shard i/N`, and
 * nothing secret), its id and its part file's name. The job id is a hash of the work itself (input
 * checksum, model graph checksum, settings, output folder, part count) plus the part, so submitting
 * the same work twice names the same jobs, and BullMQ ignores an add whose id exists: re-submitting
 * is a no-op. Another model, input or setting is other work with other ids.
 */
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import type {InvalidUtf8Policy} from '../io/input/utf8.js';
import type {TextFormat, VectorFormat} from '../io/formats.js';
import type {OverflowMode} from '../encoder/types.js';
import type {Precision} from '../vectors/quantize.js';

export const ENCODE_JOB = 'encode';

/** The model as the submitter named it, and the graph it resolved to (workers must run the same one). */
export interface JobModel {
  model?: string;
  modelFile?: string;
  maxSeqLength?: number;
  normalize?: boolean;
  /** Encoder options that shape the vectors: every worker must run with the submitter's. */
  truncateDim?: number;
  prompt?: string;
  promptName?: string;
  onOverflow?: OverflowMode;
  chunkOverlap?: number;
  /** Resolved name (folder, hub id, builtin). */
  name: string;
  onnxSha256: string;
}

export interface JobEncodeSettings {
  textColumn: string;
  idColumn?: string;
  keepColumns: string[];
  /** --infer-types (absent in jobs submitted before it existed: false). */
  inferTypes?: boolean;
  inputFormat?: TextFormat;
  format: VectorFormat;
  quote: boolean;
  onInvalidUtf8: InvalidUtf8Policy;
  /** CSV field separator (absent: ','). */
  delimiter?: string;
  /** How vectors are stored (absent: float32). */
  precision?: Precision;
  /**
   * int8/uint8: the absolute path of the calibration vector file every worker reads, so all parts
   * share one set of ranges (ranges from each part's own first rows would make parts disagree).
   */
  calibration?: string;
  /** --text-hash: parts carry a text_sha256 column, so a later submit can --reuse them. */
  textHash?: boolean;
  /**
   * --reuse: the absolute folder of an earlier submit's parts (same part count and format). Part i
   * takes its vectors from that folder's part i: an id always lands in the same part, so an unchanged
   * row finds its old vector there; a row whose id moved is simply encoded.
   */
  reuse?: string;
}

export interface EncodeJobData {
  kind: 'encode';
  /** Hash of the work; shared by its parts' ids. */
  submission: string;
  /** Absolute path every worker can read. */
  input: string;
  inputSha256: string;
  /** Absolute path of this part's file. */
  output: string;
  shard: {index: number; count: number};
  settings: JobEncodeSettings;
  model: JobModel;
}

/** The hash of one piece of work (all parts share it); 16 hex digits. */
export function submissionId(work: {inputSha256: string; outDir: string; parts: number; settings: JobEncodeSettings; model: JobModel}): string {
  const key = JSON.stringify({
    input: work.inputSha256,
    out: work.outDir,
    parts: work.parts,
    settings: work.settings,
    model: [
      work.model.name,
      work.model.onnxSha256,
      work.model.maxSeqLength ?? null,
      work.model.normalize ?? null,
      work.model.truncateDim ?? null,
      work.model.prompt ?? null,
      work.model.promptName ?? null,
      work.model.onOverflow ?? null,
      work.model.chunkOverlap ?? null,
    ],
  });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** BullMQ job ids may not be integers nor contain ':'. */
export function encodeJobId(submission: string, index: number, count: number): string {
  return `encode-${submission}-part-${index}-of-${count}`;
}

const EXTENSIONS: Record<VectorFormat, string> = {parquet: 'parquet', arrow: 'arrow', 'arrow-stream': 'arrows', jsonl: 'jsonl'};

/** DIR/part-00003-of-00064.parquet: zero-padded so a listing sorts in part order. */
export function partFileName(outDir: string, index: number, count: number, format: VectorFormat): string {
  const width = Math.max(5, String(count).length);
  return join(outDir, `part-${String(index).padStart(width, '0')}-of-${String(count).padStart(width, '0')}.${EXTENSIONS[format]}`);
}
