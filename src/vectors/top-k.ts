/**
 * Per-query top-k lists, kept sorted best first: higher score first, and on equal scores the lower
 * corpus row first (the tie rule of every backend). Blocks of candidates are merged in as they come,
 * so a search holds k entries per query, never a query x corpus matrix.
 */
export class TopK {
  /** Corpus row of each entry, -1 where a query has fewer than k results. Row-major [queries, k]. */
  readonly indices: Int32Array;
  readonly scores: Float32Array;
  /** Results held per query (k unless the corpus was smaller or rows were excluded). */
  readonly counts: Int32Array;
  private readonly scratchIndex: Int32Array;
  private readonly scratchScore: Float32Array;

  constructor(
    readonly queries: number,
    readonly k: number,
  ) {
    this.indices = new Int32Array(queries * k).fill(-1);
    this.scores = new Float32Array(queries * k).fill(-Infinity);
    this.counts = new Int32Array(queries);
    this.scratchIndex = new Int32Array(k);
    this.scratchScore = new Float32Array(k);
  }

  /**
   * Merges `n` candidates for query `q`, already sorted best first (ties by lower row), into its list.
   * Candidates are candIndex/candScore[start, start + n), their rows relative to `rowOffset` (the
   * block's first corpus row). `skip` drops one corpus row (a query's own row in its own corpus).
   */
  merge(q: number, candIndex: ArrayLike<number | bigint>, candScore: ArrayLike<number>, start: number, n: number, rowOffset: number, skip = -1): void {
    const k = this.k;
    const base = q * k;
    const have = this.counts[q]!;
    let a = 0;
    let b = 0;
    let out = 0;
    while (out < k && (a < have || b < n)) {
      let takeNew = false;
      let row = -1;
      let score = 0;
      if (b < n) {
        row = Number(candIndex[start + b]!) + rowOffset;
        score = candScore[start + b]!;
        if (row === skip) {
          b++;
          continue;
        }
        takeNew = a >= have || score > this.scores[base + a]! || (score === this.scores[base + a]! && row < this.indices[base + a]!);
      }
      if (takeNew) {
        this.scratchIndex[out] = row;
        this.scratchScore[out] = score;
        b++;
      } else {
        this.scratchIndex[out] = this.indices[base + a]!;
        this.scratchScore[out] = this.scores[base + a]!;
        a++;
      }
      out++;
    }
    this.indices.set(this.scratchIndex.subarray(0, out), base);
    this.scores.set(this.scratchScore.subarray(0, out), base);
    this.counts[q] = out;
  }

  /** Query q's results, best first. */
  row(q: number): {indices: Int32Array; scores: Float32Array} {
    const start = q * this.k;
    const end = start + this.counts[q]!;
    return {indices: this.indices.subarray(start, end), scores: this.scores.subarray(start, end)};
  }
}
