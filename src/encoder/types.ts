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
}

export interface EncodeStats {
  rows: number;
  /** Real (unpadded) tokens after truncation. */
  tokens: number;
  /** Texts that were longer than max_seq_length and got cut. */
  truncated: number;
}

export function emptyStats(): EncodeStats {
  return {rows: 0, tokens: 0, truncated: 0};
}

/** Adds `more` into `total` (callers of embedStream sum the chunks' stats this way). */
export function addStats(total: EncodeStats, more: EncodeStats): EncodeStats {
  total.rows += more.rows;
  total.tokens += more.tokens;
  total.truncated += more.truncated;
  return total;
}

/** What embed() returns: the vectors (ids are the texts' indices) and what it took to make them. */
export interface Embeddings {
  vectors: VectorMatrix;
  stats: EncodeStats;
}

/** One window of embedStream: the records in input order, their vectors (row i is records[i]'s), and the window's stats. */
export interface EmbeddedChunk<R> {
  records: R[];
  vectors: VectorMatrix;
  stats: EncodeStats;
}

export interface EmbedStreamOptions {
  /** Called after each batch with the number of rows it finished (for progress). */
  onBatch?: (rows: number) => void;
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
  /** Embeds texts; row i of the result belongs to texts[i]. */
  embed(texts: readonly string[]): Promise<Embeddings>;
  /**
   * Streams records through the encoder with windowed length-sorting; yields one chunk per window,
   * in input order. Stats come with each chunk, so concurrent streams never mix their counts.
   */
  embedStream<R extends {text: string}>(records: AsyncIterable<R> | Iterable<R>, options?: EmbedStreamOptions): AsyncGenerator<EmbeddedChunk<R>>;
  close(): Promise<void>;
}
