/**
 * How a vector file says what its vectors are stored as: the schema metadata keys that `encode
 * --precision` writes and the readers interpret, and the check that they agree with the column type.
 *
 * - `sbertkit.precision`: float32, float16, int8, uint8, binary or ubinary.
 * - `sbertkit.ranges` (int8/uint8): JSON [[min...], [max...]], sentence-transformers' `ranges` array
 *   of shape (2, dim), as the shortest decimals that read back to the same float32 values; starts =
 *   min and steps = (max - min) / 255 in float32 (numpy's arithmetic) follow from it.
 * - `sbertkit.calibration` (int8/uint8): where the ranges came from, for people.
 * - `sbertkit.dimension`: the model's dimension, which for binary files is the number of bits used
 *   in each row of ceil(dimension / 8) bytes.
 *
 * A file without `sbertkit.precision` (older sbertkit files, other tools) is read by its column
 * type: float lists as floats, Int8/Uint8 lists as the integers they hold.
 */
import {EXIT, SbertkitError} from '../../errors.js';
import {float32ToString} from '../rows/cells.js';
import {isBinary, needsRanges, PRECISIONS, storedElement, storedLength, type Precision, type QuantizationRanges, type StoredElement} from '../../vectors/quantize.js';
import type {VectorFileMetadata} from './types.js';

export const PRECISION_KEY = 'sbertkit.precision';
export const RANGES_KEY = 'sbertkit.ranges';
export const CALIBRATION_KEY = 'sbertkit.calibration';
export const DIMENSION_KEY = 'sbertkit.dimension';

/** The metadata entries of vectors stored at `precision`. */
export function precisionMetadata(precision: Precision, ranges: QuantizationRanges | undefined, calibration: string | undefined): VectorFileMetadata {
  return {
    [PRECISION_KEY]: precision,
    ...(ranges !== undefined && needsRanges(precision) ? {[RANGES_KEY]: rangesToJson(ranges)} : {}),
    ...(calibration !== undefined && needsRanges(precision) ? {[CALIBRATION_KEY]: calibration} : {}),
  };
}

export function rangesToJson(ranges: QuantizationRanges): string {
  const list = (values: Float32Array): string => `[${Array.from(values, float32ToString).join(',')}]`;
  return `[${list(ranges.min)},${list(ranges.max)}]`;
}

/** What the readers need to turn a file's stored rows back into vectors. */
export interface StoredLayout {
  precision: Precision;
  /** The precision came from the metadata (not guessed from the column type). */
  declared: boolean;
  /** int8/uint8 written by sbertkit; undefined for integer files of other tools (read as is). */
  ranges: QuantizationRanges | undefined;
  /** Vector dimension when the metadata or the list size tells (binary: bits, not bytes). */
  dimension: number | undefined;
}

/**
 * Reads the precision metadata against the vector column's element type ('float32' for any float
 * but half, which is 'float16') and fixed list size (undefined for variable-length lists).
 */
export function storedLayout(metadata: VectorFileMetadata, element: StoredElement, listSize: number | undefined, file: string, column: string): StoredLayout {
  const declared = metadata[PRECISION_KEY];
  if (declared === undefined) return {precision: element, declared: false, ranges: undefined, dimension: listSize};
  const damaged = (message: string): SbertkitError => new SbertkitError(message, {file, field: column, exitCode: EXIT.BAD_INPUT});
  if (!(PRECISIONS as readonly string[]).includes(declared)) {
    throw damaged(`unknown precision '${declared}' in the ${PRECISION_KEY} metadata; known: ${PRECISIONS.join(', ')}`);
  }
  const precision = declared as Precision;
  if (storedElement(precision) !== element) {
    throw damaged(`column '${column}' holds ${element} values, but the ${PRECISION_KEY} metadata says ${precision} (stored as ${storedElement(precision)})`);
  }
  let dimension = listSize;
  if (isBinary(precision)) {
    const bits = Number(metadata[DIMENSION_KEY]);
    const fits = Number.isInteger(bits) && bits > 0 && (listSize === undefined || storedLength(precision, bits) === listSize);
    dimension = fits ? bits : listSize === undefined ? undefined : listSize * 8;
  }
  let ranges: QuantizationRanges | undefined;
  const text = metadata[RANGES_KEY];
  if (needsRanges(precision) && text !== undefined) ranges = parseRanges(text, listSize, (message) => damaged(`${RANGES_KEY} metadata ${message}`));
  return {precision, declared: true, ranges, dimension};
}

/**
 * The int8/uint8 ranges a file's metadata records, or undefined when it records none (or is not
 * int8/uint8). For a file already opened (its reader checked the ranges against its vectors).
 */
export function recordedRanges(metadata: VectorFileMetadata, dimension: number, file: string): QuantizationRanges | undefined {
  const precision = metadata[PRECISION_KEY] as Precision | undefined;
  const text = metadata[RANGES_KEY];
  if (precision === undefined || !needsRanges(precision) || text === undefined) return undefined;
  return parseRanges(text, dimension, (message) => new SbertkitError(`${RANGES_KEY} metadata ${message}`, {file, exitCode: EXIT.BAD_INPUT}));
}

function parseRanges(text: string, dimension: number | undefined, fail: (message: string) => SbertkitError): QuantizationRanges {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail('is not JSON');
  }
  const isNumbers = (row: unknown): row is number[] => Array.isArray(row) && row.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!Array.isArray(value) || value.length !== 2 || !isNumbers(value[0]) || !isNumbers(value[1]) || value[0].length !== value[1].length) {
    throw fail('is not [[min...], [max...]] of two equally long lists of numbers');
  }
  if (dimension !== undefined && value[0].length !== dimension) throw fail(`has ${value[0].length} dimensions, the vectors ${dimension}`);
  return {min: Float32Array.from(value[0]), max: Float32Array.from(value[1])};
}
