/**
 * dedupe --against: the reference files' rows (texts encoded with the input's model, or vector files
 * read as they are), and for every representative row of the input its best reference match: an equal
 * normalized text scores 1; otherwise the nearest reference vector (exact top-1, or HNSW when huge).
 */
import {normalizeText} from '../../algorithms/dedupe/normalize.js';
import {addStats, emptyStats, type EncodeStats, type SentenceEncoder} from '../../encoder/types.js';
import {openTexts} from '../../io/text/read-texts.js';
import {VectorMatrix, type RowId} from '../../vectors/matrix.js';
import {normalizeRowsInPlace} from '../../vectors/metric.js';
import {searchTopK} from '../../vectors/search.js';
import type {PipelineServices} from '../context.js';
import {checkComparable, isVectorFilePath, loadVectors, type LoadedVectors} from '../vector-input.js';
import {collectTexts} from './input.js';
import type {DedupeOptions} from './types.js';

export interface References {
  /** Per input row: best reference row (-1 none) and its score. */
  best: {best: Int32Array; scores: Float32Array};
  ids: RowId[];
  /** Reference file of each reference row. */
  files: string[];
}

/**
 * --against: every reference file's rows (texts encoded with the same model, or a vector file), then
 * for each representative its best reference match: an equal normalized text scores 1; otherwise the
 * nearest reference vector.
 */
export async function loadReferences(
  options: DedupeOptions,
  keys: readonly (string | undefined)[],
  representative: Int32Array,
  unit: VectorMatrix,
  semanticRows: Int32Array,
  main: LoadedVectors,
  loadEncoder: () => Promise<SentenceEncoder>,
  stats: EncodeStats,
  services: PipelineServices,
): Promise<References | undefined> {
  const files = options.against ?? [];
  if (files.length === 0) return undefined;
  const n = keys.length;
  const loaded: LoadedVectors[] = [];
  const exactOnly = options.exactOnly === true;
  for (const file of files) {
    services.status(`reading the reference ${file}`);
    // --exact-only needs only the reference texts: texts are read, not encoded; a vector file is read as it is.
    const ref = exactOnly && !options.vectors && !isVectorFilePath(file) ? await readReferenceTexts(file, options.textColumn, options.delimiter) : await loadVectors({input: file, textColumn: options.textColumn, vectors: options.vectors, delimiter: options.delimiter}, loadEncoder);
    addStats(stats, ref.stats);
    loaded.push(ref);
  }
  if (!exactOnly) checkComparable([main, ...loaded]);

  const ids: RowId[] = [];
  const refFiles: string[] = [];
  const refKeys = new Map<string, number>();
  for (const ref of loaded) {
    for (let i = 0; i < ref.vectors.ids.length; i++) {
      const text = ref.texts?.[i];
      if (text !== undefined) {
        const key = normalizeText(text);
        if (key !== '' && !refKeys.has(key)) refKeys.set(key, ids.length);
      }
      ids.push(ref.vectors.ids[i]!);
      refFiles.push(ref.file);
    }
  }
  const best = new Int32Array(n).fill(-1);
  const scores = new Float32Array(n).fill(Number.NaN);
  for (let r = 0; r < n; r++) {
    if (representative[r] !== r || keys[r] === undefined) continue;
    const hit = refKeys.get(keys[r]!);
    if (hit !== undefined) {
      best[r] = hit;
      scores[r] = 1;
    }
  }
  if (!exactOnly && unit.rows > 0 && loaded.some((ref) => ref.vectors.rows > 0 && ref.vectors.dimension > 0)) {
    const refMatrix = VectorMatrix.concat(loaded.map((ref) => (ref.vectors.dimension === 0 ? VectorMatrix.empty(unit.dimension) : ref.vectors)), unit.dimension);
    normalizeRowsInPlace(refMatrix);
    const bar = services.progress('comparing with the references', 'pairs', unit.rows * refMatrix.rows);
    let last = 0;
    try {
      const {top} = await searchTopK(unit, refMatrix, {
        k: 1,
        metric: 'dot',
        backend: options.backend === 'exact' ? 'exact' : options.backend === 'ann' ? 'ann' : 'auto',
        threads: options.threads,
        onStatus: services.status,
        onProgress: (done) => {
          bar.increment(done - last);
          last = done;
        },
      });
      semanticRows.forEach((row, i) => {
        if (top.counts[i]! > 0 && !(scores[row]! >= top.scores[i]!)) {
          best[row] = top.indices[i]!;
          scores[row] = top.scores[i]!;
        }
      });
    } finally {
      bar.stop();
    }
  }
  return {best: {best, scores}, ids, files: refFiles};
}

/** A text reference under --exact-only: its texts and ids, with no vectors. */
async function readReferenceTexts(file: string, textColumn: string | undefined, delimiter: string | undefined): Promise<LoadedVectors> {
  const source = await openTexts(file, {textColumn, delimiter});
  const {ids, texts} = await collectTexts(source);
  return {file: source.file, kind: 'texts', vectors: new VectorMatrix(ids, 0, new Float32Array(0)), texts, model: undefined, stats: emptyStats()};
}

