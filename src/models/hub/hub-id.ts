/**
 * Hugging Face model ids as users type them: "org/name", "name", optionally "@revision" (branch, tag or
 * commit hash). Also the validators that keep ids, revisions and file names from escaping the cache
 * folder, since all three end up as path components there.
 */
import {existsSync} from 'node:fs';

export interface HubId {
  repoId: string;
  /** Branch, tag or 40-hex commit hash; "main" when the id had no "@". */
  revision: string;
}

export const DEFAULT_REVISION = 'main';

/** One part of a repo id, as huggingface_hub's validate_repo_id accepts it: word chars, "-" and ".", starting and ending with a word char. */
const REPO_PART = /^\w(?:[\w.-]*\w)?$/;

export function isCommitHash(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

export function isValidRepoId(repoId: string): boolean {
  const parts = repoId.split('/');
  if (parts.length > 2) return false;
  if (repoId.includes('--') || repoId.includes('..')) return false; // "--" is the cache folder separator
  const name = parts[parts.length - 1]!;
  return name.length <= 96 && parts.every((p) => REPO_PART.test(p));
}

/**
 * Git ref rules (check-ref-format) that matter here: the revision becomes refs/{revision} in the cache
 * and a URL segment, so "..", absolute paths and odd characters are refused rather than trusted.
 */
export function isValidRevision(revision: string): boolean {
  if (revision === '' || revision.length > 255) return false;
  if (/[\s\\:?*[~^\x00-\x1f\x7f]/.test(revision)) return false;
  if (revision.includes('..') || revision.includes('//') || revision.includes('@{')) return false;
  if (revision.startsWith('/') || revision.endsWith('/') || revision.endsWith('.') || revision.endsWith('.lock')) return false;
  return true;
}

/** A path inside a repo ("onnx/model.onnx"): relative, forward slashes, no "." or ".." segments. */
export function isValidRepoFile(file: string): boolean {
  if (file === '' || file.includes('\\') || file.startsWith('/')) return false;
  return file.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !/[\x00-\x1f]/.test(seg));
}

function looksLikeLocalPath(s: string): boolean {
  return /^(?:\.{1,2}(?:[/\\]|$)|[/\\~]|[A-Za-z]:[/\\])/.test(s) || s.includes('\\');
}

/**
 * "org/name@rev" -> {repoId, revision}; undefined for anything that is, or looks like, a local path
 * (./x, ../x, /x, ~/x, C:\x, or an existing file or folder) or is not a valid hub id.
 */
export function parseHubId(s: string): HubId | undefined {
  const text = s.trim();
  if (text === '' || looksLikeLocalPath(text) || existsSync(text)) return undefined;
  const at = text.indexOf('@'); // repo ids never contain "@", so the first one starts the revision
  const repoId = at === -1 ? text : text.slice(0, at);
  const revision = at === -1 ? DEFAULT_REVISION : text.slice(at + 1);
  if (!isValidRepoId(repoId) || !isValidRevision(revision)) return undefined;
  return {repoId, revision};
}
