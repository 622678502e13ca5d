/**
 * Renderers for the STS evaluation report. Pure string builders; the command decides where the
 * text goes (stdout or a file).
 *
 * - json: the report itself, pretty-printed; scores stay raw correlations in [-1, 1] with full
 *   precision (undefined correlations become null). Meant to be committed and diffed by CI, and to
 *   be read back as a --baseline.
 * - table: aligned plain text for a terminal, scores x100 with 2 decimals.
 * - markdown: a GitHub table for PR comments, scores x100 with 2 decimals, with the model name.
 * - csv: one row per dataset plus an "average" row, all eight scores raw with full precision
 *   (a spreadsheet can format; it cannot restore lost digits).
 */
import type {StsDatasetResult, StsReport, StsScores} from './sts-report.js';
import {SCORE_FIELDS} from './sts-report.js';
import {delimitedTable} from '../io/rows/encode-delimited.js';
import {column, type Column, type TypedRow} from '../io/rows/types.js';
import {markdownTable, textTable, type TableColumn} from '../io/report/table.js';

export type ReportFormat = 'table' | 'json' | 'markdown' | 'csv';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'markdown', 'csv'];

/** Report format from an output file's extension (.json, .md/.markdown, .csv, .txt), else undefined. */
export function reportFormatFromPath(path: string): ReportFormat | undefined {
  const ext = path.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  return ext === 'json' ? 'json' : ext === 'md' || ext === 'markdown' ? 'markdown' : ext === 'csv' ? 'csv' : ext === 'txt' ? 'table' : undefined;
}

/** x100 with 2 decimals, "n/a" for an undefined correlation. */
export function formatScore100(value: number): string {
  return Number.isNaN(value) ? 'n/a' : (value * 100).toFixed(2);
}

/** Columns of the human renderings: header, and how to get the cell from a row. */
const HUMAN_COLUMNS: {title: string; key: keyof StsScores}[] = [
  {title: 'cosine spearman', key: 'cosine_spearman'},
  {title: 'cosine pearson', key: 'cosine_pearson'},
  {title: 'dot spearman', key: 'dot_spearman'},
  {title: 'euclidean spearman', key: 'euclidean_spearman'},
  {title: 'manhattan spearman', key: 'manhattan_spearman'},
];

interface HumanRow {
  name: string;
  pairs: number;
  scores: StsScores;
}

function humanRows(report: StsReport): HumanRow[] {
  const rows: HumanRow[] = report.datasets.map((d) => ({name: d.name, pairs: d.pairs, scores: d}));
  // The average row's pair count is the total: it answers "how much data is behind this number".
  rows.push({name: 'average', pairs: report.datasets.reduce((s, d) => s + d.pairs, 0), scores: report.average});
  return rows;
}

function modelLine(report: StsReport): string {
  const m = report.model;
  const rev = m.revision === undefined ? '' : `, revision ${m.revision.slice(0, 12)}`;
  return `${m.name} (dim ${m.dimension}, ${m.pooling} pooling${m.normalized ? ', normalized' : ''}${rev})`;
}

const TABLE_COLUMNS: TableColumn[] = [{title: 'dataset'}, {title: 'pairs', align: 'right'}, ...HUMAN_COLUMNS.map((c) => ({title: c.title, align: 'right' as const}))];

function humanCells(row: HumanRow): string[] {
  return [row.name, String(row.pairs), ...HUMAN_COLUMNS.map((c) => formatScore100(row.scores[c.key]))];
}

function renderTable(report: StsReport): string {
  const rows = humanRows(report);
  // A rule before the average row separates it from the datasets.
  const table = textTable(TABLE_COLUMNS, rows.map(humanCells), {headerRule: true, rulesBefore: [rows.length - 1]});
  return [`model: ${modelLine(report)}`, '', ...table, '', 'scores: correlation x100'].join('\n') + '\n';
}

function renderMarkdown(report: StsReport): string {
  const all = humanRows(report);
  // The last row is the average: bold so it stands out in a PR comment.
  const rows = all.map((r, i) => (i === all.length - 1 ? humanCells(r).map((c) => `**${c}**`) : humanCells(r)));
  const out = [
    `### STS evaluation: \`${modelLine(report).replace(/`/g, "'")}\``,
    '',
    ...markdownTable(TABLE_COLUMNS, rows),
    '',
    `Scores are correlations x100; main score is cosine Spearman. ${report.unique_sentences} unique sentences${report.encode_seconds === undefined ? '' : `, encoded in ${report.encode_seconds.toFixed(1)} s`} (sbertkit ${report.sbertkit_version}).`,
  ];
  return out.join('\n') + '\n';
}

/** One row per dataset plus the average; every score raw (NaN stays "NaN" for spreadsheets). */
const CSV_COLUMNS: Column[] = [
  column.string('dataset'),
  column.string('file'),
  column.string('format'),
  column.int('pairs'),
  column.int('skipped'),
  ...SCORE_FIELDS.map((key) => column.float(key)),
];

function renderCsv(report: StsReport): string {
  const row = (d: Pick<StsDatasetResult, 'name' | 'file' | 'format' | 'pairs' | 'skipped'>, s: StsScores): TypedRow => {
    const out: Record<string, string | number> = {dataset: d.name, file: d.file, format: d.format, pairs: d.pairs, skipped: d.skipped};
    for (const key of SCORE_FIELDS) out[key] = s[key];
    return out;
  };
  const total = {name: 'average', file: '', format: '' as StsDatasetResult['format'], pairs: 0, skipped: 0};
  for (const d of report.datasets) {
    total.pairs += d.pairs;
    total.skipped += d.skipped;
  }
  return delimitedTable('csv', {columns: CSV_COLUMNS}, [...report.datasets.map((d) => row(d, d)), row(total, report.average)]);
}

/** JSON with NaN -> null (JSON.stringify does that already; stated here because parseStsReport relies on it). */
function renderJson(report: StsReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export function renderStsReport(report: StsReport, format: ReportFormat): string {
  switch (format) {
    case 'table':
      return renderTable(report);
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report);
    case 'csv':
      return renderCsv(report);
    default: {
      const never: never = format;
      throw new RangeError(`unknown report format ${String(never)}`);
    }
  }
}
