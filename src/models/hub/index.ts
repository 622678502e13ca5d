/** Hugging Face hub ids, the shared HF cache and downloads: the public surface of src/models/hub. */
export {repoFolderName} from './cache-layout.js';
export type {DownloadProgress} from './download.js';
export {DEFAULT_REVISION, type HubId, isCommitHash, parseHubId} from './hub-id.js';
export {type CachedModel, type CachedRevision, listCachedModels} from './list-cache.js';
export {DEFAULT_ONNX_FILE, modelFiles, type ModelFiles} from './model-files.js';
export {type HubTuning, type ResolvedHubModel, type ResolveHubOptions, resolveHubModel} from './resolve-hub-model.js';
export {DEFAULT_ENDPOINT, defaultHubCacheDir} from './settings.js';
