/** What the dedupe pipeline takes and returns. */
import type {DedupeCounts, KeepPolicy} from '../../algorithms/dedupe/decide.js';
import type {NeighbourBackend} from '../../algorithms/neighbour-lists.js';
import type {TextFormat} from '../../io/formats.js';
import type {InvalidUtf8Policy} from '../../io/input/utf8.js';

export interface DedupeOptions {
  input: string;
  /** Kept rows, in the input's format; '-' = stdout. */
  output: string;
  /** Cosine at or above which a row is a near-duplicate of a kept row. */
  threshold: number;
  keep: KeepPolicy;
  /** removed_id, kept_id, score, reason (+ reference) for every dropped row. */
  duplicates?: string;
  /** Reference files (texts or vector files) whose near-duplicates are dropped from the input. */
  against?: string[];
  /** Stage 1 only: no model is loaded. */
  exactOnly?: boolean;
  /** Count the drops at each of these thresholds instead of writing outputs. */
  sweep?: number[];
  /** A self-contained HTML page for tuning the threshold. */
  report?: string;
  textColumn?: string;
  idColumn?: string;
  inputFormat?: TextFormat;
  vectors?: boolean;
  onInvalidUtf8?: InvalidUtf8Policy;
  /** CSV field separator of the input and text references (default ','). */
  delimiter?: string;
  /** The --model asked for, checked against a vector file's metadata. */
  model?: string;
  /** 'auto': exact search up to ~141k rows, bucketed above; 'ann': HNSW. */
  backend?: NeighbourBackend | 'auto';
  buckets?: number;
  probes?: number;
  /** Rows sampled to measure the approximate backends' recall against exact search. */
  recallSample?: number;
  threads?: number;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

export interface SweepRow extends DedupeCounts {
  threshold: number;
  dropped: number;
}

export interface DedupeResult {
  input: string;
  output: string | undefined;
  duplicates: string | undefined;
  report: string | undefined;
  rows: number;
  kept: number;
  exact_dropped: number;
  semantic_dropped: number;
  against_dropped: number;
  threshold: number;
  keep: KeepPolicy;
  model: string | undefined;
  /** How neighbours were found; 'none' when no row was compared (--exact-only, or nothing to compare). */
  backend: NeighbourBackend | 'none';
  buckets?: number;
  probes?: number;
  /** The approximate backends only: share of the exact neighbour pairs found, on a sample of rows. */
  neighbour_recall?: {sampled: number; pairs: number; found: number; recall: number};
  sweep?: SweepRow[];
  truncated: number;
  seconds: number;
  stopped_early: boolean;
}

export const DEDUPE_DEFAULTS = {threshold: 0.9, recallSample: 1000} as const;

