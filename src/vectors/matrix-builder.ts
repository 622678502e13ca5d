/**
 * Stacks rows arriving in batches (a vector file read batch by batch) into one VectorMatrix without a
 * second copy: the rows go into a resizable ArrayBuffer that grows as they come, so the peak is the
 * matrix plus one batch, not the batches plus their concatenation (3 GB instead of 1.5 for a
 * million 384-d rows). A resizable buffer only commits the memory it has grown to.
 */
import {VectorMatrix, type RowId} from './matrix.js';

/** The largest resizable buffer V8 allows here (4 GiB): about 2.8 million 384-d rows. */
const MAX_BYTES = 2 ** 32;

export class MatrixBuilder {
  private readonly buffer: ArrayBuffer;
  private readonly ids: RowId[] = [];
  private values = 0;

  constructor(readonly dimension: number) {
    this.buffer = new (ArrayBuffer as unknown as new (length: number, options: {maxByteLength: number}) => ArrayBuffer)(0, {maxByteLength: MAX_BYTES});
  }

  get rows(): number {
    return this.ids.length;
  }

  append(part: VectorMatrix): void {
    if (part.dimension !== this.dimension) throw new RangeError(`cannot stack dimension ${part.dimension} onto ${this.dimension}`);
    const bytes = (this.values + part.data.length) * 4;
    if (bytes > MAX_BYTES) throw new RangeError(`more than ${MAX_BYTES / 2 ** 30} GiB of vectors in one matrix (${this.ids.length + part.rows} rows of ${this.dimension}); split the input`);
    (this.buffer as unknown as {resize(length: number): void}).resize(bytes);
    new Float32Array(this.buffer, this.values * 4, part.data.length).set(part.data);
    this.values += part.data.length;
    for (const id of part.ids) this.ids.push(id);
  }

  /** The stacked rows (a fixed-length view of the buffer); the builder must not be used after. */
  finish(): VectorMatrix {
    return new VectorMatrix(this.ids, this.dimension, new Float32Array(this.buffer, 0, this.values));
  }
}
