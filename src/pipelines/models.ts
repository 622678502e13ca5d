/**
 * The models pipelines: list what this machine can use without a download (`models`), and describe
 * what the encoder will act on for one model (`models info`).
 */
import {type Dirent, readdirSync} from 'node:fs';
import {join, relative} from 'node:path';
import type {SentenceEncoder} from '../encoder/types.js';
import {keyValueLines, textTable} from '../io/report/table.js';
import {BUILTIN_MODELS, BUILTIN_PREFIX, builtinModelFolder, isBuiltinModelConverted} from '../models/builtin/index.js';
import {builtinEntry, listLocalModels, type CatalogEntry} from '../models/catalog.js';
import {defaultHubCacheDir} from '../models/hub/settings.js';
import type {PipelineServices} from './context.js';

export interface ModelsResult {
  /** The Hugging Face cache folder that was read. */
  hub_cache: string;
  models: CatalogEntry[];
}

/** Built-in models first, then every cached hub snapshot; entries that cannot be used say why (a warning). */
export async function listModels(services: Pick<PipelineServices, 'warn'>, options: {cacheDir?: string} = {}): Promise<ModelsResult> {
  const models: CatalogEntry[] = [];
  for (const name of BUILTIN_MODELS) {
    const full = BUILTIN_PREFIX + name;
    models.push(builtinEntry(builtinModelFolder(full), await isBuiltinModelConverted(full)));
  }
  models.push(...(await listLocalModels(options)));
  for (const entry of models) if (entry.problem) services.warn(`${entry.model}: ${entry.problem}`);
  return {hub_cache: options.cacheDir ?? defaultHubCacheDir(), models};
}

/** The listing as an aligned table (the human rendering of `models`). */
export function modelsTable(result: ModelsResult): string {
  const columns = ['MODEL', 'SOURCE', 'REVISION', 'SIZE', 'DIM', 'POOLING', 'NORMALIZE', 'MAX LEN'].map((title) => ({title}));
  const rows = result.models.map((e) => [
    e.model,
    e.source,
    e.revision?.slice(0, 12) ?? '',
    e.sizeBytes === undefined ? '' : `${(e.sizeBytes / 1e6).toFixed(1)} MB`,
    e.dimension?.toString() ?? '',
    e.pooling ?? '',
    e.normalize === undefined ? '' : String(e.normalize),
    e.max_seq_length?.toString() ?? '',
  ]);
  return textTable(columns, rows).join('\n') + '\n';
}

export function modelsSummary(result: ModelsResult): string {
  const cached = result.models.filter((e) => e.source === 'hub-cache').length;
  return `models: ${result.models.length - cached} built-in, ${cached} cached in ${result.hub_cache}`;
}

/** Everything `models info` reports, from a loaded encoder (so the dimension is the graph's, not a config's). */
export interface ModelInfo {
  model: string;
  revision?: string;
  folder: string;
  onnx: string;
  tokenizer: string;
  files: string[];
  max_seq_length: number;
  do_lower_case: boolean;
  /** The configured pooling (1_Pooling/config.json), as `models` lists it. */
  pooling: string;
  /** The graph outputs sentence_embedding, so the pooling runs inside it rather than in sbertkit. */
  pooling_in_graph: boolean;
  normalize: boolean;
  dimension: number;
  /** The model's prompts (config_sentence_transformers.json) as `name: "text"`, the default marked. */
  prompts: string[];
}

export async function describeModel(services: Pick<PipelineServices, 'loadEncoder'>): Promise<ModelInfo> {
  const encoder = await services.loadEncoder();
  try {
    return describeEncoder(encoder);
  } finally {
    await encoder.close();
  }
}

export function describeEncoder(encoder: SentenceEncoder): ModelInfo {
  const {spec} = encoder;
  return {
    model: spec.name,
    ...(spec.revision ? {revision: spec.revision} : {}),
    folder: spec.dir,
    onnx: spec.onnxPath,
    tokenizer: spec.tokenizerPath,
    files: filesUnder(spec.dir),
    max_seq_length: encoder.maxSeqLength,
    do_lower_case: spec.doLowerCase,
    pooling: spec.pooling,
    pooling_in_graph: encoder.pooling === 'graph',
    normalize: encoder.normalized,
    dimension: encoder.dimension,
    prompts: Object.entries(spec.prompts).map(([name, text]) => `${name}: ${JSON.stringify(text)}${name === spec.defaultPromptName ? ' (default)' : ''}`),
  };
}

/** The human rendering of `models info`: one "key  value" line per fact. */
export function modelInfoText(info: ModelInfo): string {
  return `${keyValueLines({...info, prompts: info.prompts.length > 0 ? info.prompts : 'none'}).join('\n')}\n`;
}

export function modelInfoSummary(info: ModelInfo): string {
  return `models info: ${info.model} [dim ${info.dimension}, ${info.pooling} pooling${info.pooling_in_graph ? ' (in the graph)' : ''}${info.normalize ? ', normalized' : ''}, max ${info.max_seq_length} tokens]`;
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, {recursive: true, withFileTypes: true}) as Dirent[])
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath ?? (e as unknown as {path: string}).path, e.name)))
    .sort();
}
