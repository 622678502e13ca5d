/**
 * Reader for STS datasets: sentence pairs with a gold similarity score.
 *
 * Two kinds of input:
 * - The original STS Benchmark release (sts-train.csv, ...): despite the .csv name it is
 *   tab-separated, has no header, and has 7 fields (genre, file, year, id, score, sentence1,
 *   sentence2) or 9 (plus two source-attribution notes). It must be read with no quote handling:
 *   sentences contain unbalanced `"`. Detected by content, not by extension.
 * - Any headered TSV/CSV/JSONL with sentence1/sentence2/score columns (names configurable), read
 *   through the shared rows reader (whose plain TSV has no quote handling, which is what STS TSV
 *   files with literal `"` need).
 *
 * The input is opened once and the format sniffed from its first line as it streams by, so pipes
 * and FIFOs (`eval-sts <(zcat x.gz)`) and stdin read like regular files.
 *
 * Sentences are kept byte-for-byte (no trimming): the model should see what the dataset says.
 */
import {SbertkitError, EXIT} from '../../errors.js';
import {detectTextFormat, STDIN, STDIN_NAME} from '../formats.js';
import {readLines} from '../input/lines.js';
import {openInput, type InputStream} from '../input/open-input.js';
import {peekFirstLine} from '../input/peek.js';
import {Utf8Decoder, type InvalidUtf8Policy} from '../input/utf8.js';
import {requireColumn, rowsFromInput, textFormatOf} from '../text/read-rows.js';
import {datasetBaseName, namedDatasetInputs} from './dataset-names.js';
import type {TextFormat} from '../formats.js';

export type StsFormat = 'original' | TextFormat;

export interface StsPair {
  s1: string;
  s2: string;
  score: number;
  /** 1-based physical line in the source, for error messages. */
  line: number;
}

export interface StsDataset {
  /** Display name: file basename without extension ("sts-test", "test"); "stdin" for '-'. */
  name: string;
  /** The path as given (or what openRows calls stdin). */
  file: string;
  format: StsFormat;
  pairs: StsPair[];
  /** Invalid rows dropped because of skipInvalid. */
  skipped: number;
  /** Lines in which invalid UTF-8 was replaced by U+FFFD (onInvalidUtf8: 'replace'). */
  invalidUtf8Lines: number;
}

export interface ReadStsOptions {
  /** Column names for headered files (ignored for the original format, which has none). */
  sentence1Column?: string;
  sentence2Column?: string;
  scoreColumn?: string;
  /** Drop (and count) invalid rows instead of failing on the first one. */
  skipInvalid?: boolean;
  /** Force a format; 'original' forces the STS Benchmark layout. Default: detect. */
  format?: StsFormat;
  /** Quote handling for CSV/TSV, passed to openRows. Default (openRows'): on for CSV, off for TSV. */
  quote?: boolean;
  /** Stream used for input '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Bytes that are not UTF-8: fail naming line and byte offset (default), or read them as U+FFFD. */
  onInvalidUtf8?: InvalidUtf8Policy;
}

/** Flag names used in error messages, so users know what to pass. */
const FLAGS = {s1: '--sentence1-column', s2: '--sentence2-column', score: '--score-column'} as const;

/** A plain decimal or exponent number. Number('') and Number(' ') are 0, so Number() alone is too lax. */
const NUMERIC = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

function parseScore(text: string | undefined): number | undefined {
  if (text === undefined || !NUMERIC.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * True when a line looks like the original STS Benchmark layout: 7 or 9 tab-separated fields with a
 * numeric 5th field. A headered file fails this (its header's 5th field, if any, is a name).
 */
export function isOriginalStsLine(line: string): boolean {
  const fields = line.replace(/^\uFEFF/, '').replace(/\r$/, '').split('\t');
  return (fields.length === 7 || fields.length === 9) && parseScore(fields[4]) !== undefined && !fields.includes('sentence1');
}

interface ColumnNames {
  s1: string;
  s2: string;
  score: string;
}

/** The validity rules of a pair, in the order they are reported: missing, blank, then score. */
function rowProblem(s1: string | undefined, s2: string | undefined, scoreText: string | undefined, score: number | undefined, names: ColumnNames): {field: string; message: string} | undefined {
  if (s1 === undefined) return {field: names.s1, message: `missing ${names.s1}`};
  if (s2 === undefined) return {field: names.s2, message: `missing ${names.s2}`};
  // Whitespace-only counts as empty: there is nothing to embed. Non-empty sentences are kept untrimmed.
  if (s1.trim() === '') return {field: names.s1, message: `empty ${names.s1}`};
  if (s2.trim() === '') return {field: names.s2, message: `empty ${names.s2}`};
  if (scoreText === undefined) return {field: names.score, message: `missing ${names.score}`};
  if (score === undefined) return {field: names.score, message: `${names.score} '${scoreText}' is not a number`};
  return undefined;
}

/** Collects valid pairs; invalid rows throw, or are counted when skipInvalid is set. */
class PairCollector {
  readonly pairs: StsPair[] = [];
  skipped = 0;
  constructor(
    private readonly file: string,
    private readonly skipInvalid: boolean,
  ) {}

  /** Validates one row; an invalid one is rejected (thrown, or counted when skipInvalid is set). */
  add(line: number, s1: string | undefined, s2: string | undefined, scoreText: string | undefined, names: ColumnNames): void {
    const score = parseScore(scoreText);
    const bad = rowProblem(s1, s2, scoreText, score, names);
    if (bad !== undefined) this.reject(line, bad.message, bad.field);
    else this.pairs.push({s1: s1!, s2: s2!, score: score!, line});
  }

  reject(line: number, message: string, field?: string): void {
    if (this.skipInvalid) {
      this.skipped++;
      return;
    }
    throw new SbertkitError(`${message} (use --skip-invalid to drop such rows)`, {file: this.file, line, field, exitCode: EXIT.BAD_INPUT});
  }
}

const ORIGINAL_NAMES: ColumnNames = {s1: 'sentence1', s2: 'sentence2', score: 'score'};

/** Parses the original STS Benchmark layout line by line (tab-split, no quotes, no header). */
async function parseOriginal(source: InputStream, collector: PairCollector, policy: InvalidUtf8Policy | undefined): Promise<{file: string; invalidUtf8Lines: number}> {
  const decoder = new Utf8Decoder(source.file, policy);
  try {
    for await (const {line, text} of readLines(source.stream, source.file, decoder)) {
      if (text === '') continue; // a blank line carries no pair
      const f = text.split('\t');
      if (f.length !== 7 && f.length !== 9) {
        collector.reject(line, `expected 7 or 9 tab-separated fields (genre, file, year, id, score, sentence1, sentence2[, source1, source2]), found ${f.length}`);
        continue;
      }
      collector.add(line, f[5], f[6], f[4], ORIGINAL_NAMES);
    }
  } finally {
    await source.close();
  }
  return {file: source.file, invalidUtf8Lines: decoder.invalidLines};
}

/** The format of a headered STS file from its first line: a JSON object, tab-separated, or CSV. */
function sniffHeaderedFormat(first: string): TextFormat {
  if (first.trimStart().startsWith('{')) return 'jsonl';
  return first.includes('\t') ? 'tsv' : 'csv';
}

/**
 * Reads one STS dataset. Throws SbertkitError (file and line) on an invalid row unless skipInvalid,
 * and always when fewer than 2 valid pairs remain or all gold scores are equal — a correlation
 * needs at least two distinct gold values, and failing here (before a model loads) is cheaper.
 */
export async function readStsDataset(input: string, options: ReadStsOptions = {}): Promise<StsDataset> {
  const collector = new PairCollector(input === STDIN ? STDIN_NAME : input, options.skipInvalid ?? false);
  // Opened once, whatever it is: the format is sniffed from the first line of the same stream, so a
  // pipe (\`<(zcat x.gz)\`) or stdin reads like a regular file.
  const peeked = await peekFirstLine(await openInput(input, options.stdin));
  const {first} = peeked;
  let format = options.format;
  if (format === undefined) {
    if (first !== undefined && isOriginalStsLine(first)) format = 'original';
    // stdin (or an unknown extension) has no name to tell the format: the header line does.
    else if (first !== undefined && (input === STDIN || detectTextFormat(input) === undefined)) format = sniffHeaderedFormat(first);
  }

  let file: string;
  let invalidUtf8Lines: number;
  if (format === 'original') {
    ({file, invalidUtf8Lines} = await parseOriginal(peeked.input, collector, options.onInvalidUtf8));
  } else {
    let textFormat: TextFormat;
    try {
      textFormat = textFormatOf(input, format);
      if (textFormat === 'txt') {
        throw new SbertkitError('an STS dataset needs sentence1, sentence2 and score columns; plain text has none (use TSV, CSV or JSONL)', {
          file: peeked.input.file,
          exitCode: EXIT.BAD_INPUT,
        });
      }
    } catch (error) {
      await peeked.input.close();
      throw error;
    }
    const source = await rowsFromInput(peeked.input, textFormat, {quote: options.quote, header: true, onInvalidUtf8: options.onInvalidUtf8});
    file = source.file;
    format = source.format;
    const names = {s1: options.sentence1Column ?? 'sentence1', s2: options.sentence2Column ?? 'sentence2', score: options.scoreColumn ?? 'score'};
    try {
      requireColumn(source, names.s1, FLAGS.s1);
      requireColumn(source, names.s2, FLAGS.s2);
      requireColumn(source, names.score, FLAGS.score);
    } catch (error) {
      await source.close();
      throw error;
    }
    for await (const row of source.rows) collector.add(row.line, row.fields[names.s1], row.fields[names.s2], row.fields[names.score], names);
    invalidUtf8Lines = source.invalidUtf8Lines;
  }

  const {pairs, skipped} = collector;
  if (pairs.length < 2) {
    throw new SbertkitError(`needs at least 2 valid sentence pairs to compute a correlation, found ${pairs.length}${skipped > 0 ? ` (${skipped} invalid skipped)` : ''}`, {
      file,
      exitCode: EXIT.BAD_INPUT,
    });
  }
  if (pairs.every((p) => p.score === pairs[0].score)) {
    throw new SbertkitError(`all ${pairs.length} gold scores are ${pairs[0].score}; a correlation is undefined`, {file, exitCode: EXIT.BAD_INPUT});
  }
  return {name: datasetBaseName(input), file, format, pairs, skipped, invalidUtf8Lines};
}

/** Reads several datasets (in order) and gives them unique display names. */
export async function readStsDatasets(inputs: readonly string[], options: ReadStsOptions = {}): Promise<StsDataset[]> {
  if (inputs.filter((i) => i === STDIN).length > 1) {
    throw new SbertkitError("stdin ('-') can be given only once", {exitCode: EXIT.BAD_INPUT});
  }
  const out: StsDataset[] = [];
  for (const {name, file} of namedDatasetInputs(inputs)) out.push({...(await readStsDataset(file, options)), name});
  return out;
}
