/** Seeded random matrices for the vector tests: uniform values in [-1, 1), reproducible from the seed. */
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {mulberry32} from './prng.js';

/** `rows` x `dim` values, ids 0..rows-1. */
export function randomMatrix(rows: number, dim: number, seed: number): VectorMatrix {
  const rand = mulberry32(seed);
  return new VectorMatrix(Array.from({length: rows}, (_, i) => i), dim, Float32Array.from({length: rows * dim}, () => rand() * 2 - 1));
}
