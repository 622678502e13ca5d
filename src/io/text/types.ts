/** What the text readers produce: raw rows of a tabular input, and the texts picked out of them. */
import type {KeptValue} from '../rows/types.js';

/** A raw row of a tabular input, before any column is picked. */
export interface Row {
  /** 1-based physical line number in the source where this row starts (header is line 1 for CSV/TSV). */
  line: number;
  /**
   * 1-based physical line on which this row ends: `line` for txt, TSV and JSONL; larger for a CSV
   * record with a quoted field spanning lines. With `line` it tells which source lines hold the row,
   * so a pass over the raw bytes can copy kept rows verbatim (text/copy-lines.ts).
   */
  endLine: number;
  /** Column name -> value, as strings. For JSONL, non-string values are JSON-stringified except numbers/booleans which are String()-ed. */
  fields: Record<string, string>;
  /** JSONL only: the parsed object, so callers can tell a missing field from a non-string one. */
  values?: Record<string, unknown>;
  /**
   * JSONL only, and only when there are some: the source text of top-level numbers a double cannot
   * hold exactly (integers beyond 2^53), whose `values` entry is rounded. `fields` has this text too.
   */
  numberTexts?: Record<string, string>;
  /** JSONL only: the line's text, from which kept numbers and nested values are taken as written (kept-values.ts). */
  source?: string;
}

/** One text to embed. */
export interface TextRecord {
  /**
   * The --id-column value, else the 0-based row number. A JSONL id keeps its JSON type: a string, a
   * number, or a bigint for an integer beyond 2^53 that a number would round.
   */
  id: string | number | bigint;
  text: string;
  /** Only the columns asked for with --keep-columns, with their types (kept-values.ts); a JSONL row may lack some. */
  fields: Record<string, KeptValue>;
  /** 1-based source line, for error messages. */
  line: number;
  /** 1-based physical line on which the row ends (Row.endLine). */
  endLine: number;
}
