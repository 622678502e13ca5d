/**
 * What the queued staged dedupe's jobs are. One parent job walks the stages (plan, then the assign
 * shards, then the buckets, then merge): it runs plan and merge itself, and for assign and bucket adds
 * one child job per shard or bucket and waits for them (BullMQ's waiting-children step pattern, since
 * the bucket count is known only once the plan is made). Every id is the work's hash plus the step, so
 * submitting the same work twice names the same jobs; the work folder's markers make any rerun a
 * no-op, so a retried job only redoes what is missing.
 */
import {createHash} from 'node:crypto';
import type {KeepPolicy} from '../algorithms/dedupe/decide.js';

export const DEDUPE_JOB = 'dedupe';
export const DEDUPE_STAGE_JOB = 'dedupe-stage';

export type DedupeStep = 'plan' | 'assign' | 'bucket' | 'merge' | 'done';

export interface DedupeJobSettings {
  threshold: number;
  buckets?: number;
  probes?: number;
  sample?: number;
  seed?: number;
  textColumn: string;
  idColumn?: string;
  /** Assign tasks (shards of the parts). */
  assignShards: number;
  keep: KeepPolicy;
  /** Merge's threshold, when stricter than the plan's. */
  mergeThreshold?: number;
}

export interface DedupeJobData {
  kind: 'dedupe';
  submission: string;
  /** Absolute paths every worker can read (parts) and write (work, output, duplicates). */
  parts: string;
  work: string;
  output: string;
  duplicates?: string;
  settings: DedupeJobSettings;
  /** 'done' once merged; the stages themselves are read from the work folder's markers. */
  step: DedupeStep;
  /** Times the parent has queued stage jobs (their ids carry it, after the first). */
  round?: number;
}

export interface DedupeStageJobData {
  kind: 'dedupe-assign' | 'dedupe-bucket';
  submission: string;
  work: string;
  /** assign: shard i/N of the parts; bucket: bucket index (count = the plan's buckets). */
  index: number;
  count: number;
}

/** The hash of one dedupe (its jobs share it); 16 hex digits. */
export function dedupeSubmissionId(work: {partsFingerprint: string; work: string; output: string; duplicates?: string; settings: DedupeJobSettings}): string {
  const key = JSON.stringify([work.partsFingerprint, work.work, work.output, work.duplicates ?? null, work.settings]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function dedupeJobId(submission: string): string {
  return `dedupe-${submission}`;
}

export function dedupeStageJobId(submission: string, kind: DedupeStageJobData['kind'], index: number, count: number): string {
  return kind === 'dedupe-assign' ? `dedupe-${submission}-assign-${index}-of-${count}` : `dedupe-${submission}-bucket-${index}-of-${count}`;
}
