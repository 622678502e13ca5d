/**
 * src/models: resolve --model (folder, hub id, built-in) to a local folder and read the
 * sentence-transformers configs into one typed ModelSpec. Hub download and cache (hub/), the built-in
 * converter (builtin/) and the offline catalog live here. The encoder depends on models, never the
 * reverse; this is the folder's entry point.
 *
 * Turns a --model value into a ModelSpec: omitted or "builtin:NAME" -> the built-in model (converted and
 * cached on first use), an existing folder -> that folder, anything shaped like "org/name[@rev]" -> the
 * Hugging Face cache, downloading what is missing unless offline.
 */
import {existsSync} from 'node:fs';
import {EXIT, SbertkitError} from '../errors.js';
import {DEFAULT_MODEL, ensureBuiltinModel, isBuiltinModelName} from './builtin/index.js';
import {DEFAULT_REVISION, type DownloadProgress, parseHubId, resolveHubModel} from './hub/index.js';
import {readModelSpec} from './read-spec.js';
import type {ModelSpec} from './spec.js';

export interface ResolveModelOptions {
  /** ONNX file inside the model (e.g. onnx/model_qint8_avx512.onnx). */
  modelFile?: string;
  /** Never touch the network (also HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Download progress for hub models. */
  progress?: DownloadProgress;
  /** One-line status messages (e.g. "converting built-in model"), for stderr. */
  onStatus?: (message: string) => void;
}

export async function resolveModel(model: string | undefined, options: ResolveModelOptions = {}): Promise<ModelSpec> {
  const name = model ?? DEFAULT_MODEL;
  if (isBuiltinModelName(name)) {
    const builtin = await ensureBuiltinModel(name, {onStatus: options.onStatus});
    return readModelSpec(builtin.dir, {name: builtin.name, revision: builtin.revision, modelFile: options.modelFile});
  }
  if (existsSync(name)) return readModelSpec(name, {modelFile: options.modelFile});
  const hub = parseHubId(name);
  if (hub === undefined) throw new SbertkitError(`model not found: '${name}' is neither a folder nor a hub id (org/name[@revision])`, {exitCode: EXIT.MODEL});
  const resolved = await resolveHubModel(hub.repoId, hub.revision, {
    files: {onnxFile: options.modelFile},
    offline: options.offline,
    progress: options.progress,
  });
  // The name keeps a non-default ref the user asked for; the commit it resolved to is the revision.
  const displayName = hub.revision === DEFAULT_REVISION ? hub.repoId : `${hub.repoId}@${hub.revision}`;
  return readModelSpec(resolved.dir, {name: displayName, revision: resolved.commit, modelFile: options.modelFile});
}
