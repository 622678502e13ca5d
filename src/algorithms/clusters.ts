/**
 * What every clustering algorithm returns, and the one output order: clusters largest first, ties by
 * their lowest member row; members by score to the centre (higher first), ties by lower row. Rows in
 * no cluster get cluster -1 and score NaN.
 */
export interface Cluster {
  /** Member rows, best score first. */
  members: Int32Array;
  /** Each member's cosine to the centre (the generating row, or the centroid). */
  scores: Float32Array;
}

export interface Clustering {
  /** In output order: cluster id = position. */
  clusters: Cluster[];
  /** Cluster id of every row, -1 for none. */
  assignment: Int32Array;
  /** Every row's cosine to its cluster's centre, NaN for none. */
  scores: Float32Array;
}

/** A cluster from unsorted members and scores: sorted best first, ties by lower row. */
export function makeCluster(members: ArrayLike<number>, scoreOf: (row: number) => number): Cluster {
  const rows = Int32Array.from(members);
  const order = Array.from(rows).sort((a, b) => scoreOf(b) - scoreOf(a) || a - b);
  return {members: Int32Array.from(order), scores: Float32Array.from(order, scoreOf)};
}

/** Orders the clusters (largest first, ties by lowest member row) and labels every row. */
export function finishClustering(rows: number, clusters: readonly Cluster[]): Clustering {
  const lowest = (c: Cluster) => c.members.reduce((m, r) => Math.min(m, r), Infinity);
  const ordered = clusters.filter((c) => c.members.length > 0).sort((a, b) => b.members.length - a.members.length || lowest(a) - lowest(b));
  const assignment = new Int32Array(rows).fill(-1);
  const scores = new Float32Array(rows).fill(NaN);
  ordered.forEach((c, id) => {
    c.members.forEach((row, i) => {
      assignment[row] = id;
      scores[row] = c.scores[i]!;
    });
  });
  return {clusters: ordered, assignment, scores};
}
