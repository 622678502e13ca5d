/** `queue status`: how many parts are waiting, running, retrying, done and failed, and why the failed ones failed. */
import type {Job} from 'bullmq';
import {SbertkitError} from '../../errors.js';
import {DEFAULT_QUEUE, openQueue, unreachable} from '../../queue/connection.js';
import {parseRedisUrl, scrub} from '../../queue/redis-url.js';

export interface QueueStatusOptions {
  redis: string;
  queue?: string;
  /** Failed jobs listed with their reasons (default 10). */
  maxFailed?: number;
}

export interface QueueStatusResult {
  queue: string;
  redis: string;
  waiting: number;
  running: number;
  /** Waiting, delayed or running jobs that failed or stalled before (a killed worker's job, an I/O error). */
  retrying: number;
  done: number;
  failed: number;
  delayed: number;
  failures: Array<{job: string; reason: string}>;
}

/** Jobs fetched to count retries; beyond it the count is a lower bound. */
const RETRY_SCAN = 10_000;

export async function runQueueStatus(options: QueueStatusOptions): Promise<QueueStatusResult> {
  const target = parseRedisUrl(options.redis);
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const handle = await openQueue(target, queueName);
  try {
    const {queue} = handle;
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    const pending = (await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized'], 0, RETRY_SCAN - 1)) as Array<Job | undefined>;
    const retrying = pending.filter((job) => job !== undefined && (job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0)).length;
    const maxFailed = options.maxFailed ?? 10;
    // getJobs(types, 0, -1) would mean all of them.
    const failedJobs = maxFailed === 0 ? [] : ((await queue.getJobs(['failed'], 0, maxFailed - 1)) as Array<Job | undefined>);
    return {
      queue: queueName,
      redis: target.redacted,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      running: counts.active ?? 0,
      retrying,
      done: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      delayed: counts.delayed ?? 0,
      failures: failedJobs.filter((job): job is Job => job !== undefined).map((job) => ({job: job.id ?? '?', reason: scrub(job.failedReason ?? '', target)})),
    };
  } catch (error) {
    if (error instanceof SbertkitError) throw error;
    throw unreachable(error, target);
  } finally {
    await handle.close();
  }
}

export function queueStatusSummary(r: QueueStatusResult): string {
  return `queue ${r.queue}: ${r.waiting} waiting, ${r.running} running, ${r.retrying} retrying, ${r.delayed} delayed (backoff), ${r.done} done, ${r.failed} failed`;
}

/** The failed jobs, one per line, for stdout. */
export function renderQueueStatus(r: QueueStatusResult): string | undefined {
  if (r.failures.length === 0) return undefined;
  return r.failures.map((f) => `failed ${f.job}: ${f.reason}\n`).join('');
}
