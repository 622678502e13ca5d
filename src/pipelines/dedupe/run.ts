/**
 * The dedupe pipeline: rows (texts, or a vector file) -> exact groups by normalized text -> the
 * representatives encoded once -> matches in the reference files (--against) -> every row's
 * neighbours at the threshold -> keep/drop decisions in keep-priority order -> the kept rows in their
 * own format, the duplicates map, the HTML report. With --sweep, the decisions at each threshold are
 * counted from the same neighbour lists and nothing is written.
 */
import {decide, exactRepresentatives, keepOrder, type DedupeCounts, type DedupeInputs} from '../../algorithms/dedupe/decide.js';
import {exactKeys} from '../../algorithms/dedupe/normalize.js';
import {nearNeighbours, sampleRecall, type NeighbourBackend, type NeighbourLists} from '../../algorithms/neighbour-lists.js';
import {addStats, emptyStats, type SentenceEncoder} from '../../encoder/types.js';
import {EXIT, SbertkitError} from '../../errors.js';
import {detectTextFormat, detectVectorFormat, STDIN} from '../../io/formats.js';
import {checkOutputWritable} from '../../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../../io/output/same-file.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {checkModelFlag, isVectorFilePath, type LoadedVectors} from '../vector-input.js';
import {readDedupeInput, type DedupeInput} from './input.js';
import {writeDuplicatesMap, writeKeptRows, writeReport} from './outputs.js';
import {loadReferences} from './references.js';
import {checkThreshold} from './threshold.js';
import {DEDUPE_DEFAULTS, type DedupeOptions, type DedupeResult, type SweepRow} from './types.js';
import {semanticVectors} from './vectors.js';

export type {DedupeOptions, DedupeResult, SweepRow} from './types.js';
export {dedupeSummary, renderSweep} from './summary.js';

export async function runDedupe(options: DedupeOptions, services: PipelineServices): Promise<DedupeResult> {
  const started = performance.now();
  const thresholds = [options.threshold, ...(options.sweep ?? [])];
  for (const t of thresholds) checkThreshold(t);
  const sweeping = options.sweep !== undefined && options.sweep.length > 0;
  const outputs = sweeping ? [options.report] : [options.output, options.duplicates, options.report];
  if (!sweeping && [options.output, options.duplicates, options.report].filter((o) => o === STDIN).length > 1) {
    throw new SbertkitError('only one of the output, --duplicates and --report can go to stdout', {exitCode: EXIT.BAD_INPUT});
  }
  for (const out of outputs) {
    if (out === undefined) continue;
    await refuseOutputOverInput(out, [options.input, ...(options.against ?? [])]);
    await checkOutputWritable(out);
  }
  checkOutputFormat(options);

  const input = await readDedupeInput(options);
  try {
    return await dedupeLoaded(input, options, services, started, sweeping);
  } finally {
    await input.cleanup();
  }
}

async function dedupeLoaded(input: DedupeInput, options: DedupeOptions, services: PipelineServices, started: number, sweeping: boolean): Promise<DedupeResult> {
  const n = input.ids.length;
  const {texts} = input;
  if (texts === undefined && options.keep !== 'first') {
    throw new SbertkitError(`--keep ${options.keep} compares text lengths, but ${input.file} has no '${options.textColumn ?? 'text'}' column`, {file: input.file, exitCode: EXIT.BAD_INPUT});
  }
  if (texts === undefined && options.exactOnly) {
    throw new SbertkitError(`--exact-only compares texts, but ${input.file} has no '${options.textColumn ?? 'text'}' column`, {file: input.file, exitCode: EXIT.BAD_INPUT});
  }
  if (texts === undefined) services.warn(`${input.file} has no '${options.textColumn ?? 'text'}' column: no exact stage, rows are compared by their vectors only`);

  const order = keepOrder(n, options.keep, texts);
  const keys = exactKeys(texts, n);
  const representative = exactRepresentatives(keys, order);
  // Stage 2 compares the representatives that have something to compare (an empty text has no meaning).
  const semanticRows = options.exactOnly ? new Int32Array(0) : Int32Array.from(rowsWhere(n, (r) => representative[r] === r && keys[r] !== ''));

  // One encoder for the input and the references, loaded only if some text needs it.
  let encoder: SentenceEncoder | undefined;
  const loadEncoder = async (): Promise<SentenceEncoder> => (encoder ??= await services.loadEncoder());
  try {
    const stats = emptyStats();
    let unit = VectorMatrix.empty(0);
    let model: string | undefined = input.kind === 'vectors' ? input.model : undefined;
    if (semanticRows.length > 0) {
      const made = await semanticVectors(input, semanticRows, loadEncoder, services);
      unit = made.vectors;
      model = made.model ?? model;
      addStats(stats, made.stats);
    }
    const mainLoaded: LoadedVectors = {file: input.file, kind: input.kind, vectors: unit, texts: undefined, model, stats};
    checkModelFlag(mainLoaded, options.model);

    const references = await loadReferences(options, keys, representative, unit, semanticRows, mainLoaded, loadEncoder, stats, services);
    await encoder?.close();
    encoder = undefined;

    const lowest = Math.min(options.threshold, ...(options.sweep ?? []));
    let lists: NeighbourLists | undefined;
    let backend: NeighbourBackend | 'none' = 'none';
    let buckets: number | undefined;
    let probes: number | undefined;
    let recall: DedupeResult['neighbour_recall'];
    if (unit.rows > 0) {
      const found = await neighboursWithProgress(unit, lowest, options, services);
      ({lists, backend, buckets, probes} = found);
      if (backend !== 'exact') {
        services.status(`measuring recall against exact search on ${Math.min(unit.rows, options.recallSample ?? DEDUPE_DEFAULTS.recallSample)} rows`);
        recall = await sampleRecall(unit, lists, options.threshold, options.recallSample ?? DEDUPE_DEFAULTS.recallSample, 7, options.threads);
        if (recall.recall < 0.95) services.warn(`the ${backend} search found ${(100 * recall.recall).toFixed(1)}% of the exact neighbour pairs on a sample; raise --probes or pass --exact`);
      }
    }

    const inputs: DedupeInputs = {rows: n, order, representative, semanticRows, lists, against: references?.best};
    const base = {
      input: input.file,
      threshold: options.threshold,
      keep: options.keep,
      model,
      backend,
      ...(buckets === undefined ? {} : {buckets, probes}),
      ...(recall === undefined ? {} : {neighbour_recall: recall}),
      truncated: stats.truncated,
    };

    if (sweeping) {
      const sweep = [...new Set(options.sweep)].sort((a, b) => a - b).map((threshold): SweepRow => {
        const {counts} = decide(inputs, threshold);
        return {threshold, ...counts, dropped: n - counts.kept};
      });
      const at = decide(inputs, options.threshold);
      if (options.report !== undefined) await writeReport(options.report, {input, decisions: at, inputs, unit, threshold: options.threshold, model, sweep}, options.stdout);
      return {...base, output: undefined, duplicates: undefined, report: options.report, ...countsOf(at.counts, n), sweep, seconds: secondsSince(started), stopped_early: false};
    }

    const decisions = decide(inputs, options.threshold);
    const stoppedEarly = await writeKeptRows(input, decisions, options.output, options.idColumn, options.stdout);
    if (options.duplicates !== undefined) {
      await writeDuplicatesMap(options.duplicates, input.ids, decisions, references, options.stdout);
    }
    if (options.report !== undefined) await writeReport(options.report, {input, decisions, inputs, unit, threshold: options.threshold, model}, options.stdout);
    return {
      ...base,
      output: options.output,
      duplicates: options.duplicates,
      report: options.report,
      ...countsOf(decisions.counts, n),
      seconds: secondsSince(started),
      stopped_early: stoppedEarly,
    };
  } finally {
    await encoder?.close();
  }
}

function countsOf(counts: DedupeCounts, rows: number): Pick<DedupeResult, 'rows' | 'kept' | 'exact_dropped' | 'semantic_dropped' | 'against_dropped'> {
  return {rows, kept: counts.kept, exact_dropped: counts.exact, semantic_dropped: counts.semantic, against_dropped: counts.against};
}

function* rowsWhere(n: number, test: (r: number) => boolean): Generator<number> {
  for (let r = 0; r < n; r++) if (test(r)) yield r;
}

/** The kept rows go out in the input's own format: a -o naming another format is refused up front. */
function checkOutputFormat(options: DedupeOptions): void {
  const out = options.output;
  if (options.sweep !== undefined && options.sweep.length > 0) return;
  if (out === STDIN) return;
  const vectorInput = options.vectors || isVectorFilePath(options.input);
  if (vectorInput) {
    const inFormat = detectVectorFormat(options.input);
    const outFormat = detectVectorFormat(out);
    if (outFormat !== undefined && inFormat !== undefined && outFormat !== inFormat) {
      throw new SbertkitError(`dedupe keeps the input's format (${inFormat}); name the output with the input's extension`, {file: out, exitCode: EXIT.BAD_INPUT});
    }
    return;
  }
  const inFormat = options.inputFormat ?? detectTextFormat(options.input);
  const outFormat = detectTextFormat(out);
  if (outFormat !== undefined && inFormat !== undefined && outFormat !== inFormat) {
    throw new SbertkitError(`dedupe writes the kept rows in the input's format (${inFormat}), byte for byte; name the output .${inFormat}`, {file: out, exitCode: EXIT.BAD_INPUT});
  }
}

async function neighboursWithProgress(unit: VectorMatrix, threshold: number, options: DedupeOptions, services: PipelineServices): Promise<Awaited<ReturnType<typeof nearNeighbours>>> {
  // Progress in rows: the searches report products, scaled to the rows they stand for.
  const bar = services.progress('comparing', 'rows', unit.rows);
  let shown = 0;
  try {
    return await nearNeighbours(unit, {
      threshold,
      backend: options.backend,
      buckets: options.buckets,
      probes: options.probes,
      threads: options.threads,
      onStatus: services.status,
      onProgress: (done, total) => {
        const rows = Math.floor((done / Math.max(1, total)) * unit.rows);
        if (rows > shown) {
          bar.increment(rows - shown);
          shown = rows;
        }
      },
    });
  } finally {
    bar.stop();
  }
}

