import {Args, Flags} from '@oclif/core';
import {KEEP_POLICIES} from '../../src/algorithms/dedupe/decide.js';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {numberFlag} from '../../src/cli/flags.js';
import {STDIN} from '../../src/io/formats.js';
import {dedupeMergeSummary, runDedupeMerge, type DedupeMergeResult} from '../../src/pipelines/dedupe-stages/merge.js';

export default class DedupeMerge extends SbertkitCommand<DedupeMergeResult> {
  static override summary = 'Staged dedupe, step 4 of 4: join the buckets\' pairs, decide as dedupe does, write the kept rows and the duplicates map.';
  static override description = `The exact stage (normalized texts) and the greedy decisions of the single-machine dedupe, from
every bucket's pairs: rows visited in --keep order (part order for first), each dropped for the
best-scoring kept row at or above --threshold, never chaining. The kept rows are copied from the
parts, with their columns and metadata, into one vector file. Needs every bucket; it reads every
row's text, so it runs on one machine.`;

  static override examples = [
    {description: 'Kept rows and what went where', command: '<%= config.bin %> <%= command.id %> /shared/dedupe -o unique.parquet --duplicates dupes.csv'},
    {description: 'A stricter threshold than the plan\'s, from the same pairs', command: '<%= config.bin %> <%= command.id %> work/ --threshold 0.95 -o unique.arrow'},
  ];

  static override args = {
    work: Args.string({description: 'The work folder.', required: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'The kept rows: .parquet, .arrow, .arrows or .jsonl, or - for JSONL on stdout.', default: STDIN}),
    duplicates: Flags.string({description: 'Write removed_id, kept_id, score, reason (exact|semantic) for every dropped row (.csv, .tsv, .jsonl, .parquet, .arrow).'}),
    keep: Flags.option({description: 'Which row of a group stays: the first in part order, or the longest or shortest text.', options: KEEP_POLICIES, default: 'first' as const})(),
    threshold: numberFlag({description: 'Cosine at or above which a row is dropped (default: the plan\'s; not below it).'}),
  };

  async run(): Promise<DedupeMergeResult> {
    const {args, flags} = await this.parse(DedupeMerge);
    this.dataOnStdout = flags.output === STDIN || flags.duplicates === STDIN;
    return runDedupeMerge({work: args.work, output: flags.output, duplicates: flags.duplicates, keep: flags.keep, threshold: flags.threshold}, this.services());
  }

  protected summarize = dedupeMergeSummary;
}
