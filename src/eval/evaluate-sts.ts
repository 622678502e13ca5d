/**
 * src/eval: model evaluation (STS): the report type and its JSON check (sts-report), the evaluation
 * itself (this module), CI gates (sts-gates) and the report renderings (render-sts-report). Reads no
 * files: the eval-sts pipeline reads datasets and baselines through io/ and hands them in.
 *
 * STS evaluation: datasets -> unique sentences -> encoder (in chunks) -> per-dataset
 * metrics -> report. The eval-sts command only parses flags, calls this, renders and gates.
 *
 * Each distinct sentence is embedded exactly once, however many pairs or datasets it appears in
 * (STS-B reuses sentences across pairs, and users often evaluate train/dev/test together).
 * Sentences are compared byte-for-byte; no trimming, since the model sees the exact text.
 */
import {performance} from 'node:perf_hooks';
import {SbertkitError, EXIT} from '../errors.js';
import {sbertkitVersion} from '../version.js';
import {stsMetrics} from '../algorithms/sts-metrics.js';
import {addStats, emptyStats, type EncodeStats, type Embeddings, type SentenceEncoder} from '../encoder/types.js';
import {VectorMatrix} from '../vectors/matrix.js';
import type {StsDataset} from '../io/sts/read-sts.js';
import {averageScores, toReportScores, type StsDatasetResult, type StsReport, type StsReportModel} from './sts-report.js';

/** What evaluateSts needs from an encoder; model details are used for the report when present. */
export type StsEncoder = Pick<SentenceEncoder, 'embed'> & Partial<Pick<SentenceEncoder, 'spec' | 'dimension' | 'normalized' | 'pooling'>>;

export interface EvaluateStsOptions {
  /** Called with (texts embedded so far, total unique texts): once with 0 before the first chunk, then after each chunk. */
  onProgress?: (done: number, total: number) => void;
  /** Texts per embed() call (default 1024): bounds the memory of one call and sets progress granularity; large enough that length sorting inside a call still removes nearly all padding. */
  chunkSize?: number;
  /** Overrides for the report's model block (e.g. a display name); filled from the encoder otherwise. */
  model?: Partial<StsReportModel>;
  /** sbertkit version for the report; default: read from sbertkit's package.json. */
  sbertkitVersion?: string;
  /** When given, stored as created_at (ISO). Absent by default so reports diff cleanly. */
  createdAt?: Date;
  /** Store encode_seconds in the report. Off by default for the same reason as createdAt. */
  includeTiming?: boolean;
}

export const DEFAULT_CHUNK_SIZE = 1024;

/** Distinct sentences in first-seen order, and each sentence's index into that list. */
export function collectUniqueSentences(datasets: readonly StsDataset[]): {texts: string[]; index: Map<string, number>} {
  const index = new Map<string, number>();
  const texts: string[] = [];
  for (const d of datasets) {
    for (const p of d.pairs) {
      for (const s of [p.s1, p.s2]) {
        if (!index.has(s)) {
          index.set(s, texts.length);
          texts.push(s);
        }
      }
    }
  }
  return {texts, index};
}

/** Embeds texts in chunks, checking the encoder returns one vector of a constant dimension per text. */
async function embedAll(encoder: StsEncoder, texts: string[], chunkSize: number, onProgress?: (done: number, total: number) => void): Promise<Embeddings> {
  const parts: VectorMatrix[] = [];
  const stats = emptyStats();
  onProgress?.(0, texts.length);
  for (let start = 0; start < texts.length; start += chunkSize) {
    const chunk = texts.slice(start, start + chunkSize);
    // Reported batch by batch, so a bar moves smoothly rather than once per chunk.
    let done = start;
    const out = await encoder.embed(chunk, {onBatch: (rows) => onProgress?.((done += rows), texts.length)});
    if (out.vectors.rows !== chunk.length) {
      throw new SbertkitError(`encoder returned ${out.vectors.rows} vectors for ${chunk.length} texts`, {exitCode: EXIT.MODEL});
    }
    const dim = parts[0]?.dimension ?? out.vectors.dimension;
    if (out.vectors.dimension !== dim) throw new SbertkitError(`encoder returned vectors of dimension ${dim} and ${out.vectors.dimension}`, {exitCode: EXIT.MODEL});
    parts.push(out.vectors);
    addStats(stats, out.stats);
    onProgress?.(start + chunk.length, texts.length);
  }
  return {vectors: VectorMatrix.concat(parts), stats};
}

/** The report, and what encoding cost (kept out of the report so reports diff cleanly). */
export interface StsEvaluation {
  report: StsReport;
  stats: EncodeStats;
}

/** Runs the evaluation of `datasets` (already validated by readStsDataset) and builds the report. */
export async function evaluateSts(encoder: StsEncoder, datasets: readonly StsDataset[], options: EvaluateStsOptions = {}): Promise<StsEvaluation> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  if (datasets.length === 0) throw new SbertkitError('no STS dataset to evaluate', {exitCode: EXIT.BAD_INPUT});

  const {texts, index} = collectUniqueSentences(datasets);
  const t0 = performance.now();
  const {vectors, stats} = await embedAll(encoder, texts, chunkSize, options.onProgress);
  const encodeSeconds = (performance.now() - t0) / 1000;

  const results: StsDatasetResult[] = datasets.map((d) => {
    const emb1 = d.pairs.map((p) => vectors.row(index.get(p.s1)!));
    const emb2 = d.pairs.map((p) => vectors.row(index.get(p.s2)!));
    const scores = toReportScores(stsMetrics(d.pairs.map((p) => p.score), emb1, emb2));
    return {name: d.name, file: d.file, format: d.format, pairs: d.pairs.length, skipped: d.skipped, ...scores};
  });

  const spec = encoder.spec;
  const revision = options.model?.revision ?? spec?.revision;
  const model: StsReportModel = {
    name: options.model?.name ?? spec?.name ?? 'unknown',
    ...(revision === undefined ? {} : {revision}),
    ...(options.model?.onnx_sha256 === undefined ? {} : {onnx_sha256: options.model.onnx_sha256}),
    dimension: options.model?.dimension ?? encoder.dimension ?? vectors.dimension,
    pooling: options.model?.pooling ?? encoder.pooling ?? spec?.pooling ?? 'unknown',
    normalized: options.model?.normalized ?? encoder.normalized ?? spec?.normalize ?? false,
  };

  const report: StsReport = {
    sbertkit_version: options.sbertkitVersion ?? sbertkitVersion(),
    model,
    // Spread so the key is absent (not undefined) by default and, when present, sits after model in the JSON.
    ...(options.createdAt === undefined ? {} : {created_at: options.createdAt.toISOString()}),
    datasets: results,
    average: averageScores(results),
    unique_sentences: texts.length,
    ...(options.includeTiming ? {encode_seconds: Math.round(encodeSeconds * 1000) / 1000} : {}),
  };
  return {report, stats};
}
