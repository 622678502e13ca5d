/**
 * `queue submit encode`: one BullMQ job per part of INPUT, each job the same work as
 * `encode INPUT --shard i/N -o DIR/part-i-of-N.ext` (pipelines/queue/worker.ts runs it). The input
 * and the model are checked here, once, so a wrong column or model fails the submit rather than N
 * jobs; the input's and graph's checksums go into the jobs, so a worker refuses to make a part from
 * a changed input or another graph. With `wait`, it follows the parts until all are done or failed.
 */
import {existsSync, statSync} from 'node:fs';
import {mkdir, stat} from 'node:fs/promises';
import {basename, resolve} from 'node:path';
import type {Job} from 'bullmq';
import {SbertkitError} from '../../errors.js';
import type {InvalidUtf8Policy} from '../../io/input/utf8.js';
import {STDIN, type TextFormat, type VectorFormat} from '../../io/formats.js';
import {openTexts} from '../../io/text/read-texts.js';
import {fileSha256} from '../../models/fingerprint.js';
import type {OverflowMode} from '../../encoder/types.js';
import type {Precision} from '../../vectors/quantize.js';
import {resolveModel} from '../../models/resolve.js';
import {DEFAULT_QUEUE, openQueue, unreachable} from '../../queue/connection.js';
import {ENCODE_JOB, encodeJobId, partFileName, submissionId, type EncodeJobData, type JobEncodeSettings, type JobModel} from '../../queue/encode-jobs.js';
import {failureExitCode, JOB_OPTIONS} from '../../queue/job-policy.js';
import {parseRedisUrl} from '../../queue/redis-url.js';
import {submitJobs, type SubmitState} from '../../queue/submit-jobs.js';
import {secondsSince, type PipelineServices} from '../context.js';

export interface SubmitEncodeOptions {
  input: string;
  outDir: string;
  parts: number;
  redis: string;
  queue?: string;
  /** Follow the parts until every one is done or failed. */
  wait?: boolean;
  textColumn?: string;
  idColumn?: string;
  keepColumns?: string[];
  inferTypes?: boolean;
  inputFormat?: TextFormat;
  /** Part file format (default parquet). */
  format?: VectorFormat;
  quote?: boolean;
  onInvalidUtf8?: InvalidUtf8Policy;
  model?: string;
  modelFile?: string;
  offline?: boolean;
  maxSeqLength?: number;
  normalize?: boolean;
  /** CSV field separator. */
  delimiter?: string;
  /** How vectors are stored; int8/uint8 need a calibration file (one range for every part). */
  precision?: Precision;
  calibration?: string;
  /** Parts get a text_sha256 column (a later submit can --reuse them). */
  textHash?: boolean;
  /** An earlier submit's part folder (same --parts and --format): part i reuses its part i's vectors. */
  reuse?: string;
  /** Encoder options that shape the vectors, carried to every worker. */
  truncateDim?: number;
  prompt?: string;
  promptName?: string;
  onOverflow?: OverflowMode;
  chunkOverlap?: number;
  /** How often `wait` asks Redis for the parts' states (default 500 ms). */
  pollMs?: number;
}

export interface SubmitEncodeResult {
  submission: string;
  queue: string;
  /** The Redis URL with its password redacted. */
  redis: string;
  input: string;
  input_sha256: string;
  out: string;
  parts: number;
  model: string;
  onnx_sha256: string;
  /** Jobs this submit added. */
  added: number;
  /** Parts already in the queue (waiting, running or done) from an earlier submit of the same work. */
  already_submitted: number;
  /** Failed parts of an earlier submit that this one sent back to the queue. */
  retried: number;
  waited: boolean;
  /** With wait: parts done and failed, and texts encoded by this submit's parts (complete parts count their rows). */
  done?: number;
  failed?: number;
  rows?: number;
  /** With wait and --reuse: of those rows, how many took their vector from the reused parts. */
  reused?: number;
  seconds: number;
}

export async function runSubmitEncode(options: SubmitEncodeOptions, services: PipelineServices): Promise<SubmitEncodeResult> {
  const started = performance.now();
  const target = parseRedisUrl(options.redis);
  const queueName = options.queue ?? DEFAULT_QUEUE;
  if (!Number.isInteger(options.parts) || options.parts < 1) throw new SbertkitError('--parts must be a whole number of at least 1', {field: '--parts'});
  if (options.input === STDIN) throw new SbertkitError('the queue needs an input file that every worker can read (not stdin)', {field: 'INPUT'});
  const input = resolve(options.input);
  const inputStat = await stat(input).catch(() => undefined);
  if (inputStat === undefined || !inputStat.isFile()) throw new SbertkitError('not a readable regular file (every worker reads it whole)', {file: options.input});
  const precision = options.precision ?? 'float32';
  if ((precision === 'int8' || precision === 'uint8') && options.calibration === undefined) {
    throw new SbertkitError(`--precision ${precision} on the queue needs --calibration FILE: every part must quantize with the same ranges`, {field: '--calibration'});
  }
  if (options.calibration !== undefined && !(await stat(options.calibration).catch(() => undefined))?.isFile()) {
    throw new SbertkitError('not a readable file (every worker reads the calibration vectors)', {file: options.calibration, field: '--calibration'});
  }
  if (options.reuse !== undefined && (precision === 'int8' || precision === 'uint8')) {
    // Every part quantizes with --calibration's ranges, and a reused part with its own: not on the queue.
    throw new SbertkitError(`--reuse on the queue works for float32, float16, binary and ubinary parts, not ${precision}; use encode --shard i/N --reuse for int8/uint8 parts`, {field: '--reuse'});
  }
  if (options.chunkOverlap !== undefined && options.onOverflow !== 'chunk') {
    throw new SbertkitError(`--chunk-overlap applies only with --on-overflow chunk (got --on-overflow ${options.onOverflow ?? 'truncate'})`, {field: '--chunk-overlap'});
  }
  const settings: JobEncodeSettings = {
    textColumn: options.textColumn ?? 'text',
    ...(options.idColumn === undefined ? {} : {idColumn: options.idColumn}),
    keepColumns: options.keepColumns ?? [],
    ...(options.inferTypes ? {inferTypes: true} : {}),
    ...(options.inputFormat === undefined ? {} : {inputFormat: options.inputFormat}),
    format: options.format ?? 'parquet',
    quote: options.quote ?? false,
    onInvalidUtf8: options.onInvalidUtf8 ?? 'error',
    ...(options.delimiter === undefined ? {} : {delimiter: options.delimiter}),
    ...(precision === 'float32' ? {} : {precision}),
    ...(options.calibration === undefined ? {} : {calibration: resolve(options.calibration)}),
    ...(options.textHash === true ? {textHash: true} : {}),
    ...(options.reuse === undefined ? {} : {reuse: resolve(options.reuse)}),
  };
  if (settings.reuse !== undefined) await checkReuseParts(settings.reuse, options.parts, settings.format);
  // Columns are checked once here: a wrong --text-column is one line now, not N failed jobs later.
  const check = await openTexts(input, {
    format: settings.inputFormat,
    textColumn: settings.textColumn,
    idColumn: settings.idColumn,
    keepColumns: settings.keepColumns,
    quote: settings.quote,
    delimiter: settings.delimiter,
  });
  await check.close();

  const outDir = resolve(options.outDir);
  await mkdir(outDir, {recursive: true}).catch((error: Error) => {
    throw new SbertkitError(`cannot create the output folder: ${error.message}`, {file: options.outDir, field: '--out'});
  });

  // A relative model folder means this machine's folder: workers get its absolute path.
  const modelArg = options.model !== undefined && existsSync(options.model) && statSync(options.model).isDirectory() ? resolve(options.model) : options.model;
  const spec = await resolveModel(modelArg, {modelFile: options.modelFile, offline: options.offline, onStatus: services.status});
  const model: JobModel = {
    ...(modelArg === undefined ? {} : {model: modelArg}),
    ...(options.modelFile === undefined ? {} : {modelFile: options.modelFile}),
    ...(options.maxSeqLength === undefined ? {} : {maxSeqLength: options.maxSeqLength}),
    ...(options.normalize === undefined ? {} : {normalize: options.normalize}),
    ...definedOnly({
      truncateDim: options.truncateDim,
      prompt: options.prompt,
      promptName: options.promptName,
      onOverflow: options.onOverflow === 'truncate' ? undefined : options.onOverflow,
      chunkOverlap: options.chunkOverlap,
    }),
    name: spec.name,
    onnxSha256: await fileSha256(spec.onnxPath),
  };
  const inputSha256 = await fileSha256(input);
  const submission = submissionId({inputSha256, outDir, parts: options.parts, settings, model});

  const jobs = Array.from({length: options.parts}, (_, index) => {
    const data: EncodeJobData = {
      kind: 'encode',
      submission,
      input,
      inputSha256,
      output: partFileName(outDir, index, options.parts, settings.format),
      shard: {index, count: options.parts},
      settings,
      model,
    };
    return {name: ENCODE_JOB, data, opts: {...JOB_OPTIONS, jobId: encodeJobId(submission, index, options.parts)}};
  });

  const handle = await openQueue(target, queueName);
  try {
    const states = await submitJobs(handle.queue, jobs);
    const count = (state: SubmitState): number => states.filter((s) => s === state).length;
    const [added, already, retried] = [count('added'), count('already submitted'), count('retried')];
    const base: SubmitEncodeResult = {
      submission,
      queue: queueName,
      redis: target.redacted,
      input,
      input_sha256: inputSha256,
      out: outDir,
      parts: options.parts,
      model: spec.name,
      onnx_sha256: model.onnxSha256,
      added,
      already_submitted: already,
      retried,
      waited: false,
      seconds: 0,
    };
    if (!options.wait) return {...base, seconds: secondsSince(started)};
    services.status(`submission ${submission}: ${added} parts added, ${already} already submitted, ${retried} retried; waiting for the parts (queue ${queueName} at ${target.redacted})`);
    const outcome = await waitForParts(handle.queue, jobs.map((j) => j.opts.jobId), services, options.pollMs ?? 500);
    const result = {
      ...base,
      waited: true,
      done: outcome.done,
      failed: outcome.failed.length,
      rows: outcome.rows,
      ...(settings.reuse === undefined ? {} : {reused: outcome.reused}),
      seconds: secondsSince(started),
    };
    if (outcome.failed.length > 0) {
      const first = outcome.failed[0]!;
      throw new SbertkitError(`${outcome.failed.length} of ${options.parts} parts failed (submission ${submission}); part ${first.part}: ${first.reason}`, {
        exitCode: failureExitCode(first.reason),
      });
    }
    return result;
  } catch (error) {
    if (error instanceof SbertkitError) throw error;
    throw unreachable(error, target);
  } finally {
    await handle.close();
  }
}

/** One line naming the first missing part: the workers would otherwise each fail on their own. */
async function checkReuseParts(dir: string, parts: number, format: VectorFormat): Promise<void> {
  for (let index = 0; index < parts; index++) {
    const path = partFileName(dir, index, parts, format);
    if (!(await stat(path).catch(() => undefined))?.isFile()) {
      throw new SbertkitError(`--reuse needs the parts of an earlier submit with the same --parts ${parts} and --format ${format}; ${basename(path)} is missing`, {file: dir, field: '--reuse'});
    }
  }
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface WaitOutcome {
  done: number;
  rows: number;
  reused: number;
  failed: Array<{part: number; reason: string}>;
}

/** Polls the parts' states, drawing one progress bar over parts, until none is waiting or running. */
async function waitForParts(queue: import('bullmq').Queue, ids: string[], services: PipelineServices, pollMs: number): Promise<WaitOutcome> {
  const progress = services.progress('parts', 'parts', ids.length);
  let shown = 0;
  try {
    for (;;) {
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      const done = states.filter((s) => s === 'completed').length;
      const failedIds = ids.filter((_, i) => states[i] === 'failed');
      if (done > shown) {
        progress.increment(done - shown);
        shown = done;
      }
      if (done + failedIds.length === ids.length) {
        const finished = await Promise.all(ids.map((id) => queue.getJob(id) as Promise<Job | undefined>));
        const total = (key: 'rows' | 'reused'): number => finished.reduce((sum, job) => sum + (typeof job?.returnvalue?.[key] === 'number' ? (job.returnvalue[key] as number) : 0), 0);
        const [rows, reused] = [total('rows'), total('reused')];
        const failed = finished
          .map((job, i) => ({job, i}))
          .filter(({i}) => states[i] === 'failed')
          .map(({job, i}) => ({part: i, reason: job?.failedReason ?? 'unknown failure'}));
        return {done, rows, reused, failed};
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    progress.stop();
  }
}

export function submitEncodeSummary(r: SubmitEncodeResult): string {
  const head = `submission ${r.submission}: ${r.parts} parts of ${r.input} -> ${r.out} (queue ${r.queue}; ${r.added} added, ${r.already_submitted} already submitted, ${r.retried} retried)`;
  if (!r.waited) return `${head}; run 'sbertkit queue worker' to process them`;
  const reused = r.reused === undefined ? '' : ` (${r.reused} reused)`;
  return `${head}; all ${r.done} parts done, ${r.rows} texts${reused}, in ${r.seconds.toFixed(1)} s`;
}
