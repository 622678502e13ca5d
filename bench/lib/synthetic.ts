/** Synthetic inputs for the benchmarks: our own words, deterministic from the row count. */
import {createWriteStream} from 'node:fs';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {mulberry32} from '../../test/helpers/prng.js';

const WORDS = 'the a cat dog river city market engineer quietly walked bright old new station morning report team built small large garden'.split(' ');

/** `rows` CSV rows (id,text), 6-30 words each, with a quoted quote now and then. */
export async function writeSyntheticCsv(path: string, rows: number): Promise<void> {
  const rand = mulberry32(rows);
  const out = createWriteStream(path);
  out.write('id,text\n');
  for (let i = 0; i < rows; i++) {
    const n = 6 + Math.floor(rand() * 25);
    const text = Array.from({length: n}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    if (!out.write(`row${i},"${i % 50 === 0 ? `${text} ""quoted""` : text}"\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/**
 * `n` unit vectors of dimension `d`, seeded: roughly Gaussian directions (sum of three uniforms), or,
 * with `centres`, a random centre each plus noise at `noiseScale` (clusters, closer to real embeddings).
 */
export function unitVectors(n: number, d: number, seed: number, centres?: readonly Float32Array[], noiseScale = 0.5): VectorMatrix {
  const pick = mulberry32(seed);
  const data = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    const centre = centres?.[Math.floor(pick() * centres.length)];
    for (let i = r * d; i < (r + 1) * d; i++) {
      data[i] = (centre?.[i - r * d] ?? 0) + (centre === undefined ? 1 : noiseScale) * (pick() + pick() + pick() - 1.5);
      sum += data[i]! * data[i]!;
    }
    const scale = 1 / Math.sqrt(sum);
    for (let i = r * d; i < (r + 1) * d; i++) data[i]! *= scale;
  }
  return new VectorMatrix(Array.from({length: n}, (_, i) => i), d, data);
}
