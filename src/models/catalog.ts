/**
 * What `sbertkit models` shows: the models this machine can use without downloading (cached hub
 * snapshots and the built-in model), each described by the same ModelSpec the encoder would load.
 */
import {existsSync} from 'node:fs';
import {listCachedModels} from './hub/index.js';
import {readModelSpec} from './read-spec.js';
import type {ModelSpec} from './spec.js';

export interface CatalogEntry {
  /** What to pass to --model. */
  model: string;
  source: 'hub-cache' | 'builtin';
  revision?: string;
  sizeBytes?: number;
  dimension?: number;
  pooling?: string;
  normalize?: boolean;
  max_seq_length?: number;
  /** Why the entry cannot be used as is (e.g. no ONNX graph in the snapshot). */
  problem?: string;
}

export async function listLocalModels(options: {cacheDir?: string} = {}): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  for (const cached of await listCachedModels(options.cacheDir)) {
    for (const revision of cached.revisions) {
      const model = `${cached.repoId}@${revision.ref ?? revision.commit}`;
      entries.push({model, source: 'hub-cache', revision: revision.commit, sizeBytes: revision.sizeBytes, ...describeFolder(revision.dir, model)});
    }
  }
  return entries;
}

/** The built-in model's entry, described from its converted folder when it exists. */
export function builtinEntry(folder: {name: string; dir: string; revision: string}, converted: boolean): CatalogEntry {
  const entry: CatalogEntry = {model: folder.name, source: 'builtin', revision: folder.revision};
  if (!converted || !existsSync(folder.dir)) return {...entry, problem: 'not converted yet (happens on first use, offline)'};
  return {...entry, ...describeFolder(folder.dir, folder.name)};
}

function describeFolder(dir: string, name: string): Partial<CatalogEntry> {
  try {
    return summarizeSpec(readModelSpec(dir, {name}));
  } catch (error) {
    return {problem: (error as Error).message};
  }
}

export function summarizeSpec(spec: ModelSpec): Partial<CatalogEntry> {
  return {dimension: spec.dimension, pooling: spec.pooling, normalize: spec.normalize, max_seq_length: spec.maxSeqLength};
}
