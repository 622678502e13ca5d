/**
 * Quoted delimited input (CSV, and TSV with `quote: true`) via csv-parse, streaming.
 *
 * Line numbers are counted here from each record's raw text (csv-parse's `raw` option), as the
 * number of '\n' before it: csv-parse's own `info.lines` also counts a lone '\r' as a line, and a
 * CRLF inside a quoted field twice. CRLF is normalized to LF before parsing and the record delimiter
 * is '\n' alone, so a stray '\r' is text, as in the line-oriented readers (auto-detection would
 * take a '\r' in the header for the record delimiter and read the rest of the file as one record).
 * The one visible effect is that a CRLF inside a quoted field reads as LF, which changes nothing
 * for embedding.
 */
import {pipeline, Transform, type TransformCallback} from 'node:stream';
import {parse, type Options} from 'csv-parse';
import {SbertkitError} from '../../errors.js';
import type {InputStream} from '../input/open-input.js';
import {fileError} from '../input/open-input.js';
import {Utf8Decoder} from '../input/utf8.js';
import type {Row} from './types.js';

export interface ParsedRows {
  columns: string[];
  /** Last physical line of the header row, blank lines before it included; 0 without a header. */
  headerEndLine: number;
  rows: AsyncGenerator<Row>;
}

/** utf8 decode (strict, BOM dropped) + CRLF -> LF, keeping a '\r' that ends a chunk until the next one. */
class NormalizeNewlines extends Transform {
  private carry = '';

  constructor(private readonly decoder: Utf8Decoder) {
    super({decodeStrings: true, readableObjectMode: false});
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // A decoding error (invalid UTF-8, UTF-16) must go to the callback: a throw here escapes the stream.
    try {
      this.emitText(this.decoder.write(chunk), false);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.emitText(this.decoder.end(), true);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  private emitText(decoded: string, last: boolean): void {
    let text = this.carry + decoded;
    this.carry = '';
    if (!last && text.endsWith('\r')) {
      this.carry = '\r';
      text = text.slice(0, -1);
    }
    if (text.length > 0) this.push(text.replace(/\r\n/g, '\n'));
  }
}

function countNewlines(text: string, end = text.length): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Blank lines skipped before a record are the '\n's its raw text starts with. */
function leadingNewlines(raw: string): number {
  let n = 0;
  while (raw.charCodeAt(n) === 10) n++;
  return n;
}

interface CsvItem {
  record: string[];
  line: number;
  endLine: number;
}

/**
 * Reads the header (or, with header=false, peeks the first record to name columns "1".."n") and
 * returns the remaining rows as a generator that closes the input when done or abandoned.
 */
export async function parseDelimited(input: InputStream, delimiter: string, header: boolean, decoder = new Utf8Decoder(input.file)): Promise<ParsedRows> {
  const {file} = input;
  const label = delimiter === '\t' ? 'TSV' : 'CSV';
  // '\n's of the input before the record being parsed; on_record runs in parse order, so at an
  // error this is where the failing record starts, even if parsed records are still buffered.
  let linesBefore = 0;
  const parser = parse({
    delimiter,
    record_delimiter: '\n',
    // relax_quotes: a quote inside an unquoted field (`1,He said "hi"`) is taken literally, as
    // Python's csv module and pandas do, instead of failing the whole file.
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    raw: true,
    // With raw: true each record arrives as {record, raw}; the typings do not model that.
    on_record: (({record, raw}: {record: string[]; raw: string}): CsvItem => {
      const line = linesBefore + 1 + leadingNewlines(raw);
      linesBefore += countNewlines(raw);
      // raw ends with the record's '\n', which closes line `linesBefore`; only the last record of an
      // input without a final line break lacks it, and then its last line is the one after.
      const endLine = raw.charCodeAt(raw.length - 1) === 10 ? linesBefore : linesBefore + 1;
      return {record, line, endLine};
    }) as unknown as Options['on_record'],
  });
  pipeline(input.stream, new NormalizeNewlines(decoder), parser, () => {
    // Errors surface through the parser's async iterator below.
  });
  const iterator = (parser as AsyncIterable<CsvItem>)[Symbol.asyncIterator]();

  const next = async (): Promise<CsvItem | undefined> => {
    let item: IteratorResult<CsvItem>;
    try {
      item = await iterator.next();
    } catch (error) {
      throw csvError(file, label, delimiter, linesBefore + 1, error);
    }
    return item.done ? undefined : item.value;
  };

  let first: CsvItem | undefined;
  let columns: string[];
  let headerEndLine = 0;
  try {
    first = await next();
    if (first === undefined) columns = [];
    else if (header) {
      columns = first.record;
      checkUniqueColumns(columns, file, first.line);
      headerEndLine = first.endLine;
      first = undefined;
    } else columns = first.record.map((_, i) => String(i + 1));
  } catch (error) {
    await input.close();
    throw error;
  }

  async function* rows(): AsyncGenerator<Row> {
    try {
      for (let item = first ?? (await next()); item !== undefined; item = await next()) {
        const {record, line, endLine} = item;
        if (record.length !== columns.length) {
          throw new SbertkitError(`row has ${record.length} fields, expected ${columns.length}`, {file, line});
        }
        const fields: Record<string, string> = {};
        for (let i = 0; i < columns.length; i++) fields[columns[i]!] = record[i]!;
        yield {line, endLine, fields};
      }
    } finally {
      await input.close();
    }
  }
  return {columns, headerEndLine, rows: rows()};
}

/** Two columns with one name would silently shadow each other in Row.fields. */
export function checkUniqueColumns(columns: string[], file: string, line: number): void {
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) throw new SbertkitError(`duplicate column '${column}' in the header`, {file, line});
    seen.add(column);
  }
}

/** `nextLine` is where the record being parsed when the error came starts (blank lines included). */
function csvError(file: string, label: string, delimiter: string, nextLine: number, error: unknown): SbertkitError {
  const csv = error as {code?: unknown; message?: string; raw?: unknown};
  if (typeof csv.code === 'string' && csv.code.startsWith('CSV_')) {
    const raw = typeof csv.raw === 'string' ? csv.raw : '';
    if (csv.code === 'CSV_QUOTE_NOT_CLOSED') {
      // csv-parse reports the last line of the file, which says nothing about where the problem is.
      const line = unclosedQuoteLine(raw, nextLine, delimiter);
      return new SbertkitError(`invalid ${label}: a quoted field opened here is never closed (a stray " ?)`, {file, line, cause: error});
    }
    return new SbertkitError(`invalid ${label}: ${csv.message ?? csv.code}`, {file, line: nextLine + leadingNewlines(raw), cause: error});
  }
  return fileError(file, error);
}

/**
 * The line of the quote that is still open at the end of the input. `raw` is the unfinished record
 * (from just after the previous record to the end of the input), starting on line `rawStart`. Falls
 * back to the line where the record starts if the quote cannot be found.
 */
export function unclosedQuoteLine(raw: string, rawStart: number, delimiter: string): number {
  const recordStart = rawStart + leadingNewlines(raw);
  let quoting = false;
  let fieldStart = true;
  let openAt = -1;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quoting) {
      if (c === '"') {
        if (raw[i + 1] === '"') i++;
        else quoting = false;
      }
    } else if (c === '"' && fieldStart) {
      quoting = true;
      openAt = i;
      fieldStart = false;
    } else {
      // relax_quotes: a quote inside an unquoted field is a plain character.
      fieldStart = c === delimiter || c === '\n';
    }
  }
  return quoting ? rawStart + countNewlines(raw, openAt) : recordStart;
}
