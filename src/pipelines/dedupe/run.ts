/**
 * The dedupe pipeline: rows (texts, or a vector file) -> exact groups by normalized text -> the
 * representatives encoded once -> matches in the reference files (--against) -> every row's
 * neighbours at the threshold -> keep/drop decisions in keep-priority order -> the kept rows in their
 * own format, the duplicates map, the HTML report. With --sweep, the decisions at each threshold are
 * counted from the same neighbour lists and nothing is written.
 */
import {decide, exactRepresentatives, keepOrder, type DedupeCounts, type DedupeDecisions, type DedupeInputs, type KeepPolicy} from '../../algorithms/dedupe/decide.js';
import {normalizeText} from '../../algorithms/dedupe/normalize.js';
import {nearNeighbours, sampleRecall, type NeighbourBackend, type NeighbourLists} from '../../algorithms/neighbour-lists.js';
import {addStats, emptyStats, type EncodeStats, type SentenceEncoder} from '../../encoder/types.js';
import {EXIT, SbertkitError} from '../../errors.js';
import {detectTextFormat, detectVectorFormat, isGzipPath, STDIN, type TextFormat} from '../../io/formats.js';
import type {InvalidUtf8Policy} from '../../io/input/utf8.js';
import {checkOutputWritable} from '../../io/output/atomic-output.js';
import {refuseOutputOverInput} from '../../io/output/same-file.js';
import {textTable} from '../../io/report/table.js';
import {VectorMatrix, type RowId} from '../../vectors/matrix.js';
import {searchTopK} from '../../vectors/search.js';
import {secondsSince, type PipelineServices} from '../context.js';
import {checkComparable, isVectorFilePath, loadVectors, type LoadedVectors} from '../vector-input.js';
import {readDedupeInput, type DedupeInput} from './input.js';
import {writeDuplicatesMap, writeKeptRows, writeReport} from './outputs.js';

export interface DedupeOptions {
  input: string;
  /** Kept rows, in the input's format; '-' = stdout. */
  output: string;
  /** Cosine at or above which a row is a near-duplicate of a kept row. */
  threshold: number;
  keep: KeepPolicy;
  /** removed_id, kept_id, score, reason (+ reference) for every dropped row. */
  duplicates?: string;
  /** Reference files (texts or vector files) whose near-duplicates are dropped from the input. */
  against?: string[];
  /** Stage 1 only: no model is loaded. */
  exactOnly?: boolean;
  /** Count the drops at each of these thresholds instead of writing outputs. */
  sweep?: number[];
  /** A self-contained HTML page for tuning the threshold. */
  report?: string;
  textColumn?: string;
  idColumn?: string;
  inputFormat?: TextFormat;
  vectors?: boolean;
  onInvalidUtf8?: InvalidUtf8Policy;
  /** The --model asked for, checked against a vector file's metadata. */
  model?: string;
  /** 'auto': exact search up to ~141k rows, bucketed above; 'ann': HNSW. */
  backend?: NeighbourBackend | 'auto';
  buckets?: number;
  probes?: number;
  /** Rows sampled to measure the approximate backends' recall against exact search. */
  recallSample?: number;
  threads?: number;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

export interface SweepRow extends DedupeCounts {
  threshold: number;
  dropped: number;
}

export interface DedupeResult {
  input: string;
  output: string | undefined;
  duplicates: string | undefined;
  report: string | undefined;
  rows: number;
  kept: number;
  exact_dropped: number;
  semantic_dropped: number;
  against_dropped: number;
  threshold: number;
  keep: KeepPolicy;
  model: string | undefined;
  /** How neighbours were found; 'none' when no row was compared (--exact-only, or nothing to compare). */
  backend: NeighbourBackend | 'none';
  buckets?: number;
  probes?: number;
  /** The approximate backends only: share of the exact neighbour pairs found, on a sample of rows. */
  neighbour_recall?: {sampled: number; pairs: number; found: number; recall: number};
  sweep?: SweepRow[];
  truncated: number;
  seconds: number;
  stopped_early: boolean;
}

export const DEDUPE_DEFAULTS = {threshold: 0.9, recallSample: 1000} as const;

export async function runDedupe(options: DedupeOptions, services: PipelineServices): Promise<DedupeResult> {
  const started = performance.now();
  const thresholds = [options.threshold, ...(options.sweep ?? [])];
  for (const t of thresholds) {
    if (!(t >= -1 && t <= 1)) throw new SbertkitError(`a threshold is a cosine between -1 and 1, got ${t}`, {exitCode: EXIT.BAD_INPUT});
  }
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
  const keys = texts === undefined ? new Array<string | undefined>(n).fill(undefined) : texts.map((t) => normalizeText(t ?? ''));
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
    checkComparable(options.model === undefined || input.kind === 'texts' ? [mainLoaded] : [mainLoaded, {...mainLoaded, file: '--model', model: options.model}]);

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
      await writeDuplicatesMap(options.duplicates, input.ids, decisions, references === undefined ? undefined : {ids: references.ids, files: references.files}, options.stdout);
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
  if (isGzipPath(out)) throw new SbertkitError('gzip output is not written yet; write the file and gzip it', {file: out, exitCode: EXIT.BAD_INPUT});
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
    throw new SbertkitError(`dedupe writes the kept rows in the input's format (${inFormat}), byte for byte; name the output .${inFormat === 'tsv' ? 'tsv' : inFormat}`, {file: out, exitCode: EXIT.BAD_INPUT});
  }
}

/** Unit vectors of the semantic rows: encoded (texts) or picked out of the vector file and normalized in place. */
async function semanticVectors(input: DedupeInput, rows: Int32Array, loadEncoder: () => Promise<SentenceEncoder>, services: PipelineServices): Promise<{vectors: VectorMatrix; model: string | undefined; stats: EncodeStats}> {
  if (input.kind === 'vectors') {
    const all = input.vectors;
    const picked = rows.length === all.rows ? all : gatherRows(all, rows);
    normalizeInPlace(picked);
    return {vectors: picked, model: input.model, stats: emptyStats()};
  }
  const encoder = await loadEncoder();
  const bar = services.progress('encoding', 'rows', rows.length);
  const data = new Float32Array(rows.length * encoder.dimension);
  const stats = emptyStats();
  try {
    const records = Array.from(rows, (row, i) => ({id: i, text: input.texts[row]!}));
    for await (const chunk of encoder.embedStream(records, {onBatch: (count) => bar.increment(count)})) {
      addStats(stats, chunk.stats);
      chunk.records.forEach((record, j) => data.set(chunk.vectors.row(j), record.id * encoder.dimension));
    }
  } finally {
    bar.stop();
  }
  const vectors = new VectorMatrix(Array.from(rows), encoder.dimension, data);
  normalizeInPlace(vectors);
  return {vectors, model: encoder.spec.name, stats};
}

function gatherRows(m: VectorMatrix, rows: Int32Array): VectorMatrix {
  const d = m.dimension;
  const data = new Float32Array(rows.length * d);
  rows.forEach((r, i) => data.set(m.data.subarray(r * d, (r + 1) * d), i * d));
  return new VectorMatrix(Array.from(rows), d, data);
}

/** Unit rows for cosine as a dot product; in place, since a million 384-d rows are 1.5 GB. */
function normalizeInPlace(m: VectorMatrix): void {
  const d = m.dimension;
  for (let r = 0; r < m.rows; r++) {
    let sum = 0;
    for (let i = r * d, end = i + d; i < end; i++) sum += m.data[i]! * m.data[i]!;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let i = r * d, end = i + d; i < end; i++) m.data[i]! *= scale;
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

interface References {
  /** Per input row: best reference row (-1 none) and its score. */
  best: {best: Int32Array; scores: Float32Array};
  ids: RowId[];
  /** Reference file of each reference row. */
  files: string[];
}

/**
 * --against: every reference file's rows (texts encoded with the same model, or a vector file), then
 * for each representative its best reference match: an equal normalized text scores 1; otherwise the
 * nearest reference vector.
 */
async function loadReferences(
  options: DedupeOptions,
  keys: readonly (string | undefined)[],
  representative: Int32Array,
  unit: VectorMatrix,
  semanticRows: Int32Array,
  main: LoadedVectors,
  loadEncoder: () => Promise<SentenceEncoder>,
  stats: EncodeStats,
  services: PipelineServices,
): Promise<References | undefined> {
  const files = options.against ?? [];
  if (files.length === 0) return undefined;
  const n = keys.length;
  const loaded: LoadedVectors[] = [];
  const exactOnly = options.exactOnly === true;
  for (const file of files) {
    services.status(`reading the reference ${file}`);
    // --exact-only needs only the reference texts: texts are read, not encoded; a vector file is read as it is.
    const ref = exactOnly && !options.vectors && !isVectorFilePath(file) ? await readReferenceTexts(file, options.textColumn) : await loadVectors({input: file, textColumn: options.textColumn, vectors: options.vectors}, loadEncoder);
    addStats(stats, ref.stats);
    loaded.push(ref);
  }
  if (!exactOnly) checkComparable([main, ...loaded]);

  const ids: RowId[] = [];
  const refFiles: string[] = [];
  const refKeys = new Map<string, number>();
  for (const ref of loaded) {
    for (let i = 0; i < ref.vectors.ids.length; i++) {
      const text = ref.texts?.[i];
      if (text !== undefined) {
        const key = normalizeText(text);
        if (key !== '' && !refKeys.has(key)) refKeys.set(key, ids.length);
      }
      ids.push(ref.vectors.ids[i]!);
      refFiles.push(ref.file);
    }
  }
  const best = new Int32Array(n).fill(-1);
  const scores = new Float32Array(n).fill(Number.NaN);
  for (let r = 0; r < n; r++) {
    if (representative[r] !== r || keys[r] === undefined) continue;
    const hit = refKeys.get(keys[r]!);
    if (hit !== undefined) {
      best[r] = hit;
      scores[r] = 1;
    }
  }
  const withVectors = loaded.filter((ref) => ref.vectors.rows > 0 && ref.vectors.dimension > 0);
  if (!exactOnly && unit.rows > 0 && withVectors.length > 0) {
    const refMatrix = VectorMatrix.concat(loaded.map((ref) => (ref.vectors.dimension === 0 ? VectorMatrix.empty(unit.dimension) : ref.vectors)), unit.dimension);
    normalizeInPlace(refMatrix);
    const bar = services.progress('comparing with the references', 'pairs', unit.rows * refMatrix.rows);
    let last = 0;
    try {
      const {top} = await searchTopK(unit, refMatrix, {
        k: 1,
        metric: 'dot',
        backend: options.backend === 'exact' ? 'exact' : options.backend === 'ann' ? 'ann' : 'auto',
        threads: options.threads,
        onStatus: services.status,
        onProgress: (done) => {
          bar.increment(done - last);
          last = done;
        },
      });
      semanticRows.forEach((row, i) => {
        if (top.counts[i]! > 0 && !(scores[row]! >= top.scores[i]!)) {
          best[row] = top.indices[i]!;
          scores[row] = top.scores[i]!;
        }
      });
    } finally {
      bar.stop();
    }
  }
  return {best: {best, scores}, ids, files: refFiles};
}

/** A text reference under --exact-only: its texts and ids, with no vectors. */
async function readReferenceTexts(file: string, textColumn: string | undefined): Promise<LoadedVectors> {
  const {openTexts} = await import('../../io/text/read-texts.js');
  const source = await openTexts(file, {textColumn});
  const ids: RowId[] = [];
  const texts: string[] = [];
  try {
    for await (const record of source.records) {
      ids.push(record.id);
      texts.push(record.text);
    }
  } finally {
    await source.close();
  }
  return {file: source.file, kind: 'texts', vectors: new VectorMatrix(ids, 0, new Float32Array(0)), texts, model: undefined, stats: emptyStats()};
}

export function dedupeSummary(r: DedupeResult): string {
  const truncated = r.truncated > 0 ? `, ${r.truncated} texts truncated` : '';
  const recall = r.neighbour_recall === undefined ? '' : `, ${r.backend} search recall ${(100 * r.neighbour_recall.recall).toFixed(1)}% on ${r.neighbour_recall.sampled} rows`;
  const against = r.against_dropped > 0 ? `, ${r.against_dropped} matched a reference` : '';
  if (r.sweep !== undefined) return `dedupe --sweep: ${r.rows} rows, ${r.sweep.length} thresholds counted (${r.exact_dropped} exact duplicates at any threshold)${recall}${truncated} in ${r.seconds.toFixed(1)} s`;
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  return `dedupe: ${r.rows} rows in, ${r.kept} kept, ${r.exact_dropped} exact and ${r.semantic_dropped} near duplicates dropped (cosine >= ${r.threshold})${against}${recall}${truncated} in ${r.seconds.toFixed(1)} s -> ${r.output === STDIN ? 'stdout' : r.output}${stopped}`;
}


/** The --sweep table: per threshold, the rows each stage would drop. */
export function renderSweep(rows: readonly SweepRow[]): string {
  const columns = [
    {title: 'threshold', align: 'right' as const},
    {title: 'kept', align: 'right' as const},
    {title: 'dropped', align: 'right' as const},
    {title: 'exact', align: 'right' as const},
    {title: 'near', align: 'right' as const},
    {title: 'against', align: 'right' as const},
  ];
  const body = rows.map((r) => [String(r.threshold), String(r.kept), String(r.dropped), String(r.exact), String(r.semantic), String(r.against)]);
  return `${textTable(columns, body).join('\n')}\n`;
}
