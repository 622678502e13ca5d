import {Args, Flags} from '@oclif/core';
import {KEEP_POLICIES} from '../../../src/algorithms/dedupe/decide.js';
import {SbertkitCommand} from '../../../src/cli/base-command.js';
import {numberFlag} from '../../../src/cli/flags.js';
import {queueFlags} from '../../../src/cli/queue-flags.js';
import {runSubmitDedupe, submitDedupeSummary, type SubmitDedupeResult} from '../../../src/pipelines/queue/submit-dedupe.js';

export default class QueueSubmitDedupe extends SbertkitCommand<SubmitDedupeResult> {
  static override summary = 'Queue the staged dedupe of a folder of vector parts (BullMQ on Redis); `sbertkit queue worker` processes run it.';
  static override description = `Enqueues one parent job that runs "dedupe plan PARTS --out WORK", then queues the assign shards
and, once they are done, one job per bucket, as its children, and finally runs "dedupe merge" into
-o (and --duplicates). PARTS, WORK and the outputs must be paths every worker can read and write.
What is done is read from the work folder, so a retry only redoes the missing pieces. Re-submitting
the same work adds nothing; a failed one is retried. See dedupe plan --help for the stages.`;

  static override examples = [
    {description: 'Dedupe 64 encoded parts and wait', command: '<%= config.bin %> <%= command.id %> /shared/vectors --out /shared/dd -o /shared/unique.parquet --duplicates /shared/dupes.csv --wait'},
  ];

  static override args = {
    parts: Args.string({description: 'Folder of vector parts (encode --shard parts with their manifests, or .parquet/.arrow/.arrows files).', required: true}),
  };

  static override flags = {
    out: Flags.string({description: 'Work folder of the stages (created if missing; shared by all workers).', required: true}),
    output: Flags.string({char: 'o', description: 'The kept rows: .parquet, .arrow, .arrows or .jsonl.', required: true}),
    duplicates: Flags.string({description: 'Write removed_id, kept_id, score, reason for every dropped row.'}),
    wait: Flags.boolean({description: 'Wait until the dedupe is done (non-zero if it failed).', default: false}),
    threshold: numberFlag({description: 'Cosine at or above which a row is a near duplicate.', default: 0.9}),
    keep: Flags.option({description: 'Which row of a group stays: the first in part order, or the longest or shortest text.', options: KEEP_POLICIES, default: 'first' as const})(),
    buckets: Flags.integer({description: 'Number of k-means buckets (default: about sqrt(rows)).', min: 1}),
    probes: Flags.integer({description: 'Nearest buckets each row is compared with.', default: 3, min: 1}),
    sample: Flags.integer({description: 'Rows sampled to fit the centroids (default: 40 per bucket).', min: 1}),
    seed: Flags.integer({description: 'Seed of the sample and of k-means++.', default: 42}),
    'assign-shards': Flags.integer({description: 'Assign jobs (default: one per part).', min: 1}),
    'text-column': Flags.string({description: 'The parts\' text column.', default: 'text'}),
    'id-column': Flags.string({description: 'The parts\' id column (default: id, else row numbers).'}),
    ...queueFlags,
  };

  async run(): Promise<SubmitDedupeResult> {
    const {args, flags} = await this.parse(QueueSubmitDedupe);
    return runSubmitDedupe(
      {
        parts: args.parts,
        work: flags.out,
        output: flags.output,
        duplicates: flags.duplicates,
        redis: flags.redis,
        queue: flags.queue,
        wait: flags.wait,
        threshold: flags.threshold,
        keep: flags.keep,
        buckets: flags.buckets,
        probes: flags.probes,
        sample: flags.sample,
        seed: flags.seed,
        assignShards: flags['assign-shards'],
        textColumn: flags['text-column'],
        idColumn: flags['id-column'],
      },
      this.services(),
    );
  }

  protected summarize = submitDedupeSummary;
}
