/**
 * The mine-paraphrases pipeline: texts (encoded once) or a vector file -> exact self search for each
 * row's top-k neighbours -> distinct pairs best first -> a table of score, id1, id2, text1, text2.
 */
import {minePairs} from '../algorithms/paraphrase-mining.js';
import {STDIN} from '../io/formats.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../io/output/same-file.js';
import {column, type RowFormat, type TypedRow} from '../io/rows/types.js';
import {openRowWriter, resolveRowFormat} from '../io/rows/write-rows.js';
import type {SearchBackend} from '../vectors/search.js';
import type {Metric} from '../vectors/metric.js';
import {secondsSince, type PipelineServices} from './context.js';
import {loadSingleInput, type VectorInputOptions} from './vector-input.js';
import {idColumn, searchWithProgress} from './vector-search.js';

export interface MineOptions extends VectorInputOptions {
  output: string;
  format?: RowFormat;
  /** Neighbours looked at per row (sentence-transformers' top_k). */
  topK: number;
  /** Pairs kept, best first; 0 = all. */
  maxPairs: number;
  threshold?: number;
  metric: Metric;
  /** The --model asked for, checked against a vector file's metadata. */
  model?: string;
  /** Drop the text1/text2 columns. */
  noText?: boolean;
  /** exact, ann, or auto (ANN above a size threshold). */
  backend?: SearchBackend;
  /** Reuse a saved ANN index of this input / save the one built. */
  index?: string;
  saveIndex?: string;
  stdout?: NodeJS.WritableStream;
}

export interface MineResult {
  input: string;
  output: string;
  format: RowFormat;
  rows: number;
  pairs: number;
  model: string | undefined;
  metric: Metric;
  top_k: number;
  /** 'hamming' for a binary vector file (encode --precision binary|ubinary). */
  backend: 'exact' | 'ann' | 'hamming';
  truncated: number;
  seconds: number;
  stopped_early: boolean;
}

export async function runMineParaphrases(options: MineOptions, services: PipelineServices): Promise<MineResult> {
  const started = performance.now();
  const format = resolveRowFormat(options.output, options.format, 'jsonl');
  await refuseOutputOverInput(options.output, [options.input]);
  await checkOutputWritable(options.output);
  // A binary vector file stays packed: rows are compared by Hamming distance.
  const loaded = await loadSingleInput(options, services.loadEncoder, true);

  const {vectors, texts} = loaded;
  const {top: neighbours, backend} = await searchWithProgress(
    vectors,
    vectors,
    {k: options.topK, metric: options.metric, selfSearch: true, backend: options.backend, index: options.index, saveIndex: options.saveIndex},
    services,
  );
  const pairs = minePairs(neighbours, {maxPairs: options.maxPairs, threshold: options.threshold});

  const withText = texts !== undefined && !options.noText;
  const columns = [column.float('score', false), idColumn('id1', vectors.ids), idColumn('id2', vectors.ids), ...(withText ? [column.string('text1'), column.string('text2')] : [])];
  const writer = await openRowWriter(options.output, {format, columns, stdout: options.stdout});
  let written = 0;
  try {
    const chunk = 4096;
    for (let p = 0; p < pairs.scores.length && !writer.closed; p += chunk) {
      const rows: TypedRow[] = [];
      for (let q = p; q < Math.min(p + chunk, pairs.scores.length); q++) {
        const [a, b] = [pairs.a[q]!, pairs.b[q]!];
        rows.push(withText ? {score: pairs.scores[q]!, id1: vectors.ids[a], id2: vectors.ids[b], text1: texts![a], text2: texts![b]} : {score: pairs.scores[q]!, id1: vectors.ids[a], id2: vectors.ids[b]});
      }
      await writer.write(rows);
      written += rows.length;
    }
    const stoppedEarly = writer.closed;
    await writer.commit();
    return {
      input: options.input,
      output: options.output,
      format,
      rows: vectors.rows,
      pairs: written,
      model: loaded.model,
      metric: options.metric,
      top_k: options.topK,
      backend,
      truncated: loaded.stats.truncated,
      seconds: secondsSince(started),
      stopped_early: stoppedEarly,
    };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export function mineSummary(r: MineResult): string {
  const truncated = r.truncated > 0 ? `, ${r.truncated} texts truncated` : '';
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  return `mine-paraphrases: ${r.pairs} pairs from ${r.rows} rows (top-${r.top_k} ${r.metric}, ${r.backend}) with ${r.model ?? 'unknown model'}${truncated} in ${r.seconds.toFixed(1)} s -> ${r.output === STDIN ? 'stdout' : r.output}${stopped}`;
}
