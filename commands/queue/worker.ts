import {Flags} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {encoderLoader, modelFlags} from '../../src/cli/model-flags.js';
import {queueFlags} from '../../src/cli/queue-flags.js';
import {queueWorkerSummary, runQueueWorker, type QueueWorkerResult} from '../../src/pipelines/queue/worker.js';

export default class QueueWorker extends SbertkitCommand<QueueWorkerResult> {
  static override summary = 'Run queued jobs (parts of `sbertkit queue submit`) until stopped; start as many as you like.';
  static override description = `Each job is "encode --shard i/N" into the submit's output folder, with the model the submit named
(its ONNX graph must be the same here), and the submit's settings that shape the vectors (precision,
prompt, truncate-dim, overflow handling). The encoder settings below are this machine's choice and do
not change the vectors. A worker killed outright (SIGKILL, lost machine) holds its job until the job's lock
expires (--lock-duration); then another worker runs it again. Ctrl-C or SIGTERM stops the worker; its
running jobs are retried the same way.`;

  static override examples = [
    {description: 'One worker, two jobs at a time, each on 2 threads', command: '<%= config.bin %> <%= command.id %> --redis redis://redis:6379 --concurrency 2 --threads 2'},
  ];

  static override flags = {
    concurrency: Flags.integer({description: 'Jobs run at once in this process (each loads its own copy of the model).', default: 1, min: 1}),
    'lock-duration': Flags.integer({description: "Milliseconds a job's lock lasts unrenewed: how soon a killed worker's job is retried.", default: 30_000, min: 1_000, helpGroup: 'QUEUE'}),
    'stalled-interval': Flags.integer({description: 'Milliseconds between checks for jobs whose worker died.', default: 30_000, min: 500, helpGroup: 'QUEUE'}),
    ...queueFlags,
    offline: modelFlags.offline,
    'batch-size': modelFlags['batch-size'],
    'max-tokens': modelFlags['max-tokens'],
    'window-size': modelFlags['window-size'],
    device: modelFlags.device,
    threads: modelFlags.threads,
  };

  async run(): Promise<QueueWorkerResult> {
    const {flags} = await this.parse(QueueWorker);
    const services = this.services();
    return runQueueWorker(
      {
        redis: flags.redis,
        queue: flags.queue,
        concurrency: flags.concurrency,
        lockDurationMs: flags['lock-duration'],
        stalledIntervalMs: flags['stalled-interval'],
      },
      {
        services,
        loaderFor: (model) =>
          encoderLoader(
            {
              model: model.model,
              'model-file': model.modelFile,
              'max-seq-length': model.maxSeqLength,
              normalize: model.normalize,
              'truncate-dim': model.truncateDim,
              prompt: model.prompt,
              'prompt-name': model.promptName,
              'on-overflow': model.onOverflow ?? 'truncate',
              'chunk-overlap': model.chunkOverlap,
              offline: flags.offline,
              'batch-size': flags['batch-size'],
              'max-tokens': flags['max-tokens'],
              'window-size': flags['window-size'],
              device: flags.device,
              threads: flags.threads,
            },
            {status: services.status, warn: services.warn, quiet: flags.quiet},
          ),
      },
    );
  }

  protected summarize = queueWorkerSummary;
}
