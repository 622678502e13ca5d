import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {parseShard} from '../../src/io/shard/partition.js';
import {dedupeBucketSummary, runDedupeBucket, type DedupeBucketResult} from '../../src/pipelines/dedupe-stages/bucket.js';

export default class DedupeBucket extends SbertkitCommand<DedupeBucketResult> {
  static override summary = 'Staged dedupe, step 3 of 4: find the near-duplicate pairs of one bucket (or a share of the buckets).';
  static override description = `Bucket B compares every row that probes it (rows of B, and boundary rows of the neighbouring
buckets whose next nearest bucket is B) with the rows of B, and keeps every pair at or above the
plan's threshold in WORK/buckets/bucket-B. Over all buckets each row meets the rows of its --probes
nearest buckets, so a duplicate across a border is found whichever side the cut put it. Needs every
shard of dedupe assign; a finished bucket is not redone. Without --bucket or --shard, every bucket.`;

  static override examples = [
    {description: 'One bucket per task', command: '<%= config.bin %> <%= command.id %> /shared/dedupe --bucket 17'},
    {description: 'Task 2 of 8 takes buckets 2, 10, 18...', command: '<%= config.bin %> <%= command.id %> /shared/dedupe --shard 2/8'},
    {description: 'All buckets here', command: '<%= config.bin %> <%= command.id %> work/'},
  ];

  static override args = {
    work: Args.string({description: 'The work folder.', required: true}),
  };

  static override flags = {
    bucket: Flags.integer({description: 'The bucket to search (0 to buckets - 1).', min: 0, exclusive: ['shard']}),
    shard: Flags.string({description: 'i/N: the buckets b with b mod N = i.', exclusive: ['bucket']}),
    threads: Flags.integer({description: 'ONNX Runtime threads (default: all cores).', min: 1}),
  };

  async run(): Promise<DedupeBucketResult> {
    const {args, flags} = await this.parse(DedupeBucket);
    return runDedupeBucket({work: args.work, bucket: flags.bucket, shard: flags.shard === undefined ? undefined : parseShard(flags.shard), threads: flags.threads}, this.services());
  }

  protected summarize = dedupeBucketSummary;
}
