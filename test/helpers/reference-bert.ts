/**
 * An independent, deliberately plain BERT forward pass and WordPiece tokenizer. It shares only the
 * weights with the ONNX fixture (bert-fixture.ts): no graph, no ORT, no tokenizer library, Float64
 * math throughout, one token at a time. Tests compare the encoder against this, never against itself.
 */
import type {PoolingMode} from '../../src/models/spec.js';
import {LAYER_NORM_EPS, type BertConfig, type BertWeights, type LayerNormWeights, type Linear} from './bert-fixture.js';

// ---------------------------------------------------------------------------------------------
// Math

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf to ~1e-16: below |x| = 3 the all-positive series erf(x) = 2/√π · e^(-x²) · Σ (2x²)^n x / (2n+1)!!
 * (no cancellation, unlike the alternating Maclaurin series); above, the classic erfc continued
 * fraction, which converges in a few dozen terms there.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax; // 2^n x^(2n+1) / (1·3·…·(2n+1))
    let sum = ax;
    for (let n = 1; n < 500; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else if (ax < 7) {
    // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated bottom-up.
    let f = ax;
    for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
    r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
  } else {
    r = 1; // erfc(7) < 1e-22
  }
  return x < 0 ? -r : r;
}

/** Exact GELU, as BERT's hidden_act "gelu". */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

function linear(x: Float64Array, lin: Linear): Float64Array {
  const y = new Float64Array(lin.outDim);
  for (let o = 0; o < lin.outDim; o++) y[o] = lin.b[o]!;
  for (let i = 0; i < lin.inDim; i++) {
    const xi = x[i]!;
    const row = i * lin.outDim;
    for (let o = 0; o < lin.outDim; o++) y[o] += xi * lin.w[row + o]!;
  }
  return y;
}

function layerNorm(x: Float64Array, norm: LayerNormWeights): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  variance /= n; // biased, as torch.nn.LayerNorm
  const inv = 1 / Math.sqrt(variance + LAYER_NORM_EPS);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i]! - mean) * inv * norm.gamma[i]! + norm.beta[i]!;
  return y;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
  return y;
}

// ---------------------------------------------------------------------------------------------
// Forward pass

/**
 * Hidden states of the last layer for one unpadded sequence (so attention sees exactly `ids`).
 * `typeIds` defaults to all zeros. Returns one Float64Array(hidden) per token.
 */
export function referenceTokenEmbeddings(config: BertConfig, weights: BertWeights, ids: number[], typeIds?: number[]): Float64Array[] {
  const H = config.hidden;
  const S = ids.length;
  if (S > config.maxPosition) throw new Error(`sequence of ${S} exceeds maxPosition ${config.maxPosition}`);
  if (typeIds !== undefined && typeIds.length !== S) throw new Error('typeIds length differs from ids');

  let xs: Float64Array[] = ids.map((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new Error(`token id ${id} out of range`);
    const type = typeIds?.[t] ?? 0;
    const e = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      e[i] = weights.wordEmbeddings[id * H + i]! + weights.positionEmbeddings[t * H + i]! + weights.tokenTypeEmbeddings[type * H + i]!;
    }
    return layerNorm(e, weights.embeddingNorm);
  });

  const heads = config.heads;
  const d = H / heads;
  const scale = 1 / Math.sqrt(d);
  for (const lw of weights.layers) {
    const q = xs.map((x) => linear(x, lw.query));
    const k = xs.map((x) => linear(x, lw.key));
    const v = xs.map((x) => linear(x, lw.value));
    const context = xs.map(() => new Float64Array(H));
    for (let h = 0; h < heads; h++) {
      const off = h * d;
      for (let i = 0; i < S; i++) {
        // Softmax over keys j of q_i·k_j/√d, max-subtracted for stability.
        const scores = new Float64Array(S);
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[i]![off + c]! * k[j]![off + c]!;
          scores[j] = dot * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        let total = 0;
        for (let j = 0; j < S; j++) {
          scores[j] = Math.exp(scores[j]! - max);
          total += scores[j]!;
        }
        const ctx = context[i]!;
        for (let j = 0; j < S; j++) {
          const p = scores[j]! / total;
          for (let c = 0; c < d; c++) ctx[off + c] += p * v[j]![off + c]!;
        }
      }
    }
    xs = xs.map((x, i) => {
      const attended = layerNorm(add(linear(context[i]!, lw.attentionOutput), x), lw.attentionNorm);
      const inner = linear(attended, lw.intermediate).map(gelu);
      return layerNorm(add(linear(inner, lw.output), attended), lw.outputNorm);
    });
  }
  return xs;
}

/** Pools the token vectors of one unpadded sequence (every token is real). */
export function referencePool(tokens: Float64Array[], pooling: PoolingMode): Float64Array {
  if (tokens.length === 0) throw new Error('cannot pool an empty sequence');
  const H = tokens[0]!.length;
  switch (pooling) {
    case 'cls':
      return Float64Array.from(tokens[0]!);
    case 'lasttoken':
      return Float64Array.from(tokens[tokens.length - 1]!);
    case 'mean': {
      const out = new Float64Array(H);
      for (const t of tokens) for (let i = 0; i < H; i++) out[i] += t[i]!;
      return out.map((s) => s / tokens.length);
    }
    case 'max': {
      const out = new Float64Array(H).fill(-Infinity);
      for (const t of tokens) for (let i = 0; i < H; i++) out[i] = Math.max(out[i]!, t[i]!);
      return out;
    }
  }
}

export function l2Normalize(v: Float64Array): Float64Array {
  let ss = 0;
  for (const x of v) ss += x * x;
  const n = Math.max(Math.sqrt(ss), 1e-12);
  return v.map((x) => x / n);
}

/** Sentence vector for one unpadded sequence: forward pass, pooling, optional L2 normalization. */
export function referenceSentenceEmbedding(config: BertConfig, weights: BertWeights, ids: number[], pooling: PoolingMode, normalize: boolean): Float64Array {
  const pooled = referencePool(referenceTokenEmbeddings(config, weights, ids), pooling);
  return normalize ? l2Normalize(pooled) : pooled;
}

// ---------------------------------------------------------------------------------------------
// WordPiece

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const SPECIAL_SPLIT = new RegExp(`(${SPECIALS.map((s) => s.replace(/[[\]]/g, '\\$&')).join('|')})`);

function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  // BERT treats all non-alphanumeric printable ASCII as punctuation, plus Unicode P*.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(ch);
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Splits normal text into BERT "words": whitespace separates, punctuation and CJK stand alone. */
function basicWords(text: string, lowercase: boolean): string[] {
  let s = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd) continue;
    // Control characters are dropped before whitespace is looked at (so \v and \f vanish), except
    // tab/newline/CR which count as whitespace — the order BERT's clean_text uses.
    const isTabOrNewline = ch === '\t' || ch === '\n' || ch === '\r';
    if (!isTabOrNewline && /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u.test(ch)) continue;
    if (/\s/u.test(ch)) s += ' ';
    else if (isCjk(cp)) s += ` ${ch} `;
    else s += ch;
  }
  if (lowercase) s = s.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
  const words: string[] = [];
  let cur = '';
  for (const ch of s) {
    if (ch === ' ') {
      if (cur) words.push(cur);
      cur = '';
    } else if (isPunctuation(ch)) {
      if (cur) words.push(cur);
      words.push(ch);
      cur = '';
    } else cur += ch;
  }
  if (cur) words.push(cur);
  return words;
}

/** Greedy longest-match-first WordPiece of one word; [UNK] when any piece is missing. */
function wordPieces(word: string, index: Map<string, number>, unk: number): number[] {
  const chars = [...word];
  if (chars.length > 100) return [unk];
  const out: number[] = [];
  let start = 0;
  while (start < chars.length) {
    let found: number | undefined;
    let end = chars.length;
    for (; end > start; end--) {
      const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
      found = index.get(piece);
      if (found !== undefined) break;
    }
    if (found === undefined) return [unk];
    out.push(found);
    start = end;
  }
  return out;
}

/**
 * Token ids of `text` as a BERT WordPiece tokenizer would produce them: [CLS] pieces [SEP], cut to
 * `maxLen` ids keeping the final [SEP]. Special-token strings in the text map to their ids.
 */
export function referenceWordPiece(vocab: readonly string[], text: string, maxLen: number, opts: {lowercase?: boolean} = {}): number[] {
  const index = new Map(vocab.map((t, i) => [t, i]));
  const idOf = (t: string): number => {
    const i = index.get(t);
    if (i === undefined) throw new Error(`vocab has no ${t}`);
    return i;
  };
  const unk = idOf('[UNK]');
  const pieces: number[] = [];
  for (const part of text.split(SPECIAL_SPLIT)) {
    if (SPECIALS.includes(part)) pieces.push(idOf(part));
    else for (const w of basicWords(part, opts.lowercase ?? true)) pieces.push(...wordPieces(w, index, unk));
  }
  if (maxLen < 2) throw new Error('maxLen must leave room for [CLS] and [SEP]');
  return [idOf('[CLS]'), ...pieces.slice(0, maxLen - 2), idOf('[SEP]')];
}
