/**
 * Kept input columns (`value` columns) carry each row's value with its own type: a string, an
 * integer (bigint), a decimal (number), a boolean, null, or a JsonText. Text formats write each value
 * as it is; Parquet and Arrow need one type per column, decided here from the cells of the first
 * batch written:
 *
 *   all integers                                -> Int64
 *   integers and decimals, integers within 2^53 -> Float64 (a double holds them exactly)
 *   all booleans                                -> Bool
 *   anything else (strings, nested, a mix)      -> Utf8: strings as they are, other values as their
 *                                                  JSON text (7, 2.5, true, {"a":1})
 *   no value at all                             -> Utf8 (all null)
 *
 * The schema is written with the first batch, so a later value that the fixed type cannot hold (a
 * string in an Int64 column, a decimal in an Int64 column) fails the run naming the input line and
 * field, instead of writing a file whose values differ from the input. A Utf8 column holds any later
 * value as its text, which is what the rule above gives the whole column anyway.
 */
import {SbertkitError} from '../../errors.js';
import {JsonText, ROW_ORIGIN, type Cell, type Column, type FixedKind, type TypedRow} from './types.js';

const ARROW_NAMES: Record<FixedKind, string> = {int: 'an Int64', float: 'a Float64', bool: 'a Bool', string: 'a Utf8'};

/** Largest integer magnitude a double holds exactly, as a bigint. */
const MAX_EXACT_DOUBLE = 2n ** 53n;

/** A decimal's text: always with a '.' or an exponent, so 1.0 reads back as a decimal, not an integer. */
export function decimalText(value: number): string {
  if (!Number.isFinite(value)) throw new SbertkitError(`cannot write ${value} as a JSON number`);
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** A value cell as text (CSV/TSV, Utf8 columns): strings as they are, other values as their JSON text. */
export function valueText(cell: Exclude<Cell, null | undefined>): string {
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number') return decimalText(cell);
  if (typeof cell === 'bigint' || typeof cell === 'boolean') return String(cell);
  if (cell instanceof JsonText) return cell.text;
  throw new TypeError(`a kept column cannot hold a ${cell.constructor.name}`);
}

/** A value cell as JSON text (JSONL): the value itself, so types round-trip. */
export function valueJson(cell: Exclude<Cell, null | undefined>): string {
  return typeof cell === 'string' ? JSON.stringify(cell) : valueText(cell);
}

/** "a string", "a decimal"... for conflict messages. */
function describe(cell: Exclude<Cell, null | undefined>): string {
  if (typeof cell === 'string') return `a string (${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}...` : cell)})`;
  if (typeof cell === 'bigint') return `an integer (${cell})`;
  if (typeof cell === 'number') return `a decimal (${decimalText(cell)})`;
  if (typeof cell === 'boolean') return `a boolean (${cell})`;
  if (cell instanceof JsonText) return cell.kind === 'nested' ? 'a nested JSON value' : `a number no Int64 or double holds (${cell.text})`;
  return 'a value of another kind';
}

/** The Parquet/Arrow kind of a value column holding `cells` (the rule in the header comment). */
export function fixedKindOf(cells: Iterable<Cell>): FixedKind {
  let ints = false;
  let inexactInts = false;
  let decimals = false;
  let bools = false;
  let others = false;
  for (const cell of cells) {
    if (cell === null || cell === undefined) continue;
    if (typeof cell === 'bigint') {
      ints = true;
      if (cell > MAX_EXACT_DOUBLE || cell < -MAX_EXACT_DOUBLE) inexactInts = true;
    } else if (typeof cell === 'number') decimals = true;
    else if (typeof cell === 'boolean') bools = true;
    else others = true;
  }
  if (others || (bools && (ints || decimals))) return 'string';
  if (bools) return 'bool';
  if (decimals) return ints && inexactInts ? 'string' : 'float';
  return ints ? 'int' : 'string';
}

/**
 * Fixes the value columns' types with the first batch and converts every batch's value cells to them.
 * `target` names the output in messages.
 */
export class ValueColumns {
  private fixedKinds: Map<string, FixedKind> | undefined;
  private firstRows = 0;
  /** Output column -> the input field it comes from, where they differ (for messages). */
  private readonly inputFields = new Map<string, string>();
  /** Output column -> what fixed its type, when not this file's first batch (Column.preset). */
  private readonly decidedBy = new Map<string, string>();

  constructor(
    private readonly columns: readonly Column[],
    private readonly target: string,
  ) {}

  /** True when there is a value column, and so something to fix. */
  static any(columns: readonly Column[]): boolean {
    return columns.some((c) => c.type.kind === 'value');
  }

  /** The columns with each value column's type fixed by `rows`; call once, with the first batch. */
  fix(rows: readonly TypedRow[]): Column[] {
    if (this.fixedKinds !== undefined) throw new Error('value column types are already fixed');
    this.fixedKinds = new Map();
    this.firstRows = rows.length;
    return this.columns.map((column) => {
      if (column.type.kind !== 'value') return column;
      const kind = column.preset?.kind ?? fixedKindOf(rows.map((row) => row[column.name]));
      this.fixedKinds!.set(column.name, kind);
      if (column.inputField !== undefined) this.inputFields.set(column.name, column.inputField);
      if (column.preset !== undefined) this.decidedBy.set(column.name, column.preset.by);
      return {name: column.name, type: {kind}, nullable: column.nullable ?? true};
    });
  }

  /** `rows` with their value cells as the fixed types hold them; fails on a value the type cannot hold. */
  convert(rows: readonly TypedRow[]): TypedRow[] {
    const kinds = this.fixedKinds;
    if (kinds === undefined) throw new Error('value column types are not fixed yet');
    return rows.map((row) => {
      const out: Record<string | symbol, unknown> = {...row};
      for (const [name, kind] of kinds) out[name] = this.cell(kind, name, row);
      return out as TypedRow;
    });
  }

  private cell(kind: FixedKind, name: string, row: TypedRow): Cell {
    const cell = row[name];
    if (cell === null || cell === undefined) return null;
    switch (kind) {
      case 'string':
        return valueText(cell);
      case 'int':
        if (typeof cell === 'bigint') return cell;
        break;
      case 'float':
        if (typeof cell === 'number') return cell;
        if (typeof cell === 'bigint' && cell <= MAX_EXACT_DOUBLE && cell >= -MAX_EXACT_DOUBLE) return Number(cell);
        break;
      case 'bool':
        if (typeof cell === 'boolean') return cell;
        break;
    }
    const origin = row[ROW_ORIGIN];
    const where = origin === undefined ? {file: this.target} : {file: origin.file, line: origin.line};
    const field = this.inputFields.get(name) ?? name;
    const decidedBy = this.decidedBy.get(name) ?? `the first ${this.firstRows} rows`;
    throw new SbertkitError(
      `field '${field}' is ${describe(cell)}, but ${decidedBy} made it ${ARROW_NAMES[kind]} column of ${this.target} ` +
        '(Parquet and Arrow fix column types with the first row group); give the field one type in every row, or write JSONL',
      {...where, field},
    );
  }
}
