/**
 * Tokenization with truncation. @huggingface/tokenizers has no padding, truncation or batching, so this
 * module adds truncation (keeping the closing special token, as HF's fast tokenizers do with
 * `truncation=True`) and remembers how many texts were cut, because silent truncation hides data loss.
 * Very long texts are cut before tokenizing (text-prefix.ts), which bounds time, memory and stack.
 * For texts that must be read whole (chunking, counting), contentTokens() tokenizes them in bounded
 * segments cut before words, in the way the tokenizer is seen to reproduce its whole-text tokens.
 */
import {readFileSync} from 'node:fs';
import {Tokenizer} from '@huggingface/tokenizers';
import {EXIT, SbertkitError} from '../errors.js';
import type {ModelSpec} from '../models/spec.js';
import {nextSegment, PREFIX_CHARS_PER_TOKEN, textPrefix} from './text-prefix.js';

export interface TokenizedText {
  ids: number[];
  /** Only when the tokenizer produces them (BERT-style pair models). */
  typeIds?: number[];
  /** True when the text was longer than maxLength and got cut. */
  truncated: boolean;
}

/** Token ids with their type ids, when the tokenizer gives them. */
export interface TokenRun {
  ids: number[];
  typeIds?: number[];
}

/** The special tokens the tokenizer puts around one sequence: [CLS] and [SEP] for BERT, none for some models. */
export interface SpecialFrame {
  prefix: TokenRun;
  suffix: TokenRun;
}

/**
 * Characters per segment when a whole text is tokenized piece by piece: small enough to keep the
 * tokenizer's memory and stack bounded (see text-prefix.ts), large enough that calls stay few.
 */
const SEGMENT_CHARS = 8192;

/** Texts cut before their last word to see how segments must be cut (see segmentsDropSpace). */
const SEGMENT_PROBES = ['hello world', 'one  two three', 'it ends. Then more'];

/** A text that surely holds a few ordinary tokens, to see which special tokens surround them. */
const FRAME_PROBE = 'the frame probe';

export class TextTokenizer {
  readonly padId: number;
  private readonly tokenizer: Tokenizer;
  private readonly specialIds: Set<number>;
  private frame?: SpecialFrame;
  private dropSpace?: boolean;

  constructor(
    private readonly spec: ModelSpec,
    readonly maxLength: number,
  ) {
    let json: Record<string, any>;
    try {
      json = JSON.parse(readFileSync(spec.tokenizerPath, 'utf8'));
    } catch (error) {
      throw new SbertkitError(`cannot read tokenizer: ${(error as Error).message}`, {file: spec.tokenizerPath, exitCode: EXIT.MODEL});
    }
    try {
      this.tokenizer = new Tokenizer(json, spec.tokenizerConfig);
    } catch (error) {
      throw new SbertkitError(`unsupported tokenizer.json: ${(error as Error).message.split('\n')[0]}`, {file: spec.tokenizerPath, exitCode: EXIT.MODEL});
    }
    this.specialIds = new Set(
      ((json.added_tokens ?? []) as Array<{id: number; special?: boolean}>).filter((t) => t.special).map((t) => t.id),
    );
    this.padId = resolvePadId(json, spec.tokenizerConfig, this.tokenizer);
  }

  /**
   * Tokens of `text`, cut to maxLength. Long texts are tokenized from a bounded prefix (text-prefix.ts),
   * grown while it yields no more tokens than the limit, so a text that fits is never changed by the cut;
   * a text still cut after the largest prefix is counted as truncated, since part of it was dropped.
   */
  tokenize(text: string): TokenizedText {
    let tokens: TokenizedText | undefined;
    for (const charsPerToken of PREFIX_CHARS_PER_TOKEN) {
      const prefix = textPrefix(text, this.maxLength * charsPerToken);
      if (prefix === text) return this.encode(text);
      tokens = this.encode(prefix);
      // More tokens than the limit: the kept ones are those of the whole text.
      if (tokens.truncated) return tokens;
    }
    return {...tokens!, truncated: true};
  }

  /**
   * Every token of `text`, without special tokens. The text is tokenized in segments cut before a word
   * (text-prefix.ts nextSegment), in the way this tokenizer was seen to reproduce its whole-text tokens,
   * so a 10 MB text costs its ids, not the tokenizer's per-token objects for all of it at once.
   */
  contentTokens(text: string): TokenRun {
    const ids: number[] = [];
    const typeIds: number[] = [];
    const dropSpace = this.segmentsDropSpace();
    // Type ids only when every segment has them (the tokenizer gives them for pairs, not single texts).
    let withTypes = text.length > 0;
    for (let from = 0; from < text.length; ) {
      const {end, next} = nextSegment(text, from, SEGMENT_CHARS, dropSpace);
      const encoding = this.encodeContent(text.slice(from, end));
      for (const id of encoding.ids) ids.push(id);
      if (encoding.token_type_ids) for (const t of encoding.token_type_ids) typeIds.push(t);
      else withTypes = false;
      from = next;
    }
    return withTypes ? {ids, typeIds} : {ids};
  }

  /**
   * Whether segments must drop the space before their first word: checked once on probe texts cut
   * before their last word, keeping the space first (right for BERT and byte-level BPE), then dropping
   * it (right when the normalizer prepends "▁" to every input, as the built-in model's does).
   */
  private segmentsDropSpace(): boolean {
    if (this.dropSpace !== undefined) return this.dropSpace;
    const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((id, i) => id === b[i]);
    const cutsCleanly = (drop: boolean): boolean =>
      SEGMENT_PROBES.every((probe) => {
        const p = probe.lastIndexOf(' ');
        const pieces = [...this.encodeContent(probe.slice(0, p)).ids, ...this.encodeContent(probe.slice(drop ? p + 1 : p)).ids];
        return same(pieces, this.encodeContent(probe).ids);
      });
    // Neither reproducing the probes would leave small differences at the cuts; keeping the space is the common case.
    this.dropSpace = !cutsCleanly(false) && cutsCleanly(true);
    return this.dropSpace;
  }

  private encodeContent(text: string): {ids: number[]; token_type_ids?: number[]} {
    return this.tokenizer.encode(this.spec.doLowerCase ? text.toLowerCase() : text, {add_special_tokens: false});
  }

  /** Every token of `text` with its special tokens, not cut; `truncated` says whether it is over maxLength. */
  tokenizeWhole(text: string): TokenizedText {
    const {prefix, suffix} = this.specialFrame();
    const content = this.contentTokens(text);
    const ids = [...prefix.ids, ...content.ids, ...suffix.ids];
    const typeIds = prefix.typeIds && [...prefix.typeIds, ...(content.typeIds ?? content.ids.map(() => 0)), ...(suffix.typeIds ?? [])];
    return {ids, ...(typeIds ? {typeIds} : {}), truncated: ids.length > this.maxLength};
  }

  /**
   * The special tokens around a single sequence, read off the tokenizer itself (a probe encoded with
   * and without them) rather than its post-processor's JSON, so every post-processor type works.
   */
  specialFrame(): SpecialFrame {
    if (this.frame) return this.frame;
    const input = this.spec.doLowerCase ? FRAME_PROBE.toLowerCase() : FRAME_PROBE;
    const full = this.tokenizer.encode(input, {add_special_tokens: true});
    const content = this.tokenizer.encode(input, {add_special_tokens: false}).ids;
    const at = content.length === 0 ? -1 : findRun(full.ids, content);
    if (at < 0) {
      throw new SbertkitError('cannot tell which special tokens the tokenizer adds around a text (its tokens of a probe text are not among those with special tokens)', {
        file: this.spec.tokenizerPath,
        exitCode: EXIT.MODEL,
      });
    }
    const end = at + content.length;
    const types = full.token_type_ids;
    this.frame = {
      prefix: {ids: full.ids.slice(0, at), ...(types ? {typeIds: types.slice(0, at)} : {})},
      suffix: {ids: full.ids.slice(end), ...(types ? {typeIds: types.slice(end)} : {})},
    };
    return this.frame;
  }

  /** Tokenizes and truncates to maxLength. */
  private encode(text: string): TokenizedText {
    const input = this.spec.doLowerCase ? text.toLowerCase() : text;
    const encoding = this.tokenizer.encode(input, {add_special_tokens: true});
    let ids = encoding.ids;
    let typeIds = encoding.token_type_ids;
    const truncated = ids.length > this.maxLength;
    if (truncated) {
      const last = ids[ids.length - 1]!;
      // Keep the closing special token ([SEP], </s>) so the model still sees a well-formed sequence.
      const keepLast = this.specialIds.has(last) && this.maxLength > 1;
      ids = keepLast ? [...ids.slice(0, this.maxLength - 1), last] : ids.slice(0, this.maxLength);
      if (typeIds) typeIds = keepLast ? [...typeIds.slice(0, this.maxLength - 1), typeIds[typeIds.length - 1]!] : typeIds.slice(0, this.maxLength);
    }
    return {ids, typeIds, truncated};
  }
}

/** First index at which `run` occurs in `ids`, or -1. */
function findRun(ids: readonly number[], run: readonly number[]): number {
  for (let at = 0; at + run.length <= ids.length; at++) {
    if (run.every((id, k) => ids[at + k] === id)) return at;
  }
  return -1;
}

function resolvePadId(json: Record<string, any>, config: Record<string, unknown>, tokenizer: Tokenizer): number {
  if (typeof json.padding?.pad_id === 'number') return json.padding.pad_id;
  const padToken = config.pad_token;
  const name = typeof padToken === 'string' ? padToken : (padToken as {content?: string} | undefined)?.content;
  const id = name === undefined ? undefined : tokenizer.token_to_id(name);
  // Padded positions are masked out, so any valid id works when the model declares no pad token.
  return id ?? 0;
}
