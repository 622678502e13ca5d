/**
 * src/vectors: the one place that holds and (with the coming search modules) compares vectors.
 *
 * VectorMatrix is what transformers.js' `[n, d]` tensor is to its pipelines: n row ids, a dimension,
 * and one row-major Float32Array. The encoder returns it, the vector file readers fill it batch by
 * batch, and the search and clustering algorithms take it. Rows are views (`row(i)`), never copies,
 * so a million 384-d vectors are one 1.5 GB buffer instead of a million small arrays.
 *
 * This module imports nothing: every layer (encoder, io, algorithms) may use the type.
 */

/** An id as given in the input (string) or a 0-based row number. */
export type RowId = string | number;

/**
 * A RowId for an input id that may be a bigint (a JSONL integer beyond 2^53): the bigint as its digits.
 * Only vector files write such an id as an integer; matrices and pair/cluster outputs carry its text.
 */
export function rowIdOf(id: RowId | bigint): RowId {
  return typeof id === 'bigint' ? String(id) : id;
}

export class VectorMatrix {
  readonly ids: readonly RowId[];
  readonly dimension: number;
  /** Row-major: row i is data[i * dimension, (i + 1) * dimension). */
  readonly data: Float32Array;

  constructor(ids: readonly RowId[], dimension: number, data: Float32Array) {
    if (!Number.isInteger(dimension) || dimension < 0) throw new RangeError(`dimension must be a non-negative integer, got ${dimension}`);
    if (data.length !== ids.length * dimension) {
      throw new RangeError(`matrix data has ${data.length} values, expected ${ids.length} rows x ${dimension}`);
    }
    this.ids = ids;
    this.dimension = dimension;
    this.data = data;
  }

  /** An empty matrix of one dimension (the identity of concat). */
  static empty(dimension: number): VectorMatrix {
    return new VectorMatrix([], dimension, new Float32Array(0));
  }

  /** Copies separate vectors into one matrix; ids default to row numbers. */
  static fromRows(vectors: readonly Float32Array[], ids?: readonly RowId[], dimension = vectors[0]?.length ?? 0): VectorMatrix {
    const data = new Float32Array(vectors.length * dimension);
    vectors.forEach((vector, i) => {
      if (vector.length !== dimension) throw new RangeError(`row ${i} has ${vector.length} values, expected ${dimension}`);
      data.set(vector, i * dimension);
    });
    return new VectorMatrix(ids ?? vectors.map((_, i) => i), dimension, data);
  }

  /** Stacks matrices of one dimension, in order, into one buffer. */
  static concat(parts: readonly VectorMatrix[], dimension = parts[0]?.dimension ?? 0): VectorMatrix {
    let rows = 0;
    for (const part of parts) {
      if (part.dimension !== dimension) throw new RangeError(`cannot stack dimension ${part.dimension} onto ${dimension}`);
      rows += part.rows;
    }
    if (parts.length === 1) return parts[0]!;
    const data = new Float32Array(rows * dimension);
    const ids: RowId[] = [];
    let offset = 0;
    for (const part of parts) {
      data.set(part.data, offset);
      offset += part.data.length;
      for (const id of part.ids) ids.push(id);
    }
    return new VectorMatrix(ids, dimension, data);
  }

  get rows(): number {
    return this.ids.length;
  }

  /** Row i as a view into the shared buffer (writes go through; copy with .slice() to keep it apart). */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) throw new RangeError(`row ${i} is outside 0..${this.rows - 1}`);
    return this.data.subarray(i * this.dimension, (i + 1) * this.dimension);
  }

  /** Some rows, copied into a matrix of their own with their ids (a bucket, a sample, a subset). */
  pick(rows: ArrayLike<number>): VectorMatrix {
    const d = this.dimension;
    const data = new Float32Array(rows.length * d);
    const ids = new Array<RowId>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!(r >= 0 && r < this.rows)) throw new RangeError(`row ${r} is outside 0..${this.rows - 1}`);
      data.set(this.data.subarray(r * d, (r + 1) * d), i * d);
      ids[i] = this.ids[r]!;
    }
    return new VectorMatrix(ids, d, data);
  }

  /** Every row as a view, for APIs that take one array per vector. */
  toRows(): Float32Array[] {
    return Array.from({length: this.rows}, (_, i) => this.row(i));
  }
}
