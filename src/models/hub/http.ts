/**
 * The one place that talks HTTP to the hub. Redirects are followed by hand (redirect: 'manual') for two
 * reasons: the hub's own 302 to the LFS/CDN host carries the file metadata a HEAD needs, and the token
 * must go to the hub only — like huggingface_hub (via requests), Authorization is dropped for any other
 * origin, so a CDN or a redirect elsewhere never sees it.
 */
import {SbertkitError} from '../../errors.js';
import {retriesExhaustedError, unreachableError} from './messages.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HubClient {
  /** Without trailing slash. */
  endpoint: string;
  token?: string;
  fetchImpl: FetchLike;
}

const MAX_REDIRECTS = 10;
const USER_AGENT = 'sbertkit (node)';

/** {endpoint}/{repoId}/resolve/{revision}/{file}: the revision is one URL segment ("refs/pr/1" -> "refs%2Fpr%2F1"). */
export function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${path}`;
}

function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/** Thrown for failures worth retrying: dropped connections, 5xx, 429. Turned into a user message by the caller. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** Errno-like code anywhere in a fetch error's cause chain (undici wraps it, sometimes in an AggregateError). */
export function errorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [err];
  while (stack.length > 0) {
    const e = stack.pop();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const code = (e as {code?: unknown}).code;
    if (typeof code === 'string') return code;
    stack.push((e as {cause?: unknown}).cause);
    const errors = (e as {errors?: unknown}).errors;
    if (Array.isArray(errors)) stack.push(...errors);
  }
  return undefined;
}

/** Nothing listens or the name does not resolve: retrying will not help, tell the user now. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Turns a thrown fetch error into either the "cannot reach" line or a retryable TransientError. */
export function classifyNetworkError(err: unknown, endpoint: string): Error {
  if (err instanceof SbertkitError || err instanceof TransientError) return err;
  const code = errorCode(err);
  if (code !== undefined && UNREACHABLE.has(code)) return unreachableError(endpoint, code, err);
  const message = err instanceof Error ? err.message : String(err);
  return new TransientError(code === undefined ? message : `${message} (${code})`, {cause: err});
}

export interface HubResponse {
  response: Response;
  /** URL that produced `response`, after redirects. */
  url: string;
}

/**
 * Sends `method` to `url`, following redirects (relative or absolute Location) until a non-redirect
 * or until `keep(response)` says this redirect is the answer wanted (HEAD keeps the hub's own 302).
 */
export async function hubRequest(
  client: HubClient,
  url: string,
  method: 'HEAD' | 'GET',
  headers: Record<string, string> = {},
  keep: (res: Response) => boolean = () => false,
): Promise<HubResponse> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    // identity: sizes and hashes are of the stored bytes, never of a gzip'd transfer.
    const h: Record<string, string> = {'accept-encoding': 'identity', 'user-agent': USER_AGENT, ...headers};
    if (client.token !== undefined && sameOrigin(current, client.endpoint)) h.authorization = `Bearer ${client.token}`;
    let res: Response;
    try {
      res = await client.fetchImpl(current, {method, headers: h, redirect: 'manual'});
    } catch (err) {
      throw classifyNetworkError(err, client.endpoint);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null && !keep(res)) {
      await res.body?.cancel().catch(() => undefined);
      current = new URL(location, current).toString();
      continue;
    }
    return {response: res, url: current};
  }
  throw new TransientError(`more than ${MAX_REDIRECTS} redirects from ${url}`);
}

export interface RetryPolicy {
  /** Attempts in all (first try included). */
  attempts: number;
  /** First back-off; doubles each time. */
  baseDelayMs: number;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs fn, retrying TransientErrors with exponential back-off; anything else is thrown at once. `action` names it in the final error. */
export async function withRetries<T>(action: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      if (attempt >= policy.attempts) throw retriesExhaustedError(action, attempt, err);
      await sleep(policy.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}
