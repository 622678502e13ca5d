import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {numberFlag} from '../../src/cli/flags.js';
import {dedupePlanSummary, runDedupePlan, type DedupePlanResult} from '../../src/pipelines/dedupe-stages/plan.js';

export default class DedupePlan extends SbertkitCommand<DedupePlanResult> {
  static override summary = 'Staged dedupe, step 1 of 4: fit the k-means buckets on a sample of the parts and write the plan.';
  static override description = `The staged dedupe runs the single-machine dedupe on a folder of vector parts (encode --shard
writes them, with a text column from --keep-columns text) as four resumable steps that any
engine can run (array job, queue), through a work folder every worker sees:
  dedupe plan PARTS --out WORK     k-means centroids on a seeded sample (this step)
  dedupe assign WORK --shard i/N   each row's --probes nearest buckets
  dedupe bucket WORK --bucket B    near-duplicate pairs among the rows of each bucket
  dedupe merge WORK -o KEPT        exact stage, the greedy keep/drop decisions, kept rows
Every step writes temp then renames and leaves a marker; a rerun of a finished step does
nothing. Rows are taken in part order (part 0's rows first): that is what --keep first means.
With --probes equal to --buckets (or --buckets 1) every row meets every row: the result is
the single-machine dedupe --exact's.`;

  static override examples = [
    {description: 'Plan 64 parts with the default ~sqrt(rows) buckets', command: '<%= config.bin %> <%= command.id %> /shared/parts --out /shared/dedupe --threshold 0.9'},
    {description: 'All pairs, exactly (one bucket)', command: '<%= config.bin %> <%= command.id %> parts/ --out work/ --buckets 1'},
  ];

  static override args = {
    parts: Args.string({description: 'Folder of vector parts: encode --shard parts with their manifests, or .parquet/.arrow/.arrows files (taken in name order).', required: true}),
  };

  static override flags = {
    out: Flags.string({description: 'Work folder for every stage (created if missing; shared by all workers).', required: true}),
    threshold: numberFlag({description: 'Cosine at or above which a row is a near duplicate; merge can decide at this or higher.', default: 0.9}),
    buckets: Flags.integer({description: 'Number of k-means buckets (default: about sqrt(rows)).', min: 1}),
    probes: Flags.integer({description: 'Nearest buckets each row is compared with (its own and the next nearest).', default: 3, min: 1}),
    sample: Flags.integer({description: 'Rows sampled to fit the centroids (default: 40 per bucket).', min: 1}),
    seed: Flags.integer({description: 'Seed of the sample and of k-means++.', default: 42}),
    'text-column': Flags.string({description: 'The parts\' text column (the exact stage, and rows with an empty text are left out).', default: 'text'}),
    'id-column': Flags.string({description: 'The parts\' id column (default: id, else row numbers).'}),
    threads: Flags.integer({description: 'ONNX Runtime threads for k-means (default: all cores).', min: 1}),
  };

  async run(): Promise<DedupePlanResult> {
    const {args, flags} = await this.parse(DedupePlan);
    return runDedupePlan(
      {parts: args.parts, work: flags.out, threshold: flags.threshold, buckets: flags.buckets, probes: flags.probes, sample: flags.sample, seed: flags.seed, textColumn: flags['text-column'], idColumn: flags['id-column'], threads: flags.threads},
      this.services(),
    );
  }

  protected summarize = dedupePlanSummary;
}
