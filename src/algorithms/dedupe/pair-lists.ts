/**
 * The staged dedupe's buckets each find some rows' neighbours; merge joins them into the neighbour
 * lists decide() reads. A list is ordered as every search backend orders it (higher score first, the
 * lower row on equal scores), so the decisions are those of one search over the same pairs.
 */
import type {NeighbourLists} from '../neighbour-lists.js';

/**
 * Lists over list rows 0..rows-1 from candidate pairs (query[i], neighbour[i], score[i]) in any
 * order. A pair given twice is kept once, at its better score.
 */
export function listsFromPairs(rows: number, query: Int32Array, neighbour: Int32Array, score: Float32Array): NeighbourLists {
  const pairs = query.length;
  const counts = new Int32Array(rows + 1);
  for (let i = 0; i < pairs; i++) counts[query[i]! + 1]!++;
  for (let r = 0; r < rows; r++) counts[r + 1]! += counts[r]!;
  const fill = counts.slice(0, rows);
  const byQuery = new Int32Array(pairs);
  for (let i = 0; i < pairs; i++) byQuery[fill[query[i]!]!++] = i;

  const offsets = new Int32Array(rows + 1);
  const indices = new Int32Array(pairs);
  const scores = new Float32Array(pairs);
  const best = new Int32Array(rows).fill(-1);
  const bestScores = new Float32Array(rows).fill(Number.NaN);
  let out = 0;
  for (let r = 0; r < rows; r++) {
    const mine = Array.from(byQuery.subarray(counts[r]!, counts[r + 1]!));
    mine.sort((a, b) => score[b]! - score[a]! || neighbour[a]! - neighbour[b]!);
    const seen = new Set<number>();
    for (const i of mine) {
      if (seen.has(neighbour[i]!)) continue;
      seen.add(neighbour[i]!);
      indices[out] = neighbour[i]!;
      scores[out] = score[i]!;
      out++;
    }
    offsets[r + 1] = out;
    if (out > offsets[r]!) {
      best[r] = indices[offsets[r]!]!;
      bestScores[r] = scores[offsets[r]!]!;
    }
  }
  return {rows, offsets, indices: indices.slice(0, out), scores: scores.slice(0, out), best, bestScores};
}
