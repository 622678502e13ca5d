/**
 * The eval-sts pipeline: read every dataset (and the baseline) before the model loads, embed each
 * unique sentence once, score, write the report, and check the CI gates. A failed gate is part of
 * the result (`passed`, `failures`), not an exception: the report is still written and shown.
 */
import {evaluateSts} from '../eval/evaluate-sts.js';
import {formatScore100, renderStsReport, reportFormatFromPath, type ReportFormat} from '../eval/render-sts-report.js';
import {baselineNotes, checkBaseline, checkMinSpearman} from '../eval/sts-gates.js';
import {parseStsReport, type StsReport} from '../eval/sts-report.js';
import {STDIN} from '../io/formats.js';
import {readJsonFile} from '../io/input/read-json.js';
import {checkOutputWritable} from '../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../io/output/same-file.js';
import {writeTextOutput} from '../io/output/write-text.js';
import {namedDatasetInputs} from '../io/sts/dataset-names.js';
import {readStsDatasets, type ReadStsOptions} from '../io/sts/read-sts.js';
import {fileSha256} from '../models/fingerprint.js';
import {secondsSince, type PipelineServices, type Progress} from './context.js';
import {locateOverflow} from './text-overflow.js';

export interface EvalStsOptions extends Pick<ReadStsOptions, 'sentence1Column' | 'sentence2Column' | 'scoreColumn' | 'skipInvalid' | 'stdin' | 'onInvalidUtf8'> {
  files: string[];
  /** Report file, or '-' for stdout. */
  output: string;
  /** Default: from the output extension, else table. */
  format?: ReportFormat;
  /** Gate: every dataset's cosine Spearman x100 at least this. */
  minSpearman?: number;
  /** A previous JSON report to compare against. */
  baseline?: string;
  /** Gate with baseline: largest allowed drop in points (x100); default 0. */
  maxDrop?: number;
  stdout?: NodeJS.WritableStream;
}

export interface EvalStsResult {
  model: string;
  output: string;
  format: ReportFormat;
  datasets: {name: string; pairs: number; skipped: number; cosine_spearman: number}[];
  average_cosine_spearman: number;
  unique_sentences: number;
  truncated: number;
  /** Dataset lines in which bytes that are not UTF-8 were replaced (--on-invalid-utf8 replace). */
  invalid_utf8_lines: number;
  seconds: number;
  passed: boolean;
  failures: string[];
}

export async function runEvalSts(options: EvalStsOptions, services: PipelineServices): Promise<EvalStsResult> {
  const started = performance.now();
  const format = options.format ?? (options.output === STDIN ? undefined : reportFormatFromPath(options.output)) ?? 'table';
  // Read every input (and the baseline) before loading the model: bad input should fail in milliseconds.
  // The report must not replace a dataset or the baseline it is compared with.
  await refuseOutputOverInput(options.output, [...namedDatasetInputs(options.files).map((input) => input.file), ...(options.baseline === undefined ? [] : [options.baseline])]);
  await checkOutputWritable(options.output);
  const datasets = await readStsDatasets(options.files, {
    sentence1Column: options.sentence1Column,
    sentence2Column: options.sentence2Column,
    scoreColumn: options.scoreColumn,
    skipInvalid: options.skipInvalid,
    onInvalidUtf8: options.onInvalidUtf8,
    stdin: options.stdin,
  });
  const baseline = options.baseline === undefined ? undefined : await readBaselineReport(options.baseline);

  const encoder = await services.loadEncoder();
  // Created at the first callback, when the total is known, so the bar can show a percentage and ETA.
  let progress: Progress | undefined;
  let lastDone = 0;
  let evaluation;
  try {
    evaluation = await evaluateSts(encoder, datasets, {
      model: {onnx_sha256: await fileSha256(encoder.spec.onnxPath)},
      onProgress: (done, total) => {
        progress ??= services.progress('encoding', 'sentences', total);
        progress.increment(done - lastDone);
        lastDone = done;
      },
    });
  } catch (error) {
    // Sentences are encoded once across datasets, so no single file:line is named.
    throw locateOverflow(error);
  } finally {
    progress?.stop();
    await encoder.close();
  }
  const {report, stats} = evaluation;
  await writeTextOutput(options.output, renderStsReport(report, format), {stdout: options.stdout});

  const failures = [
    ...(options.minSpearman === undefined ? [] : checkMinSpearman(report, options.minSpearman)),
    ...(baseline === undefined ? [] : checkBaseline(report, baseline, options.maxDrop ?? 0)),
  ];
  if (baseline !== undefined) for (const note of baselineNotes(report, baseline)) services.warn(note);
  return {
    model: report.model.name,
    output: options.output,
    format,
    datasets: report.datasets.map((d) => ({name: d.name, pairs: d.pairs, skipped: d.skipped, cosine_spearman: d.cosine_spearman})),
    average_cosine_spearman: report.average.cosine_spearman,
    unique_sentences: report.unique_sentences,
    truncated: stats.truncated,
    invalid_utf8_lines: datasets.reduce((n, d) => n + d.invalidUtf8Lines, 0),
    seconds: secondsSince(started),
    passed: failures.length === 0,
    failures: failures.map((f) => f.message),
  };
}

/** "eval-sts: 1 dataset(s), 1379 pairs, 2620 unique sentences, cosine Spearman x100 72.27 (average) with M in 3.1 s" */
export function evalStsSummary(r: EvalStsResult): string {
  const pairs = r.datasets.reduce((n, d) => n + d.pairs, 0);
  const skipped = r.datasets.reduce((n, d) => n + d.skipped, 0);
  return (
    `eval-sts: ${r.datasets.length} dataset(s), ${pairs} pairs${skipped > 0 ? ` (${skipped} invalid rows skipped)` : ''}, ${r.unique_sentences} unique sentences, ` +
    `cosine Spearman x100 ${formatScore100(r.average_cosine_spearman)} (average) with ${r.model}` +
    `${r.truncated > 0 ? `, ${r.truncated} truncated` : ''}${r.invalid_utf8_lines > 0 ? `, ${r.invalid_utf8_lines} lines with invalid UTF-8 replaced` : ''} in ${r.seconds.toFixed(1)} s`
  );
}

/** Reads a report written earlier with --format json (for --baseline). */
export async function readBaselineReport(path: string): Promise<StsReport> {
  return parseStsReport(await readJsonFile(path, 'baseline report'), path);
}
