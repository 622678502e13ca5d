/**
 * The search step shared by every command that compares vectors: one top-k search with the
 * command's progress bar and status lines, and the id column type its output table needs.
 */
import {column, type Column} from '../io/rows/types.js';
import {idTypeOf} from '../io/vectors/write-vectors.js';
import type {RowId, VectorMatrix} from '../vectors/matrix.js';
import type {BitMatrix} from '../vectors/packed-bits.js';
import {searchTopK, type SearchOptions, type SearchOutcome} from '../vectors/search.js';
import type {PipelineServices} from './context.js';

/** searchTopK with a progress bar over the query x corpus scores. */
export async function searchWithProgress(
  queries: VectorMatrix | BitMatrix,
  corpus: VectorMatrix | BitMatrix,
  options: Omit<SearchOptions, 'onProgress' | 'onStatus'>,
  services: Pick<PipelineServices, 'progress' | 'status'>,
): Promise<SearchOutcome> {
  const progress = services.progress('searching', 'pairs', queries.rows * corpus.rows);
  let last = 0;
  try {
    return await searchTopK(queries, corpus, {
      ...options,
      onStatus: services.status,
      onProgress: (done) => {
        progress.increment(done - last);
        last = done;
      },
    });
  } finally {
    progress.stop();
  }
}

/** An id column of pairs and results, typed as vector files type their ids (idTypeOf). */
export function idColumn(name: string, ids: readonly RowId[]): Column {
  return idTypeOf(ids) === 'int' ? column.int(name, false) : column.string(name, false);
}
