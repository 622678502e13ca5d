/**
 * `dedupe plan`: the buckets of the staged dedupe, as SemDeDup cuts them. A seeded sample of rows
 * across the parts is fitted with spherical k-means (the single-machine bucketed search's own
 * fitBucketCentroids); the centroids and the settings every later stage needs go into the work
 * folder. A rerun with the same parts and settings finds the plan and does nothing.
 */
import {fitBucketCentroids, NEIGHBOUR_DEFAULTS, SAMPLE_PER_BUCKET, seededSample} from '../../algorithms/neighbour-lists.js';
import {mulberry32} from '../../algorithms/random.js';
import {EXIT, SbertkitError} from '../../errors.js';
import {openVectors} from '../../io/vectors/read-vectors.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import {normalizeRowsInPlace} from '../../vectors/metric.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {findParts, partOffsets, partPath} from './parts.js';
import {centroidsPath, ensureDir, planId, planPath, readCentroids, readPlan, removeFile, sha256Hex, writeArrays, writeJson, type DedupePlan} from './work-folder.js';
import {checkThreshold} from '../dedupe/threshold.js';

export interface DedupePlanOptions {
  parts: string;
  work: string;
  threshold: number;
  buckets?: number;
  probes?: number;
  /** Rows sampled to fit the centroids (default 40 per bucket). */
  sample?: number;
  seed?: number;
  textColumn?: string;
  idColumn?: string;
  threads?: number;
}

export interface DedupePlanResult {
  work: string;
  plan: string;
  parts: number;
  rows: number;
  buckets: number;
  probes: number;
  sampled: number;
  threshold: number;
  /** True when a plan with the same parts and settings was already there. */
  skipped: boolean;
  seconds: number;
}

export async function runDedupePlan(options: DedupePlanOptions, services: PipelineServices): Promise<DedupePlanResult> {
  const started = performance.now();
  checkThreshold(options.threshold, '--threshold');
  const found = await findParts(options.parts);
  const rows = found.parts.reduce((sum, p) => sum + p.rows, 0);
  if (rows === 0) throw new SbertkitError('the parts hold no rows', {file: options.parts, exitCode: EXIT.BAD_INPUT});
  const buckets = Math.max(1, Math.min(rows, options.buckets ?? Math.round(Math.sqrt(rows))));
  const probes = Math.max(1, Math.min(buckets, options.probes ?? NEIGHBOUR_DEFAULTS.probes));
  const seed = options.seed ?? NEIGHBOUR_DEFAULTS.seed;
  const sampleSize = Math.max(1, Math.min(rows, options.sample ?? buckets * SAMPLE_PER_BUCKET));
  const textColumn = options.textColumn ?? 'text';
  const idColumn = options.idColumn ?? null;

  const settings = {parts_dir: found.dir, parts: found.parts, rows, text_column: textColumn, id_column: idColumn, threshold: options.threshold, probes, sample: {seed, rows: sampleSize}};
  const previous = await readPlan(options.work).catch(() => undefined);
  if (previous !== undefined && samePlanSettings(previous, settings, options.buckets) && (await readCentroids(options.work, previous).then(() => true, () => false))) {
    return result(previous, true);
  }

  // The old plan goes first: a run killed below leaves no plan rather than one that does not match its centroids.
  await ensureDir(options.work);
  await removeFile(planPath(options.work));
  services.status(`sampling ${sampleSize} of ${rows} rows from ${found.parts.length} parts`);
  const picked = seededSample(rows, sampleSize, mulberry32(seed));
  const offsets = partOffsets(found.parts);
  const sample: Float32Array[] = [];
  let dimension: number | undefined;
  let hasText: boolean | undefined;
  let model: string | null = null;
  let next = 0;
  for (const [p, part] of found.parts.entries()) {
    const path = partPath(found.dir, part);
    const source = await openVectors(path, {format: part.format, idColumn: options.idColumn});
    try {
      if (dimension !== undefined && source.dimension !== dimension) throw new SbertkitError(`this part's vectors have ${source.dimension} dimensions, the first part's ${dimension}`, {file: path, exitCode: EXIT.BAD_INPUT});
      dimension = source.dimension;
      const partHasText = source.fieldNames.includes(textColumn);
      if (hasText !== undefined && partHasText !== hasText) throw new SbertkitError(`some parts have a '${textColumn}' column and some do not`, {file: path, exitCode: EXIT.BAD_INPUT});
      hasText = partHasText;
      const partModel = source.metadata['sbertkit.model'] ?? null;
      if (p > 0 && partModel !== model) throw new SbertkitError(`this part was made by model ${partModel ?? '(unnamed)'}, the first part by ${model ?? '(unnamed)'}`, {file: path, exitCode: EXIT.BAD_INPUT});
      model = partModel;
      let row = offsets[p]!;
      if (next < picked.length && picked[next]! < offsets[p + 1]!) {
        for await (const batch of source.batches) {
          for (let i = 0; i < batch.vectors.rows; i++, row++) {
            if (picked[next] === row) {
              sample.push(batch.vectors.row(i).slice());
              next++;
            }
          }
          if (next >= picked.length || picked[next]! >= offsets[p + 1]!) break;
        }
      }
    } finally {
      await source.close();
    }
  }
  const sampleMatrix = VectorMatrix.fromRows(sample, undefined, dimension!);
  normalizeRowsInPlace(sampleMatrix);
  services.status(`fitting ${buckets} centroids on ${sampleMatrix.rows} rows`);
  const centroids = await fitBucketCentroids(sampleMatrix, buckets, seed, options.threads);
  const bytes = new Uint8Array(centroids.data.buffer, centroids.data.byteOffset, centroids.data.byteLength);
  await writeArrays(centroidsPath(options.work), [centroids.data]);
  const body: Omit<DedupePlan, 'plan_id'> = {
    format: 'sbertkit-dedupe-plan-1',
    status: 'complete',
    ...settings,
    dimension: dimension!,
    model: found.model?.id ?? model,
    onnx_sha256: found.model?.onnx_sha256 ?? null,
    has_text: hasText!,
    buckets: centroids.rows,
    requested_buckets: options.buckets ?? null,
    centroids: {file: 'centroids.f32', sha256: sha256Hex(bytes)},
  };
  const plan: DedupePlan = {plan_id: planId(body), ...body};
  await writeJson(planPath(options.work), plan);
  return result(plan, false);

  function result(plan: DedupePlan, skipped: boolean): DedupePlanResult {
    return {work: options.work, plan: planPath(options.work), parts: plan.parts.length, rows: plan.rows, buckets: plan.buckets, probes: plan.probes, sampled: plan.sample.rows, threshold: plan.threshold, skipped, seconds: secondsSince(started)};
  }
}

/** Whether `plan` was made from these parts with these settings (then a rerun has nothing to do). */
function samePlanSettings(plan: DedupePlan, settings: Record<string, unknown>, requestedBuckets: number | undefined): boolean {
  const record = plan as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(settings)) if (JSON.stringify(record[key]) !== JSON.stringify(value)) return false;
  return JSON.stringify(record.requested_buckets ?? null) === JSON.stringify(requestedBuckets ?? null);
}

export function dedupePlanSummary(r: DedupePlanResult): string {
  if (r.skipped) return `plan already made for these ${r.parts} parts and settings (${r.rows} rows, ${r.buckets} buckets); nothing to do -> ${r.plan}`;
  return `planned ${r.rows} rows in ${r.parts} parts: ${r.buckets} buckets fitted on ${r.sampled} sampled rows, ${r.probes} probes per row, threshold ${r.threshold} (${r.seconds}s) -> ${r.plan}`;
}
