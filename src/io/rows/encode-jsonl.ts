/**
 * JSONL vectors: `{"id":..., <kept fields>, "embedding":[...]}` per line. Floats are written with
 * few digits that still parse back to the same float32 (not the float64 expansion, ~2x longer).
 * JSONL has nowhere to put schema metadata, so it is not written.
 */
import {EXIT, SbertkitError} from '../../errors.js';
import type {OutputSink} from '../output/atomic-output.js';
import type {VectorRecord} from '../vectors/types.js';
import {EMBEDDING_COLUMN, ID_COLUMN, type VectorLayout} from '../vectors/arrow-batches.js';
import type {BatchEncoder} from '../vectors/write-vectors.js';

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

export function vectorToJsonLine(record: VectorRecord, layout: VectorLayout): string {
  let id: string;
  if (layout.idType === 'int') {
    if (typeof record.id !== 'number' || !Number.isSafeInteger(record.id)) {
      throw new SbertkitError(`id ${JSON.stringify(record.id)} is not an integer; write string ids instead`);
    }
    id = String(record.id);
  } else id = JSON.stringify(String(record.id));
  if (record.vector.length !== layout.dimension) {
    throw new SbertkitError(`vector for id ${record.id} has ${record.vector.length} values, expected ${layout.dimension}`, {exitCode: EXIT.MODEL});
  }
  let line = `{"${ID_COLUMN}":${id}`;
  for (const name of layout.fieldNames) {
    const value = record.fields[name];
    line += `,${JSON.stringify(name)}:${value === undefined ? 'null' : JSON.stringify(value)}`;
  }
  const parts = new Array<string>(record.vector.length);
  for (let i = 0; i < record.vector.length; i++) parts[i] = float32ToString(record.vector[i]!);
  return `${line},"${EMBEDDING_COLUMN}":[${parts.join(',')}]}\n`;
}

export function jsonlEncoder(sink: OutputSink, layout: VectorLayout): BatchEncoder {
  return {
    async encode(records) {
      // Written in ~1 MiB pieces: a whole batch of long vectors as one string would be hundreds of MB.
      let text = '';
      for (const record of records) {
        text += vectorToJsonLine(record, layout);
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
