/**
 * The huggingface_hub cache layout, byte for byte, so a model fetched by Python is reused here and the
 * other way round:
 *
 *   {cache}/models--{org}--{name}/refs/{revision}          commit hash, no newline
 *   {cache}/models--{org}--{name}/blobs/{etag}             file contents (etag: sha256 for LFS, git sha1 otherwise)
 *   {cache}/models--{org}--{name}/snapshots/{commit}/{path} relative symlink to ../../blobs/{etag}
 *   {cache}/models--{org}--{name}/.no_exist/{commit}/{path} empty file: known to be absent at that commit
 *
 * Every write is temp-file-then-rename, so a reader (or a second process) never sees half a file.
 */
import {randomUUID} from 'node:crypto';
import {copyFile, mkdir, readFile, rename, rm, stat, symlink, writeFile} from 'node:fs/promises';
import {dirname, join, relative} from 'node:path';
import {isCommitHash} from './hub-id.js';

export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** A sibling path that no other writer uses, for write-then-rename. */
export function tempSibling(path: string): string {
  return `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path); // follows symlinks: a dangling snapshot link counts as absent
    return true;
  } catch {
    return false;
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), {recursive: true});
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, {force: true});
    throw err;
  }
}

/** One repo's folder in the cache. Paths in the repo ("1_Pooling/config.json") use forward slashes. */
export class RepoCache {
  readonly root: string;

  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.root = join(cacheDir, repoFolderName(repoId));
  }

  refPath(revision: string): string {
    return join(this.root, 'refs', ...revision.split('/'));
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  snapshotPath(commit: string, file: string): string {
    return join(this.snapshotDir(commit), ...file.split('/'));
  }

  blobsDir(): string {
    return join(this.root, 'blobs');
  }

  blobPath(etag: string): string {
    return join(this.blobsDir(), etag);
  }

  noExistPath(commit: string, file: string): string {
    return join(this.root, '.no_exist', commit, ...file.split('/'));
  }

  /** The commit a branch or tag pointed to when last fetched; undefined when unknown or unreadable. */
  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(this.refPath(revision), 'utf8')).trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** The commit a revision names without asking the hub: itself when it is a hash, else its cached ref. */
  async cachedCommit(revision: string): Promise<string | undefined> {
    return isCommitHash(revision) ? revision : this.readRef(revision);
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    await writeFileAtomic(this.refPath(revision), commit); // Python writes it without a newline
  }

  async hasFile(commit: string, file: string): Promise<boolean> {
    return pathExists(this.snapshotPath(commit, file));
  }

  async isKnownMissing(commit: string, file: string): Promise<boolean> {
    return pathExists(this.noExistPath(commit, file));
  }

  async markMissing(commit: string, file: string): Promise<void> {
    const path = this.noExistPath(commit, file);
    await mkdir(dirname(path), {recursive: true});
    await writeFile(path, '');
  }

  /**
   * Points snapshots/{commit}/{file} at blobs/{etag} with a relative symlink, replacing any previous
   * link atomically (rename over it) so concurrent writers cannot leave a broken one. Where symlinks
   * are not allowed (Windows without developer mode) the blob is copied instead, as huggingface_hub does.
   */
  async linkFile(commit: string, file: string, etag: string): Promise<void> {
    const linkPath = this.snapshotPath(commit, file);
    const blob = this.blobPath(etag);
    await mkdir(dirname(linkPath), {recursive: true});
    const tmp = tempSibling(linkPath);
    try {
      try {
        await symlink(relative(dirname(linkPath), blob), tmp);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
        await copyFile(blob, tmp);
      }
      await rename(tmp, linkPath);
    } catch (err) {
      await rm(tmp, {force: true});
      throw err;
    }
  }
}
