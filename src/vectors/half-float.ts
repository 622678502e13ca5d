/**
 * IEEE 754 half floats (binary16) as their 16-bit patterns, the storage of `--precision float16`.
 * Node 20 has no Float16Array or Math.f16round, and apache-arrow keeps Float16 columns as Uint16Array
 * bit patterns, so both directions are written out here. Rounding is to nearest, ties to even: what
 * numpy's astype(np.float16) does, so files match sentence-transformers' float16 output.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest finite half float. */
export const HALF_MAX = 65504;

/**
 * The half float nearest to `value` (first rounded to float32, as a Float32Array element is), ties to
 * the even pattern. NaN stays NaN; beyond +-65504 rounds to infinity, as in numpy (callers clip
 * first when they do not want that).
 */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): the value in units of 2^-24, the smallest subnormal.
    if (exponent < 102) return sign; // below 2^-25, half the smallest subnormal: rounds to zero
    const full = mantissa | 0x800000;
    const shift = 126 - exponent;
    return sign | roundShift(full, shift);
  }
  // A carry out of the mantissa moves into the exponent, which is the right result (up to infinity).
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** value >> shift rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

let table: Float32Array | undefined;

/** The value of a half float bit pattern (exact in float32). */
export function fromHalfBits(bits: number): number {
  table ??= halfTable();
  return table[bits & 0xffff]!;
}

/** All 65,536 half values, built once: decoding is then one lookup per value. */
function halfTable(): Float32Array {
  const out = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    out[h] =
      exponent === 0 ? sign * mantissa * 2 ** -24
      : exponent === 0x1f ? (mantissa === 0 ? sign * Infinity : NaN)
      : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
