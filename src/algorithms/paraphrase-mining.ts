/**
 * Paraphrase mining from per-row top-k neighbour lists, with sentence-transformers' paraphrase_mining
 * semantics (each row's top-k neighbours, unordered pairs without duplicates, i != j, best score
 * first) and without its two known faults: it keeps max_pairs - 1 pairs, and symmetric (i, j)/(j, i)
 * entries can take two of its max_pairs slots. Here exactly `maxPairs` distinct pairs come back
 * whenever that many exist, and maxPairs 0 means all of them.
 *
 * Memory is bounded by rows x k (the neighbour lists and at most that many pairs), never rows^2.
 */
import type {TopK} from '../vectors/top-k.js';
import {indexInSorted} from './sorted-search.js';

export interface MinedPairs {
  /** The lower row of each pair. */
  a: Int32Array;
  /** The higher row of each pair. */
  b: Int32Array;
  scores: Float32Array;
}

export interface MineOptions {
  /** Pairs to keep, best first; 0 keeps all. */
  maxPairs: number;
  /** Keep only pairs scoring at least this. */
  threshold?: number;
}

/**
 * Turns the neighbour lists of a self search (no row lists itself) into distinct pairs sorted by
 * score (higher first), then lower a, then lower b. A pair found from both sides takes the score
 * from the lower row's list, so the result does not depend on which side was searched first.
 */
export function minePairs(neighbours: TopK, options: MineOptions): MinedPairs {
  const n = neighbours.queries;
  const k = neighbours.k;
  // Each row's neighbour rows, sorted, to ask "does j list i?" by binary search.
  const sorted = new Int32Array(neighbours.indices.length);
  for (let i = 0; i < n; i++) {
    const {indices} = neighbours.row(i);
    sorted.set(Int32Array.from(indices).sort(), i * k);
  }
  const lists = (row: number, target: number): boolean => indexInSorted(sorted, target, row * k, row * k + neighbours.counts[row]!) >= 0;

  const threshold = options.threshold ?? -Infinity;
  // At most one pair per list entry: typed arrays of rows x k bound the memory.
  const capacity = neighbours.indices.length;
  const a = new Int32Array(capacity);
  const b = new Int32Array(capacity);
  const scores = new Float32Array(capacity);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const {indices, scores: rowScores} = neighbours.row(i);
    for (let r = 0; r < indices.length; r++) {
      const j = indices[r]!;
      if (j === i || rowScores[r]! < threshold) continue;
      // (i, j) with i < j comes from i's list; from j's side only when i's list does not have j.
      if (j < i && lists(j, i)) continue;
      a[count] = Math.min(i, j);
      b[count] = Math.max(i, j);
      scores[count] = rowScores[r]!;
      count++;
    }
  }
  const order = Uint32Array.from({length: count}, (_, p) => p);
  order.sort((x, y) => scores[y]! - scores[x]! || a[x]! - a[y]! || b[x]! - b[y]!);
  const keep = options.maxPairs > 0 ? Math.min(options.maxPairs, order.length) : order.length;
  const out: MinedPairs = {a: new Int32Array(keep), b: new Int32Array(keep), scores: new Float32Array(keep)};
  for (let p = 0; p < keep; p++) {
    const o = order[p]!;
    out.a[p] = a[o]!;
    out.b[p] = b[o]!;
    out.scores[p] = scores[o]!;
  }
  return out;
}
