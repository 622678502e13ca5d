/**
 * Compact vectors with the semantics of sentence-transformers' quantize_embeddings
 * (sentence_transformers/quantization.py), one row at a time so encode can stream:
 *
 * - float16: half floats, rounded to nearest even (numpy's astype(float16)).
 * - int8 / uint8: per dimension ranges (min, max) from calibration vectors; starts = min,
 *   steps = (max - min) / 255, level = (x - starts) / steps truncated toward zero, all in float32
 *   arithmetic as numpy does it; uint8 stores the level, int8 stores level - 128 (computed as
 *   ((x - starts) / steps - 128) and truncated, like theirs). Values outside the ranges are clipped to
 *   the type's range (numpy's astype would wrap them around) and counted. A dimension whose range is
 *   a single value (steps = 0; numpy divides by zero) stores level 0.
 * - binary / ubinary: the signs packed 8 per byte (packed-bits.ts); ubinary stores the bytes as
 *   uint8, binary as int8 (byte - 128). Each row is packed on its own: sentence-transformers packs
 *   the flattened matrix, which differs only when the dimension is not a multiple of 8 (then their
 *   rows share bytes).
 *
 * Reading back (vectorDecoder) puts each stored value at the middle of the interval of values that
 * truncation maps to it (the lower end, starts + level * steps, would bias every value by half a
 * step). With t = (x - starts) / steps: uint8 u covers t in [u, u + 1), read as starts + (u + 0.5) *
 * steps. int8 truncates t - 128 toward zero, so its intervals are not uint8's shifted: q < 0 covers
 * t in (q + 127, q + 128], q > 0 covers [q + 128, q + 129), and q = 0 covers (127, 129), twice as
 * wide; they are read as starts + (q + 127.5), (q + 128.5) and 128 steps. float16 is widened;
 * binary rows unpack to +1/-1.
 *
 * This module imports only its siblings in src/vectors: every layer may use it.
 */
import {fromHalfBits, HALF_MAX, toHalfBits} from './half-float.js';
import {packedBytes, packSigns} from './packed-bits.js';

export type Precision = 'float32' | 'float16' | 'int8' | 'uint8' | 'binary' | 'ubinary';
export const PRECISIONS: readonly Precision[] = ['float32', 'float16', 'int8', 'uint8', 'binary', 'ubinary'];

/** The element type a precision is stored as (binary: int8, ubinary: uint8). */
export type StoredElement = 'float32' | 'float16' | 'int8' | 'uint8';
/** A stored row: float32 values, half float bit patterns, or 8-bit integers. */
export type StoredVector = Float32Array | Uint16Array | Int8Array | Uint8Array;

export function storedElement(precision: Precision): StoredElement {
  return precision === 'binary' ? 'int8' : precision === 'ubinary' ? 'uint8' : precision;
}

/** Stored values per row: the dimension, or its bytes of packed bits. */
export function storedLength(precision: Precision, dimension: number): number {
  return isBinary(precision) ? packedBytes(dimension) : dimension;
}

export function isBinary(precision: Precision): precision is 'binary' | 'ubinary' {
  return precision === 'binary' || precision === 'ubinary';
}

/** int8 and uint8 need calibration ranges. */
export function needsRanges(precision: Precision): precision is 'int8' | 'uint8' {
  return precision === 'int8' || precision === 'uint8';
}

/** Per dimension minimum and maximum: sentence-transformers' `ranges` array of shape (2, dim). */
export interface QuantizationRanges {
  min: Float32Array;
  max: Float32Array;
}

/** The float32 steps of ranges: (max - min) / 255, each operation rounded to float32 as numpy does. */
export function rangeSteps(ranges: QuantizationRanges): Float32Array {
  const steps = new Float32Array(ranges.min.length);
  for (let i = 0; i < steps.length; i++) steps[i] = Math.fround(ranges.max[i]! - ranges.min[i]!) / 255;
  return steps;
}

/** Running per dimension min and max over rows as they come (a calibration file, the first rows). */
export class RangeTracker {
  private readonly min: Float32Array;
  private readonly max: Float32Array;
  rows = 0;

  constructor(readonly dimension: number) {
    this.min = new Float32Array(dimension).fill(Infinity);
    this.max = new Float32Array(dimension).fill(-Infinity);
  }

  add(row: ArrayLike<number>): void {
    if (row.length !== this.dimension) throw new RangeError(`row has ${row.length} values, expected ${this.dimension}`);
    for (let i = 0; i < this.dimension; i++) {
      const x = row[i]!;
      if (x < this.min[i]!) this.min[i] = x;
      if (x > this.max[i]!) this.max[i] = x;
    }
    this.rows++;
  }

  /** The ranges seen, or undefined before the first row. */
  ranges(): QuantizationRanges | undefined {
    return this.rows === 0 ? undefined : {min: this.min.slice(), max: this.max.slice()};
  }
}

/** Turns float rows into stored rows of one precision, counting the values it had to clip. */
export class VectorQuantizer {
  readonly element: StoredElement;
  /** Stored values per row. */
  readonly length: number;
  /** Values outside the calibration ranges (int8/uint8) or beyond +-65504 (float16), clipped. */
  clipped = 0;
  private readonly starts: Float32Array | undefined;
  private readonly steps: Float32Array | undefined;
  private readonly packed: Uint8Array;

  constructor(
    readonly precision: Precision,
    readonly dimension: number,
    readonly ranges?: QuantizationRanges,
  ) {
    this.element = storedElement(precision);
    this.length = storedLength(precision, dimension);
    // Without ranges (no calibration row yet: an empty input) nothing can be encoded, but a file can be written.
    if (needsRanges(precision) && ranges !== undefined) {
      if (ranges.min.length !== dimension || ranges.max.length !== dimension) {
        throw new RangeError(`ranges have ${ranges.min.length} dimensions, expected ${dimension}`);
      }
      this.starts = ranges.min;
      this.steps = rangeSteps(ranges);
    }
    this.packed = new Uint8Array(this.length);
  }

  encode(x: Float32Array): StoredVector {
    if (x.length !== this.dimension) throw new RangeError(`vector has ${x.length} values, expected ${this.dimension}`);
    switch (this.precision) {
      case 'float32':
        return x;
      case 'float16':
        return this.toHalf(x);
      case 'int8':
      case 'uint8':
        return this.toLevels(x, this.precision === 'int8');
      case 'binary': {
        packSigns(x, this.packed);
        const out = new Int8Array(this.length);
        for (let i = 0; i < out.length; i++) out[i] = this.packed[i]! - 128;
        return out;
      }
      case 'ubinary': {
        const out = new Uint8Array(this.length);
        packSigns(x, out);
        return out;
      }
    }
  }

  private toHalf(x: Float32Array): Uint16Array {
    const out = new Uint16Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let v = x[i]!;
      if (v > HALF_MAX || v < -HALF_MAX) {
        v = v > 0 ? HALF_MAX : -HALF_MAX;
        this.clipped++;
      }
      out[i] = toHalfBits(v);
    }
    return out;
  }

  private toLevels(x: Float32Array, signed: boolean): Int8Array | Uint8Array {
    const {starts, steps} = this;
    if (starts === undefined || steps === undefined) throw new Error(`${this.precision} quantization needs ranges`);
    const out = signed ? new Int8Array(x.length) : new Uint8Array(x.length);
    const [low, high] = signed ? [-128, 127] : [0, 255];
    for (let i = 0; i < x.length; i++) {
      const step = steps[i]!;
      let level: number;
      if (step === 0) {
        level = low;
        if (x[i] !== starts[i]) this.clipped++;
      } else {
        const scaled = Math.fround(Math.fround(x[i]! - starts[i]!) / step);
        level = Math.trunc(signed ? Math.fround(scaled - 128) : scaled);
        if (level < low || level > high || Number.isNaN(level)) {
          level = level > high ? high : low;
          this.clipped++;
        }
      }
      out[i] = level;
    }
    return out;
  }
}

/** Writes one stored row, read from `stored` at `offset`, as floats into `out` at `outOffset`. */
export type RowDecoder = (stored: ArrayLike<number>, offset: number, out: Float32Array, outOffset: number) => void;

/**
 * Decodes stored rows of `precision` to `dimension` floats. Without ranges, int8/uint8 values are
 * read as the numbers they are (an integer vector file from another tool).
 */
export function vectorDecoder(precision: Precision, dimension: number, ranges?: QuantizationRanges): RowDecoder {
  switch (precision) {
    case 'float32':
      return (stored, offset, out, outOffset) => {
        for (let i = 0; i < dimension; i++) out[outOffset + i] = stored[offset + i]!;
      };
    case 'float16':
      return (stored, offset, out, outOffset) => {
        for (let i = 0; i < dimension; i++) out[outOffset + i] = fromHalfBits(stored[offset + i]!);
      };
    case 'int8':
    case 'uint8': {
      if (ranges === undefined) return vectorDecoder('float32', dimension);
      const starts = ranges.min;
      const steps = rangeSteps(ranges);
      const middle = precision === 'int8' ? int8Middle : (u: number): number => u + 0.5;
      return (stored, offset, out, outOffset) => {
        for (let i = 0; i < dimension; i++) out[outOffset + i] = starts[i]! + middle(stored[offset + i]!) * steps[i]!;
      };
    }
    case 'binary':
    case 'ubinary': {
      const bias = precision === 'binary' ? 128 : 0;
      return (stored, offset, out, outOffset) => {
        for (let i = 0; i < dimension; i++) out[outOffset + i] = (((stored[offset + (i >>> 3)]! + bias) << (i & 7)) & 0x80) !== 0 ? 1 : -1;
      };
    }
  }
}

/** The middle, in steps above starts, of the values int8 level q stands for (see the top of the file). */
function int8Middle(q: number): number {
  return q < 0 ? q + 127.5 : q > 0 ? q + 128.5 : 128;
}

/** Copies stored binary rows as packed bytes (binary's int8 values shifted back by 128). */
export function packedCopier(precision: 'binary' | 'ubinary', bytesPerRow: number): (stored: ArrayLike<number>, offset: number, out: Uint8Array, outOffset: number) => void {
  const bias = precision === 'binary' ? 128 : 0;
  return (stored, offset, out, outOffset) => {
    for (let i = 0; i < bytesPerRow; i++) out[outOffset + i] = stored[offset + i]! + bias;
  };
}
