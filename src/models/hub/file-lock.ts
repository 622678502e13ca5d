/**
 * An exclusive lock between processes (and between calls in one process) made of a file created with
 * O_EXCL. The holder refreshes its mtime while working; a lock whose holder died is taken over once its
 * pid is gone (same host) or its mtime is older than staleMs. O_EXCL locks cannot be perfectly fair
 * under a takeover race, which is why the blob download also verifies and renames into place: the
 * lock avoids duplicate work, the rename and checksum keep the cache correct regardless.
 */
import {open, readFile, stat, unlink, utimes} from 'node:fs/promises';
import {hostname} from 'node:os';
import {sleep} from './http.js';

export interface LockOptions {
  /** A lock untouched for this long is considered abandoned. */
  staleMs: number;
  /** How often a waiter looks again. */
  pollMs: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    const [pidText, host] = text.split('\n');
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && pid > 0 && !processAlive(pid)) return true;
    return Date.now() - info.mtimeMs > staleMs;
  } catch {
    return false; // vanished meanwhile (or not yet written): just try again
  }
}

async function tryAcquire(lockPath: string): Promise<boolean> {
  try {
    const fh = await open(lockPath, 'wx');
    try {
      await fh.writeFile(`${process.pid}\n${hostname()}\n${new Date().toISOString()}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Runs fn while holding lockPath; waits (polling) while another holder is alive. */
export async function withFileLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    if (await tryAcquire(lockPath)) break;
    if (await isStale(lockPath, options.staleMs)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    await sleep(options.pollMs);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(options.staleMs / 3)));
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await unlink(lockPath).catch(() => undefined);
  }
}
