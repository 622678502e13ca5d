/**
 * Which files of a sentence-transformers repo the encoder reads. Required ones must exist; optional
 * ones may 404 (the reader falls back to defaults). Hub ids and local folders share this list.
 */
export const DEFAULT_ONNX_FILE = 'onnx/model.onnx';

export const REQUIRED_FILES = ['config.json', 'tokenizer.json'] as const;

export const OPTIONAL_FILES = [
  'modules.json',
  'sentence_bert_config.json',
  '1_Pooling/config.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'config_sentence_transformers.json',
] as const;

export interface ModelFiles {
  onnxFile: string;
  required: string[];
  optional: string[];
}

/** The files for one ONNX graph choice, including the two names exporters give external weights. */
export function modelFiles(onnxFile: string = DEFAULT_ONNX_FILE): ModelFiles {
  return {
    onnxFile,
    required: [...REQUIRED_FILES, onnxFile],
    optional: [...OPTIONAL_FILES, `${onnxFile}_data`, `${onnxFile}.data`],
  };
}
