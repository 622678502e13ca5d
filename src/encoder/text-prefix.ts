/**
 * Bounded tokenizer input for very long texts. @huggingface/tokenizers materializes every token of a
 * text (ids, strings, offsets) before we truncate, so one 10 MB line costs gigabytes and half a minute,
 * and a 600 KB line overflows the stack in a Unigram model without a pre-tokenizer (the built-in one).
 * Only the first max_seq_length tokens are kept anyway, so the tokenizer is given a prefix of the text.
 *
 * The prefix ends where a whitespace run starts. Every tokenizer sbertkit loads splits words at
 * whitespace (BERT and Whitespace pre-tokenizers, Metaspace, byte-level BPE's regex, Unigram pieces
 * that carry their "▁" only in front), and normalizers work within words, so the tokens of such a
 * prefix are exactly the first tokens of the whole text: once the prefix yields more tokens than the
 * limit, the kept tokens are the ones the whole text would have given.
 */

/**
 * Characters per token allowed for the prefix, tried in turn. English averages ~4.5 characters per
 * token and CJK 1-2, so the first try nearly always yields enough tokens; texts padded with long
 * whitespace runs or unknown characters get larger prefixes, up to a bound that keeps the tokenizer
 * fast and its stack safe (the Unigram overflow starts near 100k tokens from one piece of text).
 */
export const PREFIX_CHARS_PER_TOKEN = [16, 64, 256] as const;

const isSpace = (code: number): boolean => code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x3000 || code === 0x2028 || code === 0x2029;

/**
 * The first at most `maxChars` UTF-16 units of `text`, ending just before a whitespace run that starts
 * in the second half of that window: preferably a plain space, the one separator every pre-tokenizer
 * honours (Metaspace models treat tabs and newlines as characters), else any whitespace. Without one
 * (a giant word), a hard cut that never splits a surrogate pair. Returns `text` when short enough.
 */
export function textPrefix(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  for (const separator of [(code: number) => code === 0x20, isSpace]) {
    for (let end = maxChars; end > maxChars / 2; end--) {
      if (separator(text.charCodeAt(end)) && !isSpace(text.charCodeAt(end - 1))) return text.slice(0, end);
    }
  }
  const high = text.charCodeAt(maxChars - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? maxChars - 1 : maxChars);
}

/**
 * Where the segment of `text` starting at `from` ends (`end`) and the next begins (`next`), for
 * tokenizing a whole text piece by piece. Segments are at most `maxChars` long and preferably end at a
 * plain space that comes just before a word, in the second half of the window: there every tokenizer
 * starts a new word. Whether that space belongs to the next segment or is dropped depends on the
 * tokenizer: byte-level BPE marks it on the word ("Ġword"), while a normalizer that prepends "▁" to
 * every input would mark it twice unless the space is dropped (`dropSpace`). Without such a space, any
 * whitespace before a word, else a hard cut that never splits a surrogate pair (the rare cut where
 * tokens may differ from the whole text's).
 */
export function nextSegment(text: string, from: number, maxChars: number, dropSpace: boolean): {end: number; next: number} {
  if (text.length - from <= maxChars) return {end: text.length, next: text.length};
  const last = from + maxChars;
  const lowest = from + Math.ceil(maxChars / 2);
  for (let p = last; p > lowest; p--) {
    if (text.charCodeAt(p) === 0x20 && !isSpace(text.charCodeAt(p + 1))) return {end: p, next: dropSpace ? p + 1 : p};
  }
  for (let p = last; p > lowest; p--) {
    if (isSpace(text.charCodeAt(p)) && !isSpace(text.charCodeAt(p + 1))) return {end: p, next: p};
  }
  const high = text.charCodeAt(last - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? last - 1 : last;
  return {end, next: end};
}
