/**
 * Deterministic BERT-layout test models. Writes a complete sentence-transformers model folder
 * (configs, WordPiece tokenizer files, ONNX graph) whose weights come from a seeded PRNG, so encoder
 * tests and benchmarks run offline against a real BERT-shaped graph and can check every number
 * against the independent forward pass in reference-bert.ts.
 */
import {mkdir, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {GraphBuilder} from '../../src/onnx/graph-builder.js';
import type {PoolingMode} from '../../src/models/spec.js';
import {mulberry32} from './prng.js';

export interface BertConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPosition: number;
  typeVocabSize: number;
  seed: number;
}

/** Small enough to build in a few ms and run in tests; big enough to have real multi-head attention. */
export const TINY_BERT: BertConfig = {
  vocabSize: 512,
  hidden: 32,
  layers: 2,
  heads: 4,
  intermediate: 64,
  maxPosition: 64,
  typeVocabSize: 2,
  seed: 1234,
};

/** The shape of all-MiniLM-L6-v2 (~22.7M parameters), for benchmarks; weights are random. */
export const MINILM_L6_LAYOUT: BertConfig = {
  vocabSize: 30522,
  hidden: 384,
  layers: 6,
  heads: 12,
  intermediate: 1536,
  maxPosition: 512,
  typeVocabSize: 2,
  seed: 6,
};

/** BERT's LayerNorm epsilon; shared with the reference forward pass. */
export const LAYER_NORM_EPS = 1e-12;

/** Additive attention bias for padded keys, as in the original BERT ((1 - mask) * -10000). */
export const MASK_BIAS = -10000;

/**
 * A dense layer y = x·w + b. `w` is [inDim, outDim] row-major, i.e. the transpose of PyTorch's
 * nn.Linear.weight, because that is what ONNX MatMul and a row-vector reference both want.
 */
export interface Linear {
  inDim: number;
  outDim: number;
  w: Float32Array;
  b: Float32Array;
}

export interface LayerNormWeights {
  gamma: Float32Array;
  beta: Float32Array;
}

export interface BertLayerWeights {
  query: Linear;
  key: Linear;
  value: Linear;
  attentionOutput: Linear;
  attentionNorm: LayerNormWeights;
  intermediate: Linear;
  output: Linear;
  outputNorm: LayerNormWeights;
}

export interface BertWeights {
  /** [vocabSize, hidden] row-major. */
  wordEmbeddings: Float32Array;
  /** [maxPosition, hidden] row-major. */
  positionEmbeddings: Float32Array;
  /** [typeVocabSize, hidden] row-major. */
  tokenTypeEmbeddings: Float32Array;
  embeddingNorm: LayerNormWeights;
  layers: BertLayerWeights[];
}

// ---------------------------------------------------------------------------------------------
// Weights

/** FNV-1a over the tensor name, mixed with the seed: each tensor gets its own stream, so changing
 *  one shape (e.g. vocab size) does not reshuffle every other tensor. */
function tensorSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** `count` values uniform on [center - a, center + a) with standard deviation `std` (a = std·√3). */
function uniform(seed: number, name: string, count: number, std: number, center = 0): Float32Array {
  const rand = mulberry32(tensorSeed(seed, name));
  const a = std * Math.sqrt(3);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = center + a * (2 * rand() - 1);
  return out;
}

/**
 * Std of a dense weight: 1/√fanIn keeps pre-activations ~unit scale so attention is neither flat nor
 * one-hot, clamped to BERT's init range [0.02, 0.1].
 */
function linearStd(fanIn: number): number {
  return Math.min(0.1, Math.max(0.02, 1 / Math.sqrt(fanIn)));
}

function makeLinear(seed: number, name: string, inDim: number, outDim: number): Linear {
  return {
    inDim,
    outDim,
    w: uniform(seed, `${name}.weight`, inDim * outDim, linearStd(inDim)),
    b: uniform(seed, `${name}.bias`, outDim, 0.02),
  };
}

function makeNorm(seed: number, name: string, size: number): LayerNormWeights {
  // Gammas near 1 and small betas, like a trained BERT, but not exactly 1/0 so a graph that dropped
  // the affine part would be caught.
  return {gamma: uniform(seed, `${name}.weight`, size, 0.05, 1), beta: uniform(seed, `${name}.bias`, size, 0.02)};
}

export function makeBertWeights(config: BertConfig): BertWeights {
  const {hidden: H, intermediate: F, seed} = config;
  if (H % config.heads !== 0) throw new Error(`hidden ${H} is not divisible by heads ${config.heads}`);
  const layers: BertLayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    const p = `encoder.layer.${l}`;
    layers.push({
      query: makeLinear(seed, `${p}.attention.self.query`, H, H),
      key: makeLinear(seed, `${p}.attention.self.key`, H, H),
      value: makeLinear(seed, `${p}.attention.self.value`, H, H),
      attentionOutput: makeLinear(seed, `${p}.attention.output.dense`, H, H),
      attentionNorm: makeNorm(seed, `${p}.attention.output.LayerNorm`, H),
      intermediate: makeLinear(seed, `${p}.intermediate.dense`, H, F),
      output: makeLinear(seed, `${p}.output.dense`, F, H),
      outputNorm: makeNorm(seed, `${p}.output.LayerNorm`, H),
    });
  }
  return {
    wordEmbeddings: uniform(seed, 'embeddings.word_embeddings.weight', config.vocabSize * H, 0.1),
    positionEmbeddings: uniform(seed, 'embeddings.position_embeddings.weight', config.maxPosition * H, 0.1),
    tokenTypeEmbeddings: uniform(seed, 'embeddings.token_type_embeddings.weight', config.typeVocabSize * H, 0.1),
    embeddingNorm: makeNorm(seed, 'embeddings.LayerNorm', H),
    layers,
  };
}

// ---------------------------------------------------------------------------------------------
// ONNX graph

export type BertOutputName = 'last_hidden_state' | 'token_embeddings';

export interface SentenceEmbeddingGraph {
  pooling: 'mean' | 'cls';
  normalize: boolean;
}

export interface BertOnnxOptions {
  withTokenTypeIds: boolean;
  outputName: BertOutputName;
  /** Also output `sentence_embedding` [batch, hidden], pooled (and maybe normalized) in-graph. */
  sentenceEmbedding?: SentenceEmbeddingGraph;
  /**
   * The same network written with onnxruntime's fused contrib ops (com.microsoft), as ORT's Python
   * transformer optimizer would write it, for bench/fusion.ts to measure against the plain graph.
   */
  fused?: FusedOps;
}

export interface FusedOps {
  /** Residual add, dense bias and LayerNorm as one SkipLayerNormalization. */
  skipLayerNorm?: boolean;
  /**
   * Self-attention as one op: 'MultiHeadAttention' after the three Q/K/V MatMuls (biases in the op),
   * or 'Attention' with the Q/K/V projections packed inside it.
   */
  attention?: 'MultiHeadAttention' | 'Attention';
  /**
   * Every dense layer as Reshape to 2-D, Gemm with the bias, Reshape back: the bias added inside the
   * GEMM instead of by a separate Add (ORT fuses MatMul + Add into Gemm only for 2-D inputs).
   */
  gemmBias?: boolean;
}

const CONTRIB = 'com.microsoft';

/** Standard post-LN BERT encoder as an opset-17 ONNX graph (the layout optimum exports). */
export function buildBertOnnx(config: BertConfig, weights: BertWeights, opts: BertOnnxOptions): Uint8Array {
  const H = config.hidden;
  const heads = config.heads;
  const headDim = H / heads;
  const g = new GraphBuilder('bert');
  const f32 = (name: string, dims: number[], data: Float32Array): string => g.initializer(name, {type: 'float32', dims, data});

  const dynamic = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dynamic);
  const mask = g.input('attention_mask', 'int64', dynamic);
  const typeIds = opts.withTokenTypeIds ? g.input('token_type_ids', 'int64', dynamic) : undefined;

  // Shared constants.
  const i64Zero = g.initializer('const_i64_0', {type: 'int64', dims: [], data: [0]});
  const i64One = g.initializer('const_i64_1', {type: 'int64', dims: [], data: [1]});
  const fOne = g.scalar('const_f_1', 1);
  const fHalf = g.scalar('const_f_half', 0.5);
  const fSqrt2 = g.scalar('const_f_sqrt2', Math.SQRT2);

  const layerNorm = (x: string, norm: LayerNormWeights, name: string): string =>
    g.op('LayerNormalization', [x, f32(`${name}.weight`, [H], norm.gamma), f32(`${name}.bias`, [H], norm.beta)], {
      axis: -1,
      epsilon: {float: LAYER_NORM_EPS},
    });
  const weight = (lin: Linear, name: string): string => f32(`${name}.weight`, [lin.inDim, lin.outDim], lin.w);
  const bias = (lin: Linear, name: string): string => f32(`${name}.bias`, [lin.outDim], lin.b);
  let dense = (x: string, lin: Linear, name: string): string => g.op('Add', [g.op('MatMul', [x, weight(lin, name)]), bias(lin, name)]);
  if (opts.fused?.gemmBias) {
    dense = (x, lin, name) => {
      const rows = g.op('Reshape', [x, g.ints(`${name}.rows_shape`, [-1, lin.inDim])]);
      const product = g.op('Gemm', [rows, weight(lin, name), bias(lin, name)]);
      // Back to [batch, seq, out]: the input's leading dims, then the layer's width.
      const leading = g.op('Slice', [g.op('Shape', [x]), g.ints(`${name}.from`, [0]), g.ints(`${name}.to`, [2])]);
      return g.op('Reshape', [product, g.op('Concat', [leading, g.ints(`${name}.width`, [lin.outDim])], {axis: 0})]);
    };
  }

  // --- Embeddings: word + position (0..seq-1) + token type, then LayerNorm.
  const words = g.op('Gather', [f32('embeddings.word_embeddings.weight', [config.vocabSize, H], weights.wordEmbeddings), inputIds], {axis: 0});
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), i64One], {axis: 0});
  const positions = g.op('Range', [i64Zero, seqLen, i64One]);
  const posEmb = g.op('Gather', [f32('embeddings.position_embeddings.weight', [config.maxPosition, H], weights.positionEmbeddings), positions], {axis: 0});
  let typeEmb: string;
  if (typeIds !== undefined) {
    typeEmb = g.op('Gather', [f32('embeddings.token_type_embeddings.weight', [config.typeVocabSize, H], weights.tokenTypeEmbeddings), typeIds], {axis: 0});
  } else {
    // Without the input every token has type 0, as transformers does when token_type_ids is omitted.
    typeEmb = f32('embeddings.token_type_embeddings.row0', [H], weights.tokenTypeEmbeddings.slice(0, H));
  }
  let x = layerNorm(g.op('Add', [g.op('Add', [words, posEmb]), typeEmb]), weights.embeddingNorm, 'embeddings.LayerNorm');

  // --- Attention bias [batch, 1, 1, seq]: 0 for real keys, MASK_BIAS for padding.
  const maskF = g.op('Cast', [mask], {to: 1});
  const maskBias = g.op('Mul', [g.op('Sub', [fOne, g.op('Unsqueeze', [maskF, g.ints('axes_1_2', [1, 2])])]), g.scalar('const_mask_bias', MASK_BIAS)]);
  const headShape = g.ints('shape_heads', [0, 0, heads, headDim]);
  const mergedShape = g.ints('shape_merged', [0, 0, H]);
  const scale = g.scalar('const_attn_scale', 1 / Math.sqrt(headDim));
  const fused = opts.fused ?? {};
  const maskInt32 = fused.attention === undefined ? '' : g.op('Cast', [mask], {to: 6});
  const contribAttrs = {num_heads: heads, mask_filter_value: {float: MASK_BIAS}};

  // LayerNorm(residual + x·w + b): three ops, or one SkipLayerNormalization that also adds the bias.
  const residualNorm = (input: string, lin: Linear, residual: string, norm: LayerNormWeights, denseName: string, normName: string): string => {
    if (!fused.skipLayerNorm) return layerNorm(g.op('Add', [dense(input, lin, denseName), residual]), norm, normName);
    const product = g.op('MatMul', [input, weight(lin, denseName)]);
    const affine = [f32(`${normName}.weight`, [H], norm.gamma), f32(`${normName}.bias`, [H], norm.beta), bias(lin, denseName)];
    return g.op('SkipLayerNormalization', [product, residual, ...affine], {epsilon: {float: LAYER_NORM_EPS}}, undefined, CONTRIB);
  };

  weights.layers.forEach((lw, l) => {
    const p = `encoder.layer.${l}`;
    const qkv = [lw.query, lw.key, lw.value];
    const qkvBias = new Float32Array(3 * H);
    qkv.forEach((lin, k) => qkvBias.set(lin.b, k * H));
    let context: string;
    if (fused.attention === 'Attention') {
      // Q, K and V weights side by side: [H, 3H].
      const packed = new Float32Array(H * 3 * H);
      for (let r = 0; r < H; r++) qkv.forEach((lin, k) => packed.set(lin.w.subarray(r * H, (r + 1) * H), r * 3 * H + k * H));
      const inputs = [x, f32(`${p}.attention.qkv.weight`, [H, 3 * H], packed), f32(`${p}.attention.qkv.bias`, [3 * H], qkvBias), maskInt32];
      context = g.op('Attention', inputs, contribAttrs, undefined, CONTRIB);
    } else if (fused.attention === 'MultiHeadAttention') {
      const [q, k, v] = qkv.map((lin, i) => g.op('MatMul', [x, f32(`${p}.attention.self.${['query', 'key', 'value'][i]}.weight`, [H, H], lin.w)]));
      const inputs = [q!, k!, v!, f32(`${p}.attention.qkv.bias`, [3 * H], qkvBias), maskInt32];
      context = g.op('MultiHeadAttention', inputs, contribAttrs, undefined, CONTRIB);
    } else {
      // [b, s, H] -> [b, s, heads, headDim] -> transposed per `perm`.
      const split = (t: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [t, headShape])], {perm});
      const q = split(dense(x, lw.query, `${p}.attention.self.query`), [0, 2, 1, 3]); // [b, h, s, d]
      const kT = split(dense(x, lw.key, `${p}.attention.self.key`), [0, 2, 3, 1]); // [b, h, d, s]
      const v = split(dense(x, lw.value, `${p}.attention.self.value`), [0, 2, 1, 3]); // [b, h, s, d]
      const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), scale]), maskBias]);
      const probs = g.op('Softmax', [scores], {axis: -1});
      context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], {perm: [0, 2, 1, 3]}), mergedShape]);
    }
    x = residualNorm(context, lw.attentionOutput, x, lw.attentionNorm, `${p}.attention.output.dense`, `${p}.attention.output.LayerNorm`);
    // Exact GELU: 0.5·h·(1 + erf(h/√2)).
    const h = dense(x, lw.intermediate, `${p}.intermediate.dense`);
    const gelu = g.op('Mul', [g.op('Mul', [h, fHalf]), g.op('Add', [fOne, g.op('Erf', [g.op('Div', [h, fSqrt2])])])]);
    x = residualNorm(gelu, lw.output, x, lw.outputNorm, `${p}.output.dense`, `${p}.output.LayerNorm`);
  });

  g.op('Identity', [x], {}, opts.outputName);
  g.output(opts.outputName, 'float32', [...dynamic, H]);

  if (opts.sentenceEmbedding !== undefined) {
    let pooled: string;
    if (opts.sentenceEmbedding.pooling === 'cls') {
      pooled = g.op('Gather', [x, i64Zero], {axis: 1});
    } else {
      const m = g.op('Unsqueeze', [maskF, g.ints('axes_2', [2])]); // [b, s, 1]
      const axis1 = g.ints('axes_1', [1]);
      const sum = g.op('ReduceSum', [g.op('Mul', [x, m]), axis1], {keepdims: 0});
      const count = g.op('Max', [g.op('ReduceSum', [m, axis1], {keepdims: 0}), g.scalar('const_count_floor', 1e-9)]);
      pooled = g.op('Div', [sum, count]);
    }
    if (opts.sentenceEmbedding.normalize) {
      const norm = g.op('Max', [g.op('ReduceL2', [pooled], {axes: [1], keepdims: 1}), g.scalar('const_norm_floor', 1e-12)]);
      pooled = g.op('Div', [pooled, norm]);
    }
    g.op('Identity', [pooled], {}, 'sentence_embedding');
    g.output('sentence_embedding', 'float32', ['batch_size', H]);
  }
  return g.toBytes(17);
}

// ---------------------------------------------------------------------------------------------
// WordPiece tokenizer files

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const SINGLE_CHARS = [...'abcdefghijklmnopqrstuvwxyz0123456789', ...ASCII_PUNCTUATION];

/** Common English suffixes, so unseen inflections split into word + ##suffix like real BERT vocabularies. */
const SUFFIXES = ['s', 'es', 'ed', 'ing', 'ly', 'er', 'ers', 'est', 'ion', 'ions', 'tion', 'ness', 'ment', 'able', 'ful', 'less', 'al', 'ity', 'ize', 'ous', 'ive', 'y', 'en', 'ic', 'ist', 'ism'];

/** ~200 everyday words; a sentence made of them tokenizes into whole words. */
export const DEFAULT_WORDS: readonly string[] = `
the be to of and a in that have i it for not on with he as you do at this but his by from they we say
her she or an will my one all would there their what so up out if about who get which go me when make
can like time no just him know take people into year your good some could them see other than then now
look only come its over think also back after use two how our work first well way even new want because
any these give day most us cat dog bird fish tree house car road city river music book movie game food
water coffee tea bread apple sun moon star sky rain snow wind fire earth world man woman child friend
family love happy sad fast slow big small old young red blue green white black play run walk read write
sing eat drink sleep open close start stop learn teach help talk speak listen watch buy sell pay sit
stand fly swim drive cook search model sentence word text vector data computer phone machine learning
school student teacher doctor market price money bank today tomorrow night morning week month great
is are was were has had does did very more many much where why here home park fox quick brown jump lazy
`
  .trim()
  .split(/\s+/);

/**
 * The vocabulary: [PAD]=0, [UNK], [CLS], [SEP], [MASK], single characters (a-z, 0-9, ASCII
 * punctuation) bare and as ##pieces — so any lowercase ASCII text tokenizes without [UNK] — the given
 * words, ##suffixes, then `[unused{n}]` up to `size`.
 */
export function makeWordPieceVocab(words: readonly string[], size?: number): string[] {
  const seen = new Set<string>();
  const vocab: string[] = [];
  const add = (t: string): void => {
    if (!seen.has(t)) {
      seen.add(t);
      vocab.push(t);
    }
  };
  SPECIAL_TOKENS.forEach(add);
  SINGLE_CHARS.forEach(add);
  SINGLE_CHARS.forEach((c) => add(`##${c}`));
  for (const w of words) {
    const lower = w.toLowerCase();
    // Anything else could never be produced by the pre-tokenizer (punctuation/whitespace split it,
    // accents are stripped), so it would be a dead entry that hides a mistake in the word list.
    if (!/^[a-z0-9]+$/.test(lower)) throw new Error(`vocabulary word ${JSON.stringify(w)} must be ASCII letters/digits`);
    add(lower);
  }
  SUFFIXES.forEach((s) => add(`##${s}`));
  if (size !== undefined) {
    if (size < vocab.length) throw new Error(`vocab size ${size} is smaller than the ${vocab.length} base tokens`);
    for (let n = 0; vocab.length < size; n++) add(`[unused${n}]`);
  }
  return vocab;
}

export interface TokenizerFileOptions {
  /** BertNormalizer lowercase (and accent stripping); default true. */
  lowercase?: boolean;
  /** tokenizer_config.json model_max_length. */
  modelMaxLength: number;
}

/** HF tokenizers' tokenizer.json for a BERT WordPiece tokenizer over `vocab`. */
export function makeTokenizerJson(vocab: readonly string[], lowercase = true): Record<string, unknown> {
  const id = (t: string): number => {
    const i = vocab.indexOf(t);
    if (i < 0) throw new Error(`vocab has no ${t}`);
    return i;
  };
  const special = (t: string) => ({SpecialToken: {id: t, type_id: 0}});
  const specialPair = (t: string) => ({SpecialToken: {id: t, type_id: 1}});
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => ({id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true})),
    normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase},
    pre_tokenizer: {type: 'BertPreTokenizer'},
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), {Sequence: {id: 'A', type_id: 0}}, special('[SEP]')],
      pair: [special('[CLS]'), {Sequence: {id: 'A', type_id: 0}}, special('[SEP]'), {Sequence: {id: 'B', type_id: 1}}, specialPair('[SEP]')],
      special_tokens: {
        '[CLS]': {id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]']},
        '[SEP]': {id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]']},
      },
    },
    decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/** tokenizer_config.json as transformers writes it for BertTokenizer(Fast). */
export function makeTokenizerConfig(opts: TokenizerFileOptions): Record<string, unknown> {
  const lowercase = opts.lowercase ?? true;
  return {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: lowercase,
    mask_token: '[MASK]',
    model_max_length: opts.modelMaxLength,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
}

// ---------------------------------------------------------------------------------------------
// Model folder

export interface BertFolderOptions {
  config: BertConfig;
  /** 1_Pooling mode. */
  pooling: PoolingMode;
  /** Adds the Normalize module (2_Normalize) to modules.json. */
  normalize: boolean;
  /** sentence_bert_config.json max_seq_length. */
  maxSeqLength: number;
  /** sentence_bert_config.json do_lower_case (sentence-transformers' own lowercasing); default false. */
  doLowerCase?: boolean;
  /** The tokenizer's BertNormalizer lowercase / tokenizer_config do_lower_case; default true. */
  tokenizerLowercase?: boolean;
  /** Declare and use a token_type_ids input; default true. */
  withTokenTypeIds?: boolean;
  /** Name of the [batch, seq, hidden] output; default 'last_hidden_state'. */
  outputName?: BertOutputName;
  /** Also output sentence_embedding from the graph. */
  sentenceEmbedding?: SentenceEmbeddingGraph;
  /** Where the graph goes inside the folder; default 'onnx/model.onnx' (the hub layout). */
  onnxLocation?: 'onnx/model.onnx' | 'model.onnx';
  /** Vocabulary words; default DEFAULT_WORDS. */
  words?: readonly string[];
  /** Reuse already generated weights (must match `config`), e.g. to write several folders cheaply. */
  weights?: BertWeights;
}

export interface BertFolder {
  dir: string;
  weights: BertWeights;
  vocab: string[];
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), {recursive: true});
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a complete sentence-transformers folder for `opts.config` into `dir` (created if needed). */
export async function writeBertModelFolder(dir: string, opts: BertFolderOptions): Promise<BertFolder> {
  const {config} = opts;
  const tokenizerLowercase = opts.tokenizerLowercase ?? true;
  const vocab = makeWordPieceVocab(opts.words ?? DEFAULT_WORDS, config.vocabSize);
  const weights = opts.weights ?? makeBertWeights(config);
  const onnx = buildBertOnnx(config, weights, {
    withTokenTypeIds: opts.withTokenTypeIds ?? true,
    outputName: opts.outputName ?? 'last_hidden_state',
    sentenceEmbedding: opts.sentenceEmbedding,
  });

  await mkdir(dir, {recursive: true});
  await writeJson(join(dir, 'config.json'), {
    architectures: ['BertModel'],
    model_type: 'bert',
    attention_probs_dropout_prob: 0.1,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: config.hidden,
    initializer_range: 0.02,
    intermediate_size: config.intermediate,
    layer_norm_eps: LAYER_NORM_EPS,
    max_position_embeddings: config.maxPosition,
    num_attention_heads: config.heads,
    num_hidden_layers: config.layers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    type_vocab_size: config.typeVocabSize,
    vocab_size: config.vocabSize,
  });
  const modules = [
    {idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer'},
    {idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling'},
  ];
  if (opts.normalize) {
    modules.push({idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize'});
    await mkdir(join(dir, '2_Normalize'), {recursive: true});
  }
  await writeJson(join(dir, 'modules.json'), modules);
  await writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: config.hidden,
    pooling_mode_cls_token: opts.pooling === 'cls',
    pooling_mode_mean_tokens: opts.pooling === 'mean',
    pooling_mode_max_tokens: opts.pooling === 'max',
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: opts.pooling === 'lasttoken',
    include_prompt: true,
  });
  await writeJson(join(dir, 'sentence_bert_config.json'), {max_seq_length: opts.maxSeqLength, do_lower_case: opts.doLowerCase ?? false});
  await writeJson(join(dir, 'tokenizer.json'), makeTokenizerJson(vocab, tokenizerLowercase));
  await writeJson(join(dir, 'tokenizer_config.json'), makeTokenizerConfig({lowercase: tokenizerLowercase, modelMaxLength: config.maxPosition}));
  await writeJson(join(dir, 'special_tokens_map.json'), {cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]'});
  await writeFile(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  const onnxPath = join(dir, opts.onnxLocation ?? 'onnx/model.onnx');
  await mkdir(dirname(onnxPath), {recursive: true});
  await writeFile(onnxPath, onnx);
  return {dir, weights, vocab};
}

/**
 * An ONNX graph that needs a `position_ids` input, which sbertkit does not feed: loading it must be a
 * model error naming that input (and, in a pool, every worker fails to load at its own moment).
 */
export function graphNeedingPositionIds(): Uint8Array {
  const g = new GraphBuilder();
  g.input('input_ids', 'int64', ['batch', 'seq']);
  g.input('attention_mask', 'int64', ['batch', 'seq']);
  g.input('position_ids', 'int64', ['batch', 'seq']);
  const sum = g.op('Add', ['input_ids', 'position_ids']);
  const hidden = g.op('Cast', [g.op('Unsqueeze', [sum, g.ints('axis', [2])])], {to: 1}, 'last_hidden_state');
  g.output(hidden, 'float32', ['batch', 'seq', 1]);
  return g.toBytes();
}
