/**
 * `encode --reuse` against a full encode of the same new input, in the same run, with one loaded model:
 * OLD is N generated lines encoded with text hashes; NEW drops 1% of them, changes --changed% and adds
 * 1%. Prints the time of each (the reuse run including reading OLD), the ratio, the rows reused and
 * encoded, and the largest difference between the two outputs (reused rows are OLD's vectors, so it
 * is batching noise, expected within 1e-5).
 * Uses the built-in model. Run: node build/bench/reuse.js [--rows 20000] [--changed 2] [--threads 2]
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {Encoder} from '../src/encoder/encoder.js';
import {readVectorMatrix} from '../src/io/vectors/read-vectors.js';
import {ONNX_SHA256_KEY} from '../src/io/vectors/text-hash.js';
import {fileSha256} from '../src/models/fingerprint.js';
import {resolveModel} from '../src/models/resolve.js';
import {checkReusable, readReuseTable} from '../src/pipelines/encode-reuse.js';
import {encodeToVectorFile, openEncodeSource, vectorFileMetadata} from '../src/pipelines/encode.js';
import {duration, int, printSection, rate} from './lib/format.js';

const {values} = parseArgs({options: {rows: {type: 'string', default: '20000'}, changed: {type: 'string', default: '2'}, threads: {type: 'string', default: '2'}}});
const ROWS = Number(values.rows);
const CHANGED_EVERY = Math.max(1, Math.round(100 / Number(values.changed)));

const WORDS = 'the quick brown fox jumps over a lazy dog while rain falls on green hills near an old stone bridge'.split(' ');
const line = (i: number): string => `${i} ` + Array.from({length: 4 + ((i * 7919) % 29)}, (_, k) => WORDS[(i * 31 + k * 7) % WORDS.length]).join(' ');

const dir = mkdtempSync(join(tmpdir(), 'sbertkit-reuse-'));
try {
  const oldLines = Array.from({length: ROWS}, (_, i) => line(i));
  const newLines: string[] = [];
  oldLines.forEach((text, i) => {
    if (i % 100 === 3) return;
    newLines.push(i % CHANGED_EVERY === 7 % CHANGED_EVERY ? `${text} changed` : text);
    if (i % 100 === 11) newLines.push(`added ${text}`);
  });
  const files = {old: join(dir, 'old.txt'), new: join(dir, 'new.txt'), oldVectors: join(dir, 'old.parquet'), full: join(dir, 'full.parquet'), reused: join(dir, 'reused.parquet')};
  writeFileSync(files.old, oldLines.join('\n') + '\n');
  writeFileSync(files.new, newLines.join('\n') + '\n');
  const spec = await resolveModel(undefined);
  const encoder = await Encoder.load(spec, {threads: Number(values.threads)});
  try {
    const metadata = {...vectorFileMetadata(encoder), [ONNX_SHA256_KEY]: await fileSha256(spec.onnxPath)};
    const encode = async (input: string, output: string, extra: Partial<Parameters<typeof encodeToVectorFile>[2]> = {}) => {
      const options = {input, output, metadata, ...extra};
      return encodeToVectorFile(encoder, await openEncodeSource(options), options);
    };
    await encode(files.old, files.oldVectors, {textHash: true});

    let started = performance.now();
    const full = await encode(files.new, files.full);
    const fullMs = performance.now() - started;

    started = performance.now();
    const table = await readReuseTable(files.oldVectors, 'text');
    const readMs = performance.now() - started;
    checkReusable(table, metadata, 'float32', (message) => console.warn(message));
    const reused = await encode(files.new, files.reused, {reuse: files.oldVectors, reuseTable: table});
    const reuseMs = performance.now() - started;

    const a = (await readVectorMatrix(files.full)).vectors;
    const b = (await readVectorMatrix(files.reused)).vectors;
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));

    console.log(`encode --reuse: ${spec.name}, ${values.threads} threads; OLD ${int(ROWS)} lines, NEW ${int(newLines.length)} (1% dropped, ${values.changed}% changed, 1% added)`);
    printSection(undefined, [
      ['full encode of NEW', `${duration(fullMs)} (${rate(full.stats.rows, fullMs, 'rows')})`],
      ['--reuse OLD', `${duration(reuseMs)} (${rate(reused.stats.rows + reused.reused, reuseMs, 'rows')}), of which reading OLD ${duration(readMs)}`],
      ['speed-up', `${(fullMs / reuseMs).toFixed(2)}x`],
      ['rows reused / encoded', `${int(reused.reused)} / ${int(reused.stats.rows)}`],
      ['max |full - reuse|', maxDiff.toExponential(2)],
    ]);
  } finally {
    await encoder.close();
  }
} finally {
  rmSync(dir, {recursive: true, force: true});
}
