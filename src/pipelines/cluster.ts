/**
 * The cluster pipeline: texts (encoded once) or a vector file -> unit-normalized rows -> community
 * detection or spherical k-means -> every input row with its cluster and score, and optionally one
 * summary row per cluster (size, the member nearest the centre, example texts).
 */
import {communityDetection} from '../algorithms/community.js';
import type {Clustering} from '../algorithms/clusters.js';
import {sphericalKMeans} from '../algorithms/kmeans.js';
import {EXIT, SbertkitError} from '../errors.js';
import {STDIN} from '../io/formats.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../io/output/same-file.js';
import {column, type Column, type RowFormat, type TypedRow} from '../io/rows/types.js';
import {idColumn} from './vector-search.js';
import {openRowWriter, resolveRowFormat} from '../io/rows/write-rows.js';
import type {RowId} from '../vectors/matrix.js';
import {normalizeRows} from '../vectors/metric.js';
import {secondsSince, type PipelineServices} from './context.js';
import {loadSingleInput, type VectorInputOptions} from './vector-input.js';

export type ClusterAlgorithm = 'community' | 'kmeans';
export const CLUSTER_ALGORITHMS: readonly ClusterAlgorithm[] = ['community', 'kmeans'];

/** Member texts a summary row shows (the ones nearest the centre). */
const SUMMARY_TEXTS = 3;

export interface ClusterOptions extends VectorInputOptions {
  output: string;
  format?: RowFormat;
  algorithm: ClusterAlgorithm;
  /** community: minimum cosine to the centre. */
  threshold: number;
  /** community: minimum members. */
  minSize: number;
  /** kmeans: clusters (at most the row count). */
  k?: number;
  seed: number;
  maxIter: number;
  /** Per-cluster table: cluster, size, centre_id, text_1..3. */
  summary?: string;
  /** The --model asked for, checked against a vector file's metadata. */
  model?: string;
  /** ONNX Runtime threads for the products (default: all cores). */
  threads?: number;
  stdout?: NodeJS.WritableStream;
}

export interface ClusterResult {
  input: string;
  output: string;
  format: RowFormat;
  summary: string | undefined;
  algorithm: ClusterAlgorithm;
  rows: number;
  clusters: number;
  unclustered: number;
  model: string | undefined;
  /** kmeans: assignment steps run, and whether the last changed nothing. */
  iterations?: number;
  converged?: boolean;
  truncated: number;
  seconds: number;
  stopped_early: boolean;
}

export async function runCluster(options: ClusterOptions, services: PipelineServices): Promise<ClusterResult> {
  const started = performance.now();
  if (options.algorithm === 'kmeans' && options.k === undefined) throw new SbertkitError('--algorithm kmeans needs --k', {exitCode: EXIT.BAD_INPUT});
  if (options.algorithm === 'community' && !(options.threshold >= -1 && options.threshold <= 1)) {
    throw new SbertkitError(`--threshold is a cosine between -1 and 1, got ${options.threshold}`, {exitCode: EXIT.BAD_INPUT});
  }
  const format = resolveRowFormat(options.output, options.format, 'jsonl');
  const summaryFormat = options.summary === undefined ? undefined : resolveRowFormat(options.summary, undefined, 'jsonl');
  if (options.summary === STDIN && options.output === STDIN) throw new SbertkitError('--summary - and the output cannot both go to stdout', {exitCode: EXIT.BAD_INPUT});
  for (const out of [options.output, options.summary]) {
    if (out === undefined) continue;
    await refuseOutputOverInput(out, [options.input]);
    await checkOutputWritable(out);
  }
  const loaded = await loadSingleInput(options, services.loadEncoder);
  const {vectors, texts} = loaded;
  const unit = normalizeRows(vectors);

  let clustering: Clustering;
  let iterations: number | undefined;
  let converged: boolean | undefined;
  if (options.algorithm === 'community') {
    let bar = services.progress('counting neighbours', 'rows', vectors.rows);
    let phase: 'counting' | 'communities' = 'counting';
    let last = 0;
    clustering = await communityDetection(unit, {
      threshold: options.threshold,
      minSize: options.minSize,
      threads: options.threads,
      onProgress: (p, done, total) => {
        if (p !== phase) {
          bar.stop();
          bar = services.progress('building communities', 'candidates', total);
          phase = p;
          last = 0;
        }
        bar.increment(done - last);
        last = done;
      },
    });
    bar.stop();
  } else {
    if (options.k! > vectors.rows && vectors.rows > 0) services.warn(`--k ${options.k} is more than the ${vectors.rows} rows; using k = ${vectors.rows}`);
    const bar = services.progress('k-means', 'iterations', options.maxIter);
    const result = await sphericalKMeans(unit, {k: options.k!, seed: options.seed, maxIter: options.maxIter, threads: options.threads, onIteration: () => bar.increment(1)});
    bar.stop();
    clustering = result;
    iterations = result.iterations;
    converged = result.converged;
  }

  const withText = texts !== undefined;
  const columns = [idColumn('id', vectors.ids), ...(withText ? [column.string('text')] : []), column.int('cluster', false), column.float('score')];
  const writer = await openRowWriter(options.output, {format, columns, stdout: options.stdout});
  let stoppedEarly: boolean;
  try {
    const chunk = 4096;
    for (let p = 0; p < vectors.rows && !writer.closed; p += chunk) {
      const rows: TypedRow[] = [];
      for (let r = p; r < Math.min(p + chunk, vectors.rows); r++) {
        const cluster = clustering.assignment[r]!;
        const score = cluster < 0 ? null : clustering.scores[r]!;
        rows.push(withText ? {id: vectors.ids[r], text: texts[r] ?? null, cluster, score} : {id: vectors.ids[r], cluster, score});
      }
      await writer.write(rows);
    }
    stoppedEarly = writer.closed;
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  if (options.summary !== undefined) await writeSummary(options.summary, summaryFormat!, clustering, vectors.ids, texts, idColumn('centre_id', vectors.ids), options.stdout);

  const clustered = clustering.clusters.reduce((sum, c) => sum + c.members.length, 0);
  return {
    input: options.input,
    output: options.output,
    format,
    summary: options.summary,
    algorithm: options.algorithm,
    rows: vectors.rows,
    clusters: clustering.clusters.length,
    unclustered: vectors.rows - clustered,
    model: loaded.model,
    ...(iterations === undefined ? {} : {iterations, converged}),
    truncated: loaded.stats.truncated,
    seconds: secondsSince(started),
    stopped_early: stoppedEarly,
  };
}

/** One row per cluster in output order; the texts are the members nearest the centre, best first. */
async function writeSummary(
  path: string,
  format: RowFormat,
  clustering: Clustering,
  ids: readonly RowId[],
  texts: readonly (string | undefined)[] | undefined,
  centreColumn: Column,
  stdout: NodeJS.WritableStream | undefined,
): Promise<void> {
  const textColumns = texts === undefined ? [] : Array.from({length: SUMMARY_TEXTS}, (_, i) => column.string(`text_${i + 1}`));
  const writer = await openRowWriter(path, {format, columns: [column.int('cluster', false), column.int('size', false), centreColumn, ...textColumns], stdout});
  try {
    const rows: TypedRow[] = clustering.clusters.map((c, id) => {
      const row: Record<string, string | number | null> = {cluster: id, size: c.members.length, centre_id: ids[c.members[0]!]!};
      textColumns.forEach((col, i) => (row[col.name] = i < c.members.length ? (texts![c.members[i]!] ?? null) : null));
      return row;
    });
    await writer.write(rows);
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export function clusterSummary(r: ClusterResult): string {
  const how = r.algorithm === 'kmeans' ? `k-means, ${r.iterations} iterations${r.converged ? '' : ' (not converged: --max-iter reached)'}` : 'community detection';
  const truncated = r.truncated > 0 ? `, ${r.truncated} texts truncated` : '';
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  return `cluster: ${r.clusters} clusters over ${r.rows} rows, ${r.unclustered} unclustered (${how}) with ${r.model ?? 'unknown model'}${truncated} in ${r.seconds.toFixed(1)} s -> ${r.output === STDIN ? 'stdout' : r.output}${stopped}`;
}
