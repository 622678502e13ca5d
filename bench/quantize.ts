/**
 * fp32 vs int8 (`sbertkit quantize`) in one run: an all-MiniLM-L6-v2-layout model (random weights,
 * vocabulary from the sentences' frequent words so token lengths are realistic) and the built-in
 * use-lite model, each quantized per tensor and per channel through the real pipeline, then all three
 * graphs encode the same sentences through the shared Encoder, in alternating order round after round
 * so they share the machine's background load. Prints sentences/s (best round), the int8/fp32 ratio,
 * the cosine between fp32 and int8 embeddings (min, mean), the pipeline's own figures on its built-in
 * sentences, file sizes, which fused kernels ONNX Runtime turned the rewritten MatMuls into, and for
 * the built-in model the STS-B test Spearman x100 of each graph.
 *
 *   npm run bench:quantize [-- --limit N] [--rounds N] [--threads N]
 *
 * Sentences: the unique sentences of ../shared/data/stsb/test.tsv, or the quantize command's built-in
 * sentences repeated when that file is absent. Always exits 0 unless something crashes.
 */
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {availableParallelism, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {spearman} from '../src/algorithms/sts-metrics.js';
import {Encoder} from '../src/encoder/encoder.js';
import type {SentenceEncoder} from '../src/encoder/types.js';
import {collectUniqueSentences} from '../src/eval/evaluate-sts.js';
import {readStsDatasets} from '../src/io/sts/read-sts.js';
import type {StsPair} from '../src/io/sts/read-sts.js';
import {ensureBuiltinModel} from '../src/models/builtin/index.js';
import {readModelSpec} from '../src/models/read-spec.js';
import {decodeModel} from '../src/onnx/model-proto.js';
import {loadOrt} from '../src/onnx/runtime.js';
import {quietServices} from '../src/pipelines/context.js';
import {runQuantize, type QuantizeResult} from '../src/pipelines/quantize/run.js';
import {SAMPLE_SENTENCES} from '../src/pipelines/quantize/sample-sentences.js';
import {MINILM_L6_LAYOUT, writeBertModelFolder} from '../test/helpers/bert-fixture.js';
import {sharedDir} from '../test/helpers/paths.js';
import {cosine} from '../test/helpers/vector-math.js';
import {duration, int, printSection} from './lib/format.js';

const WARMUP = 64;
/** Whole words in the MiniLM-layout vocabulary; with the base tokens this stays under its 30522. */
const VOCAB_WORDS = 25_000;

interface Variant {
  label: string;
  dir: string;
  quantized?: QuantizeResult;
  encoder?: SentenceEncoder;
  bestMs: number;
  vectors?: Float32Array[];
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {limit: {type: 'string'}, rounds: {type: 'string', default: '3'}, threads: {type: 'string'}}});
  const rounds = Number(values.rounds);
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  const {sentences, pairs, source} = await benchSentences(values.limit === undefined ? undefined : Number(values.limit));
  console.log(`${int(sentences.length)} sentences (${source}); ${rounds} rounds; ${threads} threads; ${availableParallelism()} cores; load average ${loadavg()[0]!.toFixed(2)}`);

  const work = await mkdtemp(join(tmpdir(), 'sbertkit-bench-quantize-'));
  try {
    const minilm = join(work, 'minilm');
    await writeBertModelFolder(minilm, {config: MINILM_L6_LAYOUT, pooling: 'mean', normalize: true, maxSeqLength: 256, words: frequentWords(sentences, VOCAB_WORDS)});
    await compare('all-MiniLM-L6-v2 layout, random weights', minilm, join(work, 'minilm'), sentences, rounds, threads);

    const builtin = await ensureBuiltinModel('builtin:use-lite', {cacheDir: join(work, 'cache')});
    await compare('builtin:use-lite', builtin.dir, join(work, 'use-lite'), sentences, rounds, threads, pairs);
  } finally {
    await rm(work, {recursive: true, force: true});
  }
}

async function compare(title: string, fp32Dir: string, outPrefix: string, sentences: string[], rounds: number, threads: number, pairs?: StsPair[]): Promise<void> {
  console.log(`\n${title}`);
  const variants: Variant[] = [{label: 'fp32', dir: fp32Dir, bestMs: Infinity}];
  for (const perChannel of [false, true]) {
    const output = `${outPrefix}-int8${perChannel ? '-pc' : ''}`;
    const quantized = await runQuantize({model: fp32Dir, output, perChannel, threads}, quietServices(() => Promise.reject(new Error('unused'))));
    variants.push({label: `int8 ${perChannel ? 'per channel' : 'per tensor'}`, dir: output, quantized, bestMs: Infinity});
  }
  for (const v of variants) {
    v.encoder = await Encoder.load(readModelSpec(v.dir, {name: v.label}), {threads});
    await v.encoder.embed(sentences.slice(0, WARMUP));
  }
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so no variant always runs first (or last) in a round.
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const started = performance.now();
      const {vectors} = await v.encoder!.embed(sentences);
      v.bestMs = Math.min(v.bestMs, performance.now() - started);
      v.vectors ??= Array.from({length: vectors.rows}, (_, i) => vectors.row(i).slice());
    }
  }
  for (const v of variants) await v.encoder!.close();

  const fp32 = variants[0]!;
  const rate = (v: Variant): number => (sentences.length * 1000) / v.bestMs;
  const rows: Array<[string, string]> = [];
  for (const v of variants) {
    const speed = `${rate(v).toFixed(0)} sentences/s (best of ${rounds}: ${duration(v.bestMs)})`;
    if (v.quantized === undefined) {
      rows.push([v.label, speed]);
      continue;
    }
    const c = v.vectors!.map((row, i) => cosine(fp32.vectors![i]!, row));
    const q = v.quantized;
    rows.push(
      [v.label, `${speed}, ${(rate(v) / rate(fp32)).toFixed(2)}x fp32`],
      ['  cosine vs fp32 on these sentences', `min ${Math.min(...c).toFixed(4)}, mean ${(c.reduce((s, x) => s + x, 0) / c.length).toFixed(4)}`],
      ['  quantize (built-in sample)', `min ${q.cosine_min.toFixed(4)}, mean ${q.cosine_mean.toFixed(4)}; ${q.quantized_nodes} nodes; ${q.seconds.toFixed(1)} s`],
      ['  ONNX file', `${(q.size_before / 2 ** 20).toFixed(1)} MiB -> ${(q.size_after / 2 ** 20).toFixed(1)} MiB`],
      ['  ORT kernels after optimization', await fusedKernels(join(v.dir, q.onnx_file))],
    );
  }
  if (pairs !== undefined) {
    const index = new Map(sentences.map((s, i) => [s, i]));
    const gold = pairs.map((p) => p.score);
    const scores = variants.map((v) => `${v.label} ${(100 * spearman(pairs.map((p) => cosine(v.vectors![index.get(p.s1)!]!, v.vectors![index.get(p.s2)!]!)), gold)).toFixed(2)}`);
    rows.push([`STS-B test Spearman x100 (${pairs.length} pairs)`, scores.join(', ')]);
  }
  printSection(undefined, rows);
}

/** What ONNX Runtime's optimizer turned the graph into: counts of the integer kernels. */
async function fusedKernels(graph: string): Promise<string> {
  const ort = await loadOrt();
  const optimized = `${graph}.optimized.onnx`;
  const session = await ort.InferenceSession.create(graph, {graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized});
  await session.release();
  const counts = new Map<string, number>();
  for (const node of decodeModel(await readFile(optimized), optimized).graph!.node ?? []) {
    if (/Integer|Quantize/.test(node.opType ?? '')) counts.set(node.opType!, (counts.get(node.opType!) ?? 0) + 1);
  }
  await rm(optimized);
  return [...counts].map(([op, n]) => `${n} ${op}`).join(', ');
}

async function benchSentences(limit: number | undefined): Promise<{sentences: string[]; pairs?: StsPair[]; source: string}> {
  const shared = sharedDir();
  const test = shared === undefined ? undefined : join(shared, 'data', 'stsb', 'test.tsv');
  if (test !== undefined && existsSync(test)) {
    const datasets = await readStsDatasets([test]);
    const all = collectUniqueSentences(datasets).texts;
    // Spearman needs every pair's sentences, so a limit drops it.
    return limit === undefined || limit >= all.length
      ? {sentences: all, pairs: datasets[0]!.pairs, source: 'unique sentences of STS-B test'}
      : {sentences: all.slice(0, limit), source: `first ${limit} unique sentences of STS-B test`};
  }
  const n = limit ?? 2000;
  return {sentences: Array.from({length: n}, (_, i) => SAMPLE_SENTENCES[i % SAMPLE_SENTENCES.length]!), source: 'no STS-B: the built-in sample sentences, repeated'};
}

/** The `max` most frequent lower-cased ASCII words, for the fixture vocabulary (as bench/encode.ts builds it). */
function frequentWords(sentences: string[], max: number): string[] {
  const counts = new Map<string, number>();
  for (const sentence of sentences) for (const word of sentence.toLowerCase().split(/[^a-z0-9]+/)) if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, max).map(([word]) => word);
}

await main();
