/**
 * Result rows (pairs, clusters, duplicates...) as JSONL, CSV or TSV, through the atomic output.
 * Columns are fixed up front so every line has the same shape and CSV gets one header.
 */
import {SbertkitError} from '../../errors.js';
import {openOutput, type OpenOutputOptions} from '../output/atomic-output.js';

export type RowFormat = 'jsonl' | 'csv' | 'tsv';
export type RowValue = string | number | boolean | null;

export interface RowWriterOptions extends OpenOutputOptions {
  format: RowFormat;
  columns: string[];
}

export interface RowWriter {
  /** Missing columns are written as null (JSONL) or an empty field (CSV/TSV). */
  write(rows: Record<string, RowValue>[]): Promise<void>;
  commit(): Promise<{rows: number}>;
  abort(): Promise<void>;
  /** True once stdout's reader went away: stop producing and commit. */
  readonly closed: boolean;
}

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

function plain(value: RowValue | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** Formats a batch of rows as lines of text, each ending in '\n'. */
export function formatRows(format: RowFormat, columns: string[], rows: Record<string, RowValue>[]): string {
  let out = '';
  for (const row of rows) {
    if (format === 'jsonl') {
      const ordered: Record<string, RowValue> = {};
      for (const column of columns) ordered[column] = row[column] ?? null;
      out += `${JSON.stringify(ordered)}\n`;
    } else {
      const field = format === 'csv' ? csvField : tsvField;
      out += `${columns.map((column) => field(plain(row[column]))).join(format === 'csv' ? ',' : '\t')}\n`;
    }
  }
  return out;
}

export async function openRowWriter(output: string, options: RowWriterOptions): Promise<RowWriter> {
  const {format, columns} = options;
  if (new Set(columns).size !== columns.length) {
    throw new SbertkitError(`duplicate output column in ${columns.join(', ')}`);
  }
  const sink = await openOutput(output, options);
  let rows = 0;
  try {
    if (format === 'csv') await sink.write(`${columns.map(csvField).join(',')}\n`);
    else if (format === 'tsv') await sink.write(`${columns.map(tsvField).join('\t')}\n`);
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return {
    async write(batch) {
      if (batch.length === 0 || sink.closed) return;
      await sink.write(formatRows(format, columns, batch));
      rows += batch.length;
    },
    async commit() {
      await sink.commit();
      return {rows};
    },
    abort: () => sink.abort(),
    get closed() {
      return sink.closed;
    },
  };
}
