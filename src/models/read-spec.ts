/**
 * Reads a sentence-transformers model folder into one typed ModelSpec. Every config file is optional
 * except tokenizer.json and the ONNX graph; missing ones fall back to what sentence-transformers itself
 * would assume, so a plain `optimum` export (no modules.json) still works with mean pooling.
 */
import {existsSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {EXIT, SbertkitError} from '../errors.js';
import type {ModelSpec, PoolingMode} from './spec.js';

export interface ReadSpecOptions {
  /** Display name for metadata; defaults to the folder path. */
  name?: string;
  revision?: string;
  /** ONNX file relative to the folder (e.g. onnx/model_qint8_avx512.onnx). */
  modelFile?: string;
}

/** Where sentence-transformers and optimum put the graph, in the order we look. */
const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx'];

/** Positional limit we assume when no config says anything (BERT's). */
const FALLBACK_MAX_LENGTH = 512;

function readJson(dir: string, file: string): Record<string, any> | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  } catch (error) {
    throw new SbertkitError(`invalid JSON: ${(error as Error).message}`, {file: path, exitCode: EXIT.MODEL});
  }
}

interface ModuleEntry {
  path?: string;
  type?: string;
}

function poolingFromConfig(config: Record<string, any>, file: string): PoolingMode {
  const modes: PoolingMode[] = [];
  if (config.pooling_mode_mean_tokens) modes.push('mean');
  if (config.pooling_mode_cls_token) modes.push('cls');
  if (config.pooling_mode_max_tokens) modes.push('max');
  if (config.pooling_mode_lasttoken) modes.push('lasttoken');
  const unsupported = ['pooling_mode_mean_sqrt_len_tokens', 'pooling_mode_weightedmean_tokens'].filter((k) => config[k]);
  if (unsupported.length > 0 || modes.length !== 1) {
    const asked = [...modes, ...unsupported].join(', ') || 'none';
    throw new SbertkitError(`unsupported pooling (${asked}): sbertkit supports exactly one of mean, cls, max, lasttoken`, {
      file,
      exitCode: EXIT.MODEL,
    });
  }
  return modes[0]!;
}

/**
 * sentence_bert_config.json's max_seq_length is what the encoder truncates to, so a bad value does not
 * fail on its own: 0 or a negative number let every text through uncut, and a value above the position
 * embeddings feeds the graph positions it has no weights for. Refuse both here, naming file and field.
 */
function checkedMaxSeqLength(value: unknown, positionLimit: number | undefined, file: string): number {
  const fail = (message: string): never => {
    throw new SbertkitError(message, {file, line: lineOfKey(file, 'max_seq_length'), field: 'max_seq_length', exitCode: EXIT.MODEL});
  };
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return fail(`max_seq_length must be a positive integer, got ${JSON.stringify(value)}`);
  if (positionLimit !== undefined && value > positionLimit) {
    return fail(`max_seq_length ${value} is above the model's ${positionLimit} position embeddings (max_position_embeddings in config.json)`);
  }
  return value;
}

/** 1-based line of `"key":` in a JSON file, so the error points at it; undefined when not found. */
function lineOfKey(file: string, key: string): number | undefined {
  const text = readFileSync(file, 'utf8');
  const at = text.search(new RegExp(`"${key}"\\s*:`));
  return at < 0 ? undefined : text.slice(0, at).split('\n').length;
}

/**
 * config_sentence_transformers.json's "prompts" and "default_prompt_name", checked as
 * sentence-transformers checks them when it loads the model (a default name must be one of the prompts).
 */
function promptsFromConfig(config: Record<string, any>, file: string): {prompts: Record<string, string>; defaultPromptName?: string} {
  const fail = (field: string, message: string): never => {
    throw new SbertkitError(message, {file, line: lineOfKey(file, field), field, exitCode: EXIT.MODEL});
  };
  const raw = config.prompts ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail('prompts', `prompts must be an object of name: text, got ${JSON.stringify(raw)}`);
  const prompts: Record<string, string> = {};
  for (const [name, text] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof text !== 'string') return fail('prompts', `prompt '${name}' must be a string, got ${JSON.stringify(text)}`);
    prompts[name] = text;
  }
  const defaultPromptName: unknown = config.default_prompt_name ?? undefined;
  if (defaultPromptName === undefined) return {prompts};
  if (typeof defaultPromptName !== 'string' || !(defaultPromptName in prompts)) {
    const names = Object.keys(prompts);
    return fail('default_prompt_name', `default_prompt_name ${JSON.stringify(defaultPromptName)} is not one of the prompts (${names.length > 0 ? names.join(', ') : 'none defined'})`);
  }
  return {prompts, defaultPromptName};
}

export function readModelSpec(folder: string, options: ReadSpecOptions = {}): ModelSpec {
  const dir = resolve(folder);
  if (!existsSync(dir)) throw new SbertkitError(`model folder not found: ${folder}`, {exitCode: EXIT.MODEL});

  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) {
    throw new SbertkitError(`no tokenizer.json in model folder ${dir} (sbertkit needs the fast-tokenizer file)`, {exitCode: EXIT.MODEL});
  }

  const candidates = options.modelFile ? [options.modelFile] : ONNX_CANDIDATES;
  const onnxFile = candidates.find((c) => existsSync(join(dir, c)));
  if (onnxFile === undefined) {
    throw new SbertkitError(
      `no ONNX graph in ${dir} (looked for ${candidates.join(', ')}); export one with sentence-transformers ` +
        `(SentenceTransformer(model, backend="onnx").save_pretrained(dir)) or optimum-cli export onnx`,
      {exitCode: EXIT.MODEL},
    );
  }

  const modules = (readJson(dir, 'modules.json') as ModuleEntry[] | undefined) ?? [];
  const poolingModule = modules.find((m) => m.type?.endsWith('Pooling'));
  const normalize = modules.some((m) => m.type?.endsWith('Normalize'));
  const poolingDir = poolingModule?.path ?? '1_Pooling';
  const poolingConfigPath = join(dir, poolingDir, 'config.json');
  const poolingConfig = readJson(dir, join(poolingDir, 'config.json'));
  const pooling = poolingConfig ? poolingFromConfig(poolingConfig, poolingConfigPath) : 'mean';

  const sbertConfig = readJson(dir, 'sentence_bert_config.json') ?? {};
  const modelConfig = readJson(dir, 'config.json') ?? {};
  const tokenizerConfig = readJson(dir, 'tokenizer_config.json') ?? {};
  const stConfig = readJson(dir, 'config_sentence_transformers.json') ?? {};
  const {prompts, defaultPromptName} = promptsFromConfig(stConfig, join(dir, 'config_sentence_transformers.json'));

  const positionLimit = typeof modelConfig.max_position_embeddings === 'number' ? modelConfig.max_position_embeddings : undefined;
  // Tokenizer configs often carry a huge sentinel (1e30) for "no limit"; ignore those.
  const tokenizerLimit =
    typeof tokenizerConfig.model_max_length === 'number' && tokenizerConfig.model_max_length < 1e6 ? tokenizerConfig.model_max_length : undefined;
  const maxSeqLength =
    sbertConfig.max_seq_length === undefined || sbertConfig.max_seq_length === null
      ? Math.min(tokenizerLimit ?? Infinity, positionLimit ?? Infinity, tokenizerLimit ?? positionLimit ?? FALLBACK_MAX_LENGTH)
      : checkedMaxSeqLength(sbertConfig.max_seq_length, positionLimit, join(dir, 'sentence_bert_config.json'));

  const dimension =
    typeof poolingConfig?.word_embedding_dimension === 'number'
      ? poolingConfig.word_embedding_dimension
      : typeof modelConfig.hidden_size === 'number'
        ? modelConfig.hidden_size
        : undefined;

  return {
    name: options.name ?? folder,
    dir,
    revision: options.revision,
    onnxPath: join(dir, onnxFile),
    tokenizerPath,
    tokenizerConfig,
    maxSeqLength,
    doLowerCase: sbertConfig.do_lower_case === true,
    pooling,
    normalize,
    dimension,
    prompts,
    ...(defaultPromptName === undefined ? {} : {defaultPromptName}),
    includePrompt: poolingConfig?.include_prompt !== false,
  };
}
