/** Public types of the shared encoder. */
import type {ModelSpec} from '../models/spec.js';

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
}

export interface EncodeStats {
  rows: number;
  /** Real (unpadded) tokens after truncation. */
  tokens: number;
  /** Texts that were longer than max_seq_length and got cut. */
  truncated: number;
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
  /** Running totals over all calls. */
  readonly stats: EncodeStats;
  /** Embeds texts; result i belongs to texts[i]. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /**
   * Streams records through the encoder with windowed length-sorting; yields in input order.
   * onBatch is called after each batch with the number of rows it finished.
   */
  embedStream<R extends {text: string}>(records: AsyncIterable<R> | Iterable<R>, onBatch?: (rows: number) => void): AsyncGenerator<{record: R; vector: Float32Array}>;
  close(): Promise<void>;
}
