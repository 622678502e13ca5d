/**
 * Pooling of token embeddings into one vector per text, as sentence-transformers' Pooling module does,
 * and L2 normalization as its Normalize module does (torch.nn.functional.normalize, eps 1e-12).
 * poolBatch/normalizeRows work on a whole batch in one flat array: the session worker calls them, so
 * only rows x dim floats come back to the main thread instead of rows x seqLen x dim.
 */
import type {PoolingMode} from '../models/spec.js';

/**
 * @param hidden row-major [rows, seqLen, dim]
 * @param lengths real (unpadded) token count per row; padding is on the right
 */
export function poolTokens(hidden: Float32Array, rows: number, seqLen: number, dim: number, lengths: ArrayLike<number>, mode: PoolingMode): Float32Array[] {
  const pooled = poolBatch(hidden, rows, seqLen, dim, lengths, mode);
  return Array.from({length: rows}, (_, r) => pooled.slice(r * dim, (r + 1) * dim));
}

/** As poolTokens, into one row-major [rows, dim] array. */
export function poolBatch(hidden: Float32Array, rows: number, seqLen: number, dim: number, lengths: ArrayLike<number>, mode: PoolingMode): Float32Array {
  const out = new Float32Array(rows * dim);
  // Accumulate the mean in float64 so the result does not depend on how many padded rows share the batch.
  const acc = mode === 'mean' ? new Float64Array(dim) : undefined;
  for (let r = 0; r < rows; r++) {
    const base = r * seqLen * dim;
    const n = lengths[r]!;
    const v = out.subarray(r * dim, (r + 1) * dim);
    if (mode === 'cls' || mode === 'lasttoken') {
      // An empty row (n = 0) has no real token; sentence-transformers would read padding, we give zeros.
      if (n > 0) {
        const t = mode === 'cls' ? 0 : n - 1;
        v.set(hidden.subarray(base + t * dim, base + (t + 1) * dim));
      }
    } else if (acc !== undefined) {
      acc.fill(0);
      for (let t = 0; t < n; t++) {
        const off = base + t * dim;
        for (let d = 0; d < dim; d++) acc[d]! += hidden[off + d]!;
      }
      const denom = Math.max(n, 1e-9);
      for (let d = 0; d < dim; d++) v[d] = acc[d]! / denom;
    } else if (n > 0) {
      v.fill(-Infinity);
      for (let t = 0; t < n; t++) {
        const off = base + t * dim;
        for (let d = 0; d < dim; d++) if (hidden[off + d]! > v[d]!) v[d] = hidden[off + d]!;
      }
    }
  }
  return out;
}

/** In place: v / max(||v||, 1e-12). */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.max(Math.sqrt(sum), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

/** In place: l2Normalize on each row of a row-major [rows, dim] array. */
export function normalizeRows(data: Float32Array, dim: number): Float32Array {
  for (let at = 0; at < data.length; at += dim) l2Normalize(data.subarray(at, at + dim));
  return data;
}
