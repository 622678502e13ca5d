/**
 * src/encoder: model folder -> tokenizer + ONNX Runtime sessions (in worker threads above one thread)
 * -> `embed(texts)` returning a VectorMatrix, and `embedStream(records)` doing the windowed length sort,
 * token-budget batching, order restoration, pooling and normalization (eager: small first window,
 * rows out as soon as their prefix is done, windows cut when the input stalls; windows.ts). Options add a prompt in front
 * of every text (prompt.ts), chunk or refuse texts over max_seq_length (chunking.ts, overflow-error.ts)
 * and keep the first dimensions of Matryoshka vectors. Depends on models/ (the ModelSpec) and
 * vectors/matrix; knows nothing about files, flags or oclif.
 *
 * The shared sentence encoder: tokenizer + ONNX session + pooling, with windowed length-sorted
 * batching. It knows nothing about files or flags; commands hand it texts or a record stream.
 */
import {availableParallelism} from 'node:os';
import {EXIT, SbertkitError} from '../errors.js';
import type {ModelSpec} from '../models/spec.js';
import {packBatch} from './batch-input.js';
import {planBatches} from './batching.js';
import {readWindows} from './windows.js';
import {OnnxSession, type BatchRunner} from './onnx-session.js';
import {SessionPool} from './session-pool.js';
import type {Device} from '../onnx/device.js';
import {l2Normalize} from './pooling.js';
import {TextChunker, weightedMean} from './chunking.js';
import {TextOverflowError} from './overflow-error.js';
import {resolvePrompt, type ResolvedPrompt} from './prompt.js';
import {TextTokenizer, type TokenizedText} from './tokenize.js';
import {VectorMatrix} from '../vectors/matrix.js';
import {
  addStats,
  emptyStats,
  OVERFLOW_MODES,
  type EmbedStreamOptions,
  type EmbeddedChunk,
  type Embeddings,
  type EncoderOptions,
  type OverflowMode,
  type SentenceEncoder,
} from './types.js';

export const ENCODER_DEFAULTS = {batchSize: 32, maxTokens: 16_384, windowSize: 4096} as const;

/**
 * The first planning stage of a window holds this many batches: enough model work to keep the workers
 * busy while the main thread tokenizes the next, twice as large, stage (tokenizing a text costs ~1/20
 * to 1/100 of running it through MiniLM-L6 on one core, bench/encode --profile). Not a function of
 * the thread count, so neither are the batches.
 */
export const FIRST_STAGE_BATCHES = 8;
/**
 * Mean tokens per text from which one session with intra-op threads beats one single-threaded session
 * per thread: on 2 cores (quiet box) sessions per core were 1.19x faster at 16 tokens, 1.10x at 64,
 * 1.08x at 128, and 0.89x at 256, so the crossover lies near 200.
 */
export const LONG_TEXT_TOKENS = 192;
/** Texts tokenized between two looks at the event loop (~3-5 ms of tokenizing for short sentences). */
const TOKENIZE_SLICE = 64;

/** The model inputs of one window of records, and how they map back to rows (filled in stages). */
interface WindowPlan {
  /** What runs through the model: one input per text, several for a chunked one. */
  inputs: TokenizedText[];
  /** Row r's inputs are inputs[first[r]] .. inputs[first[r + 1] - 1]. */
  first: number[];
  /** Window weights of chunked rows (undefined for rows with one input). */
  weights: Array<number[] | undefined>;
  /** Which row each input belongs to. */
  rowOf: number[];
  /** Real tokens of each row (all its inputs'), and whether it was truncated or chunked: chunks sum them. */
  rowTokens: number[];
  rowOverflow: Array<'truncated' | 'chunked' | undefined>;
}

export class Encoder implements SentenceEncoder {
  readonly normalized: boolean;
  readonly pooling: string;
  readonly prompt: ResolvedPrompt;
  readonly overflow: {mode: OverflowMode; overlap: number};
  readonly truncateDim?: number;
  private readonly batchSize: number;
  private readonly maxTokens: number;
  private readonly windowSize: number;
  private readonly chunker?: TextChunker;
  /** The model's own output size; `dimension` is smaller under truncateDim. */
  private fullDim = 0;
  /** Set once the first window has had its say on the session layout (chooseLayout). */
  private layoutChosen = false;

  private constructor(
    readonly spec: ModelSpec,
    private readonly tokenizer: TextTokenizer,
    private session: BatchRunner,
    options: EncoderOptions,
  ) {
    this.batchSize = positive(options.batchSize, ENCODER_DEFAULTS.batchSize, 'batch size');
    this.maxTokens = positive(options.maxTokens, ENCODER_DEFAULTS.maxTokens, 'max tokens');
    this.windowSize = positive(options.windowSize, ENCODER_DEFAULTS.windowSize, 'window size');
    this.normalized = options.normalize ?? spec.normalize;
    this.pooling = session.pooledInGraph ? 'graph' : spec.pooling;
    this.prompt = resolvePrompt(spec, options);
    const mode = options.onOverflow ?? 'truncate';
    if (!OVERFLOW_MODES.includes(mode)) throw new SbertkitError(`overflow mode must be one of ${OVERFLOW_MODES.join(', ')}, got ${String(mode)}`, {exitCode: EXIT.BAD_INPUT});
    if (options.chunkOverlap !== undefined && mode !== 'chunk') {
      throw new SbertkitError(`a chunk overlap applies only when long texts are chunked (overflow mode is ${mode})`, {exitCode: EXIT.BAD_INPUT});
    }
    this.overflow = {mode, overlap: options.chunkOverlap ?? 0};
    if (mode === 'chunk') this.chunker = new TextChunker(tokenizer, this.prompt.text, this.overflow.overlap);
    if (options.truncateDim !== undefined) this.truncateDim = positive(options.truncateDim, 0, 'truncate_dim');
  }

  /** Loads tokenizer and ONNX session for a resolved model folder. */
  static async load(spec: ModelSpec, options: EncoderOptions = {}): Promise<Encoder> {
    const maxLength = Math.min(options.maxSeqLength ?? spec.maxSeqLength, spec.maxSeqLength);
    const tokenizer = new TextTokenizer(spec, maxLength);
    const session = await openRunner(spec.onnxPath, options.threads, options.device ?? 'cpu');
    try {
      const encoder = new Encoder(spec, tokenizer, session, options);
      // The graph is the authority on the output size (configs can be missing or stale): probe it once.
      const probe = (await encoder.runBatch([tokenizer.tokenize('dimension probe')])).data;
      encoder.fullDim = probe.length;
      if (encoder.truncateDim !== undefined && encoder.truncateDim > encoder.fullDim) {
        throw new SbertkitError(`truncate_dim ${encoder.truncateDim} is more than the ${encoder.fullDim} dimensions of ${spec.name}`, {exitCode: EXIT.BAD_INPUT});
      }
      if (options.normalize === false && session.pooledInGraph && Math.abs(Math.hypot(...probe) - 1) < 1e-4) {
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
    return this.truncateDim ?? this.fullDim;
  }

  get threads(): number {
    return this.session.threads;
  }

  /** How the ONNX Runtime threads are used: parallel single-threaded sessions, or one session's intra-op threads. */
  get layout(): 'sessions' | 'intra-op' {
    return this.session instanceof SessionPool ? 'sessions' : 'intra-op';
  }

  get maxSeqLength(): number {
    return this.tokenizer.maxLength;
  }

  async embed(texts: readonly string[], options: Pick<EmbedStreamOptions, 'onBatch'> = {}): Promise<Embeddings> {
    const parts: VectorMatrix[] = [];
    const stats = emptyStats();
    for await (const chunk of this.embedStream(texts.map((text) => ({text})), {onBatch: options.onBatch})) {
      parts.push(chunk.vectors);
      addStats(stats, chunk.stats);
    }
    const stacked = VectorMatrix.concat(parts, this.dimension);
    // Chunks number their rows from 0; the whole result is numbered by text index.
    return {vectors: new VectorMatrix(texts.map((_, i) => i), this.dimension, stacked.data), stats};
  }

  async *embedStream<R extends {text: string}>(records: AsyncIterable<R> | Iterable<R>, options: EmbedStreamOptions = {}): AsyncGenerator<EmbeddedChunk<R>> {
    const eager = options.eager === true;
    // Eager: the first window is one batch, so the first row costs about one batch's time.
    const windows = readWindows(records, eager ? {first: this.batchSize, max: this.windowSize, stallMs: options.stallMs ?? 200} : {first: this.windowSize, max: this.windowSize});
    let offset = 0;
    for await (const window of windows) {
      yield* this.embedWindow(window, offset, options.onBatch, eager);
      offset += window.length;
    }
  }

  /**
   * Tokenizes a window and runs it in length-sorted batches. Yields its vectors in input order: the
   * whole window at once, or (eager) each run of rows as soon as it and every row before it are done.
   *
   * Tokenizing overlaps the model runs: the window is planned in stages of doubling size (planStages),
   * each stage length-sorted and cut into batches on its own, and the workers start on the first
   * stage's batches while the main thread tokenizes the next (in slices, yielding to the event loop
   * so finished batches are answered at once). The stages depend only on the window's size, so the
   * batches, and with them the vectors, are the same on every run.
   */
  private async *embedWindow<R extends {text: string}>(window: R[], offset: number, onBatch: ((rows: number) => void) | undefined, eager: boolean): AsyncGenerator<EmbeddedChunk<R>> {
    const plan = emptyPlan();
    const {inputs, first, rowOf} = plan;
    const fullDim = this.fullDim;
    // One input per row unless texts are chunked; grown (before any batch can write there) when they are.
    let outputs = new Float32Array(window.length * fullDim);
    // Inputs of each row still to run; -1 while the row is not planned yet. A chunked row is done when its last window is.
    const pending = new Array<number>(window.length).fill(-1);
    const queue: number[][] = [];
    let planned = false;
    // Up to `concurrency` batches in flight; each result lands at its own rows, so order is kept.
    let next = 0;
    let stopped = false;
    let failure: {error: unknown} | undefined;
    let wake: (() => void) | undefined;
    let idleLanes: Array<() => void> = [];
    const wakeLanes = (): void => {
      const waiting = idleLanes;
      idleLanes = [];
      waiting.forEach((resume) => resume());
    };
    const lane = async (): Promise<void> => {
      while (!stopped) {
        if (next >= queue.length) {
          if (planned) return;
          await new Promise<void>((resume) => idleLanes.push(resume));
          continue;
        }
        const batch = queue[next++]!;
        const {data} = await this.runBatch(batch.map((i) => inputs[i]!));
        let finished = 0;
        batch.forEach((index, k) => {
          outputs.set(data.subarray(k * fullDim, (k + 1) * fullDim), index * fullDim);
          if (--pending[rowOf[index]!]! === 0) finished++;
        });
        if (finished > 0) {
          onBatch?.(finished);
          wake?.();
        }
      }
    };
    // Started once the first stage is planned: its texts' lengths pick the session layout first.
    let lanes: Promise<void> | undefined;
    const startLanes = (): Promise<void> =>
      Promise.all(Array.from({length: this.session.concurrency}, lane)).then(
        () => undefined,
        (error: unknown) => {
          failure ??= {error};
          stopped = true;
          wake?.();
        },
      );
    let emitted = 0;
    let ready = 0;
    try {
      for (const [from, to] of planStages(window.length, this.batchSize * FIRST_STAGE_BATCHES)) {
        const firstInput = inputs.length;
        for (let at = from; at < to; at += TOKENIZE_SLICE) {
          // Let the lanes hand out batches between slices; the first stage has none to hand out yet.
          if (at > from && queue.length > next) await new Promise<void>((resume) => setImmediate(resume));
          if (stopped) break;
          this.planRows(plan, window, at, Math.min(to, at + TOKENIZE_SLICE), offset);
        }
        if (stopped) break;
        if (inputs.length * fullDim > outputs.length) {
          const grown = new Float32Array(Math.max(inputs.length * fullDim, 2 * outputs.length));
          grown.set(outputs);
          outputs = grown;
        }
        for (let r = from; r < to; r++) pending[r] = first[r + 1]! - first[r]!;
        const lengths = inputs.slice(firstInput).map((t) => t.ids.length);
        for (const batch of planBatches(lengths, {batchSize: this.batchSize, maxTokens: this.maxTokens})) queue.push(batch.map((i) => firstInput + i));
        if (lanes === undefined) {
          await this.chooseLayout(lengths);
          lanes = startLanes();
        }
        wakeLanes();
      }
      planned = true;
      wakeLanes();
      while (emitted < window.length) {
        if (failure !== undefined) throw failure.error;
        while (ready < window.length && pending[ready] === 0) ready++;
        if (ready > emitted && (eager || ready === window.length)) {
          const from = emitted;
          emitted = ready;
          yield this.chunkOf(window, plan, outputs, from, ready);
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      // The consumer may stop early, or planning failed: let batches in flight finish before the
      // session can be closed.
      stopped = true;
      planned = true;
      wakeLanes();
      await lanes;
    }
  }

  /** Rows from..to-1 of a window as a chunk numbered from 0, with their stats. */
  private chunkOf<R>(window: R[], plan: WindowPlan, outputs: Float32Array, from: number, to: number): EmbeddedChunk<R> {
    const dim = this.dimension;
    const data = new Float32Array((to - from) * dim);
    const stats = emptyStats();
    for (let r = from; r < to; r++) {
      data.set(this.rowVector(outputs, plan, r), (r - from) * dim);
      stats.rows++;
      stats.tokens += plan.rowTokens[r]!;
      if (plan.rowOverflow[r] === 'truncated') stats.truncated++;
      if (plan.rowOverflow[r] === 'chunked') stats.chunked++;
    }
    const records = from === 0 && to === window.length ? window : window.slice(from, to);
    return {records, vectors: new VectorMatrix(records.map((_, i) => i), dim, data), stats};
  }

  /**
   * Appends the model inputs of records from..to-1 of a window to its plan: the prompt goes in front
   * of each text, and a text longer than max_seq_length is truncated, cut into windows, or refused,
   * as the overflow mode says.
   */
  private planRows(plan: WindowPlan, window: readonly {text: string}[], from: number, to: number, offset: number): void {
    for (let r = from; r < to; r++) {
      const record = window[r]!;
      if (typeof record.text !== 'string') throw new SbertkitError(`record ${offset + r} has no text`, {exitCode: EXIT.BAD_INPUT});
      const text = this.prompt.text + record.text;
      const tokens = this.tokenizer.tokenize(text);
      let rowInputs: TokenizedText[] = [tokens];
      let weights: number[] | undefined;
      let overflow: 'truncated' | 'chunked' | undefined;
      // `truncated` may also mean "more text than the tokenizer was shown" (tokenize() reads a bounded
      // prefix), so the modes that need the whole text look at all of it before deciding.
      if (tokens.truncated && this.overflow.mode === 'error') {
        const whole = this.tokenizer.tokenizeWhole(text);
        if (whole.truncated) throw new TextOverflowError(whole.ids.length, this.maxSeqLength, offset + r, record);
        rowInputs = [whole];
      } else if (tokens.truncated && this.chunker) {
        const windows = this.chunker.windows(record.text);
        rowInputs = windows.inputs;
        if (rowInputs.length > 1) {
          weights = windows.weights;
          overflow = 'chunked';
        }
      } else if (tokens.truncated) {
        overflow = 'truncated';
      }
      plan.first[r] = plan.inputs.length;
      plan.weights.push(weights);
      plan.rowOverflow.push(overflow);
      let rowTokens = 0;
      for (const input of rowInputs) {
        plan.inputs.push(input);
        plan.rowOf.push(r);
        rowTokens += input.ids.length;
      }
      plan.rowTokens.push(rowTokens);
      // Row r's inputs end where row r + 1's begin (or, for the last row so far, at the end).
      plan.first[r + 1] = plan.inputs.length;
    }
  }

  /**
   * Row r's vector from its inputs' outputs: chunk windows averaged by weight (then normalized when
   * normalizing), then truncateDim's first dimensions, re-normalized when normalizing so the vectors
   * stay unit length as the metadata says.
   */
  private rowVector(outputs: Float32Array, plan: WindowPlan, r: number): Float32Array {
    const fullDim = this.fullDim;
    const start = plan.first[r]!;
    const count = plan.first[r + 1]! - start;
    const view = (i: number): Float32Array => outputs.subarray(i * fullDim, (i + 1) * fullDim);
    let vector: Float32Array;
    if (count === 1) {
      vector = view(start);
    } else {
      vector = weightedMean(Array.from({length: count}, (_, k) => view(start + k)), plan.weights[r]!);
      if (this.normalized) l2Normalize(vector);
    }
    if (this.truncateDim === undefined) return vector;
    const truncated = vector.slice(0, this.truncateDim);
    return this.normalized ? l2Normalize(truncated) : truncated;
  }

  /**
   * Once, on the first window's first stage: texts of LONG_TEXT_TOKENS or more on average run faster
   * as one session with intra-op threads than as one single-threaded session per thread (measured,
   * see README), so the worker pool is swapped for that. Vectors agree within 1e-5 either way.
   */
  private async chooseLayout(lengths: readonly number[]): Promise<void> {
    if (this.layoutChosen) return;
    this.layoutChosen = true;
    if (!(this.session instanceof SessionPool) || lengths.length === 0) return;
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    if (mean < LONG_TEXT_TOKENS) return;
    const single = await OnnxSession.create(this.spec.onnxPath, {threads: this.session.threads});
    const pool = this.session;
    this.session = single;
    await pool.close();
  }

  /**
   * One batch's vectors, [rows, fullDim]. The main thread only packs the ids; padding, the graph,
   * pooling and normalizing happen where the session runs (a worker thread, above one thread).
   */
  private runBatch(texts: TokenizedText[]): Promise<{data: Float32Array; dim: number}> {
    const tokens = packBatch(texts, this.session.wantsTokenTypeIds);
    return this.session.embed({tokens, padId: this.tokenizer.padId, pooling: this.spec.pooling, normalize: this.normalized});
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

function emptyPlan(): WindowPlan {
  return {inputs: [], first: [0], weights: [], rowOf: [], rowTokens: [], rowOverflow: []};
}

/**
 * Row ranges [from, to) covering a window of `length` rows: `head` rows, then stages twice as large
 * as the one before, the last taking what is left. A window of up to 2 x head rows is one stage,
 * so small windows (eager output, short inputs) are planned and sorted as a whole.
 */
export function planStages(length: number, head: number): Array<[number, number]> {
  const stages: Array<[number, number]> = [];
  let size = Math.max(1, head);
  let from = 0;
  while (from < length) {
    // A remainder smaller than the next stage joins this one, so no stage is a stub.
    const to = length - from < 2 * size ? length : from + size;
    stages.push([from, to]);
    from = to;
    size *= 2;
  }
  return stages;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new SbertkitError(`${what} must be a positive integer, got ${value}`, {exitCode: EXIT.BAD_INPUT});
  return value;
}
