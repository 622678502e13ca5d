/**
 * Full rows of dot products, query block by query block: scores = queries . corpus^T on ONNX Runtime
 * (one Gemm, corpus passed as a view, never copied or transposed). For algorithms that must see every
 * score of a row above a threshold (community detection), where a top-k list would have to grow to
 * the whole corpus. Memory is the caller's: one block is rows x corpus float32, so callers size the
 * query block from a budget (rowsForBudget).
 */
import type * as Ort from 'onnxruntime-node';
import {SbertkitError} from '../errors.js';
import {GraphBuilder} from '../onnx/graph-builder.js';
import {loadOrt, type OrtModule} from '../onnx/runtime.js';
import type {VectorMatrix} from './matrix.js';

/** Score values per block: 16 Mi float32 = 64 MiB, the size of exact search's default block. */
export const SCORE_BLOCK_VALUES = 16 * 1024 * 1024;

/** Query rows per block so that one block of scores against `corpusRows` stays within the budget. */
export function rowsForBudget(corpusRows: number, budget = SCORE_BLOCK_VALUES): number {
  return Math.max(1, Math.min(4096, Math.floor(budget / Math.max(1, corpusRows))));
}

export class ScoreRows {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly counter: Ort.InferenceSession | undefined,
  ) {}

  /**
   * Sessions for a run; `threads` = ONNX Runtime intra-op threads (default: all cores). With
   * `countThreshold`, count() is available too.
   */
  static async create(threads?: number, countThreshold?: number): Promise<ScoreRows> {
    const ort = await loadOrt();
    const options: Ort.InferenceSession.SessionOptions = {graphOptimizationLevel: 'all', executionMode: 'sequential', executionProviders: ['cpu']};
    if (threads !== undefined) options.intraOpNumThreads = threads;
    const g = new GraphBuilder('dot_rows');
    const q = g.input('queries', 'float32', ['q', 'd']);
    const c = g.input('corpus', 'float32', ['c', 'd']);
    g.op('Gemm', [q, c], {transB: 1}, 'scores');
    g.output('scores', 'float32', ['q', 'c']);
    const session = await ort.InferenceSession.create(g.toBytes(17), options);
    let counter: Ort.InferenceSession | undefined;
    if (countThreshold !== undefined) {
      // Counting in the graph: no rows x corpus score block leaves ONNX Runtime, and no JS loop
      // scans it. The comparison is float32 >= float32 like theirs; the float sum is exact below
      // 2^24 rows.
      const h = new GraphBuilder('count_at_threshold');
      const hq = h.input('queries', 'float32', ['q', 'd']);
      const hc = h.input('corpus', 'float32', ['c', 'd']);
      const scores = h.op('Gemm', [hq, hc], {transB: 1});
      const weights = h.input('weights', 'float32', [1, 'c']);
      const hit = h.op('Cast', [h.op('GreaterOrEqual', [scores, h.scalar('threshold', Math.fround(countThreshold))])], {to: 1});
      const weighted = h.op('Mul', [hit, weights]);
      h.op('ReduceSum', [weighted, h.ints('axes', [1])], {keepdims: 0}, 'counts');
      h.output('counts', 'float32', ['q']);
      // Per corpus row too: a self count over the upper triangle of blocks gets both sides of a pair
      // from one product (with weights all 1).
      h.op('ReduceSum', [weighted, h.ints('axes0', [0])], {keepdims: 0}, 'column_counts');
      h.output('column_counts', 'float32', ['c']);
      counter = await ort.InferenceSession.create(h.toBytes(17), options);
    }
    return new ScoreRows(ort, session, counter);
  }

  /**
   * For each of `rows` query vectors, how many corpus rows score >= the countThreshold given to
   * create(), among the rows whose weight is 1 (weights: one 0/1 per corpus row); and for each corpus
   * row, how many of the queries reach it.
   */
  async count(queries: Float32Array, rows: number, corpus: VectorMatrix, weights: Float32Array): Promise<{rows: Float32Array; columns: Float32Array}> {
    return this.countRange(queries, rows, corpus.data, corpus.rows, weights);
  }

  /** count() against corpus rows given as row-major data (a view of some rows of a matrix). */
  async countRange(queries: Float32Array, rows: number, corpus: Float32Array, corpusRows: number, weights: Float32Array): Promise<{rows: Float32Array; columns: Float32Array}> {
    if (this.counter === undefined) throw new Error('ScoreRows.count needs a countThreshold at create()');
    const d = corpusRows === 0 ? 0 : corpus.length / corpusRows;
    const feeds = {
      queries: new this.ort.Tensor('float32', queries.subarray(0, rows * d), [rows, d]),
      corpus: new this.ort.Tensor('float32', corpus, [corpusRows, d]),
      weights: new this.ort.Tensor('float32', weights.subarray(0, corpusRows), [1, corpusRows]),
    };
    try {
      const out = await this.counter.run(feeds);
      return {rows: out.counts!.data as Float32Array, columns: out.column_counts!.data as Float32Array};
    } catch (error) {
      throw new SbertkitError(`vector products failed: ${(error as Error).message.split('\n')[0]}`, {exitCode: 70});
    }
  }

  /** `rows` query vectors (row-major in `queries`) against every corpus row: [rows, corpus.rows] scores. */
  async run(queries: Float32Array, rows: number, corpus: VectorMatrix): Promise<Float32Array> {
    const d = corpus.dimension;
    const feeds = {
      queries: new this.ort.Tensor('float32', queries.subarray(0, rows * d), [rows, d]),
      corpus: new this.ort.Tensor('float32', corpus.data, [corpus.rows, d]),
    };
    try {
      const out = await this.session.run(feeds);
      return out.scores!.data as Float32Array;
    } catch (error) {
      throw new SbertkitError(`vector products failed: ${(error as Error).message.split('\n')[0]}`, {exitCode: 70});
    }
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.counter?.release();
  }
}
