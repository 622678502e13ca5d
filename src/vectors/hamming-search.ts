/**
 * Exact top-k search of a binary corpus (packed sign bits) by Hamming distance, with optional float
 * rescoring of the best candidates (sentence-transformers' rescoring of binary search).
 *
 * Scores: binary rows unpack to +1/-1 vectors (packed-bits.ts), and for two such vectors of d
 * dimensions at Hamming distance h, dot = d - 2h, cosine = (d - 2h) / d, euclidean = -2 sqrt(h) and
 * manhattan = -2h. So the score reported is the --metric between the unpacked corpus row and the
 * query's signs (a float query is binarized at 0, as quantize_embeddings does): exactly what a float
 * search over the unpacked vectors gives, found with popcounts instead of float products. Every
 * metric ranks by h; ties go to the lower corpus row, as in every backend.
 *
 * Rescoring (`rescore: N`): each query's max(N, k) nearest rows by Hamming distance are scored again
 * with the --metric between the float query and the unpacked +1/-1 corpus row, and the best k kept.
 * (For cosine, dot and euclidean that ranks like their dot product of the query with the 0/1 bits,
 * since sum(q) and |row| are the same for every row of one query.)
 *
 * Memory: the corpus as it is (bytes), a copy only when its rows are not whole 32-bit words, and a
 * heap of max(N, k) candidates per query. The loop runs in blocks of corpus rows, yielding to the
 * event loop between blocks so progress and signals get through.
 */
import {EXIT, SbertkitError} from '../errors.js';
import type {VectorMatrix} from './matrix.js';
import {similarity, type Metric} from './metric.js';
import {BitMatrix, popcount32} from './packed-bits.js';
import {TopK} from './top-k.js';

export interface HammingSearchOptions {
  k: number;
  metric: Metric;
  /** The queries are the corpus itself: a row is never its own neighbour. */
  selfSearch?: boolean;
  /** Rescore this many Hamming candidates per query with the float query (needs float queries). */
  rescore?: number;
  /** Corpus rows per block (default 16384). */
  corpusBlock?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The --metric of two +1/-1 vectors of `dimension` values at Hamming distance `h`. */
export function hammingScore(metric: Metric, dimension: number, h: number): number {
  switch (metric) {
    case 'dot':
      return dimension - 2 * h;
    case 'cosine':
      return dimension === 0 ? 0 : (dimension - 2 * h) / dimension;
    case 'euclidean':
      return -2 * Math.sqrt(h);
    case 'manhattan':
      return -2 * h;
  }
}

export async function hammingSearch(queries: VectorMatrix | BitMatrix, corpus: BitMatrix, options: HammingSearchOptions): Promise<TopK> {
  if (!Number.isInteger(options.k) || options.k < 1) throw new SbertkitError(`top-k must be a positive integer, got ${options.k}`, {exitCode: EXIT.BAD_INPUT});
  if (queries.dimension !== corpus.dimension && queries.rows > 0 && corpus.rows > 0) {
    throw new SbertkitError(`queries have dimension ${queries.dimension} but the corpus has ${corpus.dimension}`, {exitCode: EXIT.BAD_INPUT});
  }
  const rescore = options.rescore;
  if (rescore !== undefined && (!Number.isInteger(rescore) || rescore < 1)) throw new SbertkitError(`--rescore must be a positive integer, got ${rescore}`, {exitCode: EXIT.BAD_INPUT});
  const floatQueries = queries instanceof BitMatrix ? undefined : queries;
  if (rescore !== undefined && floatQueries === undefined) {
    throw new SbertkitError('--rescore needs float queries (texts or a float vector file); the queries are binary', {exitCode: EXIT.BAD_INPUT});
  }
  const available = Math.max(0, corpus.rows - (options.selfSearch ? 1 : 0));
  const k = Math.min(options.k, available);
  const result = new TopK(queries.rows, k);
  if (k === 0 || queries.rows === 0) return result;
  const candidates = Math.min(Math.max(rescore ?? 0, k), available);

  const queryBits = queries instanceof BitMatrix ? queries : BitMatrix.fromSigns(queries.ids, queries.dimension, queries.data);
  const heaps = await nearestByHamming(queryBits, corpus, candidates, options);

  const d = corpus.dimension;
  const scratch = new Float32Array(d);
  for (let q = 0; q < queries.rows; q++) {
    const heap = heaps[q]!;
    const rows = Array.from(heap.rows.subarray(0, heap.size));
    const distances = Array.from(heap.distances.subarray(0, heap.size));
    const order = rows.map((_, i) => i).sort((a, b) => distances[a]! - distances[b]! || rows[a]! - rows[b]!);
    let picked: {row: number; score: number}[];
    if (floatQueries !== undefined && rescore !== undefined) {
      const query = floatQueries.row(q);
      picked = order.map((i) => ({row: rows[i]!, score: Math.fround(similarity(options.metric, query, corpus.unpackRow(rows[i]!, scratch)))}));
      picked.sort((a, b) => b.score - a.score || a.row - b.row);
    } else {
      picked = order.map((i) => ({row: rows[i]!, score: Math.fround(hammingScore(options.metric, d, distances[i]!))}));
    }
    picked = picked.slice(0, k);
    result.merge(q, picked.map((p) => p.row), picked.map((p) => p.score), 0, picked.length, 0);
  }
  return result;
}

/** A bounded max-heap of (distance, row): the root is the worst candidate kept. */
interface CandidateHeap {
  distances: Int32Array;
  rows: Int32Array;
  size: number;
}

/**
 * Each query's `count` nearest corpus rows by Hamming distance, ties to the lower row. Rows are
 * scanned in increasing order, so a row at the same distance as the worst kept one never displaces it.
 */
async function nearestByHamming(queries: BitMatrix, corpus: BitMatrix, count: number, options: HammingSearchOptions): Promise<CandidateHeap[]> {
  const {words: corpusWords, wordsPerRow} = asWords(corpus);
  const {words: queryWords} = asWords(queries);
  const heaps: CandidateHeap[] = Array.from({length: queries.rows}, () => ({distances: new Int32Array(count), rows: new Int32Array(count), size: 0}));
  const block = options.corpusBlock ?? 16384;
  const total = queries.rows * corpus.rows;
  for (let start = 0; start < corpus.rows; start += block) {
    const end = Math.min(corpus.rows, start + block);
    for (let q = 0; q < queries.rows; q++) {
      const heap = heaps[q]!;
      const qBase = q * wordsPerRow;
      const skip = options.selfSearch ? q : -1;
      for (let r = start; r < end; r++) {
        if (r === skip) continue;
        let h = 0;
        const cBase = r * wordsPerRow;
        for (let w = 0; w < wordsPerRow; w++) h += popcount32(queryWords[qBase + w]! ^ corpusWords[cBase + w]!);
        if (heap.size < count) push(heap, h, r);
        else if (h < heap.distances[0]!) replaceRoot(heap, h, r);
      }
    }
    options.onProgress?.(queries.rows * end, total);
    // Let the progress bar draw and signals land between blocks.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return heaps;
}

/** The rows as 32-bit words: a view when they already are whole aligned words, else a zero-padded copy. */
function asWords(bits: BitMatrix): {words: Uint32Array; wordsPerRow: number} {
  const wordsPerRow = Math.ceil(bits.bytesPerRow / 4);
  if (bits.bytesPerRow % 4 === 0 && bits.data.byteOffset % 4 === 0) {
    return {words: new Uint32Array(bits.data.buffer, bits.data.byteOffset, bits.rows * wordsPerRow), wordsPerRow};
  }
  const padded = new Uint8Array(bits.rows * wordsPerRow * 4);
  for (let r = 0; r < bits.rows; r++) padded.set(bits.data.subarray(r * bits.bytesPerRow, (r + 1) * bits.bytesPerRow), r * wordsPerRow * 4);
  return {words: new Uint32Array(padded.buffer), wordsPerRow};
}

/** a is worse than b: farther, or as far and a higher row. */
function worse(heap: CandidateHeap, a: number, b: number): boolean {
  const da = heap.distances[a]!;
  const db = heap.distances[b]!;
  return da > db || (da === db && heap.rows[a]! > heap.rows[b]!);
}

function swap(heap: CandidateHeap, a: number, b: number): void {
  const d = heap.distances[a]!;
  heap.distances[a] = heap.distances[b]!;
  heap.distances[b] = d;
  const r = heap.rows[a]!;
  heap.rows[a] = heap.rows[b]!;
  heap.rows[b] = r;
}

function push(heap: CandidateHeap, distance: number, row: number): void {
  let i = heap.size++;
  heap.distances[i] = distance;
  heap.rows[i] = row;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(heap, i, parent)) break;
    swap(heap, i, parent);
    i = parent;
  }
}

function replaceRoot(heap: CandidateHeap, distance: number, row: number): void {
  heap.distances[0] = distance;
  heap.rows[0] = row;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let largest = i;
    if (left < heap.size && worse(heap, left, largest)) largest = left;
    if (right < heap.size && worse(heap, right, largest)) largest = right;
    if (largest === i) break;
    swap(heap, i, largest);
    i = largest;
  }
}
