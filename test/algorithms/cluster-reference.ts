/**
 * Independent references for the clustering tests: float64 loops written from the definitions
 * (sentence-transformers' community_detection; Lloyd's algorithm on the sphere), sharing no code with
 * src/algorithms, plus the seeded planted-groups data they run on.
 */
import {mulberry32} from '../helpers/prng.js';
import {cosine} from '../helpers/vector-math.js';

/** `groups` directions with `perGroup` noisy members each, then `noise` random rows; rows shuffled. */
export function plantedGroups(seed: number, dim: number, groups: number, perGroup: number, noise: number, spread: number): Float32Array[] {
  const rand = mulberry32(seed);
  const gauss = () => rand() + rand() + rand() - 1.5;
  const centres = Array.from({length: groups}, () => Float32Array.from({length: dim}, gauss));
  const rows: Float32Array[] = [];
  for (let g = 0; g < groups; g++) {
    const size = Math.max(1, perGroup - g); // unequal sizes, so "largest first" is exercised
    for (let m = 0; m < size; m++) rows.push(Float32Array.from(centres[g]!, (x) => x + spread * gauss()));
  }
  for (let i = 0; i < noise; i++) rows.push(Float32Array.from({length: dim}, gauss));
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
}

export interface RefCluster {
  members: number[];
  /** cosine of each member to the centre (generating row or centroid). */
  scores: number[];
}

/** Output order of sbertkit: largest first, ties by lowest member row; members by score desc, then row. */
export function outputOrder(clusters: RefCluster[]): RefCluster[] {
  const sorted = clusters.map((c) => {
    const order = c.members.map((m, i) => ({m, s: c.scores[i]!})).sort((a, b) => b.s - a.s || a.m - b.m);
    return {members: order.map((o) => o.m), scores: order.map((o) => o.s)};
  });
  return sorted.filter((c) => c.members.length > 0).sort((a, b) => b.members.length - a.members.length || Math.min(...a.members) - Math.min(...b.members));
}

/**
 * community_detection as their Python reads, on all pairs: each row's list of rows at cos >= threshold
 * (itself included), rows with at least minSize as candidates, candidates by list length (stable, so
 * ties in row order), then per candidate the rows not yet taken, kept when >= minSize remain.
 * Unlike theirs minSize is not clamped to the row count (sbertkit's documented choice).
 */
export function naiveCommunities(rows: Float32Array[], threshold: number, minSize: number, stats?: {trimmed: number}): RefCluster[] {
  const n = rows.length;
  if (minSize > n) return [];
  const lists: {centre: number; members: number[]}[] = [];
  for (let i = 0; i < n; i++) {
    const near: number[] = [];
    for (let j = 0; j < n; j++) if (cosine(rows[i]!, rows[j]!) >= threshold) near.push(j);
    if (near.length >= minSize) lists.push({centre: i, members: near});
  }
  lists.sort((a, b) => b.members.length - a.members.length);
  const taken = new Set<number>();
  const kept: RefCluster[] = [];
  for (const list of lists) {
    const rest = list.members.filter((j) => !taken.has(j));
    if (rest.length < minSize) continue;
    rest.forEach((j) => taken.add(j));
    if (stats && rest.length < list.members.length) stats.trimmed++;
    kept.push({members: rest, scores: rest.map((j) => cosine(rows[list.centre]!, rows[j]!))});
  }
  return outputOrder(kept);
}

/**
 * Lloyd's algorithm on the unit sphere from given initial centre rows: assign each row to the centroid
 * of highest cosine (ties: lower centroid), stop when nothing changes or after maxIter assignments,
 * else move each centroid to the normalized mean of its rows (an empty one stays).
 */
export function naiveLloyd(rows: Float32Array[], initial: ArrayLike<number>, maxIter: number): {clusters: RefCluster[]; iterations: number; converged: boolean} {
  const unit = rows.map((r) => {
    const norm = Math.sqrt(r.reduce((s, x) => s + x * x, 0));
    return Array.from(r, (x) => x / norm);
  });
  const dotp = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  let centroids = Array.from(initial, (r) => unit[r]!.slice());
  let assignment = unit.map(() => -1);
  let best = unit.map(() => 0);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    const next = unit.map((u) => {
      let arg = 0;
      for (let c = 1; c < centroids.length; c++) if (dotp(u, centroids[c]!) > dotp(u, centroids[arg]!)) arg = c;
      return arg;
    });
    iterations++;
    best = unit.map((u, i) => dotp(u, centroids[next[i]!]!));
    const changed = next.some((c, i) => c !== assignment[i]);
    assignment = next;
    if (!changed) {
      converged = true;
      break;
    }
    if (iterations < maxIter) {
      centroids = centroids.map((old, c) => {
        const sum = old.map(() => 0);
        unit.forEach((u, i) => {
          if (assignment[i] === c) u.forEach((x, j) => (sum[j]! += x));
        });
        const norm = Math.sqrt(dotp(sum, sum));
        return norm === 0 ? old : sum.map((x) => x / norm);
      });
    }
  }
  const clusters = centroids.map((_, c) => {
    const members = assignment.flatMap((a, i) => (a === c ? [i] : []));
    return {members, scores: members.map((i) => best[i]!)};
  });
  return {clusters: outputOrder(clusters), iterations, converged};
}
