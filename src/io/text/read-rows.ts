/**
 * The one entry point for tabular text input: a path or '-' becomes a header plus a stream of rows.
 * Column checks and their error line live here so every command words them the same way.
 */
import {EXIT, SbertkitError} from '../../errors.js';
import {detectTextFormat, STDIN, STDIN_NAME, TEXT_FORMATS} from '../formats.js';
import {openInput, type InputPosition, type InputStream} from '../input/open-input.js';
import {Utf8Decoder, type InvalidUtf8Policy} from '../input/utf8.js';
import {parseDelimited} from './csv-rows.js';
import {parseJsonl, parseTsv, parseTxt} from './line-rows.js';
import type {Row} from './types.js';
import type {TextFormat} from '../formats.js';

export interface ReadRowsOptions {
  /** Wins over the file extension; required for stdin. */
  format?: TextFormat;
  /** TSV only: honour CSV-style double quotes (off by default: STS-B sentences contain bare `"`). */
  quote?: boolean;
  /** CSV only: the field separator (default ','; ';' is common in European exports). One character, not a quote or line break. */
  delimiter?: string;
  /** CSV/TSV: first row is a header (default true); false names columns "1", "2", ... */
  header?: boolean;
  /** Stream to read for '-' (default process.stdin); tests pass a Readable. */
  stdin?: NodeJS.ReadableStream;
  /** Bytes that are not UTF-8: fail naming line and byte offset (default), or read them as U+FFFD. */
  onInvalidUtf8?: InvalidUtf8Policy;
  /**
   * The input's name in messages and in RowSource.file, instead of `input`: for a temp copy of
   * stdin or a pipe (input/replayable.ts), errors must name what the user gave, not the copy.
   * The format and .gz are still told from `input`, so a copy keeps the original's suffix.
   */
  label?: string;
}

export interface RowSource {
  /** Path as given, or '<stdin>'. */
  file: string;
  format: TextFormat;
  /** Known before the first row is read (header, first JSONL object's keys, or ['text'] for txt). */
  columns: string[];
  /**
   * Last physical line of the header row, blank lines before it included (a copy of the input's
   * kept rows starts with lines 1..headerEndLine); 0 without a header (JSONL, txt, header: false).
   */
  headerEndLine: number;
  /** Single-use; iterating to the end, breaking out or failing closes the file. */
  rows: AsyncIterable<Row>;
  /** Releases the file when the rows will not be iterated (e.g. a column check failed). */
  close(): Promise<void>;
  /** Lines read so far in which invalid UTF-8 was replaced (onInvalidUtf8: 'replace'), for the summary. */
  readonly invalidUtf8Lines: number;
  /** Files only: how far reading has got (InputStream.position). */
  position?: () => InputPosition;
}

export async function openRows(input: string, options: ReadRowsOptions = {}): Promise<RowSource> {
  const format = textFormatOf(input, options.format, options.label);
  return rowsFromInput(await openInput(input, options.stdin, options.label), format, options);
}

/**
 * The format to read `input` as: the explicit one, else the extension's; fails when neither tells.
 * `file` names the input in that message (default: `input`, or '<stdin>').
 */
export function textFormatOf(input: string, format: TextFormat | undefined, file: string = input === STDIN ? STDIN_NAME : input): TextFormat {
  const resolved = format ?? detectTextFormat(input);
  if (resolved === undefined) {
    throw new SbertkitError(`cannot tell the text format from the name; pass --input-format (${TEXT_FORMATS.join(', ')})`, {file});
  }
  return resolved;
}

/** openRows on an input already opened (e.g. one whose first line was peeked to tell its format). */
export async function rowsFromInput(stream: InputStream, format: TextFormat, options: Omit<ReadRowsOptions, 'format' | 'stdin' | 'label'> = {}): Promise<RowSource> {
  const header = options.header ?? true;
  const decoder = new Utf8Decoder(stream.file, options.onInvalidUtf8);
  const parsed =
    format === 'csv' ? await parseDelimited(stream, csvDelimiter(options.delimiter, stream.file), header, decoder)
    : format === 'tsv' ? options.quote ? await parseDelimited(stream, '\t', header, decoder) : await parseTsv(stream, header, decoder)
    : format === 'jsonl' ? await parseJsonl(stream, decoder)
    : await parseTxt(stream, decoder);
  return {
    file: stream.file,
    format,
    columns: parsed.columns,
    headerEndLine: parsed.headerEndLine,
    rows: parsed.rows,
    close: async () => {
      await parsed.rows.return(undefined);
      await stream.close();
    },
    get invalidUtf8Lines() {
      return decoder.invalidLines;
    },
    ...(stream.position === undefined ? {} : {position: stream.position}),
  };
}

/** The CSV field separator asked for: one character that cannot be confused with quoting or lines. */
export function csvDelimiter(delimiter: string | undefined, file: string): string {
  if (delimiter === undefined) return ',';
  const resolved = delimiter === '\\t' || delimiter === 'tab' ? '\t' : delimiter;
  if ([...resolved].length !== 1 || resolved === '"' || resolved === '\n' || resolved === '\r') {
    throw new SbertkitError(`--delimiter must be one character other than a quote or a line break (e.g. ';', '|', '\\t'), got ${JSON.stringify(delimiter)}`, {file, exitCode: EXIT.BAD_INPUT});
  }
  return resolved;
}

/**
 * Throws "file:1: column 'x' not found (--text-column); columns are a, b" when the header lacks
 * `column`. JSONL files have no header, so their check is against the first object's keys.
 */
export function requireColumn(source: Pick<RowSource, 'file' | 'columns'> & {format?: TextFormat}, column: string, flag?: string): void {
  if (source.columns.includes(column)) return;
  // Text read as txt has the one column 'text': the likely cause is a table piped or named without
  // its format, so say how it was read and how to change it.
  const available =
    source.format === 'txt' ? `${source.file} was read as txt (one text per line, in the column 'text'); pass --input-format csv, tsv or jsonl to read it as a table`
    : source.columns.length === 0 ? 'the input is empty'
    : `columns are ${source.columns.join(', ')}`;
  throw new SbertkitError(`column '${column}' not found${flag === undefined ? '' : ` (${flag})`}; ${available}`, {
    file: source.file,
    line: 1,
    field: column,
  });
}
