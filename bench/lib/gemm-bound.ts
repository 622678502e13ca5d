/**
 * The box's fp32 GEMM bound for a BERT-layout encoder: the FLOPs a sentence of L tokens costs (from
 * the model's shape alone), and an ONNX graph that is nothing but the encoder's dense MatMuls in a
 * chain, so onnxruntime's own sgemm on this machine says how fast those FLOPs can go. An encoder that
 * also tokenizes, pads, runs attention, softmax, LayerNorm, GELU and pools cannot beat it.
 */
import {Worker} from 'node:worker_threads';
import type {OrtModule} from '../../src/onnx/runtime.js';
import {GraphBuilder} from '../../src/onnx/graph-builder.js';

export interface EncoderShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
}

/** Dense FLOPs per token: Q, K, V and output projections (4 h x h) and the FFN (h x i, i x h), 2 per MAC. */
export function denseFlopsPerToken(s: EncoderShape): number {
  return 2 * s.layers * (4 * s.hidden * s.hidden + 2 * s.hidden * s.intermediate);
}

/** Attention's two batched products (Q Kᵀ and P V) for one sentence of `length` tokens: heads x L x L x d each. */
export function attentionFlops(s: EncoderShape, length: number): number {
  return 2 * s.layers * 2 * length * length * s.hidden;
}

/** GEMM FLOPs of one sentence (softmax, LayerNorm, GELU, embeddings and pooling not counted). */
export function sentenceFlops(s: EncoderShape, length: number): number {
  return length * denseFlopsPerToken(s) + attentionFlops(s, length);
}

/**
 * X[rows, h] through, per layer, h x h four times then h x i and i x h: every dense product of the
 * encoder with its real shapes, each feeding the next so none can be skipped. Weights are uniform with
 * variance 1/fan-in, so activations keep their scale (no overflow, no denormals) through 36 products.
 */
export function gemmChainGraph(s: EncoderShape, seed = 12): Uint8Array {
  const g = new GraphBuilder('gemm_chain');
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const weight = (name: string, rows: number, cols: number): string => {
    const scale = Math.sqrt(12 / rows);
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = uniform() * scale;
    return g.initializer(name, {type: 'float32', dims: [rows, cols], data});
  };
  let x = g.input('x', 'float32', ['rows', s.hidden]);
  for (let layer = 0; layer < s.layers; layer++) {
    for (const name of ['q', 'k', 'v', 'o']) x = g.op('MatMul', [x, weight(`l${layer}_${name}`, s.hidden, s.hidden)]);
    x = g.op('MatMul', [x, weight(`l${layer}_ffn_in`, s.hidden, s.intermediate)]);
    x = g.op('MatMul', [x, weight(`l${layer}_ffn_out`, s.intermediate, s.hidden)], {}, layer === s.layers - 1 ? 'y' : undefined);
  }
  g.output('y', 'float32', ['rows', s.hidden]);
  return g.toBytes(17);
}

/** How the chain uses the cores: intra-op threads of one session, or one single-threaded session per core (sbertkit's layout). */
export type GemmLayout = 'intra-op' | 'sessions';

/** Runs the chain over any number of token rows, in blocks of `blockRows`, in either layout. */
export class GemmChain {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Awaited<ReturnType<OrtModule['InferenceSession']['create']>>,
    private readonly workers: Worker[],
    private readonly hidden: number,
    private readonly blockRows: number,
    private readonly block: Float32Array,
  ) {}

  static async create(ort: OrtModule, shape: EncoderShape, options: {threads: number; blockRows: number}): Promise<GemmChain> {
    const graph = gemmChainGraph(shape);
    const session = await ort.InferenceSession.create(graph, {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const workers = await Promise.all(
      Array.from({length: options.threads}, async () => {
        const worker = new Worker(new URL('./gemm-worker.js', import.meta.url), {workerData: {graph, hidden: shape.hidden, blockRows: options.blockRows}});
        await reply(worker);
        return worker;
      }),
    );
    const block = new Float32Array(options.blockRows * shape.hidden);
    for (let i = 0; i < block.length; i++) block[i] = Math.sin(i) * 0.5;
    return new GemmChain(ort, session, workers, shape.hidden, options.blockRows, block);
  }

  /** Pushes `rows` token rows through the chain (the last block may be short). */
  async run(rows: number, layout: GemmLayout): Promise<void> {
    const blocks: number[] = [];
    for (let done = 0; done < rows; done += this.blockRows) blocks.push(Math.min(this.blockRows, rows - done));
    if (layout === 'sessions') {
      // Each worker pulls the next block when it is free, as the encoder's lanes pull batches: a fixed
      // split would leave one core idle whenever the other worker is descheduled on a busy machine.
      let next = 0;
      await Promise.all(
        this.workers.map(async (worker) => {
          while (next < blocks.length) {
            const done = reply(worker);
            worker.postMessage({rows: [blocks[next++]!]});
            await done;
          }
        }),
      );
      return;
    }
    for (const n of blocks) {
      const x = new this.ort.Tensor('float32', this.block.subarray(0, n * this.hidden), [n, this.hidden]);
      const out = await this.session.run({x});
      for (const tensor of Object.values(out)) tensor.dispose();
    }
  }

  async close(): Promise<void> {
    await this.session.release();
    await Promise.all(this.workers.map((worker) => new Promise((resolve) => {
      worker.once('exit', resolve);
      worker.postMessage('close');
    })));
  }
}

function reply(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => reject(error);
    worker.once('error', fail);
    worker.once('message', (message) => {
      worker.off('error', fail);
      resolve(message);
    });
  });
}
