/**
 * Exact top-k search, blocked: query block x corpus block products on ONNX Runtime (a Gemm + TopK
 * graph built in code), merged into a running per-query top-k. Memory is bounded by the blocks, not
 * by queries x corpus: one score block is queryBlock x corpusBlock float32 (4 x 1024 x 16384 bytes =
 * 64 MiB by default) plus k entries per query.
 *
 * cosine runs as a dot product of unit-normalized copies; euclidean as 2 q.c - |q|^2 - |c|^2 = -|q-c|^2
 * (then -sqrt), so all three share the matrix product. manhattan has no product form: it runs the
 * scalar loop (src/vectors/metric.ts), O(queries x corpus x dim) in JS, much slower; say so to users.
 */
import type * as Ort from 'onnxruntime-node';
import {EXIT, SbertkitError} from '../errors.js';
import {GraphBuilder} from '../onnx/graph-builder.js';
import {loadOrt, type OrtModule} from '../onnx/runtime.js';
import {VectorMatrix} from './matrix.js';
import {normalizeRows, similarity, squaredNorms, type Metric} from './metric.js';
import {TopK} from './top-k.js';

export interface ExactSearchOptions {
  k: number;
  metric: Metric;
  /** Query rows per product (default 1024). */
  queryBlock?: number;
  /** Corpus rows per product (default 16384). */
  corpusBlock?: number;
  /** The queries are the corpus itself: a row is never its own neighbour (paraphrase mining). */
  selfSearch?: boolean;
  /** ONNX Runtime intra-op threads (default: all cores). */
  threads?: number;
  /** Called after each product with the query x corpus pairs scored so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

export const EXACT_SEARCH_DEFAULTS = {queryBlock: 1024, corpusBlock: 16384} as const;

export async function exactSearch(queries: VectorMatrix, corpus: VectorMatrix, options: ExactSearchOptions): Promise<TopK> {
  checkSameDimension(queries, corpus);
  if (!Number.isInteger(options.k) || options.k < 1) throw new SbertkitError(`top-k must be a positive integer, got ${options.k}`, {exitCode: EXIT.BAD_INPUT});
  const k = Math.min(options.k, Math.max(0, corpus.rows - (options.selfSearch ? 1 : 0)));
  const result = new TopK(queries.rows, k);
  if (k === 0 || queries.rows === 0) return result;
  if (options.metric === 'manhattan') return scalarSearch(queries, corpus, result, options);
  return productSearch(queries, corpus, result, options);
}

/** Queries and corpus must share a dimension (an empty side has none to disagree with). */
export function checkSameDimension(queries: VectorMatrix, corpus: VectorMatrix): void {
  if (queries.dimension !== corpus.dimension && queries.rows > 0 && corpus.rows > 0) {
    throw new SbertkitError(`queries have dimension ${queries.dimension} but the corpus has ${corpus.dimension}`, {exitCode: EXIT.BAD_INPUT});
  }
}

/** The product backends (cosine, dot, euclidean) on ONNX Runtime. */
async function productSearch(queries: VectorMatrix, corpus: VectorMatrix, result: TopK, options: ExactSearchOptions): Promise<TopK> {
  const searcher = await ProductSearcher.create(options.metric === 'euclidean', options.threads);
  try {
    const q = options.metric === 'cosine' ? normalizeRows(queries) : queries;
    const c = options.selfSearch ? q : options.metric === 'cosine' ? normalizeRows(corpus) : corpus;
    await searcher.searchInto(result, q, c, options);
    return result;
  } finally {
    await searcher.release();
  }
}

export interface ProductSearchOptions extends Omit<ExactSearchOptions, 'k' | 'metric' | 'threads'> {
  /** Query i's own row in the corpus (-1: none), never returned as its neighbour. */
  selfRows?: Int32Array;
}

/**
 * One Gemm + TopK session reused across many searches: algorithms that search many small
 * query/corpus pairs (dedupe's buckets) would otherwise pay a session build per pair. Scores are dot
 * products (callers pass unit rows for cosine), or negated euclidean distances.
 */
export class ProductSearcher {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly euclidean: boolean,
  ) {}

  static async create(euclidean: boolean, threads?: number): Promise<ProductSearcher> {
    const ort = await loadOrt();
    return new ProductSearcher(ort, await searchSession(ort, euclidean, threads), euclidean);
  }

  /**
   * Merges the top result.k corpus rows of every query into `result` (query i is result row i).
   * With selfSearch, query i never gets corpus row i; with selfRows, never corpus row selfRows[i]
   * (-1: none), for queries that are some rows of the corpus.
   */
  async searchInto(result: TopK, q: VectorMatrix, c: VectorMatrix, options: ProductSearchOptions = {}): Promise<void> {
    checkSameDimension(q, c);
    if (result.k === 0 || q.rows === 0 || c.rows === 0) return;
    const {ort, session, euclidean} = this;
    const qNorms = euclidean ? squaredNorms(q) : undefined;
    const cNorms = euclidean ? (options.selfSearch ? qNorms! : squaredNorms(c)) : undefined;
    const d = q.dimension;
    const qBlock = options.queryBlock ?? EXACT_SEARCH_DEFAULTS.queryBlock;
    const cBlock = options.corpusBlock ?? EXACT_SEARCH_DEFAULTS.corpusBlock;
    const total = q.rows * c.rows;
    let done = 0;
    for (let c0 = 0; c0 < c.rows; c0 += cBlock) {
      const c1 = Math.min(c.rows, c0 + cBlock);
      const corpusTensor = new ort.Tensor('float32', c.data.subarray(c0 * d, c1 * d), [c1 - c0, d]);
      // One more candidate than k when a query's own row may be among them.
      const kk = Math.min(result.k + (options.selfSearch || options.selfRows !== undefined ? 1 : 0), c1 - c0);
      const kTensor = new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]);
      const cNormTensor = cNorms === undefined ? undefined : new ort.Tensor('float32', cNorms.subarray(c0, c1), [1, c1 - c0]);
      for (let q0 = 0; q0 < q.rows; q0 += qBlock) {
        const q1 = Math.min(q.rows, q0 + qBlock);
        const feeds: Record<string, Ort.Tensor> = {queries: new ort.Tensor('float32', q.data.subarray(q0 * d, q1 * d), [q1 - q0, d]), corpus: corpusTensor, k: kTensor};
        if (euclidean) {
          feeds.query_norms = new ort.Tensor('float32', qNorms!.subarray(q0, q1), [q1 - q0, 1]);
          feeds.corpus_norms = cNormTensor!;
        }
        let out: Ort.InferenceSession.ReturnType;
        try {
          out = await session.run(feeds);
        } catch (error) {
          throw new SbertkitError(`vector search failed: ${(error as Error).message.split('\n')[0]}`, {exitCode: 70});
        }
        const scores = out.scores!.data as Float32Array;
        const indices = out.indices!.data as BigInt64Array;
        if (euclidean) for (let i = 0; i < scores.length; i++) scores[i] = -Math.sqrt(Math.max(0, -scores[i]!));
        for (let row = 0; row < q1 - q0; row++) {
          const self = options.selfRows !== undefined ? options.selfRows[q0 + row]! : options.selfSearch ? q0 + row : -1;
          result.merge(q0 + row, indices, scores, row * kk, kk, c0, self);
        }
        done += (q1 - q0) * (c1 - c0);
        options.onProgress?.(done, total);
      }
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * scores = queries . corpus^T (Gemm with transB, so corpus blocks are views, never transposed
 * copies), then TopK along the corpus axis: sorted best first, ties to the lower index (ONNX TopK).
 * For euclidean the scores become 2 q.c - |q|^2 - |c|^2 = -|q - c|^2 before the TopK.
 */
async function searchSession(ort: OrtModule, euclidean: boolean, threads: number | undefined): Promise<Ort.InferenceSession> {
  const g = new GraphBuilder(euclidean ? 'euclidean_top_k' : 'dot_top_k');
  const q = g.input('queries', 'float32', ['q', 'd']);
  const c = g.input('corpus', 'float32', ['c', 'd']);
  const k = g.input('k', 'int64', [1]);
  let scores = g.op('Gemm', [q, c], euclidean ? {transB: 1, alpha: {float: 2}} : {transB: 1});
  if (euclidean) {
    const qn = g.input('query_norms', 'float32', ['q', 1]);
    const cn = g.input('corpus_norms', 'float32', [1, 'c']);
    scores = g.op('Sub', [g.op('Sub', [scores, qn]), cn]);
  }
  g.node('TopK', [scores, k], {axis: 1, largest: 1, sorted: 1}, ['scores', 'indices']);
  g.output('scores', 'float32', ['q', 'k']);
  g.output('indices', 'int64', ['q', 'k']);
  const options: Ort.InferenceSession.SessionOptions = {graphOptimizationLevel: 'all', executionMode: 'sequential', executionProviders: ['cpu']};
  if (threads !== undefined) options.intraOpNumThreads = threads;
  return ort.InferenceSession.create(g.toBytes(17), options);
}

/** manhattan: the scalar loop, block by block so progress and memory stay like the product path. */
function scalarSearch(queries: VectorMatrix, corpus: VectorMatrix, result: TopK, options: ExactSearchOptions): TopK {
  const block = 256;
  const kk = result.k + (options.selfSearch ? 1 : 0);
  const total = queries.rows * corpus.rows;
  let done = 0;
  for (let c0 = 0; c0 < corpus.rows; c0 += block) {
    const c1 = Math.min(corpus.rows, c0 + block);
    const order = new Int32Array(c1 - c0);
    const scores = new Float32Array(c1 - c0);
    for (let q = 0; q < queries.rows; q++) {
      const a = queries.row(q);
      for (let j = c0; j < c1; j++) scores[j - c0] = similarity(options.metric, a, corpus.row(j));
      for (let j = 0; j < order.length; j++) order[j] = j;
      const sorted = Array.from(order).sort((x, y) => scores[y]! - scores[x]! || x - y);
      const n = Math.min(kk, sorted.length);
      const idx = Int32Array.from(sorted.slice(0, n));
      const sc = Float32Array.from(idx, (j) => scores[j]!);
      result.merge(q, idx, sc, 0, n, c0, options.selfSearch ? q : -1);
    }
    done += queries.rows * (c1 - c0);
    options.onProgress?.(done, total);
  }
  return result;
}
