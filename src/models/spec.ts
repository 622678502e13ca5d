/** The typed description of a model folder that the encoder runs. Built by readModelSpec (src/models/read-spec.ts). */

export type PoolingMode = 'mean' | 'cls' | 'max' | 'lasttoken';

export interface ModelSpec {
  /** Human name: folder path, hub id ("org/name@rev") or "builtin:use-lite". Goes into output metadata. */
  name: string;
  /** Resolved local folder. */
  dir: string;
  /** Revision/commit hash when known (hub), else undefined. */
  revision?: string;
  /** Absolute path of the ONNX graph. */
  onnxPath: string;
  /** Absolute path of tokenizer.json. */
  tokenizerPath: string;
  /** Parsed tokenizer_config.json ({} when absent). */
  tokenizerConfig: Record<string, unknown>;
  /** Tokens per text after which we truncate (sentence_bert_config.json max_seq_length, else tokenizer/model limits). */
  maxSeqLength: number;
  /** Lower-case before tokenizing (sentence_bert_config.json do_lower_case). */
  doLowerCase: boolean;
  /** Pooling from 1_Pooling/config.json (ignored when the graph outputs sentence_embedding). */
  pooling: PoolingMode;
  /** True when modules.json has a Normalize module. */
  normalize: boolean;
  /** Output dimension when known from configs (1_Pooling word_embedding_dimension or config.json hidden_size). */
  dimension?: number;
  /** Named prompts from config_sentence_transformers.json ("prompts"); {} when absent. */
  prompts: Record<string, string>;
  /** config_sentence_transformers.json "default_prompt_name": the prompt used when none is asked for. Always a key of `prompts`. */
  defaultPromptName?: string;
  /**
   * 1_Pooling include_prompt (default true). False means the prompt's tokens are left out of pooling
   * (INSTRUCTOR-style models), which sbertkit does not do, so it refuses prompts for such models.
   */
  includePrompt: boolean;
}
