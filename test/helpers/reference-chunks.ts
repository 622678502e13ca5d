/**
 * The vector sbertkit's --on-overflow chunk promises, computed independently of src/: the text's
 * WordPiece ids without [CLS]/[SEP] (reference tokenizer), windows of `size` ids whose starts are
 * `size - overlap` apart (window i covers [i·step, min(i·step + size, n)), as many as reach the end),
 * each embedded as [CLS] prompt window [SEP] by the reference forward pass, averaged with the window's
 * text-token count as weight, and normalized when normalizing.
 */
import type {PoolingMode} from '../../src/models/spec.js';
import type {BertConfig, BertWeights} from './bert-fixture.js';
import {l2Normalize, referencePool, referenceTokenEmbeddings, referenceWordPiece} from './reference-bert.js';

export interface ReferenceModel {
  config: BertConfig;
  weights: BertWeights;
  vocab: readonly string[];
  pooling: PoolingMode;
  normalize: boolean;
  maxSeqLength: number;
}

/** The reference vector of one token sequence (every id real, type ids 0). */
export function referenceOfIds(model: ReferenceModel, ids: number[]): Float64Array {
  const pooled = referencePool(referenceTokenEmbeddings(model.config, model.weights, ids, ids.map(() => 0)), model.pooling);
  return model.normalize ? l2Normalize(pooled) : pooled;
}

export function referenceChunked(model: ReferenceModel, text: string, opts: {overlap: number; prompt?: string}): Float64Array {
  const all = referenceWordPiece(model.vocab, text, 1e9);
  const [cls, pieces, sep] = [all[0]!, all.slice(1, -1), all[all.length - 1]!];
  const promptIds = opts.prompt ? referenceWordPiece(model.vocab, opts.prompt, 1e9).slice(1, -1) : [];
  const size = model.maxSeqLength - 2 - promptIds.length;
  const step = size - opts.overlap;
  const count = pieces.length <= size ? 1 : 1 + Math.ceil((pieces.length - size) / step);
  const sum = new Float64Array(model.config.hidden);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const window = pieces.slice(i * step, Math.min(i * step + size, pieces.length));
    const v = referenceOfIds(model, [cls, ...promptIds, ...window, sep]);
    for (let d = 0; d < sum.length; d++) sum[d] += window.length * v[d]!;
    total += window.length;
  }
  const mean = sum.map((x) => x / total);
  return model.normalize ? l2Normalize(mean) : mean;
}
