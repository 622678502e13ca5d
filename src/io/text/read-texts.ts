/**
 * Rows -> TextRecords: picks the text, id and kept columns. Checked against the header before any
 * row is read, so a wrong --text-column fails at once with the list of available columns.
 */
import {SbertkitError} from '../../errors.js';
import {openRows, requireColumn, type ReadRowsOptions} from './read-rows.js';
import {jsonType} from './line-rows.js';
import {jsonNumber, keptValues} from './kept-values.js';
import {JsonText} from '../rows/types.js';
import type {Row, TextRecord} from './types.js';
import type {TextFormat} from '../formats.js';
import type {InputPosition} from '../input/open-input.js';

export interface ReadTextsOptions extends ReadRowsOptions {
  /** Default 'text'. */
  textColumn?: string;
  /** When absent, ids are the 0-based row numbers. */
  idColumn?: string;
  /** Columns copied into TextRecord.fields. */
  keepColumns?: string[];
  /** CSV/TSV/txt: kept cells become integers, decimals, booleans or null where they read as such (kept-values.ts inferCell). */
  inferTypes?: boolean;
}

export interface TextSource {
  file: string;
  format: TextFormat;
  columns: string[];
  /** RowSource.headerEndLine: lines 1..headerEndLine hold the header; 0 without one. */
  headerEndLine: number;
  records: AsyncIterable<TextRecord>;
  close(): Promise<void>;
  /** Lines read so far in which invalid UTF-8 was replaced (onInvalidUtf8: 'replace'). */
  readonly invalidUtf8Lines: number;
  /** Files only: bytes read so far and the file's size, for progress when rows are unknown. */
  position?: () => InputPosition;
}

export async function openTexts(input: string, options: ReadTextsOptions = {}): Promise<TextSource> {
  const source = await openRows(input, options);
  const textColumn = options.textColumn ?? 'text';
  const {idColumn} = options;
  const keepColumns = options.keepColumns ?? [];
  try {
    requireColumn(source, textColumn, '--text-column');
    if (idColumn !== undefined) requireColumn(source, idColumn, '--id-column');
    for (const column of keepColumns) requireColumn(source, column, '--keep-columns');
  } catch (error) {
    await source.close();
    throw error;
  }
  const {file} = source;

  async function* records(): AsyncGenerator<TextRecord> {
    let index = 0;
    for await (const row of source.rows) {
      const text = pickText(row, textColumn, file);
      const id = idColumn === undefined ? index : pickId(row, idColumn, file);
      // A JSONL row may lack a kept field; it is kept as absent (null) rather than failing the run.
      const fields = keepColumns.length === 0 ? {} : keptValues(row, keepColumns, options.inferTypes);
      yield {id, text, fields, line: row.line, endLine: row.endLine};
      index++;
    }
  }
  return {
    file,
    format: source.format,
    columns: source.columns,
    headerEndLine: source.headerEndLine,
    records: records(),
    close: source.close,
    get invalidUtf8Lines() {
      return source.invalidUtf8Lines;
    },
    ...(source.position === undefined ? {} : {position: source.position}),
  };
}

/** CSV/TSV/txt rows always have every column; JSONL rows are checked one by one. */
function pickText(row: Row, column: string, file: string): string {
  if (row.values === undefined) return row.fields[column]!;
  const value = row.values[column];
  if (value === undefined) throw new SbertkitError(`field '${column}' is missing`, {file, line: row.line, field: column});
  if (typeof value !== 'string') {
    throw new SbertkitError(`field '${column}' is not a string (got ${jsonType(value)})`, {file, line: row.line, field: column});
  }
  return value;
}

/**
 * JSONL ids keep their JSON type: strings stay strings and numbers numbers, so `{"doc": 7}` is written
 * back as 7 and an all-integer id column is Int64. An integer beyond 2^53 becomes a bigint from its
 * source digits: as a number it would be rounded, and distinct ids would collide. Beyond Int64, or a
 * number a double cannot hold as written (1e400), it is kept as its source text (a string id).
 */
function pickId(row: Row, column: string, file: string): string | number | bigint {
  if (row.values === undefined) return row.fields[column]!;
  const value = row.values[column];
  if (value === undefined) throw new SbertkitError(`field '${column}' is missing`, {file, line: row.line, field: column});
  if (typeof value === 'number') {
    const text = row.numberTexts?.[column];
    if (text === undefined) return value;
    // A kept column's rule (jsonNumber), except that an id a column type cannot hold is a string id.
    const number = jsonNumber(text, value) as bigint | number | JsonText;
    return number instanceof JsonText ? number.text : number;
  }
  if (typeof value === 'string') return value;
  throw new SbertkitError(`field '${column}' is not a string or number (got ${jsonType(value)})`, {file, line: row.line, field: column});
}
