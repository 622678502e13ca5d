import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {parseShard} from '../../src/io/shard/partition.js';
import {dedupeAssignSummary, runDedupeAssign, type DedupeAssignResult} from '../../src/pipelines/dedupe-stages/assign.js';

export default class DedupeAssign extends SbertkitCommand<DedupeAssignResult> {
  static override summary = 'Staged dedupe, step 2 of 4: write each row\'s nearest buckets, for the parts of one shard.';
  static override description = `Shard i/N takes the parts p with p mod N = i and writes, bucket by bucket, the rows that will be
compared there (each row in its --probes nearest buckets) with their unit vectors, to
WORK/assign/shard-i-of-N. Run every i of one N (an array job: one task per i); a rerun of a finished
shard does nothing. See dedupe plan --help for the four steps.`;

  static override examples = [
    {description: 'Task 3 of a 16-task array job', command: '<%= config.bin %> <%= command.id %> /shared/dedupe --shard 3/16'},
    {description: 'Everything on one machine', command: '<%= config.bin %> <%= command.id %> work/ --shard 0/1'},
  ];

  static override args = {
    work: Args.string({description: 'The work folder dedupe plan wrote.', required: true}),
  };

  static override flags = {
    shard: Flags.string({description: 'i/N: this task\'s share of the parts.', default: '0/1'}),
    threads: Flags.integer({description: 'ONNX Runtime threads (default: all cores).', min: 1}),
  };

  async run(): Promise<DedupeAssignResult> {
    const {args, flags} = await this.parse(DedupeAssign);
    return runDedupeAssign({work: args.work, shard: parseShard(flags.shard), threads: flags.threads}, this.services());
  }

  protected summarize = dedupeAssignSummary;
}
