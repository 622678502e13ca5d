/**
 * HEAD one file at a revision and read what the hub says about it: the commit the revision points to
 * (X-Repo-Commit), the blob id (X-Linked-Etag for LFS files = sha256, else ETag = git blob sha1), the
 * size (X-Linked-Size, else Content-Length) and where to GET it (the LFS redirect target, else the
 * resolve URL itself). Hub status codes become the user-facing errors here.
 */
import {isCommitHash} from './hub-id.js';
import {type HubClient, hubRequest, resolveUrl, type RetryPolicy, TransientError, withRetries} from './http.js';
import {gatedError, httpError, notAHubError, notFoundError} from './messages.js';

export interface RemoteFile {
  kind: 'found';
  file: string;
  commit: string;
  etag: string;
  size: number;
  /** Absolute URL to GET the bytes from. */
  url: string;
}

export interface MissingFile {
  kind: 'missing';
  file: string;
  /** Present when the hub confirmed the revision exists (so only the file is absent). */
  commit?: string;
}

/** `W/"abc"` -> `abc`. Refused unless it is safe as a file name, since it names the blob on disk. */
export function normalizeEtag(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const etag = raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return /^[A-Za-z0-9._-]+$/.test(etag) && etag !== '.' && etag !== '..' ? etag : undefined;
}

export async function fetchFileInfo(
  client: HubClient,
  repoId: string,
  revision: string,
  file: string,
  retry: RetryPolicy,
): Promise<RemoteFile | MissingFile> {
  const url = resolveUrl(client.endpoint, repoId, revision, file);
  return withRetries(`asking ${client.endpoint} about ${repoId}/${file}`, retry, async () => {
    // Keep the hub's own redirect (it carries X-Repo-Commit); follow others, e.g. a renamed repo's 307.
    const {response: res, url: finalUrl} = await hubRequest(client, url, 'HEAD', {}, (r) => r.headers.has('x-repo-commit'));
    const commit = res.headers.get('x-repo-commit') ?? undefined;
    if (res.status === 200 || (res.status >= 300 && res.status < 400)) {
      if (commit === undefined || !isCommitHash(commit)) throw notAHubError(finalUrl, 'no X-Repo-Commit header');
      const etag = normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
      if (etag === undefined) throw notAHubError(finalUrl, 'no usable ETag header');
      const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'));
      if (!Number.isSafeInteger(size) || size < 0) throw notAHubError(finalUrl, 'no file size');
      const location = res.headers.get('location');
      if (res.status !== 200 && location === null) throw notAHubError(finalUrl, `HTTP ${res.status} without Location`);
      return {kind: 'found', file, commit, etag, size, url: location === null ? finalUrl : new URL(location, finalUrl).toString()};
    }
    return statusOutcome(res, {client, repoId, revision, file, url: finalUrl, commit});
  });
}

/**
 * Maps an error status to "file missing" or a thrown error. The hub's X-Error-Code tells the cases
 * apart (an unknown repo answers 401 RepoNotFound to anonymous users so private repos do not leak).
 */
function statusOutcome(
  res: Response,
  at: {client: HubClient; repoId: string; revision: string; file: string; url: string; commit?: string},
): MissingFile {
  const code = res.headers.get('x-error-code');
  const {endpoint} = at.client;
  if (code === 'EntryNotFound' || (res.status === 404 && code === null && at.commit !== undefined)) {
    return {kind: 'missing', file: at.file, commit: at.commit};
  }
  if (code === 'GatedRepo' || res.status === 403) throw gatedError(at.repoId, endpoint, at.client.token !== undefined);
  if (code === 'RepoNotFound' || code === 'RevisionNotFound') {
    throw notFoundError(at.repoId, at.revision, endpoint, res.status === 401 && at.client.token === undefined);
  }
  if (res.status === 401) throw gatedError(at.repoId, endpoint, at.client.token !== undefined);
  if (res.status === 404) throw notFoundError(at.repoId, at.revision, endpoint);
  if (res.status === 429 || res.status >= 500) throw new TransientError(`HTTP ${res.status} from ${at.url}`);
  throw httpError(at.url, res.status, res.headers.get('x-error-message'));
}

/**
 * Best effort: the .onnx files of a repo at a commit, from the model info API, so the "no ONNX export"
 * message can name the ones that exist. Any failure just means no list.
 */
export async function listOnnxFiles(client: HubClient, repoId: string, commit: string): Promise<string[]> {
  try {
    const {response} = await hubRequest(client, `${client.endpoint}/api/models/${repoId}/revision/${commit}`, 'GET');
    if (!response.ok) return [];
    const info = (await response.json()) as {siblings?: Array<{rfilename?: unknown}>};
    return (info.siblings ?? [])
      .map((s) => s.rfilename)
      .filter((f): f is string => typeof f === 'string' && f.endsWith('.onnx'))
      .sort();
  } catch {
    return [];
  }
}
