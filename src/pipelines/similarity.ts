/**
 * The similarity pipelines.
 *
 * - Pairs: every row of a table comes out with a `score` column (its two text columns compared),
 *   input columns kept in order. Rows stream in windows; each window's distinct texts are encoded
 *   once, and a bounded cache of recent texts' vectors spares re-encoding texts that repeat across
 *   windows, so memory stays constant however long the input is.
 * - Search: for each query, its top-k corpus rows (sentence-transformers' semantic_search): query_id,
 *   rank, corpus_id, score, and the texts when known. Corpus and queries are texts to encode or vector
 *   files; the search is src/vectors' exact blocked search, or, for a binary corpus (encode
 *   --precision binary|ubinary), Hamming search with optional float rescoring (--rescore).
 */
import type {SentenceEncoder} from '../encoder/types.js';
import {readWindows} from '../encoder/windows.js';
import {EXIT, SbertkitError} from '../errors.js';
import {STDIN, type TextFormat} from '../io/formats.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../io/output/same-file.js';
import {column, ROW_ORIGIN, type RowFormat, type TypedRow} from '../io/rows/types.js';
import {keptValues} from '../io/text/kept-values.js';
import {openRowWriter, resolveRowFormat, type RowWriter} from '../io/rows/write-rows.js';
import {openRows, requireColumn} from '../io/text/read-rows.js';
import type {Row} from '../io/text/types.js';
import type {SearchBackend} from '../vectors/search.js';
import {similarity, type Metric} from '../vectors/metric.js';
import {secondsSince, type PipelineServices} from './context.js';
import {checkComparable, isVectorFilePath, loadSearchVectors, loadTexts, loadVectors, type LoadedVectors, type SearchMatrix, type VectorInputOptions} from './vector-input.js';
import {idColumn, searchWithProgress} from './vector-search.js';
import {locateOverflow} from './text-overflow.js';

interface CommonOptions {
  output: string;
  format?: RowFormat;
  metric: Metric;
  /** Drop rows (pairs) or hits (search) scoring below this. */
  threshold?: number;
  stdout?: NodeJS.WritableStream;
}

export interface PairsOptions extends CommonOptions {
  mode: 'pairs';
  input: string;
  column1: string;
  column2: string;
  inputFormat?: TextFormat;
  quote?: boolean;
  /** CSV field separator (default ','). */
  delimiter?: string;
  /** CSV/TSV/txt: the passed-through columns other than the two texts are typed from their text (kept-values.ts inferCell). */
  inferTypes?: boolean;
  stdin?: NodeJS.ReadableStream;
  /** Most rows read, encoded and written at once (default 4096); windows start at 32 rows and double. */
  windowSize?: number;
  /** A window also ends when no row came for this long (default 200 ms): a slow pipe gets its scores. */
  stallMs?: number;
  /** Distinct texts whose vectors are kept across windows (default 65536). */
  cacheSize?: number;
}

export interface SearchOptions extends CommonOptions {
  mode: 'search';
  corpus: VectorInputOptions;
  /** Query texts given on the command line, or a file of queries. */
  queries: {texts: string[]} | VectorInputOptions;
  topK: number;
  /** The --model asked for, checked against vector files' metadata. */
  model?: string;
  noText?: boolean;
  /** exact, ann, or auto (ANN above a size threshold). */
  backend?: SearchBackend;
  /** Reuse a saved ANN index of the corpus / save the one built. */
  index?: string;
  saveIndex?: string;
  /** Binary corpus: rescore this many Hamming candidates per query with the float query. */
  rescore?: number;
}

export interface SimilarityResult {
  mode: 'pairs' | 'search';
  output: string;
  format: RowFormat;
  model: string | undefined;
  metric: Metric;
  /** Pairs mode: input rows; search mode: queries. */
  rows: number;
  /** Rows written (pairs kept, or hits). */
  written: number;
  /** Search mode: corpus rows, and which search ran ('hamming' for a binary corpus). */
  corpus?: number;
  backend?: 'exact' | 'ann' | 'hamming';
  /** Search mode, binary corpus: Hamming candidates rescored per query with the float query. */
  rescored?: number;
  truncated: number;
  seconds: number;
  stopped_early: boolean;
}

export async function runSimilarity(options: PairsOptions | SearchOptions, services: PipelineServices): Promise<SimilarityResult> {
  return options.mode === 'pairs' ? runPairs(options, services) : runSearch(options, services);
}

/** The first pairs window: about one batch, so the first score costs about one batch's time. */
const PAIRS_FIRST_WINDOW = 32;

async function runPairs(options: PairsOptions, services: PipelineServices): Promise<SimilarityResult> {
  const started = performance.now();
  const format = resolveRowFormat(options.output, options.format, 'jsonl');
  if (isVectorFilePath(options.input)) {
    throw new SbertkitError('pairs mode compares two text columns of a table; a vector file has none (use --corpus and --queries to search)', {file: options.input, exitCode: EXIT.BAD_INPUT});
  }
  await refuseOutputOverInput(options.output, [options.input]);
  await checkOutputWritable(options.output);
  const source = await openRows(options.input, {format: options.inputFormat ?? (options.input === STDIN ? 'tsv' : undefined), quote: options.quote, delimiter: options.delimiter, stdin: options.stdin});
  let encoder: SentenceEncoder | undefined;
  let writer: RowWriter | undefined;
  try {
    requireColumn(source, options.column1, '--column1');
    requireColumn(source, options.column2, '--column2');
    if (source.columns.includes('score')) {
      throw new SbertkitError("the input already has a 'score' column; rename it so the output's score column does not hide it", {file: source.file, line: 1, field: 'score'});
    }
    encoder = await services.loadEncoder();
    // Passed-through columns keep their JSONL types (or --infer-types ones); the two texts stay strings.
    const texts = new Set([options.column1, options.column2]);
    const others = source.columns.filter((name) => !texts.has(name));
    writer = await openRowWriter(options.output, {format, columns: [...source.columns.map((name) => (texts.has(name) ? column.string(name) : column.value(name))), column.float('score')], stdout: options.stdout});
    const cache = new VectorCache(options.cacheSize ?? 65_536);
    const progress = services.progress('scoring', 'rows');
    const windowSize = options.windowSize ?? 4096;
    let rows = 0;
    let written = 0;
    let truncated = 0;
    const flush = async (window: Row[]): Promise<void> => {
      try {
        truncated += await cache.fill(encoder!, window.flatMap((row) => [row.fields[options.column1]!, row.fields[options.column2]!]));
      } catch (error) {
        // The cache encodes distinct texts, so the row is found by its text.
        const text = (record: unknown): string | undefined => (record as {text?: string}).text;
        throw locateOverflow(error, source.file, (record) => window.find((row) => row.fields[options.column1] === text(record) || row.fields[options.column2] === text(record))?.line);
      }
      const out: TypedRow[] = [];
      for (const row of window) {
        const score = similarity(options.metric, cache.get(row.fields[options.column1]!)!, cache.get(row.fields[options.column2]!)!);
        if (options.threshold !== undefined && score < options.threshold) continue;
        out.push({
          ...keptValues(row, others, options.inferTypes),
          [options.column1]: row.fields[options.column1],
          [options.column2]: row.fields[options.column2],
          score,
          [ROW_ORIGIN]: {file: source.file, line: row.line},
        });
      }
      await writer!.write(out);
      written += out.length;
      progress.increment(window.length);
    };
    // Like encode's streaming: a small first window that grows, cut when the input stalls, so scores
    // of a pipe flow as rows are done rather than at the end of the input.
    for await (const window of readWindows(source.rows, {first: PAIRS_FIRST_WINDOW, max: windowSize, stallMs: options.stallMs ?? 200})) {
      rows += window.length;
      await flush(window);
      if (writer.closed) break;
    }
    progress.stop();
    const stoppedEarly = writer.closed;
    await writer.commit();
    return {mode: 'pairs', output: options.output, format, model: encoder.spec.name, metric: options.metric, rows, written, truncated, seconds: secondsSince(started), stopped_early: stoppedEarly};
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await source.close();
    await encoder?.close();
  }
}

/** The vectors of recently seen texts, least recently used first out. */
class VectorCache {
  private readonly map = new Map<string, Float32Array>();

  constructor(private readonly capacity: number) {}

  get(text: string): Float32Array | undefined {
    const vector = this.map.get(text);
    if (vector !== undefined) {
      this.map.delete(text);
      this.map.set(text, vector);
    }
    return vector;
  }

  /** Encodes the texts not cached (each distinct one once); returns how many of them were truncated. */
  async fill(encoder: SentenceEncoder, texts: readonly string[]): Promise<number> {
    const wanted = new Set(texts);
    const missing = [...wanted].filter((text) => !this.map.has(text));
    if (missing.length === 0) return 0;
    const {vectors, stats} = await encoder.embed(missing);
    // Copies: a view would pin the whole window's matrix for as long as one of its texts stays cached.
    missing.forEach((text, i) => this.map.set(text, vectors.row(i).slice()));
    // Keep at least this window's texts, however small the capacity.
    const keep = Math.max(this.capacity, wanted.size);
    for (const key of this.map.keys()) {
      if (this.map.size <= keep) break;
      if (!wanted.has(key)) this.map.delete(key);
    }
    return stats.truncated;
  }
}

async function runSearch(options: SearchOptions, services: PipelineServices): Promise<SimilarityResult> {
  const started = performance.now();
  const format = resolveRowFormat(options.output, options.format, 'jsonl');
  const inputs = [options.corpus.input, ...('texts' in options.queries ? [] : [options.queries.input])];
  await refuseOutputOverInput(options.output, inputs);
  await checkOutputWritable(options.output);
  let encoder: SentenceEncoder | undefined;
  const loadEncoder = async (): Promise<SentenceEncoder> => (encoder ??= await services.loadEncoder());
  let corpus: LoadedVectors<SearchMatrix>;
  let queries: LoadedVectors;
  try {
    // A binary corpus stays packed bits; queries are floats (binary query files read as +1/-1).
    corpus = await loadSearchVectors(options.corpus, loadEncoder);
    queries = 'texts' in options.queries ? await loadTexts(options.queries.texts, loadEncoder) : await loadVectors(options.queries, loadEncoder);
  } finally {
    await encoder?.close();
  }
  const asked: LoadedVectors<SearchMatrix>[] = options.model === undefined || encoder !== undefined ? [] : [{...corpus, file: '--model', model: options.model}];
  checkComparable([corpus, queries, ...asked]);

  const {top, backend} = await searchWithProgress(
    queries.vectors,
    corpus.vectors,
    {k: options.topK, metric: options.metric, backend: options.backend, index: options.index, saveIndex: options.saveIndex, rescore: options.rescore},
    services,
  );

  const queryText = !options.noText && queries.texts !== undefined;
  const corpusText = !options.noText && corpus.texts !== undefined;
  const columns = [
    idColumn('query_id', queries.vectors.ids),
    column.int('rank', false),
    idColumn('corpus_id', corpus.vectors.ids),
    column.float('score', false),
    ...(queryText ? [column.string('query_text')] : []),
    ...(corpusText ? [column.string('corpus_text')] : []),
  ];
  const writer = await openRowWriter(options.output, {format, columns, stdout: options.stdout});
  let written = 0;
  try {
    for (let q = 0; q < top.queries && !writer.closed; q++) {
      const {indices, scores} = top.row(q);
      const rows: TypedRow[] = [];
      for (let r = 0; r < indices.length; r++) {
        if (options.threshold !== undefined && scores[r]! < options.threshold) break;
        const c = indices[r]!;
        const row: Record<string, TypedRow[string]> = {query_id: queries.vectors.ids[q], rank: r + 1, corpus_id: corpus.vectors.ids[c], score: scores[r]!};
        if (queryText) row.query_text = queries.texts![q];
        if (corpusText) row.corpus_text = corpus.texts![c];
        rows.push(row);
      }
      await writer.write(rows);
      written += rows.length;
    }
    const stoppedEarly = writer.closed;
    await writer.commit();
    return {
      mode: 'search',
      output: options.output,
      format,
      model: corpus.model ?? queries.model,
      metric: options.metric,
      rows: queries.vectors.rows,
      written,
      corpus: corpus.vectors.rows,
      backend,
      ...(options.rescore !== undefined ? {rescored: options.rescore} : {}),
      truncated: corpus.stats.truncated + queries.stats.truncated,
      seconds: secondsSince(started),
      stopped_early: stoppedEarly,
    };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export function similaritySummary(r: SimilarityResult): string {
  const rescored = r.rescored !== undefined ? `, top ${r.rescored} rescored` : '';
  const what = r.mode === 'pairs' ? `scored ${r.rows} pairs (${r.written} written)` : `searched ${r.corpus} corpus rows (${r.backend}${rescored}) for ${r.rows} queries (${r.written} hits)`;
  const truncated = r.truncated > 0 ? `, ${r.truncated} texts truncated` : '';
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  return `similarity: ${what}, ${r.metric}, with ${r.model ?? 'unknown model'}${truncated} in ${r.seconds.toFixed(1)} s -> ${r.output === STDIN ? 'stdout' : r.output}${stopped}`;
}
