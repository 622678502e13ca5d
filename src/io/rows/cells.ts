/**
 * Cell checks and text renderings shared by the text encoders (JSONL, CSV, TSV). One place decides
 * what a typed cell looks like as text, so a score or an id reads the same in every format.
 */
import {EXIT, SbertkitError} from '../../errors.js';
import {fromHalfBits} from '../../vectors/half-float.js';
import {JsonText, type Cell, type Column, type VectorCell, type VectorElement} from './types.js';
import {valueJson, valueText} from './value-columns.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A short decimal that parses back to exactly the float32 `value`: 9 significant digits always
 * suffice for float32 and 7 or 8 usually do. Trying fewer than 7 would cost time on every value to
 * shorten few of them; String(Number(...)) still drops trailing zeros ("0.5", not "0.5000000").
 */
export function float32ToString(value: number): string {
  if (!Number.isFinite(value)) throw new SbertkitError(`cannot write ${value} to JSON`, {exitCode: EXIT.MODEL});
  const target = Math.fround(value);
  if (Object.is(target, -0)) return '-0'; // String(-0) is "0"; keep the sign so the value round-trips
  for (let digits = 7; digits < 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return String(candidate);
  }
  return String(Number(target.toPrecision(9)));
}

/**
 * "[0.1,0.2]" with the shortest float32 round-trip digits; half floats as their values (exact in
 * float32, so they read back as the same half); integers as integers.
 */
export function vectorToJson(vector: VectorCell, element: VectorElement = 'float32'): string {
  if (element === 'int8' || element === 'uint8') return `[${vector.join(',')}]`;
  const parts = new Array<string>(vector.length);
  if (element === 'float16') for (let i = 0; i < vector.length; i++) parts[i] = float32ToString(fromHalfBits(vector[i]!));
  else for (let i = 0; i < vector.length; i++) parts[i] = float32ToString(vector[i]!);
  return `[${parts.join(',')}]`;
}

const VECTOR_CELL_TYPES: Readonly<Record<VectorElement, new (length: number) => VectorCell>> = {
  float32: Float32Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

/**
 * Checks `cell` against its column and returns it, or null for a missing value. Type mismatches are
 * bugs of the calling code, except ids, which come from user data: those get a user-facing message.
 */
export function checkCell(column: Column, cell: Cell): Exclude<Cell, undefined> {
  if (cell === null || cell === undefined) {
    if (column.nullable === false) throw new SbertkitError(`column '${column.name}' has a missing value`, {field: column.name});
    return null;
  }
  const {type} = column;
  switch (type.kind) {
    case 'string':
      if (typeof cell !== 'string') throw new TypeError(`column '${column.name}' is a string column, got ${typeof cell}`);
      return cell;
    case 'int':
      if (typeof cell === 'bigint' && cell >= INT64_MIN && cell <= INT64_MAX) return cell;
      if (typeof cell !== 'number' || !Number.isSafeInteger(cell)) {
        throw new SbertkitError(`${column.name} ${JSON.stringify(cell)} is not an integer; write string ids instead`, {field: column.name});
      }
      return cell;
    case 'float':
      if (typeof cell !== 'number') throw new TypeError(`column '${column.name}' is a float column, got ${typeof cell}`);
      return cell;
    case 'bool':
      if (typeof cell !== 'boolean') throw new TypeError(`column '${column.name}' is a bool column, got ${typeof cell}`);
      return cell;
    case 'value':
      if (ArrayBuffer.isView(cell) || (typeof cell === 'object' && !(cell instanceof JsonText))) throw new TypeError(`column '${column.name}' is a value column, got ${cell.constructor.name}`);
      return cell;
    case 'vector': {
      const element = type.element ?? 'float32';
      if (!(cell instanceof VECTOR_CELL_TYPES[element])) throw new TypeError(`column '${column.name}' is a ${element} vector column, got ${cell?.constructor?.name ?? typeof cell}`);
      if (cell.length !== type.dimension) {
        throw new SbertkitError(`${column.name} has ${cell.length} values, expected ${type.dimension}`, {field: column.name, exitCode: EXIT.MODEL});
      }
      return cell;
    }
  }
}

/** The cell as a JSON value's text. */
export function jsonCell(column: Column, cell: Cell): string {
  const value = checkCell(column, cell);
  if (value === null) return 'null';
  if (column.type.kind === 'value') return valueJson(value);
  if (ArrayBuffer.isView(value)) return vectorToJson(value, vectorElement(column));
  if (typeof value === 'number') return column.type.kind === 'int' ? String(value) : JSON.stringify(value);
  return JSON.stringify(value);
}

/** The cell as plain text for CSV/TSV: '' for missing, numbers as String() ("NaN" stays readable), vectors as a JSON array. */
export function plainCell(column: Column, cell: Cell): string {
  const value = checkCell(column, cell);
  if (value === null) return '';
  if (column.type.kind === 'value') return valueText(value);
  if (ArrayBuffer.isView(value)) return vectorToJson(value, vectorElement(column));
  return String(value);
}

function vectorElement(column: Column): VectorElement {
  return column.type.kind === 'vector' ? (column.type.element ?? 'float32') : 'float32';
}
