/**
 * Approximate search on usearch (HNSW, prebuilt native binaries, loaded lazily). usearch speaks
 * distances; this adapter turns them back into the similarities every backend returns (higher is
 * closer): cos 1 - d, ip 1 - d, l2sq -sqrt(d). manhattan has no usearch metric: exact only.
 *
 * An index is built for one corpus and can be saved beside a small JSON sidecar (rows, dimension,
 * metric, a sha256 of the corpus vectors), so --index refuses an index of another corpus instead of
 * returning rows that do not exist.
 */
import {createHash} from 'node:crypto';
import {readFile, rename, writeFile} from 'node:fs/promises';
import {availableParallelism} from 'node:os';
import type {Index as UsearchIndex} from 'usearch';
import {EXIT, SbertkitError} from '../errors.js';
import type {VectorMatrix} from './matrix.js';
import type {Metric} from './metric.js';
import {TopK} from './top-k.js';

export interface AnnOptions {
  metric: Metric;
  /** HNSW graph degree (default 16). */
  connectivity?: number;
  /** Candidates kept while inserting (default 128). */
  expansionAdd?: number;
  /** Candidates kept while searching (default 256; higher is slower and closer to exact). */
  expansionSearch?: number;
  threads?: number;
}

export const ANN_DEFAULTS = {connectivity: 16, expansionAdd: 128, expansionSearch: 256} as const;

interface Sidecar {
  format: 'sbertkit-ann-1';
  rows: number;
  dimension: number;
  metric: Metric;
  corpus_sha256: string;
}

const USEARCH_METRIC = {cosine: 'cos', dot: 'ip', euclidean: 'l2sq'} as const;

type UsearchModule = typeof import('usearch');

async function loadUsearch(): Promise<UsearchModule> {
  try {
    return await import('usearch');
  } catch (error) {
    throw new SbertkitError(`approximate search needs the usearch package, which did not load: ${(error as Error).message.split('\n')[0]}; use --exact`, {exitCode: 70});
  }
}

/** sha256 of the corpus vectors' bytes: ties a saved index to the corpus it was built from. */
export function corpusFingerprint(corpus: VectorMatrix): string {
  return createHash('sha256').update(new Uint8Array(corpus.data.buffer, corpus.data.byteOffset, corpus.data.byteLength)).digest('hex');
}

export class AnnIndex {
  private constructor(
    private readonly index: UsearchIndex,
    readonly metric: Metric,
    readonly rows: number,
    readonly dimension: number,
    private readonly threads: number,
  ) {}

  static async build(corpus: VectorMatrix, options: AnnOptions): Promise<AnnIndex> {
    const index = await newIndex(corpus.dimension, options);
    const threads = options.threads ?? availableParallelism();
    if (corpus.rows > 0) index.add(BigUint64Array.from({length: corpus.rows}, (_, i) => BigInt(i)), corpus.data, threads);
    return new AnnIndex(index, options.metric, corpus.rows, corpus.dimension, threads);
  }

  /** Loads an index saved by save(), checking it was built from this corpus with this metric. */
  static async load(path: string, corpus: VectorMatrix, options: AnnOptions): Promise<AnnIndex> {
    let sidecar: Sidecar;
    try {
      sidecar = JSON.parse(await readFile(`${path}.json`, 'utf8')) as Sidecar;
    } catch (error) {
      throw new SbertkitError(`not an sbertkit index (its ${path}.json is missing or unreadable: ${(error as Error).message})`, {file: path, exitCode: EXIT.BAD_INPUT});
    }
    const problems = [
      sidecar.format !== 'sbertkit-ann-1' ? 'an unknown index format' : '',
      sidecar.rows !== corpus.rows || sidecar.dimension !== corpus.dimension ? `${sidecar.rows} x ${sidecar.dimension} vectors, the corpus has ${corpus.rows} x ${corpus.dimension}` : '',
      sidecar.metric !== options.metric ? `metric ${sidecar.metric}, not ${options.metric}` : '',
      sidecar.rows === corpus.rows && sidecar.corpus_sha256 !== corpusFingerprint(corpus) ? 'vectors of another corpus (checksum differs)' : '',
    ].filter(Boolean);
    if (problems.length > 0) throw new SbertkitError(`the index does not fit this corpus: it holds ${problems[0]}; rebuild it with --save-index`, {file: path, exitCode: EXIT.BAD_INPUT});
    // usearch has no setter for the search expansion: it comes from the constructor, the graph from the file.
    const index = await newIndex(corpus.dimension, options);
    try {
      index.load(path);
    } catch (error) {
      throw new SbertkitError(`cannot load the index: ${(error as Error).message}`, {file: path, exitCode: EXIT.BAD_INPUT});
    }
    return new AnnIndex(index, options.metric, corpus.rows, corpus.dimension, options.threads ?? availableParallelism());
  }

  /** Saves the index and its sidecar, each through a temp name renamed on success. */
  async save(path: string, corpus: VectorMatrix): Promise<void> {
    const temp = `${path}.sbertkit-tmp-${process.pid}`;
    this.index.save(temp);
    const sidecar: Sidecar = {format: 'sbertkit-ann-1', rows: this.rows, dimension: this.dimension, metric: this.metric, corpus_sha256: corpusFingerprint(corpus)};
    await writeFile(`${temp}.json`, JSON.stringify(sidecar, null, 2) + '\n');
    await rename(`${temp}.json`, `${path}.json`);
    await rename(temp, path);
  }

  /** Each query's k nearest rows as similarities, best first, ties to the lower row. */
  search(queries: VectorMatrix, k: number, selfSearch = false): TopK {
    const kk = Math.min(this.rows, k + (selfSearch ? 1 : 0));
    const result = new TopK(queries.rows, Math.min(k, Math.max(0, this.rows - (selfSearch ? 1 : 0))));
    if (kk === 0 || queries.rows === 0) return result;
    const found = this.index.search(queries.toRows(), kk, this.threads);
    for (let q = 0; q < queries.rows; q++) {
      const n = Number(found.counts[q]!);
      const candidates = Array.from({length: n}, (_, i) => ({row: Number(found.keys[q * kk + i]!), score: this.similarity(found.distances[q * kk + i]!)}));
      candidates.sort((a, b) => b.score - a.score || a.row - b.row);
      result.merge(
        q,
        candidates.map((c) => c.row),
        candidates.map((c) => c.score),
        0,
        n,
        0,
        selfSearch ? q : -1,
      );
    }
    return result;
  }

  private similarity(distance: number): number {
    return this.metric === 'euclidean' ? -Math.sqrt(Math.max(0, distance)) : 1 - distance;
  }
}

/** An empty usearch index with our settings (float32 vectors, one vector per key). */
async function newIndex(dimensions: number, options: AnnOptions): Promise<UsearchIndex> {
  const usearch = await loadUsearch();
  return new usearch.Index({
    dimensions,
    metric: usearchMetric(options.metric) as never,
    quantization: 'f32' as never,
    connectivity: options.connectivity ?? ANN_DEFAULTS.connectivity,
    expansion_add: options.expansionAdd ?? ANN_DEFAULTS.expansionAdd,
    expansion_search: options.expansionSearch ?? ANN_DEFAULTS.expansionSearch,
    multi: false,
  });
}

function usearchMetric(metric: Metric): string {
  if (metric === 'manhattan') throw new SbertkitError('approximate search has no manhattan metric; use --exact', {exitCode: EXIT.BAD_INPUT});
  return USEARCH_METRIC[metric];
}
