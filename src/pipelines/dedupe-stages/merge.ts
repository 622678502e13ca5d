/**
 * `dedupe merge`: the decisions of the single-machine dedupe, from the buckets' pairs. The exact
 * stage runs here, over every row's normalized text in part order (held as a 128-bit digest, not the
 * text, so memory does not grow with text length); the buckets' pairs become each
 * semantic row's neighbour list (best first, ties to the lower row); then the same decide() as the
 * single-machine dedupe keeps or drops every row, and the kept rows are copied out of the parts into
 * one vector file, with the duplicates map beside it. The decision is cheap given the pairs, which
 * is why it is one step: a greedy keep-in-order pass cannot be split across workers without changing
 * its answer.
 */
import {join} from 'node:path';
import {decide, exactRepresentatives, keepOrderByLength, type DedupeDecisions, type KeepPolicy} from '../../algorithms/dedupe/decide.js';
import {codePointLength, exactKeyDigest} from '../../algorithms/dedupe/normalize.js';
import {listsFromPairs} from '../../algorithms/dedupe/pair-lists.js';
import {EXIT, SbertkitError} from '../../errors.js';
import {detectVectorFormat, STDIN} from '../../io/formats.js';
import {checkOutputWritable} from '../../io/output/atomic-output.js';
import {openVectors, textCells} from '../../io/vectors/read-vectors.js';
import {CALIBRATION_KEY, PRECISION_KEY, RANGES_KEY} from '../../io/vectors/precision-metadata.js';
import type {VectorBatch, VectorFileMetadata} from '../../io/vectors/types.js';
import {idTypeOf} from '../../io/vectors/write-vectors.js';
import type {RowId} from '../../vectors/matrix.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {storedQuantizer, writeDuplicatesMap, writeKeptBatches} from '../dedupe/outputs.js';
import {checkPartsUnchanged, partPath} from './parts.js';
import {bucketsDir, missingBuckets, readAssignment, readBytes, readPlan, type BucketMarker, type DedupePlan} from './work-folder.js';

export interface DedupeMergeOptions {
  work: string;
  /** Kept rows: a vector file (.parquet, .arrow, .arrows, .jsonl) or '-' (JSONL). */
  output: string;
  duplicates?: string;
  keep: KeepPolicy;
  /** At or above the plan's threshold (the buckets kept no pair below it); default the plan's. */
  threshold?: number;
  stdout?: NodeJS.WritableStream;
}

export interface DedupeMergeResult {
  work: string;
  output: string;
  duplicates: string | undefined;
  rows: number;
  kept: number;
  exact_dropped: number;
  semantic_dropped: number;
  threshold: number;
  keep: KeepPolicy;
  buckets: number;
  probes: number;
  pairs: number;
  seconds: number;
  stopped_early: boolean;
}

export async function runDedupeMerge(options: DedupeMergeOptions, services: PipelineServices): Promise<DedupeMergeResult> {
  const started = performance.now();
  const {work} = options;
  if (options.output === STDIN && options.duplicates === STDIN) throw new SbertkitError('only one of the output and --duplicates can go to stdout', {exitCode: EXIT.BAD_INPUT});
  for (const out of [options.output, options.duplicates]) if (out !== undefined) await checkOutputWritable(out);
  const plan = await readPlan(work);
  const threshold = options.threshold ?? plan.threshold;
  if (!(threshold >= plan.threshold && threshold <= 1)) {
    throw new SbertkitError(`--threshold ${threshold} is below the plan's ${plan.threshold}: the buckets kept no pair under it; rerun dedupe plan --threshold ${threshold}`, {field: '--threshold', exitCode: EXIT.BAD_INPUT});
  }
  if (!plan.has_text && options.keep !== 'first') throw new SbertkitError(`--keep ${options.keep} compares text lengths, but the parts have no '${plan.text_column}' column`, {field: '--keep', exitCode: EXIT.BAD_INPUT});
  await checkPartsUnchanged(plan.parts_dir, plan.parts);
  const assignment = await readAssignment(work, plan);
  const markers = await finishedBuckets(work, plan, assignment.assign_id);

  services.status(`reading the texts of ${plan.rows} rows`);
  const {ids, keys, lengths, metadata, fieldNames} = await readIdsAndKeys(plan, options.keep !== 'first');
  const n = plan.rows;
  if (!plan.has_text) services.warn(`the parts have no '${plan.text_column}' column: no exact stage, rows are compared by their vectors only`);
  const order = keepOrderByLength(n, options.keep, lengths);
  const representative = exactRepresentatives(keys, order);
  const listRow = new Int32Array(n).fill(-1);
  const semantic: number[] = [];
  for (let r = 0; r < n; r++) {
    if (representative[r] === r && keys[r] !== '') {
      listRow[r] = semantic.length;
      semantic.push(r);
    }
  }
  const semanticRows = Int32Array.from(semantic);

  // Pairs between two semantic rows (an exact duplicate's pairs are its representative's business).
  const query: number[] = [];
  const neighbour: number[] = [];
  const score: number[] = [];
  let pairs = 0;
  for (const marker of markers) {
    const buffer = await readBytes(join(bucketsDir(work), marker.bin), 0, marker.bin_bytes);
    const q = new Int32Array(buffer, 0, marker.pairs);
    const m = new Int32Array(buffer, 4 * marker.pairs, marker.pairs);
    const s = new Float32Array(buffer, 8 * marker.pairs, marker.pairs);
    pairs += marker.pairs;
    for (let i = 0; i < marker.pairs; i++) {
      const a = listRow[q[i]!]!;
      const b = listRow[m[i]!]!;
      if (a < 0 || b < 0) continue;
      query.push(a);
      neighbour.push(b);
      score.push(s[i]!);
    }
  }
  const lists = listsFromPairs(semanticRows.length, Int32Array.from(query), Int32Array.from(neighbour), Float32Array.from(score));
  const decisions = decide({rows: n, order, representative, semanticRows, lists}, threshold);

  const stoppedEarly = await writeKeptParts(plan, decisions, metadata, fieldNames, ids, options.output, options.stdout);
  if (options.duplicates !== undefined) await writeDuplicatesMap(options.duplicates, ids, decisions, undefined, options.stdout);
  const {counts} = decisions;
  return {
    work,
    output: options.output,
    duplicates: options.duplicates,
    rows: n,
    kept: counts.kept,
    exact_dropped: counts.exact,
    semantic_dropped: counts.semantic,
    threshold,
    keep: options.keep,
    buckets: plan.buckets,
    probes: plan.probes,
    pairs,
    seconds: secondsSince(started),
    stopped_early: stoppedEarly,
  };
}

/** Every bucket's marker under the current plan and assignment, or one line naming the missing ones. */
async function finishedBuckets(work: string, plan: DedupePlan, assignId: string): Promise<BucketMarker[]> {
  const {missing, markers} = await missingBuckets(work, plan, assignId);
  if (missing.length > 0) {
    throw new SbertkitError(
      `dedupe bucket is not finished: ${missing.length} of ${plan.buckets} buckets are missing or stale (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); run dedupe bucket WORK --bucket B for them`,
      {file: work, exitCode: EXIT.BAD_INPUT},
    );
  }
  return markers;
}

interface PartRows {
  ids: RowId[];
  /** Each row's exact-stage key as a digest (exactKeyDigest); all undefined without a text column. */
  keys: (string | undefined)[];
  /** Each text's length in code points, when --keep compares lengths. */
  lengths: Float64Array | undefined;
  metadata: VectorFileMetadata;
  fieldNames: string[];
}

/**
 * Every row's id, exact key and (when asked) text length, in part order; the first part's metadata
 * and columns, which every part must share. The texts themselves are not held: at millions of rows
 * they, and their normalized keys beside them, would be most of the merge's memory.
 */
async function readIdsAndKeys(plan: DedupePlan, withLengths: boolean): Promise<PartRows> {
  const ids: RowId[] = [];
  const keys: (string | undefined)[] = [];
  const lengths: number[] | undefined = withLengths ? [] : undefined;
  let metadata: VectorFileMetadata | undefined;
  let fieldNames: string[] | undefined;
  for (const part of plan.parts) {
    const path = partPath(plan.parts_dir, part);
    const source = await openVectors(path, {format: part.format, idColumn: plan.id_column ?? undefined});
    try {
      if (fieldNames !== undefined && JSON.stringify(source.fieldNames) !== JSON.stringify(fieldNames)) {
        throw new SbertkitError(`this part's columns (${source.fieldNames.join(', ')}) differ from the first part's (${fieldNames.join(', ')}): the kept rows go into one file`, {file: path, exitCode: EXIT.BAD_INPUT});
      }
      // One file holds one precision and one set of int8 ranges.
      for (const key of [PRECISION_KEY, RANGES_KEY]) {
        if (metadata !== undefined && source.metadata[key] !== metadata[key]) throw new SbertkitError(`this part's ${key} differs from the first part's: the kept rows cannot go into one file at one precision`, {file: path, exitCode: EXIT.BAD_INPUT});
      }
      metadata ??= source.metadata;
      fieldNames ??= source.fieldNames;
      for await (const batch of source.batches) {
        for (const id of batch.vectors.ids) ids.push(id);
        if (!plan.has_text) {
          for (let i = 0; i < batch.vectors.rows; i++) keys.push(undefined);
          continue;
        }
        for (const t of textCells(batch.fields[plan.text_column])!) {
          keys.push(exactKeyDigest(t));
          lengths?.push(codePointLength(t ?? ''));
        }
      }
    } finally {
      await source.close();
    }
  }
  if (ids.length !== plan.rows) throw new SbertkitError(`the parts hold ${ids.length} rows, the plan counted ${plan.rows}; rerun dedupe plan`, {file: plan.parts_dir, exitCode: EXIT.BAD_INPUT});
  return {ids, keys, lengths: lengths === undefined ? undefined : Float64Array.from(lengths), metadata: metadata ?? {}, fieldNames: fieldNames ?? []};
}

/** The kept rows, in part order, re-read from the parts with their original vectors and columns. */
function writeKeptParts(plan: DedupePlan, decisions: DedupeDecisions, metadata: VectorFileMetadata, fieldNames: string[], ids: readonly RowId[], output: string, stdout: NodeJS.WritableStream | undefined): Promise<boolean> {
  const format = output === STDIN ? 'jsonl' : detectVectorFormat(output);
  if (format === undefined) throw new SbertkitError('name the kept rows\' file .parquet, .arrow, .arrows or .jsonl (or - for JSONL on stdout)', {file: output, exitCode: EXIT.BAD_INPUT});
  return writeKeptBatches(partBatches(plan), decisions, output, {
    quantizer: storedQuantizer(metadata, plan.dimension, partPath(plan.parts_dir, plan.parts[0]!)),
    calibration: metadata[CALIBRATION_KEY],
    format,
    dimension: plan.dimension,
    metadata,
    fieldNames,
    idType: idTypeOf(ids),
    stdout,
  });
}

/** Every part's batches in part order, each part open only while it is read. */
async function* partBatches(plan: DedupePlan): AsyncGenerator<VectorBatch> {
  for (const part of plan.parts) {
    const source = await openVectors(partPath(plan.parts_dir, part), {format: part.format, idColumn: plan.id_column ?? undefined});
    try {
      yield* source.batches;
    } finally {
      await source.close();
    }
  }
}

export function dedupeMergeSummary(r: DedupeMergeResult): string {
  const dropped = r.rows - r.kept;
  return `kept ${r.kept} of ${r.rows} rows: ${dropped} dropped (${r.exact_dropped} exact, ${r.semantic_dropped} near duplicates at >= ${r.threshold}) from ${r.pairs} pairs in ${r.buckets} buckets (${r.seconds}s) -> ${r.output === STDIN ? '<stdout>' : r.output}`;
}
