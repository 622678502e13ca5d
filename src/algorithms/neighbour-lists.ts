/**
 * Every row's neighbours at or above a threshold, within one set of unit rows: what near-duplicate
 * detection needs (each row must see every row close to it, not a fixed top-k), in bounded memory.
 *
 * A search pass returns each row's top K. A row whose K-th neighbour still reaches the threshold may
 * have more, so those rows (only those) are searched again with 4K, until no list is cut off: the
 * exact backend's lists are complete, whatever the number of near-duplicates of a row. Work is about
 * n^2 products plus the re-searches of rows with many close neighbours.
 *
 * Past the exact-search size, two approximate backends:
 * - 'bucketed' (default there), as SemDeDup does: spherical k-means centroids (fitted on a seeded
 *   sample) split the rows into about sqrt(n) buckets by nearest centroid, and each row is compared
 *   with the rows of its `probes` nearest buckets. Work is about probes x n x n / buckets products.
 * - 'ann': usearch HNSW, each row's top K (lists may be cut off at K).
 * Scores are always exact dot products of the rows; only neighbours can be missed. `sampleRecall`
 * measures how many against exact search on a sample of rows.
 */
import {AnnIndex} from '../vectors/ann-index.js';
import {ProductSearcher} from '../vectors/exact-search.js';
import {VectorMatrix} from '../vectors/matrix.js';
import {ANN_AUTO_PAIRS} from '../vectors/search.js';
import {TopK} from '../vectors/top-k.js';
import {kMeansPlusPlus, sphericalKMeans, updateCentroids} from './kmeans.js';
import {mulberry32} from './random.js';
import {indexInSorted} from './sorted-search.js';

export type NeighbourBackend = 'exact' | 'bucketed' | 'ann';

/** Neighbour lists in compressed rows: row r's are indices/scores[offsets[r], offsets[r + 1]), best first. */
export interface NeighbourLists {
  rows: number;
  offsets: Int32Array;
  indices: Int32Array;
  scores: Float32Array;
  /** Each row's best match at any score (-1: none found), for histograms of "how close is the nearest". */
  best: Int32Array;
  bestScores: Float32Array;
}

export interface NeighbourOptions {
  /** Lists keep neighbours scoring at least this. */
  threshold: number;
  /** 'auto': exact below ANN_AUTO_PAIRS products (rows^2), else bucketed. */
  backend?: NeighbourBackend | 'auto';
  /** First list length (default 16); grown 4x for rows whose list is cut off. */
  k?: number;
  /** bucketed: number of buckets (default ~sqrt(rows)). */
  buckets?: number;
  /** bucketed: nearest buckets searched per row (default 3). */
  probes?: number;
  /** bucketed: seed of the sample and of k-means++ (default 42). */
  seed?: number;
  threads?: number;
  /** Work done, in row x row products, of the estimated total. */
  onProgress?: (done: number, total: number) => void;
  onStatus?: (message: string) => void;
}

export interface NeighbourResult {
  lists: NeighbourLists;
  backend: NeighbourBackend;
  buckets?: number;
  probes?: number;
}

export const NEIGHBOUR_DEFAULTS = {k: 16, probes: 3, seed: 42} as const;

/** `unit` must hold unit-normalized rows (scores are dot products). */
export async function nearNeighbours(unit: VectorMatrix, options: NeighbourOptions): Promise<NeighbourResult> {
  const n = unit.rows;
  const requested = options.backend ?? 'auto';
  const backend: NeighbourBackend = requested !== 'auto' ? requested : n * n >= ANN_AUTO_PAIRS ? 'bucketed' : 'exact';
  const k0 = Math.max(1, options.k ?? NEIGHBOUR_DEFAULTS.k);
  if (backend === 'ann') return {lists: await annLists(unit, k0, options), backend};
  const searcher = await ProductSearcher.create(false, options.threads);
  try {
    if (backend === 'exact') {
      const pass = exactPass(unit, searcher);
      return {lists: await completeLists(n, k0, n - 1, options.threshold, pass, n * n, options.onProgress), backend};
    }
    const buckets = Math.max(1, Math.min(n, options.buckets ?? Math.round(Math.sqrt(n))));
    const probes = Math.max(1, Math.min(buckets, options.probes ?? NEIGHBOUR_DEFAULTS.probes));
    options.onStatus?.(`splitting ${n} rows into ${buckets} buckets`);
    const split = await bucketRows(unit, buckets, probes, options.seed ?? NEIGHBOUR_DEFAULTS.seed, options.threads, searcher);
    const pass = bucketPass(unit, split, searcher);
    // Products of one pass over every row: each row against the members of its probed buckets.
    let work = 0;
    for (let r = 0; r < n; r++) for (let p = 0; p < probes; p++) work += split.size[split.probes[r * probes + p]!]!;
    return {lists: await completeLists(n, k0, n - 1, options.threshold, pass, work, options.onProgress), backend, buckets, probes};
  } finally {
    await searcher.release();
  }
}

/** Searches the given rows with list length k; row i of the result is rows[i]. */
type Pass = (rows: Int32Array, k: number, onProducts: (products: number) => void) => Promise<TopK>;

/**
 * Runs `pass` over rows 0..n-1, then again with 4x k over the rows whose list was cut off (full, and
 * its last score still at the threshold), until none is or k reaches maxK (the corpus rows - 1).
 */
async function completeLists(n: number, k0: number, maxK: number, threshold: number, pass: Pass, firstPassWork: number, onProgress?: (done: number, total: number) => void): Promise<NeighbourLists> {
  const best = new Int32Array(n).fill(-1);
  const bestScores = new Float32Array(n).fill(Number.NaN);
  const counts = new Int32Array(n);
  // Where each row's final list is: the pass result (chunk) and its position there.
  const chunkOf = new Int32Array(n);
  const posOf = new Int32Array(n);
  const chunks: TopK[] = [];
  let rows = Int32Array.from({length: n}, (_, i) => i);
  let k = Math.max(1, Math.min(k0, maxK));
  let total = firstPassWork;
  let done = 0;
  for (let round = 0; rows.length > 0; round++) {
    const before = done;
    const top = await pass(rows, k, (products) => {
      done = before + products;
      onProgress?.(Math.min(done, total), total);
    });
    chunks.push(top);
    const again: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const {scores} = top.row(i);
      if (round === 0 && scores.length > 0) {
        best[row] = top.indices[i * top.k]!;
        bestScores[row] = scores[0]!;
      }
      if (scores.length === k && scores[k - 1]! >= threshold && k < maxK) {
        again.push(row);
        continue;
      }
      let c = 0;
      while (c < scores.length && scores[c]! >= threshold) c++;
      counts[row] = c;
      chunkOf[row] = chunks.length - 1;
      posOf[row] = i;
    }
    rows = Int32Array.from(again);
    k = Math.min(k * 4, maxK);
    total = done + rows.length * (maxK + 1);
  }
  const offsets = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) offsets[r + 1] = offsets[r]! + counts[r]!;
  const indices = new Int32Array(offsets[n]!);
  const scores = new Float32Array(offsets[n]!);
  for (let r = 0; r < n; r++) {
    if (counts[r] === 0) continue;
    const top = chunks[chunkOf[r]!]!;
    const from = posOf[r]! * top.k;
    indices.set(top.indices.subarray(from, from + counts[r]!), offsets[r]!);
    scores.set(top.scores.subarray(from, from + counts[r]!), offsets[r]!);
  }
  return {rows: n, offsets, indices, scores, best, bestScores};
}

/** Exact: the given rows against every row. */
function exactPass(unit: VectorMatrix, searcher: ProductSearcher): Pass {
  return async (rows, k, onProducts) => {
    // The first round asks for every row, in order: no copy.
    const queries = rows.length === unit.rows && rows[0] === 0 && rows[rows.length - 1] === unit.rows - 1 ? unit : unit.pick(rows);
    const top = new TopK(rows.length, k);
    await searcher.searchInto(top, queries, unit, {selfRows: rows, onProgress: (done) => onProducts(done)});
    return top;
  };
}

/** Rows split by nearest centroid; each row's `probes` nearest buckets, nearest first. */
interface BucketSplit {
  count: number;
  probes: Int32Array;
  probesPerRow: number;
  /** Rows of each bucket, increasing: members[start[b], start[b + 1]). */
  start: Int32Array;
  members: Int32Array;
  size: Int32Array;
}

/** Rows sampled to fit the centroids: enough per bucket for k-means, far fewer than a million. */
export const SAMPLE_PER_BUCKET = 40;

async function bucketRows(unit: VectorMatrix, buckets: number, probes: number, seed: number, threads: number | undefined, searcher: ProductSearcher): Promise<BucketSplit> {
  const n = unit.rows;
  const sampleSize = Math.min(n, buckets * SAMPLE_PER_BUCKET);
  const sampleRows = seededSample(n, sampleSize, mulberry32(seed));
  const sample = sampleSize === n ? unit : unit.pick(sampleRows);
  const centroidMatrix = await fitBucketCentroids(sample, buckets, seed, threads);
  const count = centroidMatrix.rows;
  const nearest = new TopK(n, Math.min(probes, count));
  await searcher.searchInto(nearest, unit, centroidMatrix);
  const probesPerRow = nearest.k;
  const size = new Int32Array(count);
  for (let r = 0; r < n; r++) size[nearest.indices[r * probesPerRow]!]!++;
  const start = new Int32Array(count + 1);
  for (let b = 0; b < count; b++) start[b + 1] = start[b]! + size[b]!;
  const fill = start.slice(0, count);
  const members = new Int32Array(n);
  for (let r = 0; r < n; r++) members[fill[nearest.indices[r * probesPerRow]!]!++] = r;
  return {count, probes: nearest.indices, probesPerRow, start, members, size};
}

/**
 * The bucket centroids fitted on a sample of unit rows: spherical k-means (k-means++ start, 10
 * rounds), each centroid the normalized mean of its cluster's rows (a bucket nobody joined stays
 * zero). One bucket when the sample is empty. Shared with `dedupe plan`, so the staged dedupe cuts
 * its buckets by the same rule as the single-machine bucketed search.
 */
export async function fitBucketCentroids(sample: VectorMatrix, buckets: number, seed: number, threads?: number): Promise<VectorMatrix> {
  const d = sample.dimension;
  const fit = await sphericalKMeans(sample, {k: buckets, seed, maxIter: 10, threads, initial: kMeansPlusPlus(sample, buckets, seed)});
  const count = fit.clusters.length === 0 ? 1 : buckets;
  const centroids = updateCentroids(sample, fit.assignment, new Float32Array(count * d));
  return new VectorMatrix(Array.from({length: count}, (_, c) => c), d, centroids);
}

/**
 * Each query's neighbours among `corpus` rows at or above `threshold`, complete (the exact
 * backend's completion loop): what one bucket of the staged dedupe computes. selfRows[i] is query
 * i's own row in the corpus (-1: none), never its own neighbour. Both sets must be unit rows.
 */
export async function thresholdListsAgainst(queries: VectorMatrix, corpus: VectorMatrix, selfRows: Int32Array, threshold: number, threads?: number): Promise<NeighbourLists> {
  const searcher = await ProductSearcher.create(false, threads);
  try {
    const pass: Pass = async (rows, k, onProducts) => {
      const top = new TopK(rows.length, k);
      const whole = rows.length === queries.rows;
      await searcher.searchInto(top, whole ? queries : queries.pick(rows), corpus, {selfRows: whole ? selfRows : Int32Array.from(rows, (r) => selfRows[r]!), onProgress: (done) => onProducts(done)});
      return top;
    };
    return await completeLists(queries.rows, NEIGHBOUR_DEFAULTS.k, corpus.rows, threshold, pass, queries.rows * corpus.rows);
  } finally {
    await searcher.release();
  }
}

/** The given rows against the members of their probed buckets, bucket by bucket. */
function bucketPass(unit: VectorMatrix, split: BucketSplit, searcher: ProductSearcher): Pass {
  return async (rows, k, onProducts) => {
    const top = new TopK(rows.length, k);
    // Queries of each bucket: positions in `rows` of the rows that probe it.
    const perBucket = new Int32Array(split.count + 1);
    for (const row of rows) for (let p = 0; p < split.probesPerRow; p++) perBucket[split.probes[row * split.probesPerRow + p]! + 1]!++;
    for (let b = 0; b < split.count; b++) perBucket[b + 1]! += perBucket[b]!;
    const fill = perBucket.slice(0, split.count);
    const queryOf = new Int32Array(perBucket[split.count]!);
    rows.forEach((row, i) => {
      for (let p = 0; p < split.probesPerRow; p++) queryOf[fill[split.probes[row * split.probesPerRow + p]!]!++] = i;
    });
    let products = 0;
    const mapped = new Int32Array(k);
    for (let b = 0; b < split.count; b++) {
      const members = split.members.subarray(split.start[b]!, split.start[b + 1]!);
      const queries = queryOf.subarray(perBucket[b]!, perBucket[b + 1]!);
      if (members.length === 0 || queries.length === 0) continue;
      const queryRows = Int32Array.from(queries, (i) => rows[i]!);
      // A query's own row, when it lives in this bucket: its position among the members.
      const selfRows = Int32Array.from(queryRows, (row) => indexInSorted(members, row));
      const local = new TopK(queries.length, Math.min(k, members.length));
      await searcher.searchInto(local, unit.pick(queryRows), unit.pick(members), {selfRows});
      for (let q = 0; q < queries.length; q++) {
        const {indices, scores} = local.row(q);
        for (let j = 0; j < indices.length; j++) mapped[j] = members[indices[j]!]!;
        top.merge(queries[q]!, mapped, scores, 0, indices.length, 0);
      }
      products += queries.length * members.length;
      onProducts(products);
    }
    return top;
  };
}

async function annLists(unit: VectorMatrix, k: number, options: NeighbourOptions): Promise<NeighbourLists> {
  const n = unit.rows;
  const maxK = Math.max(1, Math.min(k, n - 1));
  if (n < 2) return completeLists(n, maxK, maxK, options.threshold, async (rows, kk) => new TopK(rows.length, kk), 0);
  options.onStatus?.(`building an approximate index over ${n} rows`);
  const index = await AnnIndex.build(unit, {metric: 'dot', threads: options.threads});
  // One pass: an HNSW list cut off at k is not completed by asking for more, so maxK = k.
  return completeLists(n, maxK, maxK, options.threshold, async () => index.search(unit, maxK, true), n, options.onProgress);
}

/** `size` distinct rows of 0..n-1 in increasing order (partial Fisher-Yates from `rand`). */
export function seededSample(n: number, size: number, rand: () => number): Int32Array {
  if (size >= n) return Int32Array.from({length: n}, (_, i) => i);
  const picked = new Map<number, number>();
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rand() * (n - i));
    out[i] = picked.get(j) ?? j;
    picked.set(j, picked.get(i) ?? i);
  }
  return out.sort();
}

/**
 * How many of the neighbour pairs at or above `threshold` that exact search finds for a seeded sample
 * of rows the lists hold: 1 for exact lists, a measured figure for the approximate backends.
 */
export async function sampleRecall(unit: VectorMatrix, lists: NeighbourLists, threshold: number, sampleSize: number, seed: number, threads?: number): Promise<{sampled: number; pairs: number; found: number; recall: number}> {
  const rows = seededSample(unit.rows, Math.min(sampleSize, unit.rows), mulberry32(seed));
  const searcher = await ProductSearcher.create(false, threads);
  let exact: NeighbourLists;
  try {
    const pass = exactPass(unit, searcher);
    // The sample's exact lists: the same completion loop over only the sampled rows.
    exact = await completeLists(rows.length, NEIGHBOUR_DEFAULTS.k, unit.rows - 1, threshold, async (sub, k, on) => pass(Int32Array.from(sub, (i) => rows[i]!), k, on), rows.length * unit.rows);
  } finally {
    await searcher.release();
  }
  let pairs = 0;
  let found = 0;
  rows.forEach((row, i) => {
    const have = new Set(lists.indices.subarray(lists.offsets[row]!, lists.offsets[row + 1]!));
    for (let e = exact.offsets[i]!; e < exact.offsets[i + 1]!; e++) {
      pairs++;
      if (have.has(exact.indices[e]!)) found++;
    }
  });
  return {sampled: rows.length, pairs, found, recall: pairs === 0 ? 1 : found / pairs};
}
