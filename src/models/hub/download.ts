/**
 * Fetches one blob into the cache: blobs/{etag}.incomplete is written (appending with a Range request
 * after a dropped connection, also across runs), checked against the expected size and hash, then
 * renamed to blobs/{etag}. A per-blob lock file keeps two processes from writing the same blob.
 */
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {mkdir, open, rename, rm, stat, truncate} from 'node:fs/promises';
import type {ReadableStreamReadResult} from 'node:stream/web';
import {EXIT, SbertkitError} from '../../errors.js';
import {pathExists, type RepoCache} from './cache-layout.js';
import {type LockOptions, withFileLock} from './file-lock.js';
import {classifyNetworkError, type HubClient, hubRequest, type RetryPolicy, sleep, TransientError} from './http.js';
import {gatedError, httpError, IntegrityError, retriesExhaustedError} from './messages.js';

/**
 * Download progress, implemented by the caller (e.g. a cli-progress bar on a TTY). The hub code only
 * reports numbers, so it stays free of terminal concerns.
 */
export interface DownloadProgress {
  /** A file transfer begins; totalBytes is its full size. Bytes kept from an earlier attempt arrive via advance. */
  start(file: string, totalBytes: number): void;
  advance(bytes: number): void;
  finish(): void;
}

export interface BlobTarget {
  repoId: string;
  /** Path in the repo, for messages and progress. */
  file: string;
  url: string;
  etag: string;
  size: number;
}

export interface BlobTuning {
  /** attempts = consecutive failures without any new byte before giving up. */
  retry: RetryPolicy;
  lock: LockOptions;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string, algorithm: 'sha256' | 'sha1', prefix?: string): Promise<string> {
  const hash = createHash(algorithm);
  if (prefix !== undefined) hash.update(prefix);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Size, then sha256 (LFS etag) or git blob sha1 (regular-file etag) when the etag has that shape. */
async function verify(path: string, target: BlobTarget): Promise<void> {
  const size = await sizeOf(path);
  if (size !== target.size) throw new IntegrityError(target.file, `${size} bytes, expected ${target.size}`);
  let actual: string | undefined;
  if (/^[0-9a-f]{64}$/.test(target.etag)) actual = await hashFile(path, 'sha256');
  else if (/^[0-9a-f]{40}$/.test(target.etag)) actual = await hashFile(path, 'sha1', `blob ${size}\0`);
  if (actual !== undefined && actual !== target.etag) {
    throw new IntegrityError(target.file, `checksum ${actual} does not match ${target.etag}`);
  }
}

/** Reports positions to progress without ever going backwards (a restart from 0 is not un-reported). */
function progressReporter(progress: DownloadProgress | undefined): (position: number) => void {
  let reported = 0;
  return (position) => {
    if (position > reported) {
      progress?.advance(position - reported);
      reported = position;
    }
  };
}

/** One GET from `offset` (Range when > 0), appended to path. Throws TransientError for retryable trouble. */
async function fetchOnce(client: HubClient, target: BlobTarget, path: string, offset: number, report: (p: number) => void): Promise<void> {
  const {response: res, url} = await hubRequest(client, target.url, 'GET', offset > 0 ? {range: `bytes=${offset}-`} : {});
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 416) {
      await truncate(path, 0); // our partial file disagrees with the server: start over
      throw new TransientError(`HTTP 416 for ${url}`);
    }
    if (res.status === 429 || res.status >= 500) throw new TransientError(`HTTP ${res.status} from ${url}`);
    if ((res.status === 401 || res.status === 403) && new URL(url).origin === new URL(client.endpoint).origin) {
      throw gatedError(target.repoId, client.endpoint, client.token !== undefined);
    }
    throw httpError(url, res.status, res.headers.get('x-error-message'));
  }
  let start = 0;
  if (res.status === 206) {
    start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN);
    if (start !== offset) {
      await res.body?.cancel().catch(() => undefined);
      await truncate(path, 0);
      throw new TransientError(`server resumed ${target.file} at byte ${start}, not ${offset}`);
    }
  }
  // 200 after a Range request means the server ignored it: rewrite from byte 0 ('w' truncates).
  const fh = await open(path, start === 0 ? 'w' : 'a');
  const reader = res.body?.getReader();
  let position = start;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array> | undefined;
      try {
        next = await reader?.read();
      } catch (err) {
        throw classifyNetworkError(err, client.endpoint); // only network trouble is retried, never disk errors
      }
      if (next === undefined || next.done) break;
      if (position + next.value.byteLength > target.size) {
        throw new IntegrityError(target.file, `server sent more than the expected ${target.size} bytes`);
      }
      await fh.write(next.value);
      position += next.value.byteLength;
      report(position);
    }
  } finally {
    await reader?.cancel().catch(() => undefined); // frees the connection when we stop early
    await fh.close();
  }
}

/** Fills path up to target.size, resuming after failures; gives up after retry.attempts failures in a row without progress. */
async function fetchInto(client: HubClient, target: BlobTarget, path: string, retry: RetryPolicy, progress?: DownloadProgress): Promise<void> {
  const report = progressReporter(progress);
  let failures = 0;
  let lastError: unknown;
  for (;;) {
    let offset = await sizeOf(path);
    if (offset > target.size) {
      await truncate(path, 0);
      offset = 0;
    }
    report(offset);
    if (offset === target.size) return;
    try {
      await fetchOnce(client, target, path, offset, report);
      lastError = new TransientError(`connection closed after ${await sizeOf(path)} of ${target.size} bytes`);
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      lastError = err;
    }
    const now = await sizeOf(path);
    if (now === target.size) return;
    failures = now > offset ? 1 : failures + 1; // progress made: this counts as a fresh first failure
    if (failures >= retry.attempts) throw retriesExhaustedError(`downloading ${target.file}`, failures, lastError, 'run again to resume where it stopped');
    await sleep(retry.baseDelayMs * 2 ** (failures - 1));
  }
}

/**
 * Makes sure blobs/{etag} exists with verified contents. Returns true when bytes were fetched, false
 * when the blob was already there (possibly written meanwhile by another process holding the lock).
 */
export async function ensureBlob(
  client: HubClient,
  cache: RepoCache,
  target: BlobTarget,
  tuning: BlobTuning,
  progress?: DownloadProgress,
): Promise<boolean> {
  const blob = cache.blobPath(target.etag);
  if (await pathExists(blob)) return false;
  await mkdir(cache.blobsDir(), {recursive: true});
  return withFileLock(`${blob}.lock`, tuning.lock, async () => {
    if (await pathExists(blob)) return false;
    const incomplete = `${blob}.incomplete`;
    progress?.start(target.file, target.size);
    try {
      await fetchInto(client, target, incomplete, tuning.retry, progress);
      await verify(incomplete, target);
      await rename(incomplete, blob);
    } catch (err) {
      // Bad bytes are never kept; an interrupted but sound partial file stays for the next resume.
      if (err instanceof IntegrityError) await rm(incomplete, {force: true});
      if (err instanceof SbertkitError) throw err;
      // A disk problem (ENOSPC, EACCES, ...): one line naming the file, not a bare errno trace.
      throw new SbertkitError(`cannot write ${incomplete}: ${(err as Error).message}`, {exitCode: EXIT.MODEL, cause: err});
    } finally {
      progress?.finish();
    }
    return true;
  });
}
