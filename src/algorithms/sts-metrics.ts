/**
 * src/algorithms: pure functions over vectors and ids (STS correlations now; paraphrase mining,
 * community detection, k-means and dedupe policies to come). No I/O, no encoder: callers hand them
 * matrices and get numbers or rows back.
 *
 * STS (semantic textual similarity) metrics: correlation between gold similarity scores and the
 * similarity a model assigns to each sentence pair. Pure functions, no I/O.
 *
 * Mirrors sentence-transformers' EmbeddingSimilarityEvaluator: four pairwise scores (cosine, dot,
 * negative Euclidean distance, negative Manhattan distance) each correlated with the gold scores by
 * Pearson and by Spearman. Distances are negated so that "higher = more similar" holds for all four.
 *
 * Degenerate input, decided once here:
 * - Arrays of different lengths are a programming error -> RangeError.
 * - Fewer than 2 values, zero variance on either side, or any non-finite value -> NaN (as
 *   scipy.stats.pearsonr/spearmanr do). A correlation is undefined there; NaN lets a caller report
 *   "n/a" for one metric of one dataset instead of aborting a whole evaluation. Callers that want
 *   a hard error (e.g. a dataset whose gold scores are all equal) check before calling.
 * All arithmetic is in float64, even though embeddings are float32: a 1024-dim dot product summed
 * in float32 loses ~3 digits, enough to move Spearman ties.
 */

type Numbers = ArrayLike<number>;

function checkSameLength(x: {length: number}, y: {length: number}, what: string): void {
  if (x.length !== y.length) throw new RangeError(`${what}: length mismatch (${x.length} vs ${y.length})`);
}

function allFinite(x: Numbers): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

/**
 * Pearson's product-moment correlation. Two-pass (mean first, then centred sums) because the
 * one-pass sum-of-squares formula cancels catastrophically when values sit far from zero
 * (e.g. negative Euclidean distances around -20 differing in the 4th digit).
 */
export function pearson(x: Numbers, y: Numbers): number {
  checkSameLength(x, y, 'pearson');
  const n = x.length;
  if (n < 2 || !allFinite(x) || !allFinite(y)) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  // Rounding can push |r| a hair past 1 for perfectly (anti-)correlated input.
  return Math.max(-1, Math.min(1, r));
}

/**
 * 1-based ranks where tied values share the mean of the ranks they span (the "average" method of
 * scipy.stats.rankdata). Gold STS scores tie a lot (0.0, 2.5, 5.0, ...), so "first" or "min"
 * ranking would bias Spearman. Throws RangeError on NaN, which has no place in an order.
 */
export function averageRanks(values: Numbers): Float64Array {
  const n = values.length;
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(values[i])) throw new RangeError(`averageRanks: NaN at index ${i}`);
    order[i] = i;
  }
  order.sort((a, b) => values[a] - values[b] || a - b);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 (0-based) are ranks start+1..end; their mean is (start+1+end)/2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson of the average ranks (the definition that stays correct with ties). */
export function spearman(x: Numbers, y: Numbers): number {
  checkSameLength(x, y, 'spearman');
  if (x.length < 2 || !allFinite(x) || !allFinite(y)) return NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

function checkDims(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: dimension mismatch (${a.length} vs ${b.length})`);
}

/**
 * Cosine similarity. A zero vector has cosine 0 with anything (sklearn's paired_cosine_distances,
 * which sentence-transformers uses, normalizes zero vectors to zero rather than dividing by 0).
 */
export function cosine(a: Float32Array, b: Float32Array): number {
  checkDims(a, b, 'cosine');
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 || bb === 0) return 0;
  return ab / (Math.sqrt(aa) * Math.sqrt(bb));
}

/** Dot product (equals cosine for normalized embeddings). */
export function dot(a: Float32Array, b: Float32Array): number {
  checkDims(a, b, 'dot');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Negative Euclidean (L2) distance, so that larger means more similar. */
export function negEuclidean(a: Float32Array, b: Float32Array): number {
  checkDims(a, b, 'euclidean');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return -Math.sqrt(s);
}

/** Negative Manhattan (L1) distance, so that larger means more similar. */
export function negManhattan(a: Float32Array, b: Float32Array): number {
  checkDims(a, b, 'manhattan');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return -s;
}

/** Metric names exactly as sentence-transformers' EmbeddingSimilarityEvaluator writes them. */
export interface StsMetrics {
  pearson_cosine: number;
  spearman_cosine: number;
  pearson_dot: number;
  spearman_dot: number;
  pearson_euclidean: number;
  spearman_euclidean: number;
  pearson_manhattan: number;
  spearman_manhattan: number;
}

/** The four pairwise similarity functions, keyed by the suffix used in StsMetrics. */
export const PAIR_SCORES = {
  cosine,
  dot,
  euclidean: negEuclidean,
  manhattan: negManhattan,
} as const;

/**
 * All eight correlations for one dataset: gold[i] is the gold score of pair (emb1[i], emb2[i]).
 * Gold ranks are computed once and reused for the four Spearman values.
 */
export function stsMetrics(gold: Numbers, emb1: readonly Float32Array[], emb2: readonly Float32Array[]): StsMetrics {
  checkSameLength(gold, emb1, 'stsMetrics gold/emb1');
  checkSameLength(gold, emb2, 'stsMetrics gold/emb2');
  const n = gold.length;
  const goldOk = n >= 2 && allFinite(gold);
  const goldRanks = goldOk ? averageRanks(gold) : undefined;
  const out = {} as StsMetrics;
  for (const [name, fn] of Object.entries(PAIR_SCORES) as [keyof typeof PAIR_SCORES, (a: Float32Array, b: Float32Array) => number][]) {
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) scores[i] = fn(emb1[i], emb2[i]);
    out[`pearson_${name}`] = pearson(gold, scores);
    out[`spearman_${name}`] = goldRanks !== undefined && allFinite(scores) ? pearson(goldRanks, averageRanks(scores)) : NaN;
  }
  return out;
}
