/**
 * JSONL vectors: one object per line with an id, an `embedding` array of numbers and any other
 * fields (kept columns). Kept columns are the first object's other keys; JSONL has no metadata.
 */
import {SbertkitError} from '../../errors.js';
import {openInput} from '../input/open-input.js';
import {ID_COLUMN, type OpenedVectors, type VectorColumns} from './types.js';
import {jsonType, parseJsonl, stringifyJsonValue} from '../text/line-rows.js';
import type {Row} from '../text/types.js';
import type {VectorRecord} from './types.js';

export async function openJsonlVectors(input: string, columns: VectorColumns, stdin?: NodeJS.ReadableStream): Promise<OpenedVectors> {
  const source = await openInput(input, stdin);
  // The one JSONL row reader: blank lines, invalid JSON and line numbers are handled there.
  const parsed = await parseJsonl(source);
  const {file} = source;
  const firstResult = await parsed.rows.next().catch(async (error: unknown) => {
    await source.close();
    throw error;
  });
  const first: Row | undefined = firstResult.done ? undefined : firstResult.value;

  const {vectorColumn} = columns;
  const idColumn = columns.idColumn ?? ID_COLUMN;
  const firstValues = first?.values ?? {};
  if (first !== undefined && !(vectorColumn in firstValues)) {
    await source.close();
    throw new SbertkitError(`field '${vectorColumn}' is missing (--vector-column); fields are ${Object.keys(firstValues).join(', ')}`, {
      file,
      line: first.line,
      field: vectorColumn,
    });
  }
  // Without an explicit --id-column, a file whose rows have no 'id' is numbered by row.
  const hasIds = columns.idColumn !== undefined || idColumn in firstValues;
  const fieldNames = Object.keys(firstValues).filter((key) => key !== vectorColumn && key !== idColumn);

  const toRecord = (row: Row, index: number, shape: {dimension: number | undefined}): VectorRecord => {
    const values = row.values!;
    const where = {file, line: row.line};
    const vector = values[vectorColumn];
    if (vector === undefined) throw new SbertkitError(`field '${vectorColumn}' is missing`, {...where, field: vectorColumn});
    if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number')) {
      throw new SbertkitError(`field '${vectorColumn}' is not an array of numbers (got ${jsonType(vector)})`, {...where, field: vectorColumn});
    }
    shape.dimension ??= vector.length;
    if (vector.length !== shape.dimension) {
      throw new SbertkitError(`field '${vectorColumn}' has ${vector.length} values, expected ${shape.dimension}`, {...where, field: vectorColumn});
    }
    let id: string | number = index;
    if (hasIds) {
      const value = values[idColumn];
      if (typeof value !== 'string' && typeof value !== 'number') {
        const problem = value === undefined ? 'is missing' : `is not a string or number (got ${jsonType(value)})`;
        throw new SbertkitError(`field '${idColumn}' ${problem}`, {...where, field: idColumn});
      }
      id = value;
    }
    const fields: Record<string, string> = {};
    for (const key of Object.keys(values)) {
      if (key === vectorColumn || key === idColumn || values[key] === null) continue;
      fields[key] = stringifyJsonValue(values[key]);
    }
    return {id, vector: Float32Array.from(vector as number[]), fields};
  };

  return {
    dimension: undefined,
    metadata: {},
    fieldNames,
    async *records(shape) {
      try {
        let index = 0;
        if (first !== undefined) yield toRecord(first, index++, shape);
        for await (const row of parsed.rows) yield toRecord(row, index++, shape);
      } finally {
        await source.close();
      }
    },
    close: source.close,
  };
}
