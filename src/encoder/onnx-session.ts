/**
 * Owns the onnxruntime-node session of a sentence encoder graph. The runtime itself is loaded lazily
 * by src/onnx/runtime.ts, so commands that never encode (and `--help`) do not pay for it.
 */
import {availableParallelism} from 'node:os';
import type * as Ort from 'onnxruntime-node';
import {EXIT, SbertkitError} from '../errors.js';
import {checkDevice, executionProviders, type Device} from '../onnx/device.js';
import {loadOrt, type OrtModule} from '../onnx/runtime.js';
import type {PoolingMode} from '../models/spec.js';
import {padBatch, type BatchInput, type TokenBatch} from './batch-input.js';
import {normalizeRows, poolBatch} from './pooling.js';

export {loadOrt};

/** Output names, in the order we prefer them when the graph does its own pooling or not. */
const POOLED_OUTPUT = 'sentence_embedding';
/** Inputs the encoder knows how to fill. */
const FED_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];
const TOKEN_OUTPUTS = ['token_embeddings', 'last_hidden_state'];

export type {BatchInput, TokenBatch};

/**
 * One batch for embed(): everything needed to go from packed token ids to finished vectors where the
 * session runs, so only rows x dim floats travel back (not rows x seqLen x dim token embeddings).
 */
export interface EmbedJob {
  tokens: TokenBatch;
  padId: number;
  /** How token embeddings are pooled; unused when the graph pools itself. */
  pooling: PoolingMode;
  normalize: boolean;
}

/** Row-major [rows, dim] sentence vectors. */
export interface EmbeddedRows {
  data: Float32Array;
  dim: number;
}

/** What the encoder needs from a session: one in-process session or a pool of them in workers. */
export interface BatchRunner {
  readonly outputName: string;
  readonly wantsTokenTypeIds: boolean;
  readonly pooledInGraph: boolean;
  /** Total ORT threads in use. */
  readonly threads: number;
  /** Batches that can usefully run at once. */
  readonly concurrency: number;
  /** Pads, runs, pools and (if asked) normalizes one batch. */
  embed(job: EmbedJob): Promise<EmbeddedRows>;
  close(): Promise<void>;
}

export interface BatchOutput {
  /** 'pooled': [rows, dim]; 'tokens': [rows, seqLen, dim]. */
  kind: 'pooled' | 'tokens';
  data: Float32Array;
  dim: number;
}

export class OnnxSession implements BatchRunner {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly outputName: string,
    readonly wantsTokenTypeIds: boolean,
    readonly threads: number,
  ) {}

  static async create(onnxPath: string, options: {threads?: number; device?: Device} = {}): Promise<OnnxSession> {
    const device = options.device ?? 'cpu';
    checkDevice(device);
    const ort = await loadOrt();
    const threads = options.threads && options.threads > 0 ? options.threads : availableParallelism();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnxPath, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        executionProviders: executionProviders(device),
      });
    } catch (error) {
      const what = device === 'cuda' ? 'cannot start ONNX Runtime on CUDA (is a GPU with CUDA 12 and cuDNN 9 present?)' : 'cannot load ONNX graph';
      throw new SbertkitError(`${what}: ${(error as Error).message.split('\n')[0]}`, {file: onnxPath, exitCode: EXIT.MODEL});
    }
    const inputs = session.inputNames;
    const missing = ['input_ids', 'attention_mask'].filter((name) => !inputs.includes(name));
    const unknown = inputs.filter((name) => !FED_INPUTS.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      await session.release();
      const problem = missing.length > 0 ? `has no ${missing.map((n) => `'${n}'`).join(', ')} input` : `needs inputs sbertkit does not feed (${unknown.join(', ')})`;
      throw new SbertkitError(`graph ${problem}; inputs are ${inputs.join(', ')}`, {file: onnxPath, exitCode: EXIT.MODEL});
    }
    const outputs = session.outputNames;
    const outputName = outputs.includes(POOLED_OUTPUT) ? POOLED_OUTPUT : (TOKEN_OUTPUTS.find((o) => outputs.includes(o)) ?? outputs[0]!);
    return new OnnxSession(ort, session, outputName, inputs.includes('token_type_ids'), threads);
  }

  get pooledInGraph(): boolean {
    return this.outputName === POOLED_OUTPUT;
  }

  /** run() occupies this thread, so one batch at a time. */
  get concurrency(): number {
    return 1;
  }

  async embed(job: EmbedJob): Promise<EmbeddedRows> {
    const input = padBatch(job.tokens, job.padId, this.wantsTokenTypeIds);
    const output = await this.run(input);
    // Graph-pooled output is already [rows, dim]; its data is ours to normalize in place.
    const data = output.kind === 'pooled' ? output.data : poolBatch(output.data, input.rows, input.seqLen, output.dim, job.tokens.lengths, job.pooling);
    if (job.normalize) normalizeRows(data, output.dim);
    return {data, dim: output.dim};
  }

  /** The graph's raw output for padded inputs. */
  async run(batch: BatchInput): Promise<BatchOutput> {
    const {Tensor} = this.ort;
    const dims = [batch.rows, batch.seqLen];
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new Tensor('int64', batch.inputIds, dims),
      attention_mask: new Tensor('int64', batch.attentionMask, dims),
    };
    if (this.wantsTokenTypeIds) feeds.token_type_ids = new Tensor('int64', batch.tokenTypeIds ?? new BigInt64Array(batch.inputIds.length), dims);
    let result: Ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds, [this.outputName]);
    } catch (error) {
      throw new SbertkitError(`ONNX Runtime failed on a batch of ${batch.rows}x${batch.seqLen}: ${(error as Error).message.split('\n')[0]}`, {exitCode: EXIT.MODEL});
    }
    const tensor = result[this.outputName]!;
    const data = tensor.data as Float32Array;
    const shape = tensor.dims;
    if (shape.length === 2) return {kind: 'pooled', data, dim: shape[1]!};
    if (shape.length === 3) return {kind: 'tokens', data, dim: shape[2]!};
    throw new SbertkitError(`output '${this.outputName}' has unexpected shape [${shape.join(', ')}]`, {exitCode: EXIT.MODEL});
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
