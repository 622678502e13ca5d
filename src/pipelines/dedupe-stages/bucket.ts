/**
 * `dedupe bucket --bucket b`: every row that probes bucket b (its own bucket or one of its next
 * nearest) against the rows whose own bucket is b, keeping every pair at or above the plan's
 * threshold. Over all buckets, a row is compared with exactly the rows of its `probes` nearest
 * buckets, as in the single-machine bucketed search, so a near duplicate just across a bucket's
 * border is found from the other side, and the answer does not hang on where the cut fell. With
 * as many probes as buckets, every row meets every row: the exact search.
 */
import {join} from 'node:path';
import {thresholdListsAgainst} from '../../algorithms/neighbour-lists.js';
import {EXIT, SbertkitError} from '../../errors.js';
import type {Shard} from '../../io/shard/partition.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {checkPartsUnchanged} from './parts.js';
import {
  assignDir,
  binMatches,
  BUCKET_FORMAT,
  bucketName,
  bucketsDir,
  ensureDir,
  readAssignment,
  readBytes,
  readJson,
  readPlan,
  removeFile,
  writeArrays,
  writeJson,
  type Assignment,
  type BucketMarker,
  type DedupePlan,
} from './work-folder.js';

export interface DedupeBucketOptions {
  work: string;
  /** One bucket; else the buckets b with b mod N = i of `shard`; else every bucket. */
  bucket?: number;
  shard?: Shard;
  threads?: number;
}

export interface DedupeBucketResult {
  work: string;
  /** Buckets this run was given, done now, and already done before. */
  buckets: number;
  done: number;
  skipped: number;
  pairs: number;
  seconds: number;
}

export async function runDedupeBucket(options: DedupeBucketOptions, services: PipelineServices): Promise<DedupeBucketResult> {
  const started = performance.now();
  const {work} = options;
  const plan = await readPlan(work);
  await checkPartsUnchanged(plan.parts_dir, plan.parts);
  if (options.bucket !== undefined && options.bucket >= plan.buckets) {
    throw new SbertkitError(`--bucket ${options.bucket}: the plan has ${plan.buckets} buckets, numbered 0 to ${plan.buckets - 1}`, {field: '--bucket', exitCode: EXIT.BAD_INPUT});
  }
  const assignment = await readAssignment(work, plan);
  const all = Array.from({length: plan.buckets}, (_, b) => b);
  const todo = options.bucket !== undefined ? [options.bucket] : options.shard !== undefined ? all.filter((b) => b % options.shard!.count === options.shard!.index) : all;
  await ensureDir(bucketsDir(work));
  let done = 0;
  let skipped = 0;
  let pairs = 0;
  const bar = services.progress('buckets', 'buckets', todo.length);
  try {
    for (const b of todo) {
      const outcome = await oneBucket(work, plan, assignment, b, options.threads);
      if (outcome.skipped) skipped++;
      else done++;
      pairs += outcome.pairs;
      bar.increment(1);
    }
  } finally {
    bar.stop();
  }
  return {work, buckets: todo.length, done, skipped, pairs, seconds: secondsSince(started)};
}

async function oneBucket(work: string, plan: DedupePlan, assignment: Assignment, b: number, threads: number | undefined): Promise<{skipped: boolean; pairs: number}> {
  const dir = bucketsDir(work);
  const markerPath = join(dir, `${bucketName(b)}.json`);
  const previous = await readJson<BucketMarker>(markerPath, BUCKET_FORMAT);
  if (previous !== undefined && previous.plan_id === plan.plan_id && previous.assign_id === assignment.assign_id && (await binMatches(dir, previous))) {
    return {skipped: true, pairs: previous.pairs};
  }
  await removeFile(markerPath);

  // This bucket's block of every shard's file.
  const d = plan.dimension;
  const rowParts: Int32Array[] = [];
  const primaryParts: Int32Array[] = [];
  const vectorParts: Float32Array[] = [];
  for (const marker of assignment.markers) {
    const [offset, count] = marker.blocks[b]!;
    if (count === 0) continue;
    const buffer = await readBytes(join(assignDir(work), marker.bin), offset, count * (8 + 4 * d));
    rowParts.push(new Int32Array(buffer, 0, count));
    primaryParts.push(new Int32Array(buffer, 4 * count, count));
    vectorParts.push(new Float32Array(buffer, 8 * count, count * d));
  }
  const rows = concat(rowParts, Int32Array);
  const primary = concat(primaryParts, Int32Array);
  const vectors = concat(vectorParts, Float32Array);
  // In corpus order (global row), so ties between equal scores go to the lower row, as everywhere.
  const order = Int32Array.from(rows.keys()).sort((x, y) => rows[x]! - rows[y]!);
  const queryRows = Int32Array.from(order, (i) => rows[i]!);
  const queries = new VectorMatrix(Array.from(queryRows), d, pickRows(vectors, order, d));
  const memberOrder = order.filter((i) => primary[i] === 1);
  const memberRows = Int32Array.from(memberOrder, (i) => rows[i]!);
  const members = new VectorMatrix(Array.from(memberRows), d, pickRows(vectors, memberOrder, d));
  // A query's own row among the members, when this is its own bucket.
  const selfRows = new Int32Array(queryRows.length).fill(-1);
  let m = 0;
  queryRows.forEach((row, q) => {
    while (m < memberRows.length && memberRows[m]! < row) m++;
    if (m < memberRows.length && memberRows[m] === row) selfRows[q] = m;
  });

  const lists = await thresholdListsAgainst(queries, members, selfRows, plan.threshold, threads);
  const total = lists.offsets[lists.rows]!;
  const query = new Int32Array(total);
  const neighbour = new Int32Array(total);
  for (let q = 0; q < lists.rows; q++) {
    for (let e = lists.offsets[q]!; e < lists.offsets[q + 1]!; e++) {
      query[e] = queryRows[q]!;
      neighbour[e] = memberRows[lists.indices[e]!]!;
    }
  }
  const bin = `${bucketName(b)}.bin`;
  const binBytes = await writeArrays(join(dir, bin), [query, neighbour, lists.scores]);
  const marker: BucketMarker = {format: BUCKET_FORMAT, status: 'complete', plan_id: plan.plan_id, assign_id: assignment.assign_id, bucket: b, queries: queries.rows, members: members.rows, pairs: total, bin, bin_bytes: binBytes};
  await writeJson(markerPath, marker);
  return {skipped: false, pairs: total};
}

function concat<T extends Int32Array | Float32Array>(parts: T[], Type: new (n: number) => T): T {
  const out = new Type(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function pickRows(vectors: Float32Array, rows: ArrayLike<number>, d: number): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(vectors.subarray(rows[i]! * d, (rows[i]! + 1) * d), i * d);
  return out;
}

export function dedupeBucketSummary(r: DedupeBucketResult): string {
  if (r.done === 0) return `all ${r.buckets} buckets already done under this plan and assignment (${r.pairs} pairs); nothing to do`;
  const before = r.skipped > 0 ? ` (${r.skipped} already done)` : '';
  return `searched ${r.done} of ${r.buckets} buckets${before}: ${r.pairs} pairs at or above the threshold (${r.seconds}s) -> ${r.work}/buckets`;
}
