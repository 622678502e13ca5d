/**
 * The queued staged dedupe, worker side. The parent job (queue/dedupe-jobs.ts) runs `dedupe plan`,
 * adds one child job per assign shard that is not finished and waits for them; then one per bucket
 * that is not finished, and waits; then runs `dedupe merge`. What is finished is read from the work
 * folder's markers, never from the queue's bookkeeping, so a retried parent (after a failed child, a
 * killed worker, a re-submit) adds jobs only for the missing pieces, under fresh ids (round r), and a
 * retried child redoes nothing that is whole. A child that fails for good fails its parent
 * (failParentOnFailure), so `submit --wait` sees the failure.
 */
import type {Job} from 'bullmq';
import {SbertkitError} from '../../errors.js';
import {runDedupeAssign} from '../dedupe-stages/assign.js';
import {runDedupeBucket} from '../dedupe-stages/bucket.js';
import {runDedupeMerge, type DedupeMergeResult} from '../dedupe-stages/merge.js';
import {runDedupePlan} from '../dedupe-stages/plan.js';
import {missingAssignShards, missingBuckets, readAssignment, readPlan} from '../dedupe-stages/work-folder.js';
import {loadBullmq, openQueue} from '../../queue/connection.js';
import {DEDUPE_STAGE_JOB, dedupeStageJobId, type DedupeJobData, type DedupeStageJobData} from '../../queue/dedupe-jobs.js';
import {JOB_OPTIONS} from '../../queue/job-policy.js';
import type {RedisTarget} from '../../queue/redis-url.js';
import type {PipelineServices} from '../context.js';

export interface DedupeJobResult {
  step: 'done';
  rows: number;
  kept: number;
  output: string;
  seconds: number;
}

export interface DedupeStageJobResult {
  kind: DedupeStageJobData['kind'];
  index: number;
  skipped: boolean;
}

/** One assign shard or one bucket. */
export async function processDedupeStage(data: DedupeStageJobData, services: PipelineServices): Promise<DedupeStageJobResult> {
  if (data.kind === 'dedupe-assign') {
    const r = await runDedupeAssign({work: data.work, shard: {index: data.index, count: data.count}, threads: 1}, services);
    return {kind: data.kind, index: data.index, skipped: r.skipped};
  }
  const r = await runDedupeBucket({work: data.work, bucket: data.index, threads: 1}, services);
  return {kind: data.kind, index: data.index, skipped: r.done === 0};
}

/** The parent job: one step per call; throws BullMQ's WaitingChildrenError while children run. */
export async function processDedupeParent(job: Job<DedupeJobData>, token: string | undefined, target: RedisTarget, queueName: string, services: PipelineServices): Promise<DedupeJobResult> {
  const {WaitingChildrenError} = await loadBullmq();
  const data = job.data;
  const s = data.settings;
  await runDedupePlan({parts: data.parts, work: data.work, threshold: s.threshold, buckets: s.buckets, probes: s.probes, sample: s.sample, seed: s.seed, textColumn: s.textColumn, idColumn: s.idColumn}, services);
  const plan = await readPlan(data.work);

  const shards = await missingAssignShards(data.work, plan, s.assignShards);
  if (shards.length > 0) {
    services.status(`dedupe ${data.submission}: ${shards.length} assign shards queued`);
    if (await addChildrenAndWait(job, token, target, queueName, (round) => shards.map((i) => stage(data, 'dedupe-assign', i, s.assignShards, round)))) throw new WaitingChildrenError();
  }
  const assignment = await readAssignment(data.work, plan);
  const {missing} = await missingBuckets(data.work, plan, assignment.assign_id);
  if (missing.length > 0) {
    services.status(`dedupe ${data.submission}: ${missing.length} buckets queued`);
    if (await addChildrenAndWait(job, token, target, queueName, (round) => missing.map((b) => stage(data, 'dedupe-bucket', b, plan.buckets, round)))) throw new WaitingChildrenError();
  }
  const merged: DedupeMergeResult = await runDedupeMerge({work: data.work, output: data.output, duplicates: data.duplicates, keep: s.keep, threshold: s.mergeThreshold}, services);
  await job.updateData({...job.data, step: 'done'});
  return {step: 'done', rows: merged.rows, kept: merged.kept, output: data.output, seconds: merged.seconds};
}

function stage(data: DedupeJobData, kind: DedupeStageJobData['kind'], index: number, count: number, round: number): {data: DedupeStageJobData; id: string} {
  const base = dedupeStageJobId(data.submission, kind, index, count);
  return {data: {kind, submission: data.submission, work: data.work, index, count}, id: round === 1 ? base : `${base}-r${round}`};
}

/** Children added by one parent beyond this are a loop (children that finish without their markers): fail instead. */
const MAX_ROUNDS = 8;

/**
 * Adds the children under this job (ids of a new round, so children that failed in an earlier round
 * are not mistaken for these) and moves it to waiting-children; true when it now waits (the processor
 * must throw WaitingChildrenError), false when there was nothing left to wait for.
 */
async function addChildrenAndWait(job: Job<DedupeJobData>, token: string | undefined, target: RedisTarget, queueName: string, children: (round: number) => {data: DedupeStageJobData; id: string}[]): Promise<boolean> {
  const round = (job.data.round ?? 0) + 1;
  if (round > MAX_ROUNDS) throw new SbertkitError(`dedupe ${job.data.submission}: stage jobs were queued ${MAX_ROUNDS} times and their work is still missing; see sbertkit queue status`, {exitCode: 70});
  await job.updateData({...job.data, round});
  const handle = await openQueue(target, queueName);
  try {
    await handle.queue.addBulk(
      children(round).map((c) => ({
        name: DEDUPE_STAGE_JOB,
        data: c.data,
        opts: {...JOB_OPTIONS, jobId: c.id, parent: {id: job.id!, queue: job.queueQualifiedName}, failParentOnFailure: true},
      })),
    );
  } finally {
    await handle.close();
  }
  return job.moveToWaitingChildren(token!);
}
