/** Synthetic inputs for the benchmarks: our own words, deterministic from the row count. */
import {createWriteStream} from 'node:fs';
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
