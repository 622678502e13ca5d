import {Flags} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {queueFlags} from '../../src/cli/queue-flags.js';
import {queueStatusSummary, renderQueueStatus, runQueueStatus, type QueueStatusResult} from '../../src/pipelines/queue/status.js';

export default class QueueStatus extends SbertkitCommand<QueueStatusResult> {
  static override summary = 'Parts waiting, running, retrying, done and failed in the queue, and why the failed ones failed.';

  static override examples = [
    {description: 'Counts on stderr, failed parts on stdout', command: '<%= config.bin %> <%= command.id %> --redis redis://redis:6379'},
    {description: 'For scripts', command: '<%= config.bin %> <%= command.id %> --json'},
  ];

  static override flags = {
    'max-failed': Flags.integer({description: 'Failed jobs listed with their reasons.', default: 10, min: 0}),
    ...queueFlags,
  };

  async run(): Promise<QueueStatusResult> {
    const {flags} = await this.parse(QueueStatus);
    return runQueueStatus({redis: flags.redis, queue: flags.queue, maxFailed: flags['max-failed']});
  }

  protected summarize = queueStatusSummary;
  protected override render = renderQueueStatus;
}
