/**
 * Writes Universal Sentence Encoder Lite as a dense ONNX graph (opset 17) that the shared encoder runs
 * like any other model: int64 `input_ids` and `attention_mask` [batch, seq] in, float32
 * `sentence_embedding` [batch, 512] out, already L2-normalized.
 *
 * The TF graph takes a SparseTensor of token ids and packs real tokens with GatherNd/ScatterNd around
 * every position-wise op. This is a structural rewrite, not an op-by-op translation: all ops run on every
 * position of a right-padded batch. That gives the same result for real tokens because padded keys get a
 * −1e9 attention bias and pooling multiplies by the mask, so padded positions never reach real ones.
 * read-weights.ts verifies that the TF graph really computes what is rebuilt here.
 */
import {GraphBuilder} from '../../../onnx/graph-builder.js';
import type {LayerNormWeights, Matrix, TransformerLayerWeights, UseLiteWeights} from './read-weights.js';

export const USE_LITE_OUTPUT = 'sentence_embedding';
export const USE_LITE_OPSET = 17;

const ONNX_FLOAT = 1;
const ONNX_BOOL = 9;

/**
 * The sinusoidal timing signal as a [maxLength, 2·n] table: sin(p·inv) for all n frequencies, then
 * cos(p·inv) (concatenated, not interleaved). The product is rounded to float32 first, as TF does.
 */
export function timingTable(invTimescales: Float32Array, maxLength: number): Float32Array {
  const n = invTimescales.length;
  const table = new Float32Array(maxLength * 2 * n);
  for (let p = 0; p < maxLength; p++) {
    for (let i = 0; i < n; i++) {
      const angle = Math.fround(p * invTimescales[i]!);
      table[p * 2 * n + i] = Math.sin(angle);
      table[p * 2 * n + n + i] = Math.cos(angle);
    }
  }
  return table;
}

class UseLiteGraph {
  readonly g = new GraphBuilder('use_lite');
  private readonly axis1 = this.g.ints('axis_1', [1]);
  private readonly one = this.g.scalar('one', 1);

  matrix(name: string, m: Matrix): string {
    return this.g.initializer(name, {type: 'float32', dims: [m.rows, m.cols], data: m.data});
  }

  vector(name: string, v: Float32Array): string {
    return this.g.initializer(name, {type: 'float32', dims: [v.length], data: v});
  }

  /** x·W + b over the last axis. */
  dense(x: string, name: string, w: Matrix, b: Float32Array): string {
    return this.g.op('Add', [this.g.op('MatMul', [x, this.matrix(`${name}.weight`, w)]), this.vector(`${name}.bias`, b)]);
  }

  /** TF's mean-subtracted, biased-variance LayerNorm is exactly ONNX LayerNormalization over the last axis. */
  layerNorm(x: string, name: string, ln: LayerNormWeights): string {
    return this.g.op('LayerNormalization', [x, this.vector(`${name}.scale`, ln.scale), this.vector(`${name}.bias`, ln.bias)], {
      axis: -1,
      epsilon: {float: ln.epsilon},
    });
  }

  /** [B, L, heads·depth] → [B, heads, L, depth] (or [B, heads, depth, L] for keys, ready for q·kᵀ). */
  splitHeads(x: string, shape: string, keys: boolean): string {
    return this.g.op('Transpose', [this.g.op('Reshape', [x, shape])], {perm: keys ? [0, 2, 3, 1] : [0, 2, 1, 3]});
  }

  layer(x: string, index: number, w: TransformerLayerWeights, maskBias: string): string {
    const g = this.g;
    const p = `layer_${index}`;
    const normed = this.layerNorm(x, `${p}.attention_norm`, w.attentionNorm);
    const qkv = this.dense(normed, `${p}.qkv`, w.qkv, w.qkvBias);
    const [q, k, v] = g.node('Split', [qkv, g.ints(`${p}.qkv_split`, [w.width, w.width, w.width])], {axis: 2}, 3) as [string, string, string];
    const headShape = g.ints(`${p}.head_shape`, [0, 0, w.heads, w.headDim]);
    const q4 = g.op('Mul', [this.splitHeads(q, headShape, false), g.scalar(`${p}.query_scale`, w.queryScale)]);
    const kT = this.splitHeads(k, headShape, true);
    const v4 = this.splitHeads(v, headShape, false);
    const probs = g.op('Softmax', [g.op('Add', [g.op('MatMul', [q4, kT]), maskBias])], {axis: -1});
    const context = g.op('Transpose', [g.op('MatMul', [probs, v4])], {perm: [0, 2, 1, 3]});
    const merged = g.op('Reshape', [context, g.ints(`${p}.merged_shape`, [0, 0, w.width])]);
    const attention = this.dense(merged, `${p}.attention_output`, w.output, w.outputBias);
    // Pre-norm residual on the un-normalized input; layer 0 widens it 256→512 with its own dense layer.
    const residual = w.residual === undefined ? x : this.dense(x, `${p}.residual`, w.residual.kernel, w.residual.bias);
    const h = g.op('Add', [attention, residual]);
    const ffnIn = this.layerNorm(h, `${p}.ffn_norm`, w.ffnNorm);
    const hidden = g.op('Relu', [this.dense(ffnIn, `${p}.ffn_1`, w.ffn1, w.ffn1Bias)]);
    return g.op('Add', [this.dense(hidden, `${p}.ffn_2`, w.ffn2, w.ffn2Bias), h]);
  }

  build(w: UseLiteWeights): Uint8Array {
    const g = this.g;
    const modelWidth = w.head.rows;
    g.input('input_ids', 'int64', ['batch', 'sequence']);
    g.input('attention_mask', 'int64', ['batch', 'sequence']);

    // Like ClipToMaxLength: positions >= maxLength are dropped (the encoder truncates before this anyway).
    const zero = g.ints('zero', [0]);
    const maxLength = g.ints('max_length', [w.maxLength]);
    const ids = g.op('Slice', ['input_ids', zero, maxLength, this.axis1]);
    const maskBool = g.op('Cast', [g.op('Slice', ['attention_mask', zero, maxLength, this.axis1])], {to: ONNX_BOOL});
    const mask = g.op('Cast', [maskBool], {to: ONNX_FLOAT});
    // Padded positions may carry any pad id (even -1); look up row 0 there, the value is masked out later.
    const safeIds = g.op('Where', [maskBool, ids, g.initializer('zero_id', {type: 'int64', dims: [], data: [0]})]);

    // Layer input is 2·E + timing (the TF graph adds the scattered E to the scattered E + timing).
    const embedded = g.op('Gather', [this.matrix('embeddings', w.embeddings), safeIds], {axis: 0});
    const seqLen = g.op('Shape', [ids], {start: 1, end: 2});
    const table = timingTable(w.invTimescales, w.maxLength);
    const timingInit = g.initializer('timing_signal', {type: 'float32', dims: [w.maxLength, 2 * w.invTimescales.length], data: table});
    const timing = g.op('Slice', [timingInit, zero, seqLen, zero]);
    let x = g.op('Add', [g.op('Mul', [embedded, g.scalar('two', 2)]), timing]);

    // Attention bias [B,1,1,L]: (1 − mask)·(−1e9). A finite bias keeps all-padding rows free of NaN.
    const notMask = g.op('Sub', [this.one, mask]);
    const maskBias = g.op('Unsqueeze', [g.op('Mul', [notMask, g.scalar('mask_bias', w.attentionMaskBias)]), g.ints('axes_1_2', [1, 2])]);

    w.layers.forEach((layer, i) => {
      x = this.layer(x, i, layer, maskBias);
    });

    // Masked mean over real tokens; max(length, 1) makes an empty row pool to 0 (output l2norm(tanh(b))).
    const masked = g.op('Mul', [x, g.op('Unsqueeze', [mask, g.ints('axes_2', [2])])]);
    const summed = g.op('ReduceSum', [masked, this.axis1], {keepdims: 0});
    const length = g.op('ReduceSum', [mask, this.axis1], {keepdims: 1});
    const pooled = g.op('Div', [summed, g.op('Max', [length, this.one])]);

    const t = g.op('Tanh', [this.dense(pooled, 'head', w.head, w.headBias)]);
    const sumSquares = g.op('ReduceSum', [g.op('Mul', [t, t]), this.axis1], {keepdims: 1});
    const invNorm = g.op('Reciprocal', [g.op('Sqrt', [g.op('Max', [sumSquares, g.scalar('l2_epsilon', w.l2Epsilon)])])]);
    g.op('Mul', [t, invNorm], {}, USE_LITE_OUTPUT);
    g.output(USE_LITE_OUTPUT, 'float32', ['batch', modelWidth]);
    return g.toBytes(USE_LITE_OPSET, 'sbertkit use-lite converter');
  }
}

/** Serialized ONNX model (protobuf bytes) computing USE Lite from dense ids and mask. */
export function buildUseLiteOnnx(weights: UseLiteWeights): Uint8Array {
  return new UseLiteGraph().build(weights);
}
