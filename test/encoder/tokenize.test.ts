/**
 * Long texts are tokenized from a bounded prefix (src/encoder/text-prefix.ts). Checked against the
 * independent reference WordPiece on the WHOLE text: the kept ids never change, whatever the length
 * and spacing, and every text that loses content is counted as truncated.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {Tokenizer} from '@huggingface/tokenizers';
import {readFileSync} from 'node:fs';
import {nextSegment, PREFIX_CHARS_PER_TOKEN, textPrefix} from '../../src/encoder/text-prefix.js';
import {ensureBuiltinModel} from '../../src/models/builtin/index.js';
import {TextTokenizer} from '../../src/encoder/tokenize.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import {DEFAULT_WORDS, TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {mulberry32} from '../helpers/prng.js';
import {referenceWordPiece} from '../helpers/reference-bert.js';
import {tempDir} from '../helpers/tmp.js';

const MAX_SEQ = 20;
/** Characters beyond which even the largest prefix cuts a text. */
const LARGEST_PREFIX = MAX_SEQ * PREFIX_CHARS_PER_TOKEN[PREFIX_CHARS_PER_TOKEN.length - 1]!;

let tokenizer: TextTokenizer;
let vocab: string[];

before(async () => {
  const folder = await writeBertModelFolder(join(await tempDir(), 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ});
  vocab = folder.vocab;
  tokenizer = new TextTokenizer(readModelSpec(folder.dir), MAX_SEQ);
});

/** Words (some capitalized, some with punctuation, some unknown) joined by separators from `gap`. */
function wordsText(rand: () => number, count: number, gap: () => string): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const words = Array.from({length: count}, () => {
    let w = pick(DEFAULT_WORDS);
    if (rand() < 0.2) w = w[0]!.toUpperCase() + w.slice(1);
    if (rand() < 0.15) w += pick([',', '.', '!', '?!', "'s", '-']);
    if (rand() < 0.05) w = pick(['Zürich', 'naïve', '🙂', '日本', 'x'.repeat(120)]);
    return w;
  });
  return words.map((w, i) => (i === 0 ? w : gap() + w)).join('');
}

/** Whole-text reference: ids cut to MAX_SEQ, and whether the whole text has more tokens than that. */
function expected(text: string): {ids: number[]; truncated: boolean} {
  return {ids: referenceWordPiece(vocab, text, MAX_SEQ), truncated: referenceWordPiece(vocab, text, 1e9).length > MAX_SEQ};
}

function ours(text: string): {ids: number[]; truncated: boolean} {
  const {ids, truncated} = tokenizer.tokenize(text);
  return {ids, truncated};
}

describe('TextTokenizer on long texts', () => {
  test('ids equal the whole-text reference and truncation is counted, across every prefix size', () => {
    const rand = mulberry32(42);
    const gaps = [' ', ' ', ' ', '  ', '\t', '\n', ' \n\t '];
    // From under the first prefix (320 chars) to far over the largest (5120).
    for (const count of [10, 40, 70, 150, 400, 1200, 4000, 12000]) {
      for (let k = 0; k < 3; k++) {
        const text = wordsText(rand, count, () => gaps[Math.floor(rand() * gaps.length)]!);
        assert.deepEqual(ours(text), expected(text), `${count} words, ${text.length} chars`);
      }
    }
  });

  test('a text that fits is never cut, even with long whitespace runs (the prefix grows)', () => {
    const rand = mulberry32(7);
    let checked = 0;
    while (checked < 10) {
      // 4-12 words, 40-300 blanks between: far more than 16 characters per token.
      const text = wordsText(rand, 4 + Math.floor(rand() * 9), () => ' '.repeat(40 + Math.floor(rand() * 260)));
      const want = expected(text);
      if (want.truncated || text.length <= MAX_SEQ * PREFIX_CHARS_PER_TOKEN[0]) continue;
      assert.ok(text.length <= LARGEST_PREFIX, `${text.length} chars`);
      assert.deepEqual(ours(text), want);
      checked++;
    }
  });

  test('a sparse text over the limit keeps the whole text\'s first tokens', () => {
    const rand = mulberry32(8);
    for (let k = 0; k < 10; k++) {
      const text = wordsText(rand, 30 + Math.floor(rand() * 40), () => ' '.repeat(50 + Math.floor(rand() * 100)));
      const want = expected(text);
      assert.equal(want.truncated, true);
      assert.deepEqual(ours(text), want);
    }
  });

  test('text beyond the largest prefix is dropped and the text counted as truncated', () => {
    // Whitespace only after the first word: the whole text has 4 ids, but 'dog' lies past the largest prefix.
    const sparse = `cat${' '.repeat(LARGEST_PREFIX)}dog`;
    assert.deepEqual(expected(sparse), {ids: referenceWordPiece(vocab, 'cat dog', MAX_SEQ), truncated: false});
    assert.deepEqual(ours(sparse), {ids: referenceWordPiece(vocab, 'cat', MAX_SEQ), truncated: true});
    // One giant word: [UNK] either way (WordPiece gives up past 100 characters), and counted.
    const giant = 'x'.repeat(200_000);
    assert.deepEqual(ours(giant), {ids: expected(giant).ids, truncated: true});
  });
});

describe('textPrefix', () => {
  const isBlank = (ch: string | undefined) => ch !== undefined && /\s/.test(ch);

  test('short texts come back unchanged', () => {
    assert.equal(textPrefix('the cat sat', 11), 'the cat sat');
    assert.equal(textPrefix('', 0), '');
  });

  test('cuts just before a whitespace run that starts in the second half of the window', () => {
    const rand = mulberry32(3);
    for (let k = 0; k < 200; k++) {
      const text = wordsText(rand, 200, () => [' ', '   ', '\t', '\n \n'][Math.floor(rand() * 4)]!);
      // At least 300: the longest generated word (122 characters) cannot fill half the window.
      const max = 300 + Math.floor(rand() * 600);
      const cut = textPrefix(text, max);
      assert.ok(text.startsWith(cut));
      assert.ok(cut.length <= max && cut.length > max / 2, `${cut.length} of ${max}`);
      assert.ok(isBlank(text[cut.length]) && !isBlank(text[cut.length - 1]), JSON.stringify(text.slice(cut.length - 3, cut.length + 3)));
    }
  });

  test('prefers a plain space to a tab or newline, and the latest one of each kind', () => {
    assert.equal(textPrefix('aaaa bbbb\tcccc dddd', 16), 'aaaa bbbb\tcccc');
    assert.equal(textPrefix('aaaa\nbbbb\tccccdddd', 16), 'aaaa\nbbbb');
  });

  test('no whitespace: a hard cut that never splits a surrogate pair', () => {
    assert.equal(textPrefix('abcdefghij', 4), 'abcd');
    const emoji = '🙂'.repeat(50);
    assert.equal(textPrefix(emoji, 9), '🙂'.repeat(4));
    assert.equal(textPrefix(emoji, 10), '🙂'.repeat(5));
    // Whitespace only in the first half of the window does not count.
    assert.equal(textPrefix('a bcdefghijklmnop', 10), 'a bcdefghi');
  });
});

describe('TextTokenizer on whole texts (chunking, counting)', () => {
  test('contentTokens gives every token of the whole text, without [CLS]/[SEP], across segment cuts', () => {
    const rand = mulberry32(99);
    const gaps = [' ', ' ', '  ', '\t', '\n', ' \n\t '];
    // Up to ~200k characters: many 8192-character segments, each cut at a whitespace run.
    for (const count of [0, 1, 7, 300, 3000, 30000]) {
      const text = wordsText(rand, count, () => gaps[Math.floor(rand() * gaps.length)]!);
      const want = referenceWordPiece(vocab, text, 1e9).slice(1, -1);
      const got = tokenizer.contentTokens(text);
      assert.deepEqual(got.ids, want, `${count} words, ${text.length} chars`);
      // @huggingface/tokenizers gives no type ids for a single text (the batch input fills zeros).
      assert.equal(got.typeIds, undefined);
    }
    // The text the prefix reading drops: words beyond the largest prefix still count here.
    const sparse = `cat${' '.repeat(LARGEST_PREFIX)}dog`;
    assert.deepEqual(tokenizer.contentTokens(sparse).ids, referenceWordPiece(vocab, 'cat dog', 1e9).slice(1, -1));
  });

  test('specialFrame is [CLS] before and [SEP] after; tokenizeWhole is the uncut reference', () => {
    const [cls, sep] = referenceWordPiece(vocab, '', 2);
    assert.deepEqual(tokenizer.specialFrame(), {prefix: {ids: [cls]}, suffix: {ids: [sep]}});
    const text = wordsText(mulberry32(5), 200, () => ' ');
    const whole = tokenizer.tokenizeWhole(text);
    assert.deepEqual(whole.ids, referenceWordPiece(vocab, text, 1e9));
    assert.equal(whole.truncated, true);
    assert.deepEqual(tokenizer.tokenizeWhole('the cat'), {ids: referenceWordPiece(vocab, 'the cat', MAX_SEQ), truncated: false});
  });
});

describe('whole texts with the built-in model (a normalizer that prepends "▁" to every input)', () => {
  test('contentTokens equals the tokenizer on the whole text: segments drop the space the next one gets back', async () => {
    const {dir} = await ensureBuiltinModel('builtin:use-lite', {cacheDir: await tempDir()});
    const spec = readModelSpec(dir);
    const ours = new TextTokenizer(spec, spec.maxSeqLength);
    const library = new Tokenizer(JSON.parse(readFileSync(spec.tokenizerPath, 'utf8')), spec.tokenizerConfig);
    const rand = mulberry32(3);
    const gaps = [' ', ' ', ' ', '  ', ' \t', '\n ', '   '];
    // ~60k characters: the whole-text reference stays under the Unigram stack limit, and about a dozen segments are cut.
    const text = wordsText(rand, 9000, () => gaps[Math.floor(rand() * gaps.length)]!);
    assert.ok(text.length > 50_000, `${text.length} chars`);
    assert.deepEqual(ours.contentTokens(text).ids, library.encode(text, {add_special_tokens: false}).ids);
    assert.deepEqual(ours.specialFrame(), {prefix: {ids: []}, suffix: {ids: []}});
  });
});

describe('nextSegment', () => {
  test('ends at a plain space before a word in the second half; keeps or drops that space; else whitespace, else a hard cut', () => {
    const text = 'aaaa bbbb\tcccc  dddd';
    assert.deepEqual(nextSegment(text, 0, 100, false), {end: text.length, next: text.length});
    // Window [0, 16]: the plain space before 'dddd' is at 15.
    assert.deepEqual(nextSegment(text, 0, 16, false), {end: 15, next: 15});
    assert.deepEqual(nextSegment(text, 0, 16, true), {end: 15, next: 16});
    // Window [0, 12]: only a tab before a word (at 9): kept whatever the tokenizer.
    assert.deepEqual(nextSegment(text, 0, 12, true), {end: 9, next: 9});
    // No whitespace in the second half: a hard cut, never inside a surrogate pair.
    assert.deepEqual(nextSegment('x'.repeat(30), 0, 10, true), {end: 10, next: 10});
    assert.deepEqual(nextSegment(`${'x'.repeat(9)}🙂${'x'.repeat(20)}`, 0, 10, false), {end: 9, next: 9});
    assert.deepEqual(nextSegment(text, 5, 11, false), {end: 15, next: 15});
  });
});
