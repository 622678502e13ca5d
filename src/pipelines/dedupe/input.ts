/**
 * dedupe's input side. Unlike the other commands, dedupe reads its input twice: once for the texts
 * (or vectors) it compares, and once to copy the kept rows out as they were. So stdin and pipes are
 * first spooled to a temp file, and every row remembers the source lines it spans.
 */
import {EXIT, SbertkitError} from '../../errors.js';
import {detectVectorFormat, STDIN, STDIN_NAME, type TextFormat} from '../../io/formats.js';
import {replayableInput} from '../../io/input/replayable.js';
import type {InvalidUtf8Policy} from '../../io/input/utf8.js';
import {textFormatOf} from '../../io/text/read-rows.js';
import {openTexts, type TextSource} from '../../io/text/read-texts.js';
import {readVectorMatrix, textCells} from '../../io/vectors/read-vectors.js';
import type {VectorFileMetadata} from '../../io/vectors/types.js';
import type {VectorFormat} from '../../io/formats.js';
import {rowIdOf, type RowId, type VectorMatrix} from '../../vectors/matrix.js';
import {isVectorFilePath} from '../vector-input.js';

export interface DedupeInputOptions {
  input: string;
  vectors?: boolean;
  inputFormat?: TextFormat;
  textColumn?: string;
  idColumn?: string;
  onInvalidUtf8?: InvalidUtf8Policy;
  /** CSV field separator (default ','). */
  delimiter?: string;
  stdin?: NodeJS.ReadableStream;
}

interface InputBase {
  /** The name for messages: the path as given, or '<stdin>'. */
  file: string;
  /** A path that can be read again (the input itself, or its spooled copy). */
  path: string;
  ids: RowId[];
  /** Row texts; undefined for a vector file without a text column. */
  texts: (string | undefined)[] | undefined;
  cleanup(): Promise<void>;
}

/** Texts to encode: each row's first and last source line, for the copy pass. */
export interface TextInput extends InputBase {
  kind: 'texts';
  format: TextFormat;
  texts: string[];
  headerEndLine: number;
  startLines: Int32Array;
  endLines: Int32Array;
  invalidUtf8Lines: number;
}

/** A vector file: its vectors (already encoded), metadata and kept columns. */
export interface VectorInput extends InputBase {
  kind: 'vectors';
  format: VectorFormat;
  vectors: VectorMatrix;
  metadata: VectorFileMetadata;
  fieldNames: string[];
  model: string | undefined;
}

export type DedupeInput = TextInput | VectorInput;

export async function readDedupeInput(options: DedupeInputOptions): Promise<DedupeInput> {
  const vectorFormat = options.vectors || isVectorFilePath(options.input) ? vectorFormatOf(options.input) : undefined;
  const replay = await replayableInput(options.input, options.stdin);
  try {
    if (vectorFormat !== undefined) return await readVectorInput(options, replay, vectorFormat);
    return await readTextInput(options, replay);
  } catch (error) {
    await replay.cleanup();
    throw error;
  }
}

type Replay = Awaited<ReturnType<typeof replayableInput>>;

/** A vector input's format, from its name: refused before stdin is spooled when the name cannot tell. */
function vectorFormatOf(input: string): VectorFormat {
  const format = detectVectorFormat(input);
  if (format === undefined) {
    throw new SbertkitError(`dedupe reads a vector file by its name (.parquet, .arrow, .arrows, .jsonl with --vectors); give the file's path, not stdin`, {file: input === STDIN ? STDIN_NAME : input, exitCode: EXIT.BAD_INPUT});
  }
  return format;
}

async function readVectorInput(options: DedupeInputOptions, replay: Replay, format: VectorFormat): Promise<VectorInput> {
  const table = await readVectorMatrix(replay.path, {idColumn: options.idColumn, format});
  const textColumn = options.textColumn ?? 'text';
  return {
    kind: 'vectors',
    file: replay.file,
    path: replay.path,
    format: table.format,
    ids: [...table.vectors.ids],
    texts: textCells(table.fields[textColumn]),
    vectors: table.vectors,
    metadata: table.metadata,
    fieldNames: Object.keys(table.fields),
    model: table.metadata['sbertkit.model'],
    cleanup: replay.cleanup,
  };
}

async function readTextInput(options: DedupeInputOptions, replay: Replay): Promise<TextInput> {
  const format = textFormatOf(options.input, options.inputFormat ?? (options.input === STDIN ? 'txt' : undefined));
  const source = await openTexts(replay.path, {
    format,
    label: replay.file,
    delimiter: options.delimiter,
    textColumn: options.textColumn,
    idColumn: options.idColumn,
    onInvalidUtf8: options.onInvalidUtf8,
  });
  const {ids, texts, starts, ends} = await collectTexts(source);
  return {
    kind: 'texts',
    file: replay.file,
    path: replay.path,
    format,
    ids,
    texts,
    headerEndLine: source.headerEndLine,
    startLines: Int32Array.from(starts),
    endLines: Int32Array.from(ends),
    invalidUtf8Lines: source.invalidUtf8Lines,
    cleanup: replay.cleanup,
  };
}

/** Every record of a text source (closed after): ids, texts, and the source lines each spans. */
export async function collectTexts(source: TextSource): Promise<{ids: RowId[]; texts: string[]; starts: number[]; ends: number[]}> {
  const ids: RowId[] = [];
  const texts: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  try {
    for await (const record of source.records) {
      ids.push(rowIdOf(record.id));
      texts.push(record.text);
      starts.push(record.line);
      ends.push(record.endLine);
    }
  } finally {
    await source.close();
  }
  return {ids, texts, starts, ends};
}
