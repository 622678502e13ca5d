/**
 * Community detection (sentence-transformers' util.community_detection, "fast clustering") over
 * unit-normalized rows, with the same result and bounded work.
 *
 * Their definition, which this implements:
 * 1. count(i) = #{j : cos(i, j) >= threshold}, i itself included (cos(i, i) = 1).
 * 2. Rows with count(i) >= minSize are candidate centres; candidate i's community is every j with
 *    cos(i, j) >= threshold, ordered by cos to i.
 * 3. Candidates are taken largest count first (ties: lower row first, as their stable sort of the
 *    row-ordered list gives).
 * 4. Overlap removal, the rule of their current code (v3+, util/retrieval.py "Step 2"): from each
 *    community in that order, members already in a kept community are dropped; the rest is kept as a
 *    community if it still has >= minSize members, and its members are then taken. (Versions before
 *    v3 dropped a community outright if any member was taken; that is NOT what this does.)
 *    The centre itself may have been taken: the community is still kept and scores stay "cosine to
 *    the row that generated it".
 *
 * Deliberate differences: they clamp min_community_size to the row count (so min-size > rows can still
 * give one community); here min-size > rows gives no community. Their CPU path stops growing its
 * top-k when the k-th score equals the threshold exactly and may miss further ties at the threshold;
 * here every score >= threshold counts. Comparisons are in float32 like theirs (threshold rounded to
 * float32, scores from a float32 product).
 *
 * Why not their loop: for each candidate they re-sort a growing top-k of its whole score row and keep
 * every candidate's full list before removing overlaps, so one community that swallows everything at
 * a low threshold costs rows^2 memory and hours. Here work is bounded by rows x rows dot products
 * (pass 1 computes half of them, by symmetry; pass 2 at most one row per candidate for its bound, and
 * one more for each candidate that passes its bound) in blocks (memory: one block of scores,
 * SCORE_BLOCK_VALUES float32). Pass 1 counts in the graph, pass 2 visits candidates in order, rules out those whose untaken neighbours are already too
 * few (counted in the graph again), builds the others' communities from their score rows when their
 * turn comes, and stops as soon as fewer than minSize rows are left untaken.
 */
import type {VectorMatrix} from '../vectors/matrix.js';
import {rowsForBudget, ScoreRows} from '../vectors/score-rows.js';
import {finishClustering, makeCluster, type Cluster, type Clustering} from './clusters.js';

/** Candidates per pass-2 block (see there). */
const PASS2_BLOCK = 32;

export interface CommunityOptions {
  threshold: number;
  minSize: number;
  /** ONNX Runtime intra-op threads (default: all cores). */
  threads?: number;
  /** Score values per product block (default SCORE_BLOCK_VALUES). */
  blockValues?: number;
  /** Pass 1 ('counting') then pass 2 ('communities'): rows done of `total`. */
  onProgress?: (phase: 'counting' | 'communities', done: number, total: number) => void;
}

export interface CommunityResult extends Clustering {
  /** Rows that were candidate centres (count >= minSize). */
  candidates: number;
  /** Candidates pass 2 decided before it could stop. */
  visited: number;
  /** Of those, the ones whose full score row was computed (the rest were ruled out by their count). */
  fetched: number;
}

/** `unit` must be unit-normalized (normalizeRows): cosine is then the dot product. */
export async function communityDetection(unit: VectorMatrix, options: CommunityOptions): Promise<CommunityResult> {
  const n = unit.rows;
  const d = unit.dimension;
  const minSize = Math.max(1, Math.floor(options.minSize));
  if (n === 0 || minSize > n) return {...finishClustering(n, []), candidates: 0, visited: 0, fetched: 0};
  const threshold = Math.fround(options.threshold);
  const block = rowsForBudget(n, options.blockValues);
  const product = await ScoreRows.create(options.threads, threshold);
  try {
    // 1 per row not yet in a community: all of them in pass 1.
    const untaken = new Float32Array(n).fill(1);
    // Pass 1: how many rows each row reaches at the threshold. cos is symmetric, so only the upper
    // triangle of blocks is computed (half the products): the diagonal block by rows, every block
    // right of it by rows and by columns.
    const counts = new Int32Array(n);
    for (let q0 = 0; q0 < n; q0 += block) {
      const q1 = Math.min(n, q0 + block);
      const queries = unit.data.subarray(q0 * d, q1 * d);
      const diagonal = await product.countRange(queries, q1 - q0, queries, q1 - q0, untaken);
      for (let r = 0; r < q1 - q0; r++) counts[q0 + r]! += diagonal.rows[r]!;
      if (q1 < n) {
        const right = await product.countRange(queries, q1 - q0, unit.data.subarray(q1 * d), n - q1, untaken);
        for (let r = 0; r < q1 - q0; r++) counts[q0 + r]! += right.rows[r]!;
        for (let c = 0; c < n - q1; c++) counts[q1 + c]! += right.columns[c]!;
      }
      // Work done grows with the triangle, not linearly in q1.
      options.onProgress?.('counting', Math.round(n - ((n - q1) * (n - q1)) / n), n);
    }

    const candidates: number[] = [];
    for (let i = 0; i < n; i++) if (counts[i]! >= minSize) candidates.push(i);
    candidates.sort((a, b) => counts[b]! - counts[a]! || a - b);

    // Pass 2: candidates in order, block by block. `taken` only grows, so a candidate's untaken
    // neighbours counted at the start of its block (in the graph, no score rows out) bound what it
    // will have at its turn: candidates whose bound is below minSize are skipped without fetching
    // their score rows (typically the other members of a community already taken). The others get
    // their full score row and are decided in order, as in their sequential loop.
    const taken = new Uint8Array(n);
    let free = n;
    let visited = 0;
    let fetched = 0;
    const found: Cluster[] = [];
    const gathered = new Float32Array(Math.min(block, Math.max(1, candidates.length)) * d);
    const gather = (rows: readonly number[]) => rows.forEach((row, i) => gathered.set(unit.data.subarray(row * d, (row + 1) * d), i * d));
    // Small blocks: candidates come sorted by count, so a community's members sit next to each other
    // in the order; with blocks much larger than a community, their bounds would all be counted
    // before it is taken and rule nothing out. Small blocks also let pass 2 stop early cheaply.
    const step = Math.min(block, PASS2_BLOCK);
    for (let c0 = 0, c1 = 0; c0 < candidates.length && free >= minSize; c0 = c1) {
      c1 = Math.min(candidates.length, c0 + step);
      const blockRows = candidates.slice(c0, c1);
      gather(blockRows);
      const bounds = (await product.count(gathered, blockRows.length, unit, untaken)).rows;
      const live = blockRows.filter((_, i) => bounds[i]! >= minSize);
      const rowOf = new Map(live.map((row, i) => [row, i]));
      let scores: Float32Array = new Float32Array(0);
      if (live.length > 0) {
        gather(live);
        scores = await product.run(gathered, live.length, unit);
        fetched += live.length;
      }
      for (const candidate of blockRows) {
        if (free < minSize) break;
        visited++;
        const at = rowOf.get(candidate);
        if (at === undefined) continue;
        const base = at * n;
        const members: number[] = [];
        for (let j = 0; j < n; j++) if (taken[j] === 0 && scores[base + j]! >= threshold) members.push(j);
        if (members.length < minSize) continue;
        for (const j of members) {
          taken[j] = 1;
          untaken[j] = 0;
        }
        free -= members.length;
        found.push(makeCluster(members, (j) => scores[base + j]!));
      }
      options.onProgress?.('communities', c1, candidates.length);
    }
    return {...finishClustering(n, found), candidates: candidates.length, visited, fetched};
  } finally {
    await product.release();
  }
}
