/**
 * The similarity metrics every vector command accepts. Results are always similarities, higher is
 * closer, whatever the backend: cosine and dot as they are, euclidean and manhattan as the negated
 * distance (the convention of sentence-transformers' evaluators and of our STS metrics).
 */
import {VectorMatrix} from './matrix.js';

export type Metric = 'cosine' | 'dot' | 'euclidean' | 'manhattan';
export const METRICS: readonly Metric[] = ['cosine', 'dot', 'euclidean', 'manhattan'];

/** A copy with every row scaled to unit length (zero rows stay zero), for cosine as a dot product. */
export function normalizeRows(m: VectorMatrix): VectorMatrix {
  const d = m.dimension;
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) {
    let sum = 0;
    for (let i = r * d, end = i + d; i < end; i++) sum += m.data[i]! * m.data[i]!;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let i = r * d, end = i + d; i < end; i++) out[i] = m.data[i]! * scale;
  }
  return new VectorMatrix(m.ids, d, out);
}

/**
 * Scales every row to unit length where it lies: for matrices the caller owns and need not keep,
 * since a million 384-d rows are 1.5 GB and normalizeRows would double that.
 */
export function normalizeRowsInPlace(m: VectorMatrix): void {
  const d = m.dimension;
  for (let r = 0; r < m.rows; r++) {
    let sum = 0;
    for (let i = r * d, end = i + d; i < end; i++) sum += m.data[i]! * m.data[i]!;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let i = r * d, end = i + d; i < end; i++) m.data[i]! *= scale;
  }
}

/** Squared L2 norm of every row, in float64 summation. */
export function squaredNorms(m: VectorMatrix): Float32Array {
  const d = m.dimension;
  const out = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let sum = 0;
    for (let i = r * d, end = i + d; i < end; i++) sum += m.data[i]! * m.data[i]!;
    out[r] = sum;
  }
  return out;
}

/** The similarity of two vectors under `metric` (float64 arithmetic): the scalar path for small inputs and manhattan. */
export function similarity(metric: Metric, a: Float32Array, b: Float32Array): number {
  let acc = 0;
  switch (metric) {
    case 'dot':
      for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
      return acc;
    case 'cosine': {
      let na = 0;
      let nb = 0;
      for (let i = 0; i < a.length; i++) {
        acc += a[i]! * b[i]!;
        na += a[i]! * a[i]!;
        nb += b[i]! * b[i]!;
      }
      return na === 0 || nb === 0 ? 0 : acc / Math.sqrt(na * nb);
    }
    case 'euclidean':
      for (let i = 0; i < a.length; i++) acc += (a[i]! - b[i]!) ** 2;
      return -Math.sqrt(acc);
    case 'manhattan':
      for (let i = 0; i < a.length; i++) acc += Math.abs(a[i]! - b[i]!);
      return -acc;
  }
}
