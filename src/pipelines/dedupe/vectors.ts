/**
 * The vectors dedupe compares: the semantic rows (representatives with a text) encoded once, or picked
 * out of a vector file, as unit rows so cosine is a dot product.
 */
import {addStats, emptyStats, type EncodeStats, type SentenceEncoder} from '../../encoder/types.js';
import {VectorMatrix} from '../../vectors/matrix.js';
import {normalizeRowsInPlace} from '../../vectors/metric.js';
import type {PipelineServices} from '../context.js';
import {locateOverflow} from '../text-overflow.js';
import type {DedupeInput} from './input.js';

/** Unit vectors of the semantic rows: encoded (texts) or picked out of the vector file and normalized in place. */
export async function semanticVectors(input: DedupeInput, rows: Int32Array, loadEncoder: () => Promise<SentenceEncoder>, services: PipelineServices): Promise<{vectors: VectorMatrix; model: string | undefined; stats: EncodeStats}> {
  if (input.kind === 'vectors') {
    const all = input.vectors;
    const picked = rows.length === all.rows ? all : all.pick(rows);
    normalizeRowsInPlace(picked);
    return {vectors: picked, model: input.model, stats: emptyStats()};
  }
  const encoder = await loadEncoder();
  const bar = services.progress('encoding', 'rows', rows.length);
  const data = new Float32Array(rows.length * encoder.dimension);
  const stats = emptyStats();
  try {
    const records = Array.from(rows, (row, i) => ({id: i, text: input.texts[row]!, line: input.startLines[row]}));
    for await (const chunk of encoder.embedStream(records, {onBatch: (count) => bar.increment(count)})) {
      addStats(stats, chunk.stats);
      chunk.records.forEach((record, j) => data.set(chunk.vectors.row(j), record.id * encoder.dimension));
    }
  } catch (error) {
    throw locateOverflow(error, input.file);
  } finally {
    bar.stop();
  }
  const vectors = new VectorMatrix(Array.from(rows), encoder.dimension, data);
  normalizeRowsInPlace(vectors);
  return {vectors, model: encoder.spec.name, stats};
}
