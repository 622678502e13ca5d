/**
 * Where the hub and its cache are, read the way huggingface_hub reads them so that Python and sbertkit
 * share one cache and one set of environment variables. Explicit options win over the environment.
 */
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';

export type HubEnv = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** HF_HUB_CACHE, else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
export function defaultHubCacheDir(env: HubEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE; // the second is the pre-2023 name
  if (explicit) return resolve(expandHome(explicit));
  const hfHome = env.HF_HOME
    ? expandHome(env.HF_HOME)
    : join(env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'huggingface');
  return resolve(hfHome, 'hub');
}

/** huggingface_hub's truthy values for boolean variables such as HF_HUB_OFFLINE. */
export function isTruthyEnv(value: string | undefined): boolean {
  return value !== undefined && ['1', 'on', 'yes', 'true'].includes(value.trim().toLowerCase());
}

export interface HubSettings {
  cacheDir: string;
  /** Without trailing slash. */
  endpoint: string;
  token?: string;
  offline: boolean;
}

export function hubSettings(
  options: {cacheDir?: string; endpoint?: string; token?: string; offline?: boolean},
  env: HubEnv = process.env,
): HubSettings {
  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const token = options.token ?? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined);
  return {
    cacheDir: options.cacheDir === undefined ? defaultHubCacheDir(env) : resolve(options.cacheDir),
    endpoint,
    token: token === '' ? undefined : token,
    // Either one switches offline on: a CLI passing offline:false for an absent flag must not undo HF_HUB_OFFLINE=1.
    offline: options.offline === true || isTruthyEnv(env.HF_HUB_OFFLINE),
  };
}
