/**
 * `dedupe assign --shard i/N`: each row of parts p with p mod N = i gets its `probes` nearest
 * centroids (nearest first: its own bucket, then the buckets it is also compared with). The rows go
 * into one file grouped by bucket, each with its unit vector, so a bucket stage reads only its own
 * block of each shard's file rather than every part. Rows with an empty text are left out: dedupe
 * never compares them (an empty text has no meaning).
 */
import {join} from 'node:path';
import {normalizeText} from '../../algorithms/dedupe/normalize.js';
import {EXIT, SbertkitError} from '../../errors.js';
import {formatShard, type Shard} from '../../io/shard/partition.js';
import {openVectors, textCells} from '../../io/vectors/read-vectors.js';
import {ProductSearcher} from '../../vectors/exact-search.js';
import {normalizeRowsInPlace} from '../../vectors/metric.js';
import {TopK} from '../../vectors/top-k.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {checkPartsUnchanged, partOffsets, partPath} from './parts.js';
import {ASSIGN_FORMAT, assignDir, assignName, binMatches, ensureDir, readCentroids, readJson, readPlan, removeFile, writeArrays, writeJson, type AssignMarker} from './work-folder.js';

export interface DedupeAssignOptions {
  work: string;
  shard: Shard;
  threads?: number;
}

export interface DedupeAssignResult {
  work: string;
  shard: string;
  marker: string;
  parts: number;
  /** Rows assigned (each once), and rows left out for an empty text. */
  rows: number;
  empty_text_rows: number;
  skipped: boolean;
  seconds: number;
}

/** A growing Int32/Float32 buffer (doubling), so a bucket's entries need no array of small arrays. */
class Grow<T extends Int32Array | Float32Array> {
  length = 0;
  constructor(private data: T) {}
  push(values: ArrayLike<number>): void {
    if (this.length + values.length > this.data.length) this.grow(values.length);
    this.data.set(values, this.length);
    this.length += values.length;
  }
  private grow(more: number): void {
    const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(16, 2 * (this.length + more)));
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }
  pushOne(value: number): void {
    if (this.length === this.data.length) this.grow(1);
    this.data[this.length++] = value;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export async function runDedupeAssign(options: DedupeAssignOptions, services: PipelineServices): Promise<DedupeAssignResult> {
  const started = performance.now();
  const {work, shard} = options;
  const plan = await readPlan(work);
  await checkPartsUnchanged(plan.parts_dir, plan.parts);
  const centroids = await readCentroids(work, plan);
  const mine = plan.parts.map((_, p) => p).filter((p) => p % shard.count === shard.index);
  const dir = assignDir(work);
  const name = assignName(shard.index, shard.count);
  const markerPath = join(dir, `${name}.json`);

  const previous = await readJson<AssignMarker>(markerPath, ASSIGN_FORMAT);
  if (previous !== undefined && previous.plan_id === plan.plan_id && JSON.stringify(previous.parts) === JSON.stringify(mine) && (await binMatches(dir, previous))) {
    return {work, shard: formatShard(shard), marker: markerPath, parts: mine.length, rows: previous.rows, empty_text_rows: previous.empty_text_rows, skipped: true, seconds: secondsSince(started)};
  }
  await ensureDir(dir);
  await removeFile(markerPath);

  const d = plan.dimension;
  const buckets = plan.buckets;
  const rowsOf = Array.from({length: buckets}, () => new Grow(new Int32Array(0)));
  const primaryOf = Array.from({length: buckets}, () => new Grow(new Int32Array(0)));
  const vectorsOf = Array.from({length: buckets}, () => new Grow(new Float32Array(0)));
  const offsets = partOffsets(plan.parts);
  const searcher = await ProductSearcher.create(false, options.threads);
  let rows = 0;
  let emptyTextRows = 0;
  const bar = services.progress('assigning', 'rows', mine.reduce((sum, p) => sum + plan.parts[p]!.rows, 0));
  try {
    for (const p of mine) {
      const part = plan.parts[p]!;
      const path = partPath(plan.parts_dir, part);
      const source = await openVectors(path, {format: part.format, idColumn: plan.id_column ?? undefined});
      let row = offsets[p]!;
      try {
        if (source.dimension !== d) throw new SbertkitError(`this part's vectors have ${source.dimension} dimensions, the plan's ${d}`, {file: path, exitCode: EXIT.BAD_INPUT});
        for await (const batch of source.batches) {
          const texts = plan.has_text ? textCells(batch.fields[plan.text_column]) : undefined;
          const keep: number[] = [];
          for (let i = 0; i < batch.vectors.rows; i++) {
            // Only a real empty text is left out (as dedupe does); a row without one is compared by its vector.
            if (texts !== undefined && typeof texts[i] === 'string' && normalizeText(texts[i]!) === '') emptyTextRows++;
            else keep.push(i);
          }
          // A copy: the batch may be a view of the file's buffer, and normalizing writes in place.
          const unit = batch.vectors.pick(keep);
          normalizeRowsInPlace(unit);
          const nearest = new TopK(unit.rows, Math.min(plan.probes, centroids.rows));
          await searcher.searchInto(nearest, unit, centroids);
          for (let j = 0; j < keep.length; j++) {
            const global = row + keep[j]!;
            const {indices} = nearest.row(j);
            indices.forEach((b, probe) => {
              rowsOf[b]!.pushOne(global);
              primaryOf[b]!.pushOne(probe === 0 ? 1 : 0);
              vectorsOf[b]!.push(unit.row(j));
            });
          }
          rows += keep.length;
          row += batch.vectors.rows;
          bar.increment(batch.vectors.rows);
        }
        if (row - offsets[p]! !== part.rows) throw new SbertkitError(`this part has ${row - offsets[p]!} rows, the plan counted ${part.rows}; rerun dedupe plan`, {file: path, exitCode: EXIT.BAD_INPUT});
      } finally {
        await source.close();
      }
    }
  } finally {
    bar.stop();
    await searcher.release();
  }

  const blocks: [number, number][] = [];
  const arrays: (Int32Array | Float32Array)[] = [];
  let offset = 0;
  for (let b = 0; b < buckets; b++) {
    const count = rowsOf[b]!.length;
    blocks.push([offset, count]);
    arrays.push(rowsOf[b]!.view(), primaryOf[b]!.view(), vectorsOf[b]!.view());
    offset += count * (8 + 4 * d);
  }
  const bin = `${name}.bin`;
  const binBytes = await writeArrays(join(dir, bin), arrays);
  const marker: AssignMarker = {format: ASSIGN_FORMAT, status: 'complete', plan_id: plan.plan_id, shard: {index: shard.index, count: shard.count}, parts: mine, rows, empty_text_rows: emptyTextRows, bin, bin_bytes: binBytes, blocks};
  await writeJson(markerPath, marker);
  return {work, shard: formatShard(shard), marker: markerPath, parts: mine.length, rows, empty_text_rows: emptyTextRows, skipped: false, seconds: secondsSince(started)};
}

export function dedupeAssignSummary(r: DedupeAssignResult): string {
  if (r.skipped) return `shard ${r.shard} already assigned under this plan (${r.rows} rows of ${r.parts} parts); nothing to do -> ${r.marker}`;
  const empty = r.empty_text_rows > 0 ? `, ${r.empty_text_rows} with an empty text left out` : '';
  return `assigned ${r.rows} rows of ${r.parts} parts to their buckets${empty} [shard ${r.shard}] (${r.seconds}s) -> ${r.marker}`;
}
