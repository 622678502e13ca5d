import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {loadEncoderFromFlags, modelFlags} from '../src/cli/encoder-flags.js';
import {createProgress, type Progress} from '../src/cli/progress.js';
import {reportSummary} from '../src/cli/summary.js';
import {EXIT, SbertkitError} from '../src/errors.js';
import {evaluateSts} from '../src/eval/evaluate-sts.js';
import {baselineNotes, checkBaseline, checkMinSpearman} from '../src/eval/sts-gates.js';
import {readBaselineReport} from '../src/eval/sts-report.js';
import {readStsDatasets} from '../src/io/sts/read-sts.js';
import {fileSha256} from '../src/models/fingerprint.js';
import {formatScore100, renderStsReport, reportFormatFromPath, type ReportFormat} from '../src/eval/render-sts-report.js';
import {writeTextOutput} from '../src/io/output/write-text.js';

export default class EvalSts extends SbertkitCommand {
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
    format: Flags.string({description: 'Report format (default: from the -o extension .json/.md/.csv, else table).', options: ['table', 'json', 'markdown', 'csv']}),
    output: Flags.string({char: 'o', description: 'Report file (written atomically), or - for stdout.', default: '-'}),
    'min-spearman': Flags.string({description: 'Exit 1 when any dataset\'s cosine Spearman x100 is below this (e.g. 80).'}),
    baseline: Flags.string({description: 'A previous --format json report to compare against.'}),
    'max-drop': Flags.string({description: 'With --baseline: exit 1 when any dataset drops more than this many points (x100).', dependsOn: ['baseline']}),
    'skip-invalid': Flags.boolean({description: 'Skip (and count) rows with an empty sentence or a non-numeric score instead of failing.', default: false}),
    ...modelFlags,
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(EvalSts);
    const files = argv as string[];
    const minSpearman = numberFlag(flags['min-spearman'], '--min-spearman');
    const maxDrop = numberFlag(flags['max-drop'], '--max-drop');
    // Read every input (and the baseline) before loading the model: bad input should fail in milliseconds.
    const datasets = await readStsDatasets(files, {
      sentence1Column: flags['sentence1-column'],
      sentence2Column: flags['sentence2-column'],
      scoreColumn: flags['score-column'],
      skipInvalid: flags['skip-invalid'],
    });
    const baseline = flags.baseline ? await readBaselineReport(flags.baseline) : undefined;

    const started = performance.now();
    const encoder = await loadEncoderFromFlags(flags);
    // Created at the first callback, when the total is known, so the bar can show a percentage and ETA.
    let progress: Progress | undefined;
    let lastDone = 0;
    let report;
    try {
      report = await evaluateSts(encoder, datasets, {
        model: {onnx_sha256: await fileSha256(encoder.spec.onnxPath)},
        onProgress: (done, total) => {
          progress ??= createProgress({label: 'encoding', unit: 'sentences', total, quiet: flags.quiet});
          progress.increment(done - lastDone);
          lastDone = done;
        },
      });
    } finally {
      progress?.stop();
      await encoder.close();
    }
    const format = (flags.format as ReportFormat | undefined) ?? (flags.output === '-' ? undefined : reportFormatFromPath(flags.output)) ?? 'table';
    await writeTextOutput(flags.output, renderStsReport(report, format));

    const failures = [
      ...(minSpearman === undefined ? [] : checkMinSpearman(report, minSpearman)),
      ...(baseline === undefined ? [] : checkBaseline(report, baseline, maxDrop ?? 0)),
    ];
    if (baseline && !flags.quiet) for (const note of baselineNotes(report, baseline)) process.stderr.write(`note: ${note}\n`);
    const seconds = (performance.now() - started) / 1000;
    const pairs = report.datasets.reduce((n, d) => n + d.pairs, 0);
    reportSummary(
      'eval-sts',
      {
        model: report.model.name,
        datasets: report.datasets.map((d) => ({name: d.name, pairs: d.pairs, cosine_spearman: d.cosine_spearman})),
        average_cosine_spearman: report.average.cosine_spearman,
        unique_sentences: report.unique_sentences,
        truncated: encoder.stats.truncated,
        seconds: Number(seconds.toFixed(3)),
        passed: failures.length === 0,
        failures: failures.map((f) => f.message),
      },
      `eval-sts: ${report.datasets.length} dataset(s), ${pairs} pairs, ${report.unique_sentences} unique sentences, ` +
        `cosine Spearman x100 ${formatScore100(report.average.cosine_spearman)} (average) with ${report.model.name}` +
        `${encoder.stats.truncated > 0 ? `, ${encoder.stats.truncated} truncated` : ''} in ${seconds.toFixed(1)} s`,
      {quiet: flags.quiet, json: flags.json, dataOnStdout: flags.output === '-'},
    );
    if (failures.length > 0) {
      for (const failure of failures) process.stderr.write(`sbertkit eval-sts: gate failed: ${failure.message}\n`);
      this.exit(EXIT.GATE_FAILED);
    }
  }
}

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new SbertkitError(`${flag} must be a number, got '${value}'`);
  return n;
}
