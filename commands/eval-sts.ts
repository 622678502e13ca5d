import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {numberFlag, textInputFlags} from '../src/cli/flags.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {REPORT_FORMATS} from '../src/eval/render-sts-report.js';
import {STDIN} from '../src/io/formats.js';
import {evalStsSummary, runEvalSts, type EvalStsResult} from '../src/pipelines/eval-sts.js';

export default class EvalSts extends SbertkitCommand<EvalStsResult> {
  static override summary = 'Evaluate a model on STS datasets (Spearman/Pearson of cosine, dot, euclidean, manhattan) and gate CI on it.';
  static override description = `Each FILE is one dataset: TSV/CSV/JSONL with a header (sentence1, sentence2, score by default), or an
original STS Benchmark file (tab-separated, no header, 7 or 9 fields), which is detected.
The headline is cosine Spearman x100, as in the SBERT paper and MTEB. Ties get average ranks.
Each unique sentence is encoded once. Gates exit 1 after printing the report.`;

  static override examples = [
    {description: 'STS-B test with the built-in model', command: '<%= config.bin %> <%= command.id %> stsb/test.tsv'},
    {description: 'CI gate: fail below 80, write a JSON report', command: '<%= config.bin %> <%= command.id %> stsb/test.tsv --min-spearman 80 --format json -o sts.json'},
    {description: 'CI gate against a stored baseline (max 0.5 point drop)', command: '<%= config.bin %> <%= command.id %> stsb/test.tsv --model ./quantized --baseline sts.json --max-drop 0.5'},
    {description: 'Markdown table for a PR comment, several datasets', command: '<%= config.bin %> <%= command.id %> sts-dev.csv sts-test.csv sick.tsv --format markdown'},
  ];

  static override strict = false;

  static override args = {
    file: Args.string({description: 'Dataset file(s), or - for stdin.', required: true, ignoreStdin: true}),
  };

  static override flags = {
    'sentence1-column': Flags.string({description: 'Column with the first sentence.', default: 'sentence1'}),
    'sentence2-column': Flags.string({description: 'Column with the second sentence.', default: 'sentence2'}),
    'score-column': Flags.string({description: 'Column with the gold score.', default: 'score'}),
    format: Flags.option({description: 'Report format (default: from the -o extension .json/.md/.csv, else table).', options: REPORT_FORMATS})(),
    output: Flags.string({char: 'o', description: 'Report file (written atomically), or - for stdout.', default: STDIN}),
    'min-spearman': numberFlag({description: "Exit 1 when any dataset's cosine Spearman x100 is below this (e.g. 80)."}),
    baseline: Flags.string({description: 'A previous --format json report to compare against.'}),
    'max-drop': numberFlag({description: 'With --baseline: exit 1 when any dataset drops more than this many points (x100).', dependsOn: ['baseline']}),
    'skip-invalid': Flags.boolean({description: 'Skip (and count) rows with an empty sentence or a non-numeric score instead of failing.', default: false}),
    ...textInputFlags,
    ...modelFlags,
  };

  async run(): Promise<EvalStsResult> {
    const {argv, flags} = await this.parse(EvalSts);
    this.dataOnStdout = flags.output === STDIN;
    return runEvalSts(
      {
        files: argv as string[],
        output: flags.output,
        format: flags.format,
        sentence1Column: flags['sentence1-column'],
        sentence2Column: flags['sentence2-column'],
        scoreColumn: flags['score-column'],
        skipInvalid: flags['skip-invalid'],
        onInvalidUtf8: flags['on-invalid-utf8'],
        minSpearman: flags['min-spearman'],
        baseline: flags.baseline,
        maxDrop: flags['max-drop'],
      },
      this.services(flags),
    );
  }

  protected summarize = evalStsSummary;
  protected override failures = (result: EvalStsResult) => result.failures;
}

