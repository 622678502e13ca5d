/**
 * The one entry point for top-k search: exact (blocked products on ONNX Runtime) or approximate
 * (usearch HNSW). 'auto' takes the exact path until queries x corpus reaches ANN_AUTO_PAIRS score
 * computations (2e10: minutes of products at 384-d on 2 cores), where building an index pays off,
 * and always for manhattan, which has no ANN metric. Asking to load or save an index means ANN.
 * A binary corpus (packed sign bits) is always searched exactly by Hamming distance (hamming-search.ts).
 */
import {EXIT, SbertkitError} from '../errors.js';
import {AnnIndex, type AnnOptions} from './ann-index.js';
import {checkSameDimension, exactSearch, type ExactSearchOptions} from './exact-search.js';
import {hammingSearch} from './hamming-search.js';
import type {VectorMatrix} from './matrix.js';
import {BitMatrix} from './packed-bits.js';
import type {TopK} from './top-k.js';

export type SearchBackend = 'auto' | 'exact' | 'ann';

export const ANN_AUTO_PAIRS = 2e10;

export interface SearchOptions extends ExactSearchOptions {
  backend?: SearchBackend;
  /** Load this saved index instead of building one (ANN). */
  index?: string;
  /** Save the index built for the corpus here (ANN). */
  saveIndex?: string;
  ann?: Omit<AnnOptions, 'metric'>;
  /** Status lines ("building the index..."), since usearch blocks the event loop while it works. */
  onStatus?: (message: string) => void;
  /** Binary corpus: rescore this many Hamming candidates per query with the float query. */
  rescore?: number;
}

export interface SearchOutcome {
  top: TopK;
  backend: 'exact' | 'ann' | 'hamming';
  /** Seconds spent building or loading the index (ANN only). */
  indexSeconds?: number;
}

/** Queries and corpus are float matrices, or binary (BitMatrix) corpora with float or binary queries. */
export async function searchTopK(queries: VectorMatrix | BitMatrix, corpus: VectorMatrix | BitMatrix, options: SearchOptions): Promise<SearchOutcome> {
  if (corpus instanceof BitMatrix) {
    if (options.backend === 'ann' || options.index !== undefined || options.saveIndex !== undefined) {
      throw new SbertkitError('a binary corpus is searched exactly by Hamming distance; drop --ann, --index and --save-index', {exitCode: EXIT.BAD_INPUT});
    }
    return {top: await hammingSearch(queries, corpus, options), backend: 'hamming'};
  }
  if (options.rescore !== undefined) {
    throw new SbertkitError('--rescore is for binary corpora (encode --precision binary or ubinary); this corpus is read as floats', {exitCode: EXIT.BAD_INPUT});
  }
  // Binary queries come only with a binary corpus (a self search); a float corpus gets float queries.
  if (queries instanceof BitMatrix) throw new Error('binary queries need a binary corpus');
  const backend = chooseBackend(queries, corpus, options);
  if (backend === 'exact') return {top: await exactSearch(queries, corpus, options), backend};
  checkSameDimension(queries, corpus);
  const started = performance.now();
  const annOptions: AnnOptions = {...options.ann, metric: options.metric, threads: options.threads};
  let index: AnnIndex;
  if (options.index !== undefined) {
    options.onStatus?.(`loading the index ${options.index}`);
    index = await AnnIndex.load(options.index, corpus, annOptions);
  } else {
    options.onStatus?.(`building an approximate index over ${corpus.rows} rows`);
    index = await AnnIndex.build(corpus, annOptions);
    if (options.saveIndex !== undefined) await index.save(options.saveIndex, corpus);
  }
  const indexSeconds = (performance.now() - started) / 1000;
  const top = index.search(queries, options.k, options.selfSearch);
  options.onProgress?.(queries.rows * corpus.rows, queries.rows * corpus.rows);
  return {top, backend, indexSeconds};
}

function chooseBackend(queries: VectorMatrix, corpus: VectorMatrix, options: SearchOptions): 'exact' | 'ann' {
  const wantsIndex = options.index !== undefined || options.saveIndex !== undefined;
  if (options.backend === 'exact') {
    if (wantsIndex) throw new SbertkitError('--index and --save-index are for approximate search; drop --exact', {exitCode: EXIT.BAD_INPUT});
    return 'exact';
  }
  if (options.backend === 'ann' || wantsIndex) {
    if (options.metric === 'manhattan') throw new SbertkitError('approximate search has no manhattan metric; use --exact', {exitCode: EXIT.BAD_INPUT});
    return 'ann';
  }
  return options.metric !== 'manhattan' && queries.rows * corpus.rows >= ANN_AUTO_PAIRS ? 'ann' : 'exact';
}
