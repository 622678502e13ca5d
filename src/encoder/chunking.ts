/**
 * Long texts embedded whole: the text's tokens are cut into windows that each fit max_seq_length once
 * the tokenizer's special tokens (and the prompt) are around them, every window is embedded as a text
 * of its own, and the window vectors are averaged, each weighted by the number of the text's tokens it
 * holds. The special and prompt tokens are the same in every window, so they say nothing about how
 * much of the text a window covers and are not counted in its weight.
 */
import {EXIT, SbertkitError} from '../errors.js';
import type {SpecialFrame, TextTokenizer, TokenizedText, TokenRun} from './tokenize.js';

/** The windows of one text, ready to batch, and the weight of each. */
export interface TextWindows {
  inputs: TokenizedText[];
  /** The text's own tokens in each window (overlapping tokens count in both windows). */
  weights: number[];
}

export class TextChunker {
  private readonly frame: SpecialFrame;
  private readonly prompt: TokenRun;
  /** Text tokens per window. */
  readonly windowTokens: number;

  /**
   * @param prompt text put in front of every text; each window carries it, so every window is
   *   embedded the way the prompt asks (e.g. as a "passage: ")
   * @param overlap text tokens shared by consecutive windows
   */
  constructor(
    private readonly tokenizer: TextTokenizer,
    prompt: string,
    readonly overlap: number,
  ) {
    this.frame = tokenizer.specialFrame();
    this.prompt = prompt === '' ? {ids: []} : tokenizer.contentTokens(prompt);
    const fixed = this.frame.prefix.ids.length + this.prompt.ids.length + this.frame.suffix.ids.length;
    this.windowTokens = tokenizer.maxLength - fixed;
    const parts = `max_seq_length ${tokenizer.maxLength} minus ${this.frame.prefix.ids.length + this.frame.suffix.ids.length} special tokens${this.prompt.ids.length > 0 ? ` and ${this.prompt.ids.length} prompt tokens` : ''}`;
    if (this.windowTokens < 1) throw new SbertkitError(`a chunk window has no room for text (${parts})`, {exitCode: EXIT.BAD_INPUT});
    if (!Number.isInteger(overlap) || overlap < 0 || overlap >= this.windowTokens) {
      throw new SbertkitError(`chunk overlap must be an integer from 0 to ${this.windowTokens - 1}, less than the ${this.windowTokens} text tokens of a window (${parts}); got ${overlap}`, {
        exitCode: EXIT.BAD_INPUT,
      });
    }
  }

  /** The windows of `text` (without the prompt: each window gets it). */
  windows(text: string): TextWindows {
    const content = this.tokenizer.contentTokens(text);
    const {prefix, suffix} = this.frame;
    const inputs: TokenizedText[] = [];
    const weights: number[] = [];
    for (const [start, end] of tokenWindows(content.ids.length, this.windowTokens, this.overlap)) {
      const ids = [...prefix.ids, ...this.prompt.ids, ...content.ids.slice(start, end), ...suffix.ids];
      const typeIds = prefix.typeIds && [
        ...prefix.typeIds,
        ...(this.prompt.typeIds ?? this.prompt.ids.map(() => 0)),
        ...(content.typeIds?.slice(start, end) ?? new Array<number>(end - start).fill(0)),
        ...(suffix.typeIds ?? []),
      ];
      inputs.push({ids, ...(typeIds ? {typeIds} : {}), truncated: false});
      weights.push(end - start);
    }
    return {inputs, weights};
  }
}

/**
 * [start, end) windows of at most `size` over `length` tokens, each starting `size - overlap` after
 * the previous one, the last ending at `length`. One window [0, length) when it fits (also for 0).
 */
export function tokenWindows(length: number, size: number, overlap: number): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  for (let start = 0; ; start += size - overlap) {
    const end = Math.min(start + size, length);
    windows.push([start, end]);
    if (end >= length) return windows;
  }
}

/** Σ weights[i]·vectors[i] / Σ weights, accumulated in float64 in the given order (so it is reproducible). */
export function weightedMean(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const dim = vectors[0]!.length;
  const acc = new Float64Array(dim);
  let total = 0;
  vectors.forEach((v, i) => {
    const w = weights[i]!;
    total += w;
    for (let d = 0; d < dim; d++) acc[d]! += w * v[d]!;
  });
  const out = new Float32Array(dim);
  for (let d = 0; d < dim; d++) out[d] = acc[d]! / Math.max(total, 1e-12);
  return out;
}
