/**
 * What models the shared cache holds (for `sbertkit models`): one entry per models--* folder, one
 * revision per snapshot, with the refs pointing at it and the bytes its files take.
 */
import {readdir, readFile, realpath, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {isCommitHash} from './hub-id.js';
import {defaultHubCacheDir} from './settings.js';

export interface CachedRevision {
  /** A branch or tag pointing at this commit ("main" preferred when several do). */
  ref?: string;
  /** Every ref pointing at this commit, sorted. */
  refs: string[];
  commit: string;
  /** The snapshot folder. */
  dir: string;
  /** Bytes of the distinct blobs this snapshot's files point to. */
  sizeBytes: number;
}

export interface CachedModel {
  repoId: string;
  /** The models--org--name folder. */
  dir: string;
  revisions: CachedRevision[];
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** refs/ may nest ("refs/pr/1" is stored as refs/refs/pr/1): ref name -> commit. */
async function readRefs(refsDir: string, prefix = ''): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  for (const entry of await readdir(refsDir, {withFileTypes: true}).catch(() => [])) {
    const path = join(refsDir, entry.name);
    const name = prefix + entry.name;
    if (entry.isDirectory()) {
      for (const [k, v] of await readRefs(path, `${name}/`)) refs.set(k, v);
    } else {
      const commit = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (isCommitHash(commit)) refs.set(name, commit);
    }
  }
  return refs;
}

/** Sum of file sizes under dir, following symlinks and counting each target once. */
async function snapshotSize(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, {withFileTypes: true}).catch(() => [])) {
    const path = join(dir, entry.name);
    try {
      const info = await stat(path);
      if (info.isDirectory()) {
        total += await snapshotSize(path, seen);
      } else {
        const real = await realpath(path);
        if (!seen.has(real)) {
          seen.add(real);
          total += info.size;
        }
      }
    } catch {
      // dangling link: contributes nothing
    }
  }
  return total;
}

export async function listCachedModels(cacheDir: string = defaultHubCacheDir()): Promise<CachedModel[]> {
  const models: CachedModel[] = [];
  for (const name of (await listDir(cacheDir)).sort()) {
    if (!name.startsWith('models--')) continue; // datasets--* and spaces--* share the cache
    const dir = join(cacheDir, name);
    const refs = await readRefs(join(dir, 'refs'));
    const revisions: CachedRevision[] = [];
    for (const commit of await listDir(join(dir, 'snapshots'))) {
      const snapshot = join(dir, 'snapshots', commit);
      const pointing = [...refs].filter(([, c]) => c === commit).map(([r]) => r).sort();
      revisions.push({
        ref: pointing.includes('main') ? 'main' : pointing[0],
        refs: pointing,
        commit,
        dir: snapshot,
        sizeBytes: await snapshotSize(snapshot),
      });
    }
    // Referenced revisions first (main first of all), then detached commits.
    revisions.sort((a, b) => rank(a) - rank(b) || a.commit.localeCompare(b.commit));
    models.push({repoId: name.slice('models--'.length).split('--').join('/'), dir, revisions});
  }
  return models;
}

function rank(r: CachedRevision): number {
  return r.ref === 'main' ? 0 : r.ref !== undefined ? 1 : 2;
}
