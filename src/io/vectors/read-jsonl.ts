/**
 * JSONL vectors: one object per line with an id, an `embedding` array of numbers and any other
 * fields (kept columns). Kept columns are the first object's other keys; JSONL has no metadata.
 */
import {SbertkitError} from '../../errors.js';
import {openInput} from '../input/open-input.js';
import {Utf8Decoder, type InvalidUtf8Policy} from '../input/utf8.js';
import {VectorMatrix, type RowId} from '../../vectors/matrix.js';
import {ID_COLUMN, type OpenedVectors, type VectorBatch, type VectorColumns} from './types.js';

/** Rows parsed into one batch: JSON parsing copies anyway, so a batch only bounds the buffer size. */
const BATCH_ROWS = 1024;

interface PendingBatch {
  ids: RowId[];
  vectors: number[][];
  fields: Record<string, (KeptValue | undefined)[]>;
}
import {jsonType, parseJsonl} from '../text/line-rows.js';
import {keptValues} from '../text/kept-values.js';
import type {KeptValue} from '../rows/types.js';
import type {Row} from '../text/types.js';

export async function openJsonlVectors(
  input: string,
  columns: VectorColumns,
  stdin?: NodeJS.ReadableStream,
  onInvalidUtf8?: InvalidUtf8Policy,
): Promise<OpenedVectors> {
  const source = await openInput(input, stdin);
  const decoder = new Utf8Decoder(source.file, onInvalidUtf8);
  // The one JSONL row reader: blank lines, invalid JSON, decoding and line numbers are handled there.
  const parsed = await parseJsonl(source, decoder);
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

  /** Parses one row into `batch` at its next index. */
  const addRow = (row: Row, index: number, shape: {dimension: number | undefined}, batch: PendingBatch): void => {
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
    let id: RowId = index;
    if (hasIds) {
      const value = values[idColumn];
      if (typeof value !== 'string' && typeof value !== 'number') {
        const problem = value === undefined ? 'is missing' : `is not a string or number (got ${jsonType(value)})`;
        throw new SbertkitError(`field '${idColumn}' ${problem}`, {...where, field: idColumn});
      }
      // An integer beyond 2^53 keeps its digits as a string id, as Int64 ids from Arrow/Parquet do.
      id = (typeof value === 'number' ? row.numberTexts?.[idColumn] : undefined) ?? value;
    }
    const at = batch.ids.length;
    batch.ids.push(id);
    batch.vectors.push(vector as number[]);
    // A later row may add a key: its column starts here, missing (undefined) for the rows before.
    // Values keep their JSON types (text/kept-values.ts), so a re-written file keeps them too.
    const keys = Object.keys(values).filter((key) => key !== vectorColumn && key !== idColumn && values[key] !== null);
    const kept = keptValues(row, keys);
    for (const key of keys) (batch.fields[key] ??= new Array(at))[at] = kept[key];
  };

  const finish = (batch: PendingBatch, dimension: number): VectorBatch => {
    const data = new Float32Array(batch.ids.length * dimension);
    batch.vectors.forEach((vector, i) => data.set(vector, i * dimension));
    for (const cells of Object.values(batch.fields)) cells.length = batch.ids.length;
    return {vectors: new VectorMatrix(batch.ids, dimension, data), fields: batch.fields};
  };
  const newBatch = (): PendingBatch => ({ids: [], vectors: [], fields: {}});

  return {
    dimension: undefined,
    metadata: {},
    fieldNames,
    // JSONL has no metadata: its numbers are read as they are.
    precision: 'float32',
    async *batches(shape) {
      try {
        let index = 0;
        let batch = newBatch();
        if (first !== undefined) addRow(first, index++, shape, batch);
        for await (const row of parsed.rows) {
          addRow(row, index++, shape, batch);
          if (batch.ids.length >= BATCH_ROWS) {
            yield finish(batch, shape.dimension!);
            batch = newBatch();
          }
        }
        if (batch.ids.length > 0) yield finish(batch, shape.dimension!);
      } finally {
        await source.close();
      }
    },
    close: source.close,
    invalidUtf8Lines: () => decoder.invalidLines,
  };
}
