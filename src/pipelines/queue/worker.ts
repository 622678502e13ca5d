/**
 * `queue worker`: takes jobs from the queue and runs each as `encode --shard i/N`
 * (runEncodeShard), any number of processes on any number of machines. BullMQ holds a lock on each
 * running job that the worker renews; a worker killed outright stops renewing, and once the lock
 * expires another worker's stalled check puts the job back in the queue. Parts are written temp then
 * rename and finished by their manifest, so a retried part is made once, whole.
 */
import type {Job} from 'bullmq';
import {SbertkitError, EXIT} from '../../errors.js';
import type {SentenceEncoder} from '../../encoder/types.js';
import {onSignalExit} from '../../signal-exit.js';
import {DEFAULT_QUEUE, loadBullmq, openWorker} from '../../queue/connection.js';
import type {DedupeJobData, DedupeStageJobData} from '../../queue/dedupe-jobs.js';
import {partFileName, type EncodeJobData, type JobModel} from '../../queue/encode-jobs.js';
import {failureReason, isPermanent, MAX_STALLED} from '../../queue/job-policy.js';
import {parseRedisUrl, scrub} from '../../queue/redis-url.js';
import type {PipelineServices} from '../context.js';
import {runEncodeShard} from '../encode-shard.js';
import {processDedupeParent, processDedupeStage, type DedupeJobResult, type DedupeStageJobResult} from './dedupe-flow.js';

export interface QueueWorkerOptions {
  redis: string;
  queue?: string;
  /** Jobs run at once in this process (each loads its own copy of the model). */
  concurrency?: number;
  /** How long a job's lock lasts unrenewed: a killed worker's job is retried after about this long. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose lock expired. */
  stalledIntervalMs?: number;
}

export interface QueueWorkerContext {
  /** A loader for the model a job names, with this worker's encoder settings (threads, batch size...). */
  loaderFor(model: JobModel): () => Promise<SentenceEncoder>;
  services: PipelineServices;
}

export interface QueueWorkerResult {
  queue: string;
  redis: string;
  completed: number;
  failed: number;
}

/** What a job returns (stored in Redis, read by `submit --wait`). */
export interface EncodeJobResult {
  rows: number;
  /** Rows whose vector came from the --reuse part (absent in results of workers before it existed). */
  reused?: number;
  skipped: boolean;
  seconds: number;
  output: string;
}

/** Runs until the process is stopped (SIGINT/SIGTERM); resolves if the worker is closed otherwise. */
export async function runQueueWorker(options: QueueWorkerOptions, context: QueueWorkerContext): Promise<QueueWorkerResult> {
  const target = parseRedisUrl(options.redis);
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const {services} = context;
  const {UnrecoverableError, WaitingChildrenError} = await loadBullmq();
  const counts = {completed: 0, failed: 0};

  /** A failed job's error as BullMQ should see it: permanent (bad input, model) or retried. */
  const failed = (error: unknown, job: Job, label: string): Error => {
    const exitCode = error instanceof SbertkitError ? error.exitCode : 70;
    const line = scrub(error instanceof SbertkitError ? error.toLine() : error instanceof Error ? error.message : String(error), target);
    const reason = failureReason(line, exitCode);
    const permanent = isPermanent(exitCode);
    const attempt = job.attemptsMade + 1;
    const last = permanent || attempt >= (job.opts.attempts ?? 1);
    if (last) counts.failed++;
    services.status(`${label}: failed${last ? '' : `, will retry (attempt ${attempt} of ${job.opts.attempts})`}: ${reason}`);
    return permanent ? new UnrecoverableError(reason) : new Error(reason);
  };
  const quiet = {...services, progress: () => ({increment() {}, stop() {}})};

  const dedupeProcessor = async (job: Job<DedupeJobData | DedupeStageJobData>, token: string | undefined): Promise<DedupeJobResult | DedupeStageJobResult> => {
    const data = job.data;
    const label = data.kind === 'dedupe' ? `dedupe (${data.submission})` : `${data.kind === 'dedupe-assign' ? `dedupe assign shard ${data.index}/${data.count}` : `dedupe bucket ${data.index} of ${data.count}`} (${data.submission})`;
    try {
      if (data.kind === 'dedupe') {
        const result = await processDedupeParent(job as Job<DedupeJobData>, token, target, queueName, quiet);
        counts.completed++;
        services.status(`${label}: kept ${result.kept} of ${result.rows} rows -> ${result.output}`);
        return result;
      }
      const result = await processDedupeStage(data, quiet);
      counts.completed++;
      services.status(`${label}: ${result.skipped ? 'already done' : 'done'}`);
      return result;
    } catch (error) {
      if (error instanceof WaitingChildrenError) throw error;
      throw failed(error, job, label);
    }
  };

  const processor = async (job: Job<EncodeJobData>, token?: string): Promise<EncodeJobResult | DedupeJobResult | DedupeStageJobResult> => {
    const data = job.data as EncodeJobData | DedupeJobData | DedupeStageJobData;
    if (data.kind === 'dedupe' || data.kind === 'dedupe-assign' || data.kind === 'dedupe-bucket') return dedupeProcessor(job as unknown as Job<DedupeJobData | DedupeStageJobData>, token);
    if (data.kind !== 'encode') throw new UnrecoverableError(failureReason(`job ${job.id}: unknown kind '${String((data as {kind: unknown}).kind)}'`, EXIT.BAD_INPUT));
    const part = `part ${data.shard.index}/${data.shard.count} (${data.submission})`;
    try {
      const result = await runEncodeShard(
        {
          input: data.input,
          output: data.output,
          shard: data.shard,
          textColumn: data.settings.textColumn,
          idColumn: data.settings.idColumn,
          keepColumns: data.settings.keepColumns,
          inferTypes: data.settings.inferTypes ?? false,
          inputFormat: data.settings.inputFormat,
          format: data.settings.format,
          quote: data.settings.quote,
          onInvalidUtf8: data.settings.onInvalidUtf8,
          delimiter: data.settings.delimiter,
          precision: data.settings.precision,
          calibration: data.settings.calibration,
          textHash: data.settings.textHash,
          reuse: data.settings.reuse === undefined ? undefined : partFileName(data.settings.reuse, data.shard.index, data.shard.count, data.settings.format),
        },
        {...quiet, loadEncoder: context.loaderFor(data.model)},
        {inputSha256: data.inputSha256, onnxSha256: data.model.onnxSha256},
      );
      counts.completed++;
      services.status(result.skipped ? `${part}: already complete -> ${data.output}` : `${part}: ${result.rows} texts in ${result.seconds.toFixed(1)} s -> ${data.output}`);
      return {rows: result.rows, reused: result.reused ?? 0, skipped: result.skipped, seconds: result.seconds, output: data.output};
    } catch (error) {
      throw failed(error, job, part);
    }
  };

  const handle = await openWorker(
    target,
    queueName,
    processor as (job: Job, token?: string) => Promise<unknown>,
    {
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: MAX_STALLED,
    },
    (message) => services.warn(`redis: ${message}`),
  );
  // Stopped by a signal: close without waiting for running jobs (they may take hours); their locks
  // expire and other workers retry them.
  const unregister = onSignalExit(() => handle.close(true));
  services.status(`worker on queue ${queueName} at ${target.redacted} (concurrency ${options.concurrency ?? 1}); Ctrl-C to stop`);
  await new Promise<void>((resolveClosed) => handle.worker.once('closed', () => resolveClosed()));
  unregister();
  return {queue: queueName, redis: target.redacted, ...counts};
}

export function queueWorkerSummary(r: QueueWorkerResult): string {
  return `worker on queue ${r.queue} stopped: ${r.completed} parts done, ${r.failed} failed`;
}
