/**
 * Binary embeddings: one sign bit per dimension (x > 0), 8 dimensions per byte, the first dimension
 * in the byte's highest bit (numpy.packbits' big-endian order, as sentence-transformers' "binary" and
 * "ubinary" precisions store them). A row of d dimensions takes ceil(d / 8) bytes; the padding bits
 * of the last byte are 0.
 *
 * Unpacked, a bit is +1 (set) or -1 (clear): then the dot product of two rows is d - 2 * hamming,
 * which is what makes Hamming search the float search over the unpacked vectors (hamming-search.ts).
 *
 * This module imports nothing but the id type: every layer may use it.
 */
import type {RowId} from './matrix.js';

/** Bytes of one packed row of `dimension` bits. */
export function packedBytes(dimension: number): number {
  return Math.ceil(dimension / 8);
}

/** Packs the signs of `values` (bit set where x > 0; NaN is not > 0) into `out` from `offset`. */
export function packSigns(values: ArrayLike<number>, out: Uint8Array, offset = 0): void {
  const d = values.length;
  const bytes = packedBytes(d);
  for (let b = 0; b < bytes; b++) {
    let byte = 0;
    const base = b * 8;
    const end = Math.min(8, d - base);
    for (let i = 0; i < end; i++) if (values[base + i]! > 0) byte |= 0x80 >>> i;
    out[offset + b] = byte;
  }
}

/** Unpacks `dimension` bits starting at `bytes[offset]` into +1/-1 floats. */
export function unpackSigns(bytes: ArrayLike<number>, offset: number, dimension: number, out: Float32Array, outOffset = 0): void {
  for (let i = 0; i < dimension; i++) out[outOffset + i] = (bytes[offset + (i >>> 3)]! << (i & 7)) & 0x80 ? 1 : -1;
}

/** Set bits of each byte value, for the Hamming loop. */
export const POPCOUNT8: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let v = 1; v < 256; v++) table[v] = (v & 1) + table[v >>> 1]!;
  return table;
})();

/** Set bits of a 32-bit word (the classic SWAR count). */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * The packed counterpart of VectorMatrix: row ids, the number of dimensions (bits), and one
 * row-major byte buffer of rows x bytesPerRow. A million 1024-d rows are 128 MB here, 4 GB as floats.
 */
export class BitMatrix {
  readonly ids: readonly RowId[];
  /** Dimensions (bits) per row, before padding to whole bytes. */
  readonly dimension: number;
  readonly bytesPerRow: number;
  readonly data: Uint8Array;

  constructor(ids: readonly RowId[], dimension: number, data: Uint8Array) {
    if (!Number.isInteger(dimension) || dimension < 0) throw new RangeError(`dimension must be a non-negative integer, got ${dimension}`);
    this.bytesPerRow = packedBytes(dimension);
    if (data.length !== ids.length * this.bytesPerRow) {
      throw new RangeError(`packed data has ${data.length} bytes, expected ${ids.length} rows x ${this.bytesPerRow}`);
    }
    this.ids = ids;
    this.dimension = dimension;
    this.data = data;
  }

  get rows(): number {
    return this.ids.length;
  }

  /** Packs the signs of float rows (ids kept). */
  static fromSigns(ids: readonly RowId[], dimension: number, values: Float32Array): BitMatrix {
    const bytes = packedBytes(dimension);
    const data = new Uint8Array(ids.length * bytes);
    for (let r = 0; r < ids.length; r++) packSigns(values.subarray(r * dimension, (r + 1) * dimension), data, r * bytes);
    return new BitMatrix(ids, dimension, data);
  }

  /** Stacks matrices of one dimension, in order, into one buffer. */
  static concat(parts: readonly BitMatrix[], dimension: number): BitMatrix {
    if (parts.length === 1 && parts[0]!.dimension === dimension) return parts[0]!;
    const ids: RowId[] = [];
    let bytes = 0;
    for (const part of parts) {
      if (part.dimension !== dimension) throw new RangeError(`cannot stack dimension ${part.dimension} onto ${dimension}`);
      bytes += part.data.length;
    }
    const data = new Uint8Array(bytes);
    let offset = 0;
    for (const part of parts) {
      data.set(part.data, offset);
      offset += part.data.length;
      for (const id of part.ids) ids.push(id);
    }
    return new BitMatrix(ids, dimension, data);
  }

  /** Row i's bytes, a view. */
  row(i: number): Uint8Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) throw new RangeError(`row ${i} is outside 0..${this.rows - 1}`);
    return this.data.subarray(i * this.bytesPerRow, (i + 1) * this.bytesPerRow);
  }

  /** Row i as +1/-1 floats (into `out` when given). */
  unpackRow(i: number, out = new Float32Array(this.dimension)): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) throw new RangeError(`row ${i} is outside 0..${this.rows - 1}`);
    unpackSigns(this.data, i * this.bytesPerRow, this.dimension, out);
    return out;
  }
}
