/**
 * Tokenization with truncation. @huggingface/tokenizers has no padding, truncation or batching, so this
 * module adds truncation (keeping the closing special token, as HF's fast tokenizers do with
 * `truncation=True`) and remembers how many texts were cut, because silent truncation hides data loss.
 * Very long texts are cut before tokenizing (text-prefix.ts), which bounds time, memory and stack.
 */
import {readFileSync} from 'node:fs';
import {Tokenizer} from '@huggingface/tokenizers';
import {EXIT, SbertkitError} from '../errors.js';
import type {ModelSpec} from '../models/spec.js';
import {PREFIX_CHARS_PER_TOKEN, textPrefix} from './text-prefix.js';

export interface TokenizedText {
  ids: number[];
  /** Only when the tokenizer produces them (BERT-style pair models). */
  typeIds?: number[];
  /** True when the text was longer than maxLength and got cut. */
  truncated: boolean;
}

export class TextTokenizer {
  readonly padId: number;
  private readonly tokenizer: Tokenizer;
  private readonly specialIds: Set<number>;

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

function resolvePadId(json: Record<string, any>, config: Record<string, unknown>, tokenizer: Tokenizer): number {
  if (typeof json.padding?.pad_id === 'number') return json.padding.pad_id;
  const padToken = config.pad_token;
  const name = typeof padToken === 'string' ? padToken : (padToken as {content?: string} | undefined)?.content;
  const id = name === undefined ? undefined : tokenizer.token_to_id(name);
  // Padded positions are masked out, so any valid id works when the model declares no pad token.
  return id ?? 0;
}
