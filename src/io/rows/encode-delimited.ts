/**
 * CSV (RFC 4180) and TSV rows, with a header line. The one CSV quoting function of sbertkit lives
 * here; reports that render CSV text use formatDelimited too.
 */
import type {OutputSink} from '../output/atomic-output.js';
import {plainCell} from './cells.js';
import type {BatchEncoder, RowSchema, TypedRow} from './types.js';

export type Delimited = 'csv' | 'tsv';

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * TSV has no quoting (our reader splits on tab, like most TSV consumers), so a tab or newline inside
 * a value would break the row apart; they are written as a space. Use CSV or JSONL to keep them.
 */
export function tsvField(value: string): string {
  return value.replace(/\r\n|[\t\r\n]/g, ' ');
}

const FIELD = {csv: csvField, tsv: tsvField} as const;
const SEPARATOR = {csv: ',', tsv: '\t'} as const;

export function delimitedHeader(format: Delimited, schema: RowSchema): string {
  return `${schema.columns.map((c) => FIELD[format](c.name)).join(SEPARATOR[format])}\n`;
}

/** Rows as lines of text, each ending in '\n' (no header). */
export function formatDelimited(format: Delimited, schema: RowSchema, rows: readonly TypedRow[]): string {
  const field = FIELD[format];
  const separator = SEPARATOR[format];
  let out = '';
  for (const row of rows) out += `${schema.columns.map((c) => field(plainCell(c, row[c.name]))).join(separator)}\n`;
  return out;
}

/** Header plus rows: a whole small table as one string (reports). */
export function delimitedTable(format: Delimited, schema: RowSchema, rows: readonly TypedRow[]): string {
  return delimitedHeader(format, schema) + formatDelimited(format, schema, rows);
}

export function delimitedEncoder(sink: OutputSink, schema: RowSchema, format: Delimited): BatchEncoder {
  let headerWritten = false;
  const header = async (): Promise<void> => {
    if (headerWritten) return;
    headerWritten = true;
    await sink.write(delimitedHeader(format, schema));
  };
  return {
    async encode(rows) {
      await header();
      if (rows.length > 0) await sink.write(formatDelimited(format, schema, rows));
    },
    async finish() {
      // An empty table still has its header, so readers see the columns.
      await header();
    },
    async abort() {},
  };
}
