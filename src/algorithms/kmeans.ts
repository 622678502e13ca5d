/**
 * Spherical k-means: rows and centroids on the unit sphere, similarity = cosine (a dot product).
 * k-means++ initialization from a seed (mulberry32), then Lloyd iterations: assign every row to its
 * most similar centroid (exact blocked search, k = 1, ties to the lower centroid), then move each
 * centroid to the normalized mean of its rows. Stops when an assignment step changes nothing, or after
 * maxIter assignment steps.
 *
 * Deterministic for a seed and an input whatever the thread count: the initialization and the
 * centroid sums are sequential float64 loops in row order, and the products' per-element sums do not
 * depend on how ONNX Runtime splits the output among threads.
 */
import {exactSearch} from '../vectors/exact-search.js';
import {VectorMatrix} from '../vectors/matrix.js';
import {finishClustering, makeCluster, type Cluster, type Clustering} from './clusters.js';
import {mulberry32} from './random.js';

export interface KMeansOptions {
  k: number;
  seed: number;
  maxIter: number;
  threads?: number;
  /** Initial centre rows (default: kMeansPlusPlus(unit, k, seed)); tests reuse them. */
  initial?: Int32Array;
  /** After each assignment step: iterations done, rows that changed cluster. */
  onIteration?: (iteration: number, changed: number) => void;
}

export interface KMeansResult extends Clustering {
  iterations: number;
  converged: boolean;
}

function dot(data: Float32Array, a: number, b: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += data[a * d + i]! * data[b * d + i]!;
  return s;
}

/**
 * k-means++ (Arthur and Vassilvitskii): the first centre uniformly at random, each next one a row
 * drawn with probability proportional to its squared distance to the nearest chosen centre, here
 * |x - c|^2 = 2 - 2 cos for unit rows. Returns the k rows chosen (k <= rows). When every row
 * coincides with a chosen centre (identical rows), the lowest unchosen row is taken, so k centres
 * always come back.
 */
export function kMeansPlusPlus(unit: VectorMatrix, k: number, seed: number): Int32Array {
  const n = unit.rows;
  const d = unit.dimension;
  const count = Math.min(k, n);
  const chosen = new Int32Array(count);
  if (count === 0) return chosen;
  const rand = mulberry32(seed);
  const isChosen = new Uint8Array(n);
  const dist = new Float64Array(n).fill(Infinity);
  let next = Math.min(n - 1, Math.floor(rand() * n));
  for (let c = 0; c < count; c++) {
    chosen[c] = next;
    isChosen[next] = 1;
    if (c === count - 1) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d2 = isChosen[i] ? 0 : Math.max(0, 2 - 2 * dot(unit.data, i, next, d));
      if (d2 < dist[i]!) dist[i] = d2;
      total += dist[i]!;
    }
    next = -1;
    if (total > 0) {
      const target = rand() * total;
      let cumulative = 0;
      for (let i = 0; i < n; i++) {
        if (dist[i]! <= 0) continue;
        cumulative += dist[i]!;
        next = i;
        if (cumulative > target) break;
      }
    }
    if (next < 0) next = isChosen.indexOf(0);
  }
  return chosen;
}

/** Each centroid = the normalized float64 mean of its rows; a centroid with no rows stays where it was. */
export function updateCentroids(unit: VectorMatrix, assignment: Int32Array, previous: Float32Array): Float32Array {
  const d = unit.dimension;
  const k = previous.length / d;
  const sums = new Float64Array(k * d);
  const sizes = new Int32Array(k);
  for (let r = 0; r < unit.rows; r++) {
    const c = assignment[r]!;
    sizes[c]!++;
    for (let i = 0; i < d; i++) sums[c * d + i]! += unit.data[r * d + i]!;
  }
  const out = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    let norm = 0;
    for (let i = 0; i < d; i++) norm += sums[c * d + i]! ** 2;
    if (sizes[c] === 0 || norm === 0) {
      out.set(previous.subarray(c * d, (c + 1) * d), c * d);
      continue;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < d; i++) out[c * d + i] = sums[c * d + i]! * scale;
  }
  return out;
}

/** `unit` must be unit-normalized (normalizeRows). */
export async function sphericalKMeans(unit: VectorMatrix, options: KMeansOptions): Promise<KMeansResult> {
  const n = unit.rows;
  const d = unit.dimension;
  if (n === 0) return {...finishClustering(0, []), iterations: 0, converged: true};
  const initial = options.initial ?? kMeansPlusPlus(unit, options.k, options.seed);
  const k = initial.length;
  const centroidIds = Array.from({length: k}, (_, c) => c);
  let centroids: Float32Array = new Float32Array(k * d);
  initial.forEach((row, c) => centroids.set(unit.data.subarray(row * d, (row + 1) * d), c * d));

  let assignment = new Int32Array(n).fill(-1);
  let scores = new Float32Array(n);
  let iterations = 0;
  let converged = false;
  while (iterations < options.maxIter) {
    const top = await exactSearch(unit, new VectorMatrix(centroidIds, d, centroids), {k: 1, metric: 'dot', threads: options.threads});
    iterations++;
    const next = Int32Array.from(top.indices);
    let changed = 0;
    for (let r = 0; r < n; r++) if (next[r] !== assignment[r]) changed++;
    assignment = next;
    scores = Float32Array.from(top.scores);
    options.onIteration?.(iterations, changed);
    if (changed === 0) {
      converged = true;
      break;
    }
    if (iterations < options.maxIter) centroids = updateCentroids(unit, assignment, centroids);
  }

  const members: number[][] = Array.from({length: k}, () => []);
  for (let r = 0; r < n; r++) members[assignment[r]!]!.push(r);
  const clusters: Cluster[] = members.map((rows) => makeCluster(rows, (r) => scores[r]!));
  return {...finishClustering(n, clusters), iterations, converged};
}
