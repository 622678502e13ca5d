/**
 * `queue submit dedupe`: the staged dedupe (plan, assign, bucket, merge) as jobs on a BullMQ queue.
 * One parent job per piece of work (pipelines/queue/dedupe-flow.ts walks the stages and adds the
 * assign and bucket jobs as its children); the parts folder is checked here, once, so a missing or
 * unfinished part fails the submit rather than a worker. Re-submitting the same work adds nothing
 * (and with --wait just waits); a failed one is sent back to the queue, and resumes from the work
 * folder's markers.
 */
import {mkdir} from 'node:fs/promises';
import {resolve} from 'node:path';
import type {Job} from 'bullmq';
import type {KeepPolicy} from '../../algorithms/dedupe/decide.js';
import {EXIT, SbertkitError} from '../../errors.js';
import {detectVectorFormat, STDIN} from '../../io/formats.js';
import {DEFAULT_QUEUE, openQueue, unreachable} from '../../queue/connection.js';
import {DEDUPE_JOB, dedupeJobId, dedupeSubmissionId, type DedupeJobData, type DedupeJobSettings} from '../../queue/dedupe-jobs.js';
import {failureExitCode, JOB_OPTIONS} from '../../queue/job-policy.js';
import {parseRedisUrl} from '../../queue/redis-url.js';
import {submitJobs, type SubmitState} from '../../queue/submit-jobs.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {findParts} from '../dedupe-stages/parts.js';
import type {DedupePlanOptions} from '../dedupe-stages/plan.js';
import {sha256Hex} from '../dedupe-stages/work-folder.js';
import {checkThreshold} from '../dedupe/threshold.js';

/** The plan's own options (parts folder, work folder, threshold, buckets...), then the queue's and merge's. */
export interface SubmitDedupeOptions extends Omit<DedupePlanOptions, 'threads'> {
  output: string;
  duplicates?: string;
  redis: string;
  queue?: string;
  wait?: boolean;
  assignShards?: number;
  keep?: KeepPolicy;
  mergeThreshold?: number;
  pollMs?: number;
}

export interface SubmitDedupeResult {
  submission: string;
  job: string;
  queue: string;
  redis: string;
  parts: number;
  work: string;
  output: string;
  /** 'added', 'already submitted', or 'retried' (a failed submit of the same work sent back). */
  state: SubmitState;
  waited: boolean;
  rows?: number;
  kept?: number;
  seconds: number;
}

export async function runSubmitDedupe(options: SubmitDedupeOptions, services: PipelineServices): Promise<SubmitDedupeResult> {
  const started = performance.now();
  const target = parseRedisUrl(options.redis);
  const queueName = options.queue ?? DEFAULT_QUEUE;
  if (options.output === STDIN || detectVectorFormat(options.output) === undefined) {
    throw new SbertkitError('-o must name a vector file every worker can write (.parquet, .arrow, .arrows, .jsonl)', {field: '--output', exitCode: EXIT.BAD_INPUT});
  }
  if (options.duplicates === STDIN) throw new SbertkitError('--duplicates must name a file every worker can write (not stdout)', {field: '--duplicates', exitCode: EXIT.BAD_INPUT});
  checkThreshold(options.threshold, '--threshold');
  const found = await findParts(options.parts);
  const work = resolve(options.work);
  await mkdir(work, {recursive: true}).catch((error: Error) => {
    throw new SbertkitError(`cannot create the work folder: ${error.message}`, {file: options.work, field: '--out'});
  });
  const settings: DedupeJobSettings = {
    threshold: options.threshold,
    ...(options.buckets === undefined ? {} : {buckets: options.buckets}),
    ...(options.probes === undefined ? {} : {probes: options.probes}),
    ...(options.sample === undefined ? {} : {sample: options.sample}),
    ...(options.seed === undefined ? {} : {seed: options.seed}),
    textColumn: options.textColumn ?? 'text',
    ...(options.idColumn === undefined ? {} : {idColumn: options.idColumn}),
    assignShards: options.assignShards ?? found.parts.length,
    keep: options.keep ?? 'first',
    ...(options.mergeThreshold === undefined ? {} : {mergeThreshold: options.mergeThreshold}),
  };
  const output = resolve(options.output);
  const duplicates = options.duplicates === undefined ? undefined : resolve(options.duplicates);
  const submission = dedupeSubmissionId({partsFingerprint: sha256Hex(JSON.stringify([found.dir, found.parts])), work, output, duplicates, settings});
  const data: DedupeJobData = {kind: 'dedupe', submission, parts: found.dir, work, output, ...(duplicates === undefined ? {} : {duplicates}), settings, step: 'plan'};
  const jobId = dedupeJobId(submission);

  const handle = await openQueue(target, queueName);
  try {
    const [state] = (await submitJobs(handle.queue, [{name: DEDUPE_JOB, data, opts: {...JOB_OPTIONS, jobId}}])) as [SubmitState];
    const base: SubmitDedupeResult = {submission, job: jobId, queue: queueName, redis: target.redacted, parts: found.parts.length, work, output, state, waited: false, seconds: 0};
    if (!options.wait) return {...base, seconds: secondsSince(started)};
    services.status(`dedupe ${submission} ${state}; waiting for its stages (queue ${queueName} at ${target.redacted})`);
    for (;;) {
      const now = await handle.queue.getJobState(jobId);
      if (now === 'completed' || now === 'failed') {
        const job = (await handle.queue.getJob(jobId)) as Job;
        if (now === 'failed') {
          const reason = await failedChildReason(handle.queue, job.failedReason ?? 'unknown failure');
          throw new SbertkitError(`dedupe ${submission} failed: ${reason}`, {exitCode: failureExitCode(reason)});
        }
        const value = job.returnvalue as {rows: number; kept: number};
        return {...base, waited: true, rows: value.rows, kept: value.kept, seconds: secondsSince(started)};
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
    }
  } catch (error) {
    if (error instanceof SbertkitError) throw error;
    throw unreachable(error, target);
  } finally {
    await handle.close();
  }
}

/**
 * A parent failed by its child (failParentOnFailure) says only "child <queue key>:<id> failed": the
 * child's own reason, with its exit code, is what the user needs.
 */
async function failedChildReason(queue: import('bullmq').Queue, reason: string): Promise<string> {
  const match = /child (\S+) failed/.exec(reason);
  if (match === null) return reason;
  const id = match[1]!.slice(match[1]!.lastIndexOf(':') + 1);
  const child = (await queue.getJob(id)) as Job | undefined | null;
  return child?.failedReason ? `${id}: ${child.failedReason}` : reason;
}

export function submitDedupeSummary(r: SubmitDedupeResult): string {
  const head = `dedupe ${r.submission} of ${r.parts} parts (queue ${r.queue}; ${r.state}) -> ${r.output}`;
  if (!r.waited) return `${head}; run 'sbertkit queue worker' to process it`;
  return `${head}; kept ${r.kept} of ${r.rows} rows in ${r.seconds.toFixed(1)} s`;
}
