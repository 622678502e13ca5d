/**
 * The input side shared by every command that compares vectors: a path is either a vector file
 * written by `encode` (read as is: a corpus is encoded once and searched many times) or texts to
 * encode with the shared encoder. Either way the command gets one VectorMatrix, the texts when they
 * are known, and which model made the vectors, so inputs made by different models are refused.
 */
import {basename} from 'node:path';
import {addStats, emptyStats, type EncodeStats, type SentenceEncoder} from '../encoder/types.js';
import {EXIT, SbertkitError} from '../errors.js';
import {STDIN, STDIN_NAME, type TextFormat} from '../io/formats.js';
import {openTexts} from '../io/text/read-texts.js';
import {readVectorMatrix, textCells} from '../io/vectors/read-vectors.js';
import {rowIdOf, VectorMatrix, type RowId} from '../vectors/matrix.js';
import type {BitMatrix} from '../vectors/packed-bits.js';
import type {Precision} from '../vectors/quantize.js';
import {locateOverflow} from './text-overflow.js';

export interface VectorInputOptions {
  input: string;
  /** Read as a vector file whatever the extension (a JSONL of vectors, stdin). */
  vectors?: boolean;
  inputFormat?: TextFormat;
  textColumn?: string;
  idColumn?: string;
  quote?: boolean;
  /** CSV field separator (default ','). */
  delimiter?: string;
  stdin?: NodeJS.ReadableStream;
}

/** A LoadedVectors' matrix: floats, or packed bits for binary vector files loaded for search. */
export type SearchMatrix = VectorMatrix | BitMatrix;

export interface LoadedVectors<M extends SearchMatrix = VectorMatrix> {
  /** Path as given, or '<stdin>'. */
  file: string;
  kind: 'texts' | 'vectors';
  vectors: M;
  /** How a vector file stores its vectors (undefined or 'float32' for texts). */
  precision?: Precision;
  /** Row i's text, when known (texts, or a vector file with a kept text column). */
  texts: (string | undefined)[] | undefined;
  /** The model that made the vectors: the encoder's, or the vector file's sbertkit.model metadata. */
  model: string | undefined;
  /** What encoding cost (zeros for a vector file). */
  stats: EncodeStats;
}

/** A path sbertkit reads as vectors without being told: Parquet and Arrow files hold no texts to encode. */
export function isVectorFilePath(path: string): boolean {
  return /\.(parquet|arrow|arrows|feather|ipc)$/i.test(path);
}

/**
 * Loads one input. `encoder` is called only for texts, and at most once per run by the caller's
 * memo, so a corpus file of vectors and a query text share nothing they do not need.
 */
export async function loadVectors(options: VectorInputOptions, encoder: () => Promise<SentenceEncoder>, onBatch?: (rows: number) => void): Promise<LoadedVectors> {
  return loadAny(options, encoder, onBatch, false) as Promise<LoadedVectors>;
}

/** loadVectors for searching: binary vector files stay packed bits (searched by Hamming distance). */
export async function loadSearchVectors(options: VectorInputOptions, encoder: () => Promise<SentenceEncoder>, onBatch?: (rows: number) => void): Promise<LoadedVectors<SearchMatrix>> {
  return loadAny(options, encoder, onBatch, true);
}

async function loadAny(options: VectorInputOptions, encoder: () => Promise<SentenceEncoder>, onBatch: ((rows: number) => void) | undefined, packed: boolean): Promise<LoadedVectors<SearchMatrix>> {
  if (options.vectors || isVectorFilePath(options.input)) {
    const read = {idColumn: options.idColumn, stdin: options.stdin};
    const table = packed ? await readVectorMatrix(options.input, {...read, binary: 'packed'}) : await readVectorMatrix(options.input, read);
    const texts = textCells(table.fields[options.textColumn ?? 'text']);
    return {file: table.file, kind: 'vectors', vectors: table.vectors, precision: table.precision, texts, model: table.metadata['sbertkit.model'], stats: emptyStats()};
  }
  const source = await openTexts(options.input, {
    delimiter: options.delimiter,
    format: options.inputFormat ?? (options.input === STDIN ? 'txt' : undefined),
    textColumn: options.textColumn,
    idColumn: options.idColumn,
    quote: options.quote,
    stdin: options.stdin,
  });
  let loaded: SentenceEncoder;
  try {
    loaded = await encoder();
  } catch (error) {
    await source.close();
    throw error;
  }
  try {
    return await encodeAll(source.file, source.records, loaded, onBatch);
  } finally {
    await source.close();
  }
}

/** Texts given directly (a --query): ids are their positions. */
export async function loadTexts(texts: readonly string[], encoder: () => Promise<SentenceEncoder>): Promise<LoadedVectors> {
  return encodeAll('<argument>', texts.map((text, i) => ({id: i, text})), await encoder());
}

async function encodeAll(file: string, records: AsyncIterable<{id: RowId | bigint; text: string}> | Iterable<{id: RowId | bigint; text: string}>, encoder: SentenceEncoder, onBatch?: (rows: number) => void): Promise<LoadedVectors> {
  const parts: VectorMatrix[] = [];
  const ids: RowId[] = [];
  const texts: string[] = [];
  const stats = emptyStats();
  try {
    for await (const chunk of encoder.embedStream(records, {onBatch})) {
      parts.push(chunk.vectors);
      addStats(stats, chunk.stats);
      for (const record of chunk.records) {
        ids.push(rowIdOf(record.id));
        texts.push(record.text);
      }
    }
  } catch (error) {
    throw locateOverflow(error, file === STDIN ? STDIN_NAME : file);
  }
  const stacked = VectorMatrix.concat(parts, encoder.dimension);
  return {file, kind: 'texts', vectors: new VectorMatrix(ids, encoder.dimension, stacked.data), precision: 'float32', texts, model: encoder.spec.name, stats};
}

/**
 * Inputs compared with each other must come from one model and have one dimension. Model names are
 * compared as written, except local folders, compared by folder name (the same folder may be given
 * as ./m and /abs/m in two runs).
 */
export function checkComparable(inputs: readonly (Pick<LoadedVectors, 'file' | 'kind' | 'model'> & {vectors: {rows: number; dimension: number}})[]): void {
  const withRows = inputs.filter((i) => i.vectors.rows > 0);
  const first = withRows[0];
  if (first === undefined) return;
  for (const other of withRows.slice(1)) {
    if (other.vectors.dimension !== first.vectors.dimension) {
      throw new SbertkitError(`vectors of dimension ${other.vectors.dimension} cannot be compared with ${first.file}'s of dimension ${first.vectors.dimension}`, {
        file: other.file === STDIN ? STDIN_NAME : other.file,
        exitCode: EXIT.BAD_INPUT,
      });
    }
  }
  const known = inputs.filter((i) => i.model !== undefined);
  for (const other of known.slice(1)) {
    if (modelKey(other.model!) !== modelKey(known[0]!.model!)) {
      throw new SbertkitError(
        `made with model ${other.model}, but ${known[0]!.file} ${known[0]!.kind === 'texts' ? 'is encoded' : 'was made'} with ${known[0]!.model}; vectors of different models cannot be compared (pass --model ${other.model} or re-encode)`,
        {file: other.file, exitCode: EXIT.BAD_INPUT},
      );
    }
  }
}

function modelKey(name: string): string {
  const isId = name.startsWith('builtin:') || /^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(name);
  return isId && !name.startsWith('.') && !name.startsWith('/') ? name : `folder:${basename(name.replace(/[\\/]+$/, ''))}`;
}

/**
 * One input of a single-input command (mine-paraphrases, cluster): loaded with an encoder that is
 * loaded only for texts and closed right after, and checked against an explicit --model.
 */
export async function loadSingleInput(options: VectorInputOptions & {model?: string}, loadEncoder: () => Promise<SentenceEncoder>): Promise<LoadedVectors>;
export async function loadSingleInput(options: VectorInputOptions & {model?: string}, loadEncoder: () => Promise<SentenceEncoder>, packed: true): Promise<LoadedVectors<SearchMatrix>>;
export async function loadSingleInput(options: VectorInputOptions & {model?: string}, loadEncoder: () => Promise<SentenceEncoder>, packed = false): Promise<LoadedVectors<SearchMatrix>> {
  let encoder: SentenceEncoder | undefined;
  let loaded: LoadedVectors<SearchMatrix>;
  try {
    loaded = await loadAny(options, async () => (encoder ??= await loadEncoder()), undefined, packed);
  } finally {
    await encoder?.close();
  }
  checkModelFlag(loaded, options.model);
  return loaded;
}

/**
 * Checks an input against an explicit --model: encoded texts were made by --model itself; a vector
 * file's metadata must name the same model.
 */
export function checkModelFlag(loaded: LoadedVectors<SearchMatrix>, model: string | undefined): void {
  checkComparable(model === undefined || loaded.kind === 'texts' ? [loaded] : [loaded, {...loaded, file: '--model', model}]);
}
