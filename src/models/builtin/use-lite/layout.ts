/**
 * What a converted use-lite folder is, without the converter: kept apart so that checking the cache
 * (every run) does not load the converter and onnx-proto (first run only).
 */

/** Bump whenever the written folder changes, so cached conversions are redone. Part of the cache key. */
export const CONVERTER_VERSION = 1;

/** Every file of a finished folder; a folder missing one of them is not a usable conversion. */
export const USE_LITE_FILES = [
  'onnx/model.onnx',
  'tokenizer.json',
  'tokenizer_config.json',
  'config.json',
  'modules.json',
  '1_Pooling/config.json',
  'sentence_bert_config.json',
] as const;
