/**
 * The dedupe tests' independent reference: the issue's rules written as plainly as possible, over all
 * pairs in float64 from the raw vectors, with none of the product's lists, blocks or stages.
 */

import {cosine} from '../helpers/vector-math.js';

export {cosine};

export interface RefDecision {
  /** 'kept', 'exact' or 'semantic'. */
  reason: string;
  keptBy: number;
  score: number;
}

/**
 * Visit rows in `order`; a row whose key was seen is an exact duplicate of the first row with that key
 * (and names that row's kept row and score when that row was dropped); otherwise it is dropped for the best kept row at >= threshold.
 */
export function naiveDedupe(vectors: readonly ArrayLike<number>[], keys: readonly (string | undefined)[], order: readonly number[], threshold: number): RefDecision[] {
  const out: RefDecision[] = vectors.map(() => ({reason: 'kept', keptBy: -1, score: Number.NaN}));
  const keptRows: number[] = [];
  const firstWithKey = new Map<string, number>();
  const twins: [number, number][] = [];
  for (const r of order) {
    const key = keys[r];
    if (key !== undefined && firstWithKey.has(key)) {
      twins.push([r, firstWithKey.get(key)!]);
      continue;
    }
    if (key !== undefined) firstWithKey.set(key, r);
    if (key === '') {
      keptRows.push(r);
      continue;
    }
    let best = -1;
    let bestScore = -Infinity;
    for (const k of keptRows) {
      const s = cosine(vectors[r]!, vectors[k]!);
      if (s > bestScore) {
        best = k;
        bestScore = s;
      }
    }
    if (best >= 0 && bestScore >= threshold) out[r] = {reason: 'semantic', keptBy: best, score: bestScore};
    else keptRows.push(r);
  }
  for (const [r, first] of twins) out[r] = out[first]!.reason === 'kept' ? {reason: 'exact', keptBy: first, score: 1} : {...out[first]!, reason: 'exact'};
  return out;
}

/** Every pair (i, j), i != j, at cosine >= threshold, from each row's side. */
export function naiveNeighbours(vectors: readonly ArrayLike<number>[], threshold: number): Set<string>[] {
  return vectors.map((a, i) => {
    const near = new Set<string>();
    vectors.forEach((b, j) => {
      if (i !== j && cosine(a, b) >= threshold) near.add(String(j));
    });
    return near;
  });
}
