
/**
 * Deliberately naive reference statistics for tests, written independently of
 * src/algorithms/sts-metrics.ts (different algorithms: counting ranks, one-pass Pearson formula).
 */

/** O(n²) average rank by counting: rank = #smaller + (#equal + 1) / 2 (the #equal includes itself). */
export function naiveRanks(x: number[]): number[] {
  return x.map((v) => {
    let smaller = 0;
    let equal = 0;
    for (const w of x) {
      if (w < v) smaller++;
      else if (w === v) equal++;
    }
    return smaller + (equal + 1) / 2;
  });
}

/** Textbook one-pass formula (n·Σxy − Σx·Σy) / sqrt((n·Σx² − (Σx)²)(n·Σy² − (Σy)²)). */
export function naivePearson(x: number[], y: number[]): number {
  const n = x.length;
  let sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
    sxy += x[i] * y[i];
    sxx += x[i] * x[i];
    syy += y[i] * y[i];
  }
  return (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
}

export const naiveSpearman = (x: number[], y: number[]): number => naivePearson(naiveRanks(x), naiveRanks(y));
