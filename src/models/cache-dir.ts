/** Where sbertkit keeps downloaded and converted models. */
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
