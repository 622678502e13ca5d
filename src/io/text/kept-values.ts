/**
 * The values of kept columns (--keep-columns, the columns similarity passes through), with their types:
 *
 * - JSONL: the JSON value. A string, a boolean or null as it is; an integer as a bigint (so ids
 *   beyond 2^53 keep every digit), a decimal as a number (1.0 and 1e3 are decimals: the text
 *   decides, not the value); an object or array as its source text (JsonText 'nested'); an integer
 *   beyond Int64 or a number beyond a double (1e400) as its source text (JsonText 'number').
 * - CSV/TSV/txt: the cell's text, unless `inferTypes` (inferCell).
 */
import {topLevelValueTexts} from './json-numbers.js';
import {JsonText, type KeptValue} from '../rows/types.js';
import type {Row} from './types.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The kept values of `row` for `columns`; a column the row lacks (JSONL) is left out. */
export function keptValues(row: Row, columns: readonly string[], inferTypes = false): Record<string, KeptValue> {
  const out: Record<string, KeptValue> = {};
  if (row.values === undefined) {
    for (const column of columns) {
      const text = row.fields[column];
      if (text !== undefined) out[column] = inferTypes ? inferCell(text) : text;
    }
    return out;
  }
  // Numbers and nested values are taken from the line's text; one scan finds all of them.
  let fromSource: Set<string> | undefined;
  for (const column of columns) {
    const value = row.values[column];
    if (value === undefined) continue;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') out[column] = value;
    else (fromSource ??= new Set()).add(column);
  }
  if (fromSource === undefined) return out;
  const texts = row.source === undefined ? {} : topLevelValueTexts(row.source, fromSource);
  for (const column of fromSource) {
    const value = row.values[column];
    const text = texts[column] ?? JSON.stringify(value);
    out[column] = typeof value === 'number' ? jsonNumber(text, value) : new JsonText(text, 'nested');
  }
  return out;
}

/** A JSON number from its source text: integers as bigints, decimals as doubles, the rest as text. */
export function jsonNumber(text: string, value: number): KeptValue {
  if (INTEGER.test(text)) {
    const integer = BigInt(text);
    return integer >= INT64_MIN && integer <= INT64_MAX ? integer : new JsonText(text, 'number');
  }
  return Number.isFinite(value) ? value : new JsonText(text, 'number');
}

/**
 * --infer-types, one CSV/TSV cell at a time:
 * - "" -> null;
 * - an integer without leading zeros or sign other than '-' ("42", "-7") within Int64 -> integer;
 *   "007", "+5", "-0", " 42" and longer integers stay strings (zip codes, ids, padded codes);
 * - a decimal with digits on both sides of the point and/or an exponent ("2.5", "-0.5", "1e-3")
 *   -> decimal; ".5", "5.", "007.5", "NaN", "inf" stay strings;
 * - true/True/TRUE, false/False/FALSE -> boolean;
 * - anything else stays the string it is.
 */
export function inferCell(text: string): KeptValue {
  if (text === '') return null;
  const first = text.charCodeAt(0);
  // Only cells starting with a digit, '-', t/T or f/F can be anything but a string.
  if ((first >= 48 && first <= 57) || first === 45) {
    if (INTEGER.test(text)) {
      if (text === '-0') return text;
      const integer = BigInt(text);
      return integer >= INT64_MIN && integer <= INT64_MAX ? integer : text;
    }
    if (DECIMAL.test(text)) {
      const value = Number(text);
      return Number.isFinite(value) ? value : text;
    }
    return text;
  }
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  return text;
}
