/**
 * JSONL rows: one object per line with the columns in schema order; a missing value is null.
 * Vectors are arrays of the shortest decimals that parse back to the same float32 (not the float64
 * expansion, ~2x longer). JSONL has nowhere to put schema metadata, so it is not written.
 */
import type {OutputSink} from '../output/atomic-output.js';
import {jsonCell} from './cells.js';
import type {BatchEncoder, RowSchema, TypedRow} from './types.js';

/** Builds the line writer once per schema: the keys' JSON text is computed once, not per row. */
export function jsonlLineFormatter(schema: RowSchema): (row: TypedRow) => string {
  const keys = schema.columns.map((column, i) => `${i === 0 ? '{' : ','}${JSON.stringify(column.name)}:`);
  return (row) => {
    let line = '';
    for (let i = 0; i < keys.length; i++) {
      const column = schema.columns[i]!;
      line += keys[i]! + jsonCell(column, row[column.name]);
    }
    return `${keys.length === 0 ? '{' : ''}${line}}\n`;
  };
}

export function jsonlEncoder(sink: OutputSink, schema: RowSchema): BatchEncoder {
  const format = jsonlLineFormatter(schema);
  return {
    async encode(rows) {
      // Written in ~1 MiB pieces: a whole batch of long vectors as one string would be hundreds of MB.
      let text = '';
      for (const row of rows) {
        text += format(row);
        if (text.length >= 1 << 20) {
          await sink.write(text);
          text = '';
        }
      }
      if (text.length > 0) await sink.write(text);
    },
    async finish() {},
    async abort() {},
  };
}
