/** Small measurement helpers shared by the benchmarks: wall-clock timing and resident memory. */

/** Milliseconds since an arbitrary origin (monotonic). */
export function now(): number {
  return performance.now();
}

/** Runs `fn` and returns its result with the elapsed wall-clock milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{value: T; ms: number}> {
  const start = now();
  const value = await fn();
  return {value, ms: now() - start};
}

/** Accumulates elapsed time under named buckets, for coarse profiles of a loop. */
export class Stopwatch {
  private readonly totals = new Map<string, number>();

  /** Times `fn` and adds the elapsed milliseconds to `bucket`. */
  async add<T>(bucket: string, fn: () => Promise<T> | T): Promise<T> {
    const start = now();
    try {
      return await fn();
    } finally {
      this.totals.set(bucket, (this.totals.get(bucket) ?? 0) + now() - start);
    }
  }

  /** Synchronous variant of add(), without the await turn. */
  addSync<T>(bucket: string, fn: () => T): T {
    const start = now();
    try {
      return fn();
    } finally {
      this.totals.set(bucket, (this.totals.get(bucket) ?? 0) + now() - start);
    }
  }

  get(bucket: string): number {
    return this.totals.get(bucket) ?? 0;
  }

  entries(): Array<[string, number]> {
    return [...this.totals.entries()];
  }
}

/** Peak resident set size of this process so far, in MiB (Linux reports maxRSS in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Per-row cosine similarity between two row-major [rows, dim] matrices, in float64. */
export function rowCosines(a: Float32Array, b: Float32Array, dim: number): Float64Array {
  if (a.length !== b.length || a.length % dim !== 0) throw new Error(`matrix shapes differ: ${a.length} vs ${b.length} values (dim ${dim})`);
  const rows = a.length / dim;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let d = r * dim, end = d + dim; d < end; d++) {
      const x = a[d]!;
      const y = b[d]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    out[r] = na === 0 || nb === 0 ? (na === nb ? 1 : 0) : dot / Math.sqrt(na * nb);
  }
  return out;
}
