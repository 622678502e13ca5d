/** Where sbertkit keeps downloaded and converted models. */
import {EXIT, SbertkitError} from '../errors.js';
import {homedir} from 'node:os';
import {isAbsolute, join} from 'node:path';

/**
 * `$SBERTKIT_CACHE`, else `$XDG_CACHE_HOME/sbertkit`, else `~/.cache/sbertkit`. Empty variables count as
 * unset, and a relative XDG_CACHE_HOME is ignored as the XDG base-directory spec requires.
 */
export function sbertkitCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.SBERTKIT_CACHE;
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'sbertkit');
  return join(homedir(), '.cache', 'sbertkit');
}

/**
 * Turns a filesystem failure while writing a model cache (read-only, full, permission denied) into one
 * user-facing line; sbertkit's own errors pass through unchanged.
 */
export function cacheWriteError(error: unknown, cacheDir: string): unknown {
  if (error instanceof SbertkitError) return error;
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno?.code !== 'string' || !errno.code.startsWith('E')) return error;
  const reason = errno.code === 'ENOSPC' ? 'no space left on device' : errno.code === 'EACCES' || errno.code === 'EPERM' || errno.code === 'EROFS' ? 'not writable' : errno.message;
  return new SbertkitError(`cannot write the model cache ${cacheDir}: ${reason}`, {exitCode: EXIT.MODEL, cause: error});
}
