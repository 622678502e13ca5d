/** Public types of the shared encoder. */
import type {ModelSpec} from '../models/spec.js';
import type {VectorMatrix} from '../vectors/matrix.js';
import type {Device} from '../onnx/device.js';

export interface EncoderOptions {
  /** Maximum rows per batch (default 32). */
  batchSize?: number;
  /** Token budget per batch: padded length x rows stays under this (default 16384). */
  maxTokens?: number;
  /** Texts read ahead and length-sorted at once; bounds memory (default 4096). */
  windowSize?: number;
  /** ORT threads (default: all cores). Above 1, one single-threaded session per thread runs batches in parallel worker threads. */
  threads?: number;
  /** Override the model's Normalize module: true/false; undefined keeps the model's choice. */
  normalize?: boolean;
  /** Override max_seq_length (never above the model's position limit). */
  maxSeqLength?: number;
  /** ONNX Runtime execution provider: 'cpu' (default) or 'cuda' (its binaries installed separately). */
  device?: Device;
  /**
   * Matryoshka truncation: keep the first N dimensions of every vector (at most the model's dimension),
   * re-normalized when the encoder normalizes.
   */
  truncateDim?: number;
  /** Text put in front of every text before tokenizing; '' turns off the model's default prompt. Exclusive with promptName. */
  prompt?: string;
  /** A prompt of the model's config_sentence_transformers.json by name. */
  promptName?: string;
  /** What to do with texts longer than max_seq_length (default 'truncate'). */
  onOverflow?: OverflowMode;
  /** Tokens shared by consecutive windows when onOverflow is 'chunk' (default 0). */
  chunkOverlap?: number;
}

/**
 * Texts longer than max_seq_length: 'truncate' keeps the first tokens; 'chunk' embeds windows of
 * max_seq_length tokens and averages them by the text tokens each holds; 'error' refuses the text.
 */
export type OverflowMode = 'truncate' | 'chunk' | 'error';
export const OVERFLOW_MODES: readonly OverflowMode[] = ['truncate', 'chunk', 'error'];

export interface EncodeStats {
  rows: number;
  /** Real (unpadded) tokens the model ran on: after truncation, and every window's for chunked texts. */
  tokens: number;
  /** Texts that were longer than max_seq_length and got cut. */
  truncated: number;
  /** Texts that were longer than max_seq_length and were embedded in windows (onOverflow 'chunk'). */
  chunked: number;
}

export function emptyStats(): EncodeStats {
  return {rows: 0, tokens: 0, truncated: 0, chunked: 0};
}

/** Adds `more` into `total` (callers of embedStream sum the chunks' stats this way). */
export function addStats(total: EncodeStats, more: EncodeStats): EncodeStats {
  total.rows += more.rows;
  total.tokens += more.tokens;
  total.truncated += more.truncated;
  total.chunked += more.chunked;
  return total;
}

/** What embed() returns: the vectors (ids are the texts' indices) and what it took to make them. */
export interface Embeddings {
  vectors: VectorMatrix;
  stats: EncodeStats;
}

/** One chunk of embedStream (a window, or part of one when eager): the records in input order, their vectors (row i is records[i]'s), and their stats. */
export interface EmbeddedChunk<R> {
  records: R[];
  vectors: VectorMatrix;
  stats: EncodeStats;
}

export interface EmbedStreamOptions {
  /** Called after each batch with the number of rows it finished (for progress). */
  onBatch?: (rows: number) => void;
  /**
   * Rows as soon as they can go (for output that someone reads as it comes, e.g. `encode | head`):
   * the first window is one batch and windows double up to windowSize; a window yields its rows in
   * input order as soon as every row before them is done, in several chunks; and a window ends early
   * when the input stalls (no record for stallMs). Off: one chunk per full window.
   */
  eager?: boolean;
  /** eager: milliseconds without a new record after which the records read so far are encoded (default 200). */
  stallMs?: number;
}

export interface SentenceEncoder {
  readonly spec: ModelSpec;
  /** Output vector length. */
  readonly dimension: number;
  /** Whether outputs are L2-normalized. */
  readonly normalized: boolean;
  /** Pooling actually applied ('graph' when the graph outputs sentence_embedding itself). */
  readonly pooling: string;
  /** Token limit actually applied (the model's max_seq_length, or lower when asked). */
  readonly maxSeqLength: number;
  /** The Matryoshka truncation applied, when asked for (then dimension equals it). */
  readonly truncateDim?: number;
  /** The prompt put in front of every text ('' for none), and its name when it came from the model's prompts. */
  readonly prompt: {text: string; name?: string};
  /** What happens to texts longer than maxSeqLength, and the window overlap when chunking. */
  readonly overflow: {mode: OverflowMode; overlap: number};
  /** Embeds texts; row i of the result belongs to texts[i]. `onBatch` counts rows done, for progress. */
  embed(texts: readonly string[], options?: Pick<EmbedStreamOptions, 'onBatch'>): Promise<Embeddings>;
  /**
   * Streams records through the encoder with windowed length-sorting; yields one chunk per window,
   * in input order. Stats come with each chunk, so concurrent streams never mix their counts.
   */
  embedStream<R extends {text: string}>(records: AsyncIterable<R> | Iterable<R>, options?: EmbedStreamOptions): AsyncGenerator<EmbeddedChunk<R>>;
  close(): Promise<void>;
}
