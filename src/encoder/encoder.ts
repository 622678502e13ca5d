/**
 * src/encoder: model folder -> tokenizer + ONNX Runtime sessions (in worker threads above one thread)
 * -> `embed(texts)` returning a VectorMatrix, and `embedStream(records)` doing the windowed length sort,
 * token-budget batching, order restoration, pooling and normalization. Depends on models/ (the
 * ModelSpec) and vectors/matrix; knows nothing about files, flags or oclif.
 *
 * The shared sentence encoder: tokenizer + ONNX session + pooling, with windowed length-sorted
 * batching. It knows nothing about files or flags; commands hand it texts or a record stream.
 */
import {availableParallelism} from 'node:os';
import {EXIT, SbertkitError} from '../errors.js';
import type {ModelSpec, PoolingMode} from '../models/spec.js';
import {buildBatchInput} from './batch-input.js';
import {planBatches} from './batching.js';
import {OnnxSession, type BatchRunner} from './onnx-session.js';
import {SessionPool} from './session-pool.js';
import type {Device} from '../onnx/device.js';
import {l2Normalize, poolTokens} from './pooling.js';
import {TextTokenizer, type TokenizedText} from './tokenize.js';
import {VectorMatrix} from '../vectors/matrix.js';
import {addStats, emptyStats, type EmbedStreamOptions, type EmbeddedChunk, type Embeddings, type EncoderOptions, type SentenceEncoder} from './types.js';

export const ENCODER_DEFAULTS = {batchSize: 32, maxTokens: 16_384, windowSize: 4096} as const;

export class Encoder implements SentenceEncoder {
  readonly normalized: boolean;
  readonly pooling: string;
  private readonly batchSize: number;
  private readonly maxTokens: number;
  private readonly windowSize: number;
  private dim = 0;

  private constructor(
    readonly spec: ModelSpec,
    private readonly tokenizer: TextTokenizer,
    private readonly session: BatchRunner,
    options: EncoderOptions,
  ) {
    this.batchSize = positive(options.batchSize, ENCODER_DEFAULTS.batchSize, 'batch size');
    this.maxTokens = positive(options.maxTokens, ENCODER_DEFAULTS.maxTokens, 'max tokens');
    this.windowSize = positive(options.windowSize, ENCODER_DEFAULTS.windowSize, 'window size');
    this.normalized = options.normalize ?? spec.normalize;
    this.pooling = session.pooledInGraph ? 'graph' : spec.pooling;
  }

  /** Loads tokenizer and ONNX session for a resolved model folder. */
  static async load(spec: ModelSpec, options: EncoderOptions = {}): Promise<Encoder> {
    const maxLength = Math.min(options.maxSeqLength ?? spec.maxSeqLength, spec.maxSeqLength);
    const tokenizer = new TextTokenizer(spec, maxLength);
    const session = await openRunner(spec.onnxPath, options.threads, options.device ?? 'cpu');
    try {
      const encoder = new Encoder(spec, tokenizer, session, options);
      // The graph is the authority on the output size (configs can be missing or stale): probe it once.
      const [probe] = await encoder.runBatch([tokenizer.tokenize('dimension probe')]);
      encoder.dim = probe!.length;
      if (options.normalize === false && session.pooledInGraph && Math.abs(Math.hypot(...probe!) - 1) < 1e-4) {
        // The graph pools and normalizes itself; pretending otherwise would mislabel the output.
        throw new SbertkitError(`${spec.name} normalizes inside its ONNX graph (sentence_embedding output); --no-normalize cannot undo that`, {
          exitCode: EXIT.BAD_INPUT,
        });
      }
      return encoder;
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  get dimension(): number {
    return this.dim;
  }

  get threads(): number {
    return this.session.threads;
  }

  get maxSeqLength(): number {
    return this.tokenizer.maxLength;
  }

  async embed(texts: readonly string[]): Promise<Embeddings> {
    const parts: VectorMatrix[] = [];
    const stats = emptyStats();
    for await (const chunk of this.embedStream(texts.map((text) => ({text})))) {
      parts.push(chunk.vectors);
      addStats(stats, chunk.stats);
    }
    const stacked = VectorMatrix.concat(parts, this.dim);
    // Chunks number their rows from 0; the whole result is numbered by text index.
    return {vectors: new VectorMatrix(texts.map((_, i) => i), this.dim, stacked.data), stats};
  }

  async *embedStream<R extends {text: string}>(records: AsyncIterable<R> | Iterable<R>, options: EmbedStreamOptions = {}): AsyncGenerator<EmbeddedChunk<R>> {
    let window: R[] = [];
    for await (const record of records) {
      window.push(record);
      if (window.length >= this.windowSize) {
        yield await this.embedWindow(window, options.onBatch);
        window = [];
      }
    }
    if (window.length > 0) yield await this.embedWindow(window, options.onBatch);
  }

  /** Tokenizes a window, runs it in length-sorted batches, and returns its vectors in input order. */
  private async embedWindow<R extends {text: string}>(window: R[], onBatch?: (rows: number) => void): Promise<EmbeddedChunk<R>> {
    const tokenized = window.map((record, i) => {
      if (typeof record.text !== 'string') throw new SbertkitError(`record ${i} has no text`, {exitCode: EXIT.BAD_INPUT});
      return this.tokenizer.tokenize(record.text);
    });
    const dim = this.dim;
    const data = new Float32Array(window.length * dim);
    const plan = planBatches(tokenized.map((t) => t.ids.length), {batchSize: this.batchSize, maxTokens: this.maxTokens});
    // Up to `concurrency` batches in flight; each result lands at its own rows, so order is kept.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < plan.length) {
        const batch = plan[next++]!;
        const results = await this.runBatch(batch.map((i) => tokenized[i]!));
        batch.forEach((index, k) => data.set(results[k]!, index * dim));
        onBatch?.(batch.length);
      }
    };
    await Promise.all(Array.from({length: Math.min(this.session.concurrency, plan.length)}, lane));
    const stats = emptyStats();
    for (const t of tokenized) {
      stats.rows++;
      stats.tokens += t.ids.length;
      if (t.truncated) stats.truncated++;
    }
    return {records: window, vectors: new VectorMatrix(window.map((_, i) => i), dim, data), stats};
  }

  /** Pads one batch on the right, runs the graph, pools and normalizes. */
  private async runBatch(texts: TokenizedText[]): Promise<Float32Array[]> {
    const input = buildBatchInput(texts, this.tokenizer.padId, this.session.wantsTokenTypeIds);
    const {rows, seqLen} = input;
    const output = await this.session.run(input);
    const vectors =
      output.kind === 'pooled'
        ? Array.from({length: rows}, (_, r) => output.data.slice(r * output.dim, (r + 1) * output.dim))
        : poolTokens(output.data, rows, seqLen, output.dim, texts.map((t) => t.ids.length), this.spec.pooling as PoolingMode);
    if (this.normalized) vectors.forEach(l2Normalize);
    return vectors;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/**
 * One in-process session for a single thread; otherwise one single-threaded session per thread in
 * worker threads, which measured ~1.4x faster than one session with intra-op threads on short texts.
 * On CUDA one in-process session: the GPU runs a batch's work in parallel itself.
 */
async function openRunner(onnxPath: string, threads: number | undefined, device: Device): Promise<BatchRunner> {
  if (device === 'cuda') return OnnxSession.create(onnxPath, {threads, device});
  const total = threads && threads > 0 ? threads : availableParallelism();
  return total === 1 ? OnnxSession.create(onnxPath, {threads: 1}) : SessionPool.create(onnxPath, total, 1);
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new SbertkitError(`${what} must be a positive integer, got ${value}`, {exitCode: EXIT.BAD_INPUT});
  return value;
}
