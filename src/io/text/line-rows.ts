/**
 * The line-oriented text formats: plain TSV (split on tab, no quoting, because STS-style data has
 * bare `"` in sentences), JSONL (one object per line) and txt (one text per line).
 * Blank lines are skipped in TSV and JSONL; in txt an empty line is an empty text, so line N of the
 * file is always row N.
 */
import {SbertkitError} from '../../errors.js';
import {checkUniqueColumns, type ParsedRows} from './csv-rows.js';
import {readLines, type Line} from '../input/lines.js';
import {isLossyNumber, topLevelNumberTexts} from './json-numbers.js';
import type {InputStream} from '../input/open-input.js';
import {Utf8Decoder} from '../input/utf8.js';
import type {Row} from './types.js';

/** Wraps a generator so the input is closed when it ends, fails or is abandoned (break). */
async function* closing<T>(input: InputStream, inner: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* inner;
  } finally {
    await input.close();
  }
}

/** Reads lines until the first non-empty one (the header / first object); undefined at EOF. */
async function firstNonBlank(lines: AsyncGenerator<Line>, isBlank: (text: string) => boolean): Promise<Line | undefined> {
  for (;;) {
    const next = await lines.next();
    if (next.done) return undefined;
    if (!isBlank(next.value.text)) return next.value;
  }
}

/** TSV: only an empty line is blank ("\t\t" is a row of empty fields). */
const emptyLine = (text: string): boolean => text === '';
/** JSONL: whitespace-only lines are blank too, as JSON ignores whitespace. */
const whitespaceLine = (text: string): boolean => text.trim() === '';

export async function parseTxt(input: InputStream, decoder = new Utf8Decoder(input.file)): Promise<ParsedRows> {
  const lines = readLines(input.stream, input.file, decoder);
  async function* rows(): AsyncGenerator<Row> {
    for await (const {line, text} of lines) yield {line, endLine: line, fields: {text}};
  }
  return {columns: ['text'], headerEndLine: 0, rows: closing(input, rows())};
}

export async function parseTsv(input: InputStream, header: boolean, decoder = new Utf8Decoder(input.file)): Promise<ParsedRows> {
  const {file} = input;
  const lines = readLines(input.stream, file, decoder);
  let first: Line | undefined;
  let columns: string[];
  let headerEndLine = 0;
  try {
    first = await firstNonBlank(lines, emptyLine);
    if (first === undefined) columns = [];
    else if (header) {
      columns = first.text.split('\t');
      checkUniqueColumns(columns, file, first.line);
      headerEndLine = first.line;
      first = undefined;
    } else columns = first.text.split('\t').map((_, i) => String(i + 1));
  } catch (error) {
    await input.close();
    throw error;
  }

  async function* rows(): AsyncGenerator<Row> {
    const pending = first;
    const all = pending === undefined ? lines : prepend(pending, lines);
    for await (const {line, text} of all) {
      if (emptyLine(text)) continue;
      const values = text.split('\t');
      if (values.length !== columns.length) {
        throw new SbertkitError(`row has ${values.length} fields, expected ${columns.length} (tab-separated)`, {file, line});
      }
      const fields: Record<string, string> = {};
      for (let i = 0; i < columns.length; i++) fields[columns[i]!] = values[i]!;
      yield {line, endLine: line, fields};
    }
  }
  return {columns, headerEndLine, rows: closing(input, rows())};
}

export async function parseJsonl(input: InputStream, decoder = new Utf8Decoder(input.file)): Promise<ParsedRows> {
  const {file} = input;
  const lines = readLines(input.stream, file, decoder);
  let first: Row | undefined;
  try {
    const line = await firstNonBlank(lines, whitespaceLine);
    first = line === undefined ? undefined : parseJsonLine(line, file);
  } catch (error) {
    await input.close();
    throw error;
  }
  // Columns are the first object's keys; later rows may add keys, and a missing field is the
  // caller's to report because only it knows which fields it needs.
  const columns = first === undefined ? [] : Object.keys(first.values ?? {});

  async function* rows(): AsyncGenerator<Row> {
    if (first !== undefined) yield first;
    for await (const line of lines) {
      if (whitespaceLine(line.text)) continue;
      yield parseJsonLine(line, file);
    }
  }
  return {columns, headerEndLine: 0, rows: closing(input, rows())};
}

/** Parses one JSONL line into a Row whose `values` keep the JSON types. */
export function parseJsonLine({line, text}: Line, file: string): Row {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SbertkitError(`invalid JSON: ${(error as Error).message}`, {file, line});
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SbertkitError(`expected a JSON object, got ${jsonType(value)}`, {file, line});
  }
  const values = value as Record<string, unknown>;
  const fields: Record<string, string> = {};
  let lossy: Set<string> | undefined;
  for (const key of Object.keys(values)) {
    fields[key] = stringifyJsonValue(values[key]);
    if (isLossyNumber(values[key])) (lossy ??= new Set()).add(key);
  }
  if (lossy === undefined) return {line, endLine: line, fields, values, source: text};
  // Integers beyond 2^53 were rounded by JSON.parse: keep their digits (ids must stay distinct).
  const numberTexts = topLevelNumberTexts(text, lossy);
  Object.assign(fields, numberTexts);
  return {line, endLine: line, fields, values, numberTexts, source: text};
}

/** Row.fields convention: strings as-is, numbers/booleans String()-ed, anything else JSON text. */
export function stringifyJsonValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** "null", "array", "object", "number"... for messages about unexpected JSON values. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

async function* prepend<T>(head: T, rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield head;
  yield* rest;
}
