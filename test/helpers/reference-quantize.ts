/**
 * A plain quantizer for the tests, written from sentence-transformers' formulas (quantization.py)
 * and numpy's semantics, not from the product's code: float32 arithmetic through a one-element
 * Float32Array, truncation toward zero, bits built as strings.
 */
import type {QuantizationRanges} from '../../src/vectors/quantize.js';

export function referenceRanges(rows: readonly ArrayLike<number>[]): QuantizationRanges {
  const dimension = rows[0]!.length;
  const min = Float32Array.from({length: dimension}, (_, i) => Math.min(...rows.map((r) => r[i]!)));
  const max = Float32Array.from({length: dimension}, (_, i) => Math.max(...rows.map((r) => r[i]!)));
  return {min, max};
}

/** The reference quantizer: numpy's float32 arithmetic done through a one-element Float32Array. */
export function referenceLevels(x: Float32Array, ranges: QuantizationRanges, signed: boolean): {levels: number[]; clipped: number} {
  const f = new Float32Array(1);
  const f32 = (v: number): number => ((f[0] = v), f[0]);
  let clipped = 0;
  const levels = Array.from(x, (value, i) => {
    const step = f32(f32(ranges.max[i]! - ranges.min[i]!) / 255);
    const [low, high] = signed ? [-128, 127] : [0, 255];
    if (step === 0) {
      if (value !== ranges.min[i]) clipped++;
      return low;
    }
    let scaled = f32(f32(value - ranges.min[i]!) / step);
    if (signed) scaled = f32(scaled - 128);
    // numpy's astype truncates toward zero (+ 0 turns Math.ceil's -0 into 0).
    const level = (scaled < 0 ? Math.ceil(scaled) : Math.floor(scaled)) + 0;
    if (level < low || level > high) {
      clipped++;
      return level < low ? low : high;
    }
    return level;
  });
  return {levels, clipped};
}

/** np.packbits of x > 0 on one row, built as strings of bits. */
export function referencePack(x: Float32Array): number[] {
  let bits = Array.from(x, (v) => (v > 0 ? '1' : '0')).join('');
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  return Array.from({length: bits.length / 8}, (_, b) => parseInt(bits.slice(b * 8, b * 8 + 8), 2));
}


/**
 * The middle of the values a stored int8/uint8 value stands for, with t = (x - min) / step and
 * truncation toward zero: uint8 u covers [u, u + 1); int8 q < 0 covers (q + 127, q + 128], q > 0
 * covers [q + 128, q + 129), q = 0 covers (127, 129).
 */
export function referenceDequantize(stored: ArrayLike<number>, ranges: QuantizationRanges, signed: boolean): number[] {
  return Array.from(stored, (q, i) => {
    const step = Math.fround(Math.fround(ranges.max[i]! - ranges.min[i]!) / 255);
    const [from, to] = !signed ? [q, q + 1] : q < 0 ? [q + 127, q + 128] : q > 0 ? [q + 128, q + 129] : [127, 129];
    return ranges.min[i]! + ((from + to) / 2) * step;
  });
}

/** Packed bytes back to +1/-1 signs, `dimension` of them. */
export function referenceUnpack(bytes: ArrayLike<number>, dimension: number): number[] {
  const bits = Array.from(bytes, (b) => b.toString(2).padStart(8, '0')).join('');
  return Array.from(bits.slice(0, dimension), (bit) => (bit === '1' ? 1 : -1));
}
