/**
 * Vector comparisons for tests and benchmarks, written independently of src/ (float64 loops), so a
 * check never reuses the code it checks.
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** Largest |a[i] - b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The similarity `metric` names (dot, cosine, or a negated euclidean/manhattan distance), in float64. */
export function plainScore(metric: 'dot' | 'cosine' | 'euclidean' | 'manhattan', a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0, l2 = 0, l1 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
    l2 += (a[i]! - b[i]!) ** 2;
    l1 += Math.abs(a[i]! - b[i]!);
  }
  return metric === 'dot' ? dot : metric === 'cosine' ? dot / Math.sqrt(na * nb) : metric === 'euclidean' ? -Math.sqrt(l2) : -l1;
}
