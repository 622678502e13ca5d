/**
 * A hub id + revision -> a local snapshot folder in the shared Hugging Face cache, downloading only what
 * is missing. Order of business: cache first (no network at all when the revision's snapshot already
 * has the required files), then offline refusal, then HEAD every needed file at one pinned commit, then
 * fetch blobs and link them into the snapshot, and only then record refs/{revision}.
 */
import {cacheWriteError} from '../cache-dir.js';
import {RepoCache} from './cache-layout.js';
import {type DownloadProgress, ensureBlob} from './download.js';
import {DEFAULT_REVISION, isValidRepoFile, isValidRepoId, isValidRevision} from './hub-id.js';
import type {FetchLike, HubClient} from './http.js';
import {fetchFileInfo, listOnnxFiles, type MissingFile, type RemoteFile} from './metadata.js';
import {invalidInputError, missingRequiredFileError, noOnnxError, notFoundError, offlineMissingError} from './messages.js';
import {DEFAULT_ONNX_FILE, type ModelFiles, modelFiles} from './model-files.js';
import {type HubEnv, hubSettings} from './settings.js';

export {parseHubId} from './hub-id.js';

export interface HubTuning {
  /** Failures in a row (without new bytes) before a request or download is given up. */
  attempts: number;
  /** First retry back-off in ms; doubles each time. */
  retryDelayMs: number;
  /** A blob lock untouched this long (its holder died) is taken over. */
  lockStaleMs: number;
  /** How often a process waiting for another's download checks again. */
  lockPollMs: number;
}

const DEFAULT_TUNING: HubTuning = {attempts: 5, retryDelayMs: 500, lockStaleMs: 60_000, lockPollMs: 250};

export interface ResolveHubOptions {
  files?: {onnxFile?: string};
  /** Cache root; default $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default $HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Default $HF_TOKEN. Sent to the endpoint only, never to redirect targets on other hosts. */
  token?: string;
  /** Never touch the network; HF_HUB_OFFLINE=1 switches it on too. */
  offline?: boolean;
  progress?: DownloadProgress;
  /** Default globalThis.fetch. */
  fetchImpl?: FetchLike;
  /** Where HF_* variables are read from; default process.env (tests pass their own). */
  env?: HubEnv;
  tuning?: Partial<HubTuning>;
}

export interface ResolvedHubModel {
  /** snapshots/{commit} folder: a sentence-transformers model folder. */
  dir: string;
  commit: string;
  /** Repo paths whose bytes were fetched by this call (blobs already cached are not listed). */
  downloaded: string[];
}

async function firstMissing(cache: RepoCache, commit: string, files: readonly string[]): Promise<string | undefined> {
  for (const file of files) if (!(await cache.hasFile(commit, file))) return file;
  return undefined;
}

export async function resolveHubModel(repoId: string, revision: string = DEFAULT_REVISION, options: ResolveHubOptions = {}): Promise<ResolvedHubModel> {
  try {
    return await resolveHubModelUnchecked(repoId, revision, options);
  } catch (error) {
    // A read-only or full cache must read as one line, not as a stack trace from deep in the download.
    throw cacheWriteError(error, hubSettings(options, options.env ?? process.env).cacheDir);
  }
}

async function resolveHubModelUnchecked(repoId: string, revision: string, options: ResolveHubOptions): Promise<ResolvedHubModel> {
  if (!isValidRepoId(repoId)) throw invalidInputError(`'${repoId}' is not a Hugging Face model id (expected org/name)`);
  if (!isValidRevision(revision)) throw invalidInputError(`'${revision}' is not a valid revision (branch, tag or commit hash) for ${repoId}`);
  const onnxFile = options.files?.onnxFile ?? DEFAULT_ONNX_FILE;
  if (!isValidRepoFile(onnxFile)) throw invalidInputError(`'${onnxFile}' is not a file path inside a model repo (like onnx/model.onnx)`);

  const settings = hubSettings(options, options.env ?? process.env);
  const cache = new RepoCache(settings.cacheDir, repoId);
  const files = modelFiles(onnxFile);

  const cached = await cache.cachedCommit(revision);
  if (cached !== undefined) {
    const missing = await firstMissing(cache, cached, files.required);
    if (missing === undefined) return {dir: cache.snapshotDir(cached), commit: cached, downloaded: []};
    if (settings.offline) throw offlineMissingError(repoId, revision, missing, cache.snapshotDir(cached));
  } else if (settings.offline) {
    throw offlineMissingError(repoId, revision, `refs/${revision}`, cache.root);
  }

  const client: HubClient = {endpoint: settings.endpoint, token: settings.token, fetchImpl: options.fetchImpl ?? ((url, init) => fetch(url, init))};
  return fetchSnapshot(client, cache, revision, files, {...DEFAULT_TUNING, ...options.tuning}, options.progress);
}

async function fetchSnapshot(
  client: HubClient,
  cache: RepoCache,
  revision: string,
  files: ModelFiles,
  tuning: HubTuning,
  progress: DownloadProgress | undefined,
): Promise<ResolvedHubModel> {
  const {repoId} = cache;
  const retry = {attempts: tuning.attempts, baseDelayMs: tuning.retryDelayMs};

  // config.json at the requested revision proves repo and revision exist and pins the commit.
  const first = await fetchFileInfo(client, repoId, revision, 'config.json', retry);
  if (first.kind === 'missing') {
    if (first.commit === undefined) throw notFoundError(repoId, revision, client.endpoint);
    throw missingRequiredFileError(repoId, revision, 'config.json');
  }
  const {commit} = first;

  // Everything else at that commit, so a branch moving meanwhile cannot mix two versions. The ONNX
  // graph is asked about first, so a repo without one fails before anything is downloaded; the rest
  // are asked about in parallel (each HEAD is a round trip, and there are about ten).
  const ask = async (file: string): Promise<RemoteFile | MissingFile | undefined> => {
    if (await cache.hasFile(commit, file)) return undefined;
    if (!files.required.includes(file) && (await cache.isKnownMissing(commit, file))) return undefined;
    return fetchFileInfo(client, repoId, commit, file, retry);
  };
  const graph = await ask(files.onnxFile);
  if (graph?.kind === 'missing') throw noOnnxError(repoId, revision, files.onnxFile, await listOnnxFiles(client, repoId, commit));
  const others = files.required.filter((f) => f !== 'config.json' && f !== files.onnxFile).concat(files.optional);
  const answers = await Promise.all(others.map(ask));
  const remote: RemoteFile[] = [first];
  const absent: string[] = [];
  for (const info of answers) {
    if (info === undefined) continue;
    if (info.kind === 'found') remote.push(info);
    else if (files.required.includes(info.file)) throw missingRequiredFileError(repoId, revision, info.file);
    else absent.push(info.file);
  }
  if (graph !== undefined) remote.push(graph);

  // The graph is linked last (it is last in `remote`): its presence in a snapshot then means everything
  // it needs is there too, which is what lets the cache check above look at required files only.
  const downloaded: string[] = [];
  for (const info of remote) {
    if (await cache.hasFile(commit, info.file)) continue;
    const target = {repoId, file: info.file, url: info.url, etag: info.etag, size: info.size};
    if (await ensureBlob(client, cache, target, {retry, lock: {staleMs: tuning.lockStaleMs, pollMs: tuning.lockPollMs}}, progress)) {
      downloaded.push(info.file);
    }
    await cache.linkFile(commit, info.file, info.etag);
  }
  // Recorded as huggingface_hub does, so neither we nor Python ask about these again for this commit.
  for (const file of absent) await cache.markMissing(commit, file);
  if (revision !== commit) await cache.writeRef(revision, commit);
  return {dir: cache.snapshotDir(commit), commit, downloaded};
}
