/**
 * Submitting work whose job ids are a hash of the work itself: a job not in the queue is added, a
 * failed one is sent back (re-submitting after a fix tries again), and one waiting, running or done
 * is left alone, so re-submitting the same work is a no-op. Both `queue submit` commands go through here.
 */
import type {Queue} from 'bullmq';

export type SubmitState = 'added' | 'already submitted' | 'retried';

export interface QueuedJob {
  name: string;
  data: unknown;
  opts: {jobId: string} & Record<string, unknown>;
}

/** Each job's state after the submit, in the order given; new jobs are added in one bulk call. */
export async function submitJobs(queue: Queue, jobs: readonly QueuedJob[]): Promise<SubmitState[]> {
  const states: SubmitState[] = [];
  const fresh: QueuedJob[] = [];
  for (const job of jobs) {
    const existing = await queue.getJob(job.opts.jobId);
    if (existing === undefined || existing === null) {
      fresh.push(job);
      states.push('added');
    } else if ((await existing.getState()) === 'failed') {
      await existing.retry('failed');
      states.push('retried');
    } else {
      states.push('already submitted');
    }
  }
  if (fresh.length > 0) await queue.addBulk(fresh);
  return states;
}
