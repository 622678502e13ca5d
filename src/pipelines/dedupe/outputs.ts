/**
 * dedupe's three outputs: the kept rows as they were (text rows copied line for line from the source;
 * a vector file's rows re-read and written with their columns and metadata), the duplicates map, and
 * the HTML report.
 */
import {KEPT, REASON_NAMES, SEMANTIC, type DedupeDecisions, type DedupeInputs} from '../../algorithms/dedupe/decide.js';
import {detectVectorFormat} from '../../io/formats.js';
import {renderDedupeReport, type DedupeReportData, type DedupeReportPair} from '../../io/report/dedupe-html.js';
import {column, type KeptValue, type TypedRow} from '../../io/rows/types.js';
import {openRowWriter, resolveRowFormat} from '../../io/rows/write-rows.js';
import {copyLines} from '../../io/text/copy-lines.js';
import {writeTextOutput} from '../../io/output/write-text.js';
import {openVectors, type VectorSource} from '../../io/vectors/read-vectors.js';
import {CALIBRATION_KEY, PRECISION_KEY, storedLayout} from '../../io/vectors/precision-metadata.js';
import {EMBEDDING_COLUMN, type VectorBatch, type VectorFileMetadata, type VectorRecord} from '../../io/vectors/types.js';
import {storedElement, VectorQuantizer, type Precision} from '../../vectors/quantize.js';
import {idTypeOf, openVectorWriter, type VectorWriterOptions} from '../../io/vectors/write-vectors.js';
import type {RowId, VectorMatrix} from '../../vectors/matrix.js';
import {idColumn} from '../vector-search.js';
import type {DedupeInput, VectorInput} from './input.js';
import type {SweepRow} from './types.js';

/** Writes the kept rows in input order; true when stdout's reader went away before the end. */
export async function writeKeptRows(input: DedupeInput, decisions: DedupeDecisions, output: string, idColumnName: string | undefined, stdout?: NodeJS.WritableStream): Promise<boolean> {
  const kept = keptRows(decisions);
  if (input.kind === 'texts') {
    const spans = {headerEndLine: input.headerEndLine, starts: Int32Array.from(kept, (r) => input.startLines[r]!), ends: Int32Array.from(kept, (r) => input.endLines[r]!)};
    const copied = await copyLines(input.path, input.file, spans, output, {stdout});
    return copied.stoppedEarly;
  }
  // A vector file is read again batch by batch: the kept rows go out with their original vectors
  // (the in-memory ones were normalized) and every column, without a second copy of the matrix.
  const source = await openVectors(input.path, {format: input.format, idColumn: idColumnName});
  try {
    return await copyKeptVectors(source, input, decisions, output, stdout);
  } finally {
    await source.close();
  }
}

/** The kept rows of a vector file, batch by batch, into a file of the same precision and columns. */
function copyKeptVectors(source: VectorSource, input: VectorInput, decisions: DedupeDecisions, output: string, stdout: NodeJS.WritableStream | undefined): Promise<boolean> {
  return writeKeptBatches(source.batches, decisions, output, {
    // A compact file (int8, binary...) is read as floats and stored again at its precision and
    // ranges: its levels read back as the middle of their intervals, which map to the same levels.
    quantizer: storedQuantizer(input.metadata, source.dimension, input.file),
    calibration: input.metadata[CALIBRATION_KEY],
    format: detectVectorFormat(output) ?? input.format,
    dimension: source.dimension,
    metadata: input.metadata,
    fieldNames: source.fieldNames,
    idType: idTypeOf(input.ids),
    stdout,
  });
}

/**
 * Writes the kept rows of `batches` (rows numbered from 0 across them, as the decisions are) into a
 * new vector file and commits it; aborts it on error. True when stdout's reader went away first, in
 * which case the batches are left unread (a generator's finally still runs).
 */
export async function writeKeptBatches(batches: AsyncIterable<VectorBatch>, decisions: DedupeDecisions, output: string, options: VectorWriterOptions): Promise<boolean> {
  const writer = await openVectorWriter(output, options);
  try {
    let row = 0;
    for await (const batch of batches) {
      if (writer.closed) break;
      await writer.write(keptRecords(batch, decisions, row));
      row += batch.vectors.rows;
    }
    const stopped = writer.closed;
    await writer.commit();
    return stopped;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** The rows of a batch that the decisions keep (the batch's first row is row `first`), with their columns. */
export function keptRecords(batch: VectorBatch, decisions: DedupeDecisions, first: number): VectorRecord[] {
  const records: VectorRecord[] = [];
  for (let i = 0; i < batch.vectors.rows; i++) {
    if (decisions.reason[first + i] !== KEPT) continue;
    const fields: Record<string, KeptValue> = {};
    for (const [name, cells] of Object.entries(batch.fields)) if (cells[i] !== undefined) fields[name] = cells[i]!;
    records.push({id: batch.vectors.ids[i]!, vector: batch.vectors.row(i), fields});
  }
  return records;
}

/** The quantizer that stores vectors as the file's metadata says they were stored; undefined for float32. */
export function storedQuantizer(metadata: VectorFileMetadata, dimension: number, file: string): VectorQuantizer | undefined {
  const precision = metadata[PRECISION_KEY] as Precision | undefined;
  if (precision === undefined || precision === 'float32') return undefined;
  const layout = storedLayout(metadata, storedElement(precision), undefined, file, EMBEDDING_COLUMN);
  return new VectorQuantizer(layout.precision, dimension, layout.ranges);
}

function keptRows(decisions: DedupeDecisions): number[] {
  const rows: number[] = [];
  decisions.reason.forEach((code, r) => {
    if (code === KEPT) rows.push(r);
  });
  return rows;
}

export interface ReferenceRows {
  ids: RowId[];
  /** The file of each reference row. */
  files: string[];
}

/**
 * One row per dropped row, in input order: removed_id, kept_id, score, reason; with --against, also
 * the reference file whose row kept_id is (empty when kept_id is an input row). An exact duplicate of
 * a dropped row names that row's kept row and score.
 */
export async function writeDuplicatesMap(path: string, ids: readonly RowId[], decisions: DedupeDecisions, references: ReferenceRows | undefined, stdout?: NodeJS.WritableStream): Promise<void> {
  const format = resolveRowFormat(path, undefined, 'jsonl');
  const keptIds: RowId[] = [];
  const dropped: number[] = [];
  decisions.reason.forEach((code, r) => {
    if (code === KEPT) return;
    dropped.push(r);
    keptIds.push(decisions.keptIsReference[r] ? references!.ids[decisions.keptBy[r]!]! : ids[decisions.keptBy[r]!]!);
  });
  // Reference row numbers and input ids can mix: then kept_id is a text column throughout.
  const keptColumn = idColumn('kept_id', keptIds);
  const keptAsText = keptColumn.type.kind === 'string';
  const columns = [
    idColumn('removed_id', ids),
    keptColumn,
    column.float('score', false),
    column.string('reason', false),
    ...(references === undefined ? [] : [column.string('reference')]),
  ];
  const writer = await openRowWriter(path, {format, columns, stdout});
  try {
    const chunk = 4096;
    for (let p = 0; p < dropped.length && !writer.closed; p += chunk) {
      const rows: TypedRow[] = [];
      for (let q = p; q < Math.min(p + chunk, dropped.length); q++) {
        const r = dropped[q]!;
        const code = decisions.reason[r]!;
        const row: Record<string, string | number | null> = {removed_id: ids[r]!, kept_id: keptAsText ? String(keptIds[q]!) : keptIds[q]!, score: decisions.score[r]!, reason: REASON_NAMES[code]!};
        if (references !== undefined) row.reference = decisions.keptIsReference[r] ? references.files[decisions.keptBy[r]!]! : null;
        rows.push(row);
      }
      await writer.write(rows);
    }
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Pairs shown on each side of the threshold in the report. */
const REPORT_PAIRS = 15;

export interface ReportInputs {
  input: DedupeInput;
  decisions: DedupeDecisions;
  inputs: DedupeInputs;
  unit: VectorMatrix;
  threshold: number;
  model: string | undefined;
  sweep?: SweepRow[];
}

/** The report's figures: each compared row's best-match score, and the pairs nearest the threshold on each side. */
export function reportData(r: ReportInputs, generated = new Date().toISOString()): DedupeReportData {
  const {input, decisions, inputs, threshold} = r;
  const {ids, texts} = input;
  const lists = inputs.lists;
  const semanticRows = inputs.semanticRows ?? new Int32Array(0);
  const pair = (keptRow: number, otherRow: number, score: number): DedupeReportPair => ({
    keptId: ids[keptRow]!,
    keptText: texts?.[keptRow],
    otherId: ids[otherRow]!,
    otherText: texts?.[otherRow],
    score,
  });
  // Just above: rows the threshold dropped for a kept row, lowest scores first.
  const above = [...semanticRows]
    .filter((row) => decisions.reason[row] === SEMANTIC)
    .sort((a, b) => decisions.score[a]! - decisions.score[b]! || a - b)
    .slice(0, REPORT_PAIRS)
    .map((row) => pair(decisions.keptBy[row]!, row, decisions.score[row]!));
  // Just below: kept rows whose best match falls short of the threshold, nearest first.
  const belowRows: {row: number; other: number; score: number}[] = [];
  if (lists !== undefined) {
    semanticRows.forEach((row, i) => {
      const score = lists.bestScores[i]!;
      if (decisions.reason[row] === KEPT && lists.best[i]! >= 0 && score < threshold) belowRows.push({row, other: semanticRows[lists.best[i]!]!, score});
    });
  }
  belowRows.sort((a, b) => b.score - a.score || a.row - b.row);
  const below = belowRows.slice(0, REPORT_PAIRS).map(({row, other, score}) => pair(row, other, score));
  const {counts} = decisions;
  return {
    input: input.file,
    model: r.model,
    threshold,
    rows: ids.length,
    kept: counts.kept,
    exactDropped: counts.exact,
    againstDropped: counts.against,
    semanticDropped: counts.semantic,
    bestScores: lists?.bestScores ?? new Float32Array(0),
    above,
    below,
    sweep: r.sweep?.map((s) => ({threshold: s.threshold, dropped: s.dropped})),
    generated,
  };
}

export async function writeReport(path: string, inputs: ReportInputs, stdout?: NodeJS.WritableStream): Promise<void> {
  await writeTextOutput(path, renderDedupeReport(reportData(inputs)), {stdout});
}
