/**
 * The staged dedupe's work folder, which every worker sees. Each stage writes its data file first and
 * its JSON marker last, both temp then rename, so "the marker is there" means "this step is whole";
 * a marker names the plan (and the assignment) it was made from, so a rerun that finds a current
 * marker does nothing and a stale one is redone, never mixed in.
 *
 *   WORK/plan.json, WORK/centroids.f32              dedupe plan
 *   WORK/assign/shard-I-of-N.{bin,json}               dedupe assign --shard I/N
 *   WORK/buckets/bucket-B.{bin,json}                  dedupe bucket --bucket B
 *
 * Binary files are raw little-endian Int32/Float32 arrays (the byte order of every platform Node
 * runs on); their layout is in the marker.
 */
import {createHash} from 'node:crypto';
import {mkdir, open, readdir, readFile, stat, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import {EXIT, SbertkitError} from '../../errors.js';
import {openOutput} from '../../io/output/atomic-output.js';
import {writeTextOutput} from '../../io/output/write-text.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import type {StagePart} from './parts.js';

export const PLAN_FORMAT = 'sbertkit-dedupe-plan-1';
export const ASSIGN_FORMAT = 'sbertkit-dedupe-assign-1';
export const BUCKET_FORMAT = 'sbertkit-dedupe-bucket-1';

export interface DedupePlan {
  format: typeof PLAN_FORMAT;
  status: 'complete';
  /** sha256 of this file's other fields: what later stages' markers name. */
  plan_id: string;
  parts_dir: string;
  parts: StagePart[];
  rows: number;
  dimension: number;
  /** The parts' model, from their manifests or their files' sbertkit.model metadata. */
  model: string | null;
  onnx_sha256: string | null;
  text_column: string;
  /** Whether the parts have the text column (else no exact stage: rows are compared by vectors only). */
  has_text: boolean;
  id_column: string | null;
  /** Pairs at or above this cosine are kept by the buckets; merge may decide at this or higher. */
  threshold: number;
  buckets: number;
  /** --buckets as given (null: about sqrt(rows)), so a rerun can tell its settings are the same. */
  requested_buckets: number | null;
  probes: number;
  sample: {seed: number; rows: number};
  centroids: {file: string; sha256: string};
}

export interface AssignMarker {
  format: typeof ASSIGN_FORMAT;
  status: 'complete';
  plan_id: string;
  shard: {index: number; count: number};
  /** Indices of the parts this shard assigned (part p goes to shard p mod N). */
  parts: number[];
  /** Rows written (each once per probed bucket), and rows left out for an empty text. */
  rows: number;
  empty_text_rows: number;
  bin: string;
  bin_bytes: number;
  /** Per bucket: byte offset of its block and its entries. A block is rows Int32[n], primary Int32[n] (1: the row's nearest bucket), vectors Float32[n x dimension]. */
  blocks: [number, number][];
}

export interface BucketMarker {
  format: typeof BUCKET_FORMAT;
  status: 'complete';
  plan_id: string;
  /** sha256 of the assignment markers the bucket read. */
  assign_id: string;
  bucket: number;
  /** Rows probing the bucket, and rows whose nearest bucket it is. */
  queries: number;
  members: number;
  pairs: number;
  bin: string;
  bin_bytes: number;
}

export const planPath = (work: string): string => join(work, 'plan.json');
export const centroidsPath = (work: string): string => join(work, 'centroids.f32');
export const assignDir = (work: string): string => join(work, 'assign');
export const bucketsDir = (work: string): string => join(work, 'buckets');
export const assignName = (index: number, count: number): string => `shard-${index}-of-${count}`;
export const bucketName = (bucket: number): string => `bucket-${bucket}`;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The id of a plan: the hash of everything else it says. */
export function planId(plan: Omit<DedupePlan, 'plan_id'>): string {
  return sha256Hex(JSON.stringify(plan));
}

export async function readJson<T extends {format: string; status: string}>(path: string, format: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as T;
    return json.format === format && json.status === 'complete' ? json : undefined;
  } catch {
    return undefined;
  }
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeTextOutput(path, `${JSON.stringify(value, null, 2)}\n`);
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, {recursive: true});
}

/** Writes typed arrays one after another to `path`, temp then rename; returns the bytes written. */
export async function writeArrays(path: string, arrays: Iterable<Int32Array | Float32Array>): Promise<number> {
  const sink = await openOutput(path);
  let bytes = 0;
  try {
    for (const array of arrays) {
      if (array.length === 0) continue;
      await sink.write(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      bytes += array.byteLength;
    }
    await sink.commit();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return bytes;
}

/** `length` bytes of a file from `offset`, copied into a fresh (aligned) buffer. */
export async function readBytes(path: string, offset: number, length: number): Promise<ArrayBuffer> {
  const buffer = new ArrayBuffer(length);
  if (length === 0) return buffer;
  const handle = await open(path, 'r');
  try {
    const {bytesRead} = await handle.read(new Uint8Array(buffer), 0, length, offset);
    if (bytesRead !== length) throw new SbertkitError(`is shorter than its marker says (read ${bytesRead} of ${length} bytes at ${offset}); rerun the stage that wrote it`, {file: path, exitCode: EXIT.BAD_INPUT});
  } finally {
    await handle.close();
  }
  return buffer;
}

/** Whether a marker's data file is there with the size the marker gives. */
export async function binMatches(dir: string, marker: {bin: string; bin_bytes: number}): Promise<boolean> {
  const size = await stat(join(dir, marker.bin)).then((s) => s.size, () => undefined);
  return size === marker.bin_bytes;
}

/** The plan, or one line saying to run `dedupe plan` first. */
export async function readPlan(work: string): Promise<DedupePlan> {
  const plan = await readJson<DedupePlan>(planPath(work), PLAN_FORMAT);
  if (plan === undefined) throw new SbertkitError('no finished plan in this work folder; run dedupe plan PARTS_DIR --out WORK first', {file: work, exitCode: EXIT.BAD_INPUT});
  const {plan_id: id, ...rest} = plan;
  if (planId(rest) !== id) throw new SbertkitError('plan.json was edited after dedupe plan wrote it (its plan_id does not match); rerun dedupe plan', {file: planPath(work), exitCode: EXIT.BAD_INPUT});
  return plan;
}

export async function readCentroids(work: string, plan: DedupePlan): Promise<VectorMatrix> {
  const bytes = await readFile(centroidsPath(work)).catch(() => undefined);
  if (bytes === undefined || sha256Hex(bytes) !== plan.centroids.sha256) {
    throw new SbertkitError('the centroids are missing or are not the plan\'s (sha256 differs); rerun dedupe plan', {file: centroidsPath(work), exitCode: EXIT.BAD_INPUT});
  }
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return new VectorMatrix(Array.from({length: plan.buckets}, (_, b) => b), plan.dimension, data);
}

export interface Assignment {
  markers: AssignMarker[];
  /** sha256 of the markers, in shard order: what bucket markers name. */
  assign_id: string;
}

/**
 * The finished assignment of every part under the current plan, or one line saying what is missing
 * or stale. Markers of another cut (other N) are fine as long as together they assign each part once.
 */
export async function readAssignment(work: string, plan: DedupePlan): Promise<Assignment> {
  const dir = assignDir(work);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^shard-\d+-of-\d+\.json$/.test(n)).sort();
  const markers: AssignMarker[] = [];
  const owner = new Map<number, string>();
  for (const name of names) {
    const marker = await readJson<AssignMarker>(join(dir, name), ASSIGN_FORMAT);
    if (marker === undefined) continue;
    if (marker.plan_id !== plan.plan_id) {
      throw new SbertkitError('this assignment was made for an earlier plan; rerun dedupe assign for every shard (or delete WORK/assign)', {file: join(dir, name), exitCode: EXIT.BAD_INPUT});
    }
    if (!(await binMatches(dir, marker))) throw new SbertkitError(`${marker.bin} is missing or not the size its marker says; rerun dedupe assign --shard ${marker.shard.index}/${marker.shard.count}`, {file: join(dir, name), exitCode: EXIT.BAD_INPUT});
    for (const p of marker.parts) {
      const other = owner.get(p);
      if (other !== undefined) {
        throw new SbertkitError(`part ${plan.parts[p]?.file} is assigned by both ${other} and ${name} (two --shard counts?); delete WORK/assign and rerun dedupe assign with one N`, {file: dir, exitCode: EXIT.BAD_INPUT});
      }
      owner.set(p, name);
    }
    markers.push(marker);
  }
  const missing = plan.parts.map((_, p) => p).filter((p) => !owner.has(p));
  if (missing.length > 0) {
    const named = missing.slice(0, 3).map((p) => plan.parts[p]!.file).join(', ');
    throw new SbertkitError(`dedupe assign is not finished: ${missing.length} of ${plan.parts.length} parts have no assignment yet (${named}${missing.length > 3 ? ', ...' : ''}); run dedupe assign WORK --shard i/N for every i`, {file: work, exitCode: EXIT.BAD_INPUT});
  }
  markers.sort((a, b) => a.shard.count - b.shard.count || a.shard.index - b.shard.index);
  return {markers, assign_id: sha256Hex(JSON.stringify(markers))};
}

/** Shards i of an N-way assign whose marker is not current for this plan (the ones still to run). */
export async function missingAssignShards(work: string, plan: DedupePlan, count: number): Promise<number[]> {
  const dir = assignDir(work);
  const missing: number[] = [];
  for (let i = 0; i < count; i++) {
    const marker = await readJson<AssignMarker>(join(dir, `${assignName(i, count)}.json`), ASSIGN_FORMAT);
    if (marker === undefined || marker.plan_id !== plan.plan_id || !(await binMatches(dir, marker))) missing.push(i);
  }
  return missing;
}

/** Buckets whose marker is not current for this plan and assignment (the ones still to search). */
export async function missingBuckets(work: string, plan: DedupePlan, assignId: string): Promise<{missing: number[]; markers: BucketMarker[]}> {
  const dir = bucketsDir(work);
  const markers: BucketMarker[] = [];
  const missing: number[] = [];
  for (let b = 0; b < plan.buckets; b++) {
    const marker = await readJson<BucketMarker>(join(dir, `${bucketName(b)}.json`), BUCKET_FORMAT);
    if (marker === undefined || marker.plan_id !== plan.plan_id || marker.assign_id !== assignId || !(await binMatches(dir, marker))) missing.push(b);
    else markers.push(marker);
  }
  return {missing, markers};
}
