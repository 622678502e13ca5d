/**
 * The quantize pipeline: a model (folder, hub id or built-in) -> its ONNX graph -> dynamic int8
 * quantization of the MatMul/Gemm weights (src/onnx/quantize.ts) -> a complete model folder at OUT_DIR
 * that every command loads with `--model OUT_DIR`, and the cosine between the fp32 and int8 embeddings
 * of a sample of sentences, so the cost in quality is measured on the spot, not assumed.
 */
import {existsSync, statSync} from 'node:fs';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {dirname, join, resolve} from 'node:path';
import {Encoder} from '../../encoder/encoder.js';
import {EXIT, SbertkitError} from '../../errors.js';
import type {TextFormat} from '../../io/formats.js';
import {openTexts} from '../../io/text/read-texts.js';
import type {DownloadProgress} from '../../models/hub/index.js';
import {readModelSpec} from '../../models/read-spec.js';
import {resolveModel} from '../../models/resolve.js';
import type {ModelSpec} from '../../models/spec.js';
import {decodeModel, encodeModel, isExternal} from '../../onnx/model-proto.js';
import {MIN_WEIGHT_ELEMENTS, quantizeDynamic, type DynamicQuantizeReport, type SkipReason} from '../../onnx/quantize.js';
import {similarity} from '../../vectors/metric.js';
import {sbertkitVersion} from '../../version.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {checkOutputFolder, outputGraphPath, refuseOverlap, stageModelFolder} from './folder.js';
import {SAMPLE_SENTENCES} from './sample-sentences.js';

/** The metadata file written next to the configs. */
export const QUANTIZE_CONFIG_FILE = 'quantize_config.json';
/** What `sample` says when the built-in sentences were used. */
export const BUILTIN_SAMPLE = 'built-in';

export interface QuantizeOptions {
  /** Anything --model accepts; default the built-in model. */
  model?: string;
  /** ONNX file inside the model (--model-file). */
  modelFile?: string;
  offline?: boolean;
  /** OUT_DIR. */
  output: string;
  /** One weight scale per output column (default false: per tensor). */
  perChannel?: boolean;
  /** Replace a non-empty OUT_DIR. */
  force?: boolean;
  /** Sentences for the fp32-vs-int8 check (txt, csv, tsv, jsonl; - for stdin); default SAMPLE_SENTENCES. */
  sample?: string;
  textColumn?: string;
  inputFormat?: TextFormat;
  /** ONNX Runtime threads for the check (default: all cores). */
  threads?: number;
  downloadProgress?: DownloadProgress;
  stdin?: NodeJS.ReadableStream;
}

export interface QuantizeResult {
  model: string;
  /** The graph that was quantized. */
  source_onnx: string;
  output: string;
  /** The quantized graph, relative to the output folder. */
  onnx_file: string;
  weight_type: 'int8';
  activation_type: 'uint8';
  per_channel: boolean;
  /** MatMul + Gemm nodes rewritten. */
  quantized_nodes: number;
  matmul: number;
  gemm: number;
  /** MatMul/Gemm nodes left in float32, by reason. */
  skipped: Partial<Record<SkipReason, number>>;
  /** ONNX file sizes in bytes. */
  size_before: number;
  size_after: number;
  /** The sample file, or "built-in". */
  sample: string;
  sample_sentences: number;
  /** Cosine between each sentence's fp32 and int8 embeddings. */
  cosine_min: number;
  cosine_mean: number;
  seconds: number;
}

export async function runQuantize(options: QuantizeOptions, services: PipelineServices): Promise<QuantizeResult> {
  const started = performance.now();
  await checkOutputFolder(options.output, options.force ?? false);
  refuseGraphFile(options.model);
  const sample = await readSample(options);

  const spec = await resolveModel(options.model, {
    modelFile: options.modelFile,
    offline: options.offline,
    progress: options.downloadProgress,
    onStatus: (message) => services.status(message),
  });
  refuseOverlap(options.output, spec.dir);
  const sourceGraph = relativeGraph(spec);
  const sourceBytes = await readFile(spec.onnxPath);
  const source = decodeModel(sourceBytes, spec.onnxPath);
  if ((source.graph?.initializer ?? []).some(isExternal)) {
    throw new SbertkitError(
      'the graph keeps its weights in external data files; quantize reads single-file graphs (sentence-transformers models are under the 2 GB protobuf limit and ship one .onnx file)',
      {file: spec.onnxPath, exitCode: EXIT.MODEL},
    );
  }
  const perChannel = options.perChannel ?? false;
  const {model, report} = quantizeDynamic(source, {
    perChannel,
    metadata: {'sbertkit.version': sbertkitVersion(), 'sbertkit.source_model': spec.name, ...(spec.revision ? {'sbertkit.source_revision': spec.revision} : {})},
  });
  if (report.quantizedNodes === 0) {
    throw new SbertkitError(`nothing to quantize: no MatMul or Gemm has a constant float32 2-D weight of at least ${MIN_WEIGHT_ELEMENTS} values${skippedText(report)}`, {
      file: spec.onnxPath,
      exitCode: EXIT.MODEL,
    });
  }
  const graphBytes = encodeModel(model);

  const onnxFile = outputGraphPath(sourceGraph);
  const staged = await stageModelFolder(spec.dir, options.output);
  try {
    const graphPath = join(staged.dir, onnxFile);
    await mkdir(dirname(graphPath), {recursive: true});
    await writeFile(graphPath, graphBytes);
    const quantizedSpec = readModelSpec(staged.dir, {name: options.output, modelFile: onnxFile});
    const cosines = await compareEmbeddings(spec, quantizedSpec, sample.texts, options.threads, services);
    const result: QuantizeResult = {
      model: spec.name,
      source_onnx: spec.onnxPath,
      output: options.output,
      onnx_file: onnxFile,
      weight_type: 'int8',
      activation_type: 'uint8',
      per_channel: perChannel,
      quantized_nodes: report.quantizedNodes,
      matmul: report.matMul,
      gemm: report.gemm,
      skipped: skippedCounts(report),
      size_before: sourceBytes.length,
      size_after: graphBytes.length,
      sample: sample.name,
      sample_sentences: sample.texts.length,
      cosine_min: cosines.min,
      cosine_mean: cosines.mean,
      seconds: 0,
    };
    await writeFile(join(staged.dir, QUANTIZE_CONFIG_FILE), `${JSON.stringify(quantizeConfig(spec, sourceGraph, report, result), null, 2)}\n`);
    await staged.commit();
    result.seconds = secondsSince(started);
    return result;
  } catch (error) {
    await staged.abort();
    throw error;
  }
}

/** The human summary line. */
export function quantizeSummary(r: QuantizeResult): string {
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return (
    `quantized ${r.quantized_nodes} MatMul/Gemm nodes to int8 (${r.per_channel ? 'per channel' : 'per tensor'}): ` +
    `${join(r.output, r.onnx_file)}, ${mib(r.size_before)} -> ${mib(r.size_after)}; ` +
    `cosine fp32 vs int8 on ${r.sample_sentences} ${r.sample === BUILTIN_SAMPLE ? 'built-in' : 'sample'} sentences: ` +
    `min ${r.cosine_min.toFixed(4)}, mean ${r.cosine_mean.toFixed(4)}; ${r.seconds.toFixed(1)} s`
  );
}

/** MODEL names a folder; someone passing the .onnx file itself is told how to say what they mean. */
function refuseGraphFile(model: string | undefined): void {
  if (model === undefined || !existsSync(model) || !statSync(model).isFile()) return;
  throw new SbertkitError(
    'MODEL is a file; give the model folder (configs and tokenizer are copied from it), a hub id or builtin:NAME, and --model-file for a graph inside the folder',
    {file: model, exitCode: EXIT.BAD_INPUT},
  );
}

interface Sample {
  name: string;
  texts: string[];
}

async function readSample(options: QuantizeOptions): Promise<Sample> {
  if (options.sample === undefined) return {name: BUILTIN_SAMPLE, texts: [...SAMPLE_SENTENCES]};
  const source = await openTexts(options.sample, {textColumn: options.textColumn, format: options.inputFormat, stdin: options.stdin});
  const texts: string[] = [];
  try {
    for await (const record of source.records) texts.push(record.text);
  } finally {
    await source.close();
  }
  if (texts.length === 0) throw new SbertkitError('the sample has no sentences', {file: source.file, exitCode: EXIT.BAD_INPUT});
  return {name: options.sample, texts};
}

/** Embeds the sample with each graph in turn (one model in memory at a time) and compares row by row. */
async function compareEmbeddings(
  fp32: ModelSpec,
  int8: ModelSpec,
  texts: string[],
  threads: number | undefined,
  services: PipelineServices,
): Promise<{min: number; mean: number}> {
  const bar = services.progress('comparing fp32 and int8 embeddings', 'sentences', texts.length * 2);
  const embed = async (spec: ModelSpec): Promise<Float32Array[]> => {
    const encoder = await Encoder.load(spec, {threads});
    try {
      const rows: Float32Array[] = [];
      for await (const chunk of encoder.embedStream(texts.map((text) => ({text})), {onBatch: (n) => bar.increment(n)})) {
        for (let r = 0; r < chunk.vectors.rows; r++) rows.push(chunk.vectors.row(r).slice());
      }
      return rows;
    } finally {
      await encoder.close();
    }
  };
  try {
    const a = await embed(fp32);
    const b = await embed(int8);
    let min = Infinity;
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const c = cosine(a[i]!, b[i]!);
      min = Math.min(min, c);
      sum += c;
    }
    return {min, mean: sum / a.length};
  } finally {
    bar.stop();
  }
}

/** Cosine in float64 (vectors/metric.ts), except that two zero vectors are the same embedding: 1. */
function cosine(a: Float32Array, b: Float32Array): number {
  return a.every((x) => x === 0) && b.every((x) => x === 0) ? 1 : similarity('cosine', a, b);
}

/** The graph's path inside its model folder, with forward slashes. */
function relativeGraph(spec: ModelSpec): string {
  const dir = resolve(spec.dir);
  return resolve(spec.onnxPath).slice(dir.length + 1).split('\\').join('/');
}

function skippedCounts(report: DynamicQuantizeReport): Partial<Record<SkipReason, number>> {
  const counts: Partial<Record<SkipReason, number>> = {};
  for (const s of report.skipped) counts[s.reason] = (counts[s.reason] ?? 0) + 1;
  return counts;
}

function skippedText(report: DynamicQuantizeReport): string {
  const counts = Object.entries(skippedCounts(report));
  return counts.length === 0 ? ' (the graph has none)' : ` (${counts.map(([reason, n]) => `${n} ${reason.replaceAll('-', ' ')}`).join(', ')})`;
}

/** quantize_config.json: where the folder came from and what was done to it. */
function quantizeConfig(spec: ModelSpec, sourceGraph: string, report: DynamicQuantizeReport, result: QuantizeResult): Record<string, unknown> {
  return {
    quantizer: 'sbertkit',
    sbertkit_version: sbertkitVersion(),
    source_model: spec.name,
    ...(spec.revision ? {source_revision: spec.revision} : {}),
    source_onnx_file: sourceGraph,
    onnx_file: result.onnx_file,
    method: 'dynamic',
    format: 'QOperator (DynamicQuantizeLinear + MatMulInteger)',
    op_types: ['MatMul', 'Gemm'],
    weight_type: result.weight_type,
    activation_type: result.activation_type,
    symmetric_weights: true,
    per_channel: result.per_channel,
    min_weight_elements: MIN_WEIGHT_ELEMENTS,
    quantized_nodes: report.quantizedNodes,
    matmul: report.matMul,
    gemm: report.gemm,
    quantized_weights: report.weights,
    skipped: result.skipped,
    size_before: result.size_before,
    size_after: result.size_after,
    check: {sample: result.sample, sentences: result.sample_sentences, cosine_min: result.cosine_min, cosine_mean: result.cosine_mean},
  };
}
