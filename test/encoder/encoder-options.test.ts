/**
 * The encoder options that change what is embedded: truncateDim (Matryoshka), prompts, and the three
 * ways of handling texts longer than max_seq_length. Expected vectors come from a full-dimension run
 * cut in the test, from the literal prompt + text, and from the independent forward pass over token
 * windows (test/helpers/reference-chunks.ts), averaged by the weights the README promises.
 */
import assert from 'node:assert/strict';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {Encoder} from '../../src/encoder/encoder.js';
import {TextOverflowError} from '../../src/encoder/overflow-error.js';
import type {EncodeStats, EncoderOptions} from '../../src/encoder/types.js';
import {SbertkitError} from '../../src/errors.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import type {PoolingMode} from '../../src/models/spec.js';
import {makeBertWeights, TINY_BERT, writeBertModelFolder, type BertFolderOptions} from '../helpers/bert-fixture.js';
import {collect, tempDir} from '../helpers/tmp.js';
import {l2Normalize, referenceWordPiece} from '../helpers/reference-bert.js';
import {referenceChunked as referenceChunkedText, referenceOfIds} from '../helpers/reference-chunks.js';
import {cosine, maxAbsDiff} from '../helpers/vector-math.js';

const MAX_SEQ = 16;
const weights = makeBertWeights(TINY_BERT);
let root: string;
let vocab: string[];

const SHORT = ['The cat sat on the mat.', 'a dog runs in the park', '', 'where is the house?', 'I'];
/** Each far over MAX_SEQ tokens, of different lengths (so they make different numbers of windows). */
const LONG = [
  'this sentence is deliberately long so that it will be cut off by the truncation limit of the model, because it keeps going and going well past it',
  'another long one: the quick brown fox jumps over the lazy dog while the people in the house watch it and laugh about it all day long',
  'we walked home after the game, tired but happy, and then we cooked dinner, read a book, listened to music and went to sleep early',
  'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen',
];

async function folder(name: string, opts: Partial<BertFolderOptions> = {}, stConfig?: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  const written = await writeBertModelFolder(dir, {config: TINY_BERT, weights, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ, ...opts});
  if (stConfig !== undefined) await writeFile(join(dir, 'config_sentence_transformers.json'), JSON.stringify(stConfig));
  vocab = written.vocab;
  return dir;
}

async function embed(dir: string, texts: string[], options: EncoderOptions = {}): Promise<{vectors: Float32Array[]; stats: EncodeStats; dimension: number}> {
  const encoder = await Encoder.load(readModelSpec(dir), options);
  try {
    const {vectors, stats} = await encoder.embed(texts);
    return {vectors: vectors.toRows(), stats, dimension: encoder.dimension};
  } finally {
    await encoder.close();
  }
}

function unit(v: ArrayLike<number>): Float64Array {
  return l2Normalize(Float64Array.from(v));
}

/** The reference vector of one token sequence (every id real, type ids 0). */
function referenceOf(ids: number[], pooling: PoolingMode, normalize: boolean): Float64Array {
  return referenceOfIds({config: TINY_BERT, weights, vocab, pooling, normalize, maxSeqLength: MAX_SEQ}, ids);
}

function referenceChunked(text: string, opts: {overlap: number; pooling: PoolingMode; normalize: boolean; prompt?: string}): Float64Array {
  return referenceChunkedText({config: TINY_BERT, weights, vocab, pooling: opts.pooling, normalize: opts.normalize, maxSeqLength: MAX_SEQ}, text, opts);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, label);
  assert.ok(maxAbsDiff(actual, expected) <= tolerance, `${label}: max |diff| ${maxAbsDiff(actual, expected)}`);
  assert.ok(cosine(actual, expected) >= 0.99999, `${label}: cosine ${cosine(actual, expected)}`);
}

before(async () => {
  root = await tempDir();
});

describe('truncateDim (Matryoshka)', () => {
  test('equals the first N dimensions of the full vector, re-normalized when normalizing', async () => {
    const dir = await folder('normalized');
    const texts = [...SHORT, ...LONG];
    const full = await embed(dir, texts);
    for (const n of [1, 8, 31, 32]) {
      const cut = await embed(dir, texts, {truncateDim: n});
      assert.equal(cut.dimension, n);
      cut.vectors.forEach((v, i) => {
        assertClose(v, unit(full.vectors[i]!.slice(0, n)), `dim ${n}, text ${i}`, 1e-5);
        assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, `unit length at dim ${n}`);
      });
    }
  });

  test('without normalization the first N dimensions are kept as they are', async () => {
    const dir = await folder('plain', {normalize: false});
    const full = await embed(dir, SHORT);
    const cut = await embed(dir, SHORT, {truncateDim: 12});
    cut.vectors.forEach((v, i) => assertClose(v, full.vectors[i]!.slice(0, 12), `text ${i}`, 1e-5));
  });

  test('more dimensions than the model has is one usage error (exit 2)', async () => {
    const dir = await folder('too-many');
    await assert.rejects(
      Encoder.load(readModelSpec(dir), {truncateDim: TINY_BERT.hidden + 1}),
      (e: unknown) => e instanceof SbertkitError && e.exitCode === 2 && e.message === `truncate_dim 33 is more than the 32 dimensions of ${dir}`,
    );
  });
});

describe('prompts', () => {
  const PROMPTS = {query: 'query: ', passage: 'passage: '};

  test('a prompt gives the vector of the literal prompt + text, also when it pushes the text over max_seq_length', async () => {
    const dir = await folder('prompt');
    const texts = [...SHORT, ...LONG];
    const prompted = await embed(dir, texts, {prompt: 'search query: '});
    const literal = await embed(dir, texts.map((t) => `search query: ${t}`));
    prompted.vectors.forEach((v, i) => assertClose(v, literal.vectors[i]!, `text ${i}`, 1e-6));
    assert.deepEqual(prompted.stats, literal.stats);
    // Prompt tokens count toward max_seq_length: this text fits alone, not after the prompt.
    const fits = 'the cat and the dog play in the park';
    assert.ok(referenceWordPiece(vocab, fits, 1e9).length <= MAX_SEQ);
    assert.ok(referenceWordPiece(vocab, `search query: ${fits}`, 1e9).length > MAX_SEQ);
    const cut = await embed(dir, [fits], {prompt: 'search query: '});
    assert.equal(cut.stats.truncated, 1);
    assertClose(cut.vectors[0]!, referenceOf(referenceWordPiece(vocab, `search query: ${fits}`, MAX_SEQ), 'mean', true), 'truncated with its prompt');
  });

  test("the model's default_prompt_name is used when no prompt is given, not when the prompt is '' (as sentence-transformers does)", async () => {
    const dir = await folder('default-prompt', {}, {prompts: PROMPTS, default_prompt_name: 'query'});
    const bare = await folder('no-default', {}, {prompts: PROMPTS});
    const byDefault = await embed(dir, SHORT);
    const literal = await embed(bare, SHORT.map((t) => `query: ${t}`));
    byDefault.vectors.forEach((v, i) => assertClose(v, literal.vectors[i]!, `default, text ${i}`, 1e-6));
    const off = await embed(dir, SHORT, {prompt: ''});
    const plain = await embed(bare, SHORT);
    off.vectors.forEach((v, i) => assertClose(v, plain.vectors[i]!, `prompt '', text ${i}`, 1e-6));
    const named = await embed(dir, SHORT, {promptName: 'passage'});
    const passage = await embed(bare, SHORT.map((t) => `passage: ${t}`));
    named.vectors.forEach((v, i) => assertClose(v, passage.vectors[i]!, `passage, text ${i}`, 1e-6));
  });

  test('the encoder reports the prompt it uses and its name', async () => {
    const dir = await folder('report', {}, {prompts: PROMPTS, default_prompt_name: 'passage'});
    const cases: Array<[EncoderOptions, {text: string; name?: string}]> = [
      [{}, {text: 'passage: ', name: 'passage'}],
      [{promptName: 'query'}, {text: 'query: ', name: 'query'}],
      [{prompt: 'q '}, {text: 'q '}],
      [{prompt: ''}, {text: ''}],
    ];
    for (const [options, expected] of cases) {
      const encoder = await Encoder.load(readModelSpec(dir), {...options, threads: 1});
      assert.deepEqual(encoder.prompt, expected);
      await encoder.close();
    }
  });

  test('an unknown prompt name lists the names there are; a prompt and a name at once is refused (exit 2)', async () => {
    const dir = await folder('unknown', {}, {prompts: PROMPTS});
    await assert.rejects(
      Encoder.load(readModelSpec(dir), {promptName: 'document'}),
      (e: unknown) => e instanceof SbertkitError && e.exitCode === 2 && e.message === `unknown prompt name 'document' for ${dir}: its prompts are query, passage`,
    );
    const none = await folder('no-prompts');
    await assert.rejects(Encoder.load(readModelSpec(none), {promptName: 'query'}), (e: unknown) => e instanceof SbertkitError && e.exitCode === 2 && /defines no prompts/.test(e.message));
    await assert.rejects(Encoder.load(readModelSpec(dir), {prompt: 'x', promptName: 'query'}), (e: unknown) => e instanceof SbertkitError && e.exitCode === 2);
  });

  test('a Pooling module that leaves the prompt out (include_prompt false) refuses a prompt instead of pooling it in', async () => {
    const dir = await folder('exclude-prompt', {}, {prompts: PROMPTS, default_prompt_name: 'query'});
    const poolingPath = join(dir, '1_Pooling', 'config.json');
    await writeFile(poolingPath, JSON.stringify({word_embedding_dimension: TINY_BERT.hidden, pooling_mode_mean_tokens: true, include_prompt: false}));
    await assert.rejects(Encoder.load(readModelSpec(dir)), (e: unknown) => e instanceof SbertkitError && e.exitCode === 3 && /include_prompt false/.test(e.message));
    // Without a prompt the model is usable.
    const {vectors} = await embed(dir, ['the cat'], {prompt: ''});
    assertClose(vectors[0]!, referenceOf(referenceWordPiece(vocab, 'the cat', MAX_SEQ), 'mean', true), 'no prompt');
  });
});

describe("onOverflow 'chunk'", () => {
  for (const [pooling, normalize, overlap] of [['mean', true, 0], ['mean', true, 5], ['cls', false, 3], ['max', true, 13]] as const) {
    test(`${pooling} pooling, ${normalize ? '' : 'not '}normalized, overlap ${overlap}: the token-weighted mean of the windows' reference vectors`, async () => {
      const dir = await folder(`chunk-${pooling}-${normalize}-${overlap}`, {pooling, normalize});
      const texts = [...LONG, ...SHORT];
      const {vectors, stats} = await embed(dir, texts, {onOverflow: 'chunk', chunkOverlap: overlap});
      assert.equal(stats.chunked, LONG.length);
      assert.equal(stats.truncated, 0);
      assert.equal(vectors.length, texts.length);
      texts.forEach((text, i) => {
        const expected = i < LONG.length ? referenceChunked(text, {overlap, pooling, normalize}) : referenceOf(referenceWordPiece(vocab, text, MAX_SEQ), pooling, normalize);
        assertClose(vectors[i]!, expected, `text ${i}`);
      });
    });
  }

  test('with a prompt, every window carries it', async () => {
    const dir = await folder('chunk-prompt');
    const {vectors, stats} = await embed(dir, LONG, {onOverflow: 'chunk', chunkOverlap: 2, prompt: 'query: '});
    assert.equal(stats.chunked, LONG.length);
    LONG.forEach((text, i) => assertClose(vectors[i]!, referenceChunked(text, {overlap: 2, pooling: 'mean', normalize: true, prompt: 'query: '}), `text ${i}`));
  });

  test('then truncateDim: the chunked vector cut to N dimensions and re-normalized', async () => {
    const dir = await folder('chunk-dim');
    const full = await embed(dir, LONG, {onOverflow: 'chunk', chunkOverlap: 4});
    const cut = await embed(dir, LONG, {onOverflow: 'chunk', chunkOverlap: 4, truncateDim: 10});
    cut.vectors.forEach((v, i) => assertClose(v, unit(full.vectors[i]!.slice(0, 10)), `text ${i}`, 1e-5));
  });

  test('stats count every window token the model ran on', async () => {
    const dir = await folder('chunk-stats');
    const overlap = 3;
    const {stats} = await embed(dir, [LONG[0]!, 'the cat'], {onOverflow: 'chunk', chunkOverlap: overlap});
    const pieces = referenceWordPiece(vocab, LONG[0]!, 1e9).length - 2;
    const size = MAX_SEQ - 2;
    const windows = 1 + Math.ceil((pieces - size) / (size - overlap));
    // Every window adds [CLS] and [SEP]; the overlapping tokens are run twice.
    assert.deepEqual(stats, {rows: 2, tokens: pieces + (windows - 1) * overlap + 2 * windows + 4, truncated: 0, chunked: 1});
  });

  test('the same vectors whatever the batch size, token budget, window size and thread count (max |diff| <= 1e-5)', async () => {
    const dir = await folder('chunk-invariance');
    // Three rounds, so a batch size of 1 plans the window in stages (8 inputs, then 16, the rest).
    const texts = [1, 2, 3].flatMap((round) => [...LONG, ...SHORT, ...LONG.map((t) => `${t} ${t}`)].map((t) => `${t} ${round}`));
    const base = await embed(dir, texts, {onOverflow: 'chunk', chunkOverlap: 4, threads: 1, batchSize: 64});
    for (const options of [{batchSize: 1}, {batchSize: 1, threads: 2}, {batchSize: 3, threads: 2}, {maxTokens: 40, windowSize: 2, threads: 2}, {windowSize: 1, threads: 1}]) {
      const other = await embed(dir, texts, {onOverflow: 'chunk', chunkOverlap: 4, ...options});
      other.vectors.forEach((v, i) => assert.ok(maxAbsDiff(v, base.vectors[i]!) <= 1e-5, `${JSON.stringify(options)} text ${i}: ${maxAbsDiff(v, base.vectors[i]!)}`));
      assert.deepEqual(other.stats, base.stats);
    }
  });

  test('progress counts rows, each once, when its last window is done', async () => {
    const dir = await folder('chunk-progress');
    const encoder = await Encoder.load(readModelSpec(dir), {onOverflow: 'chunk', batchSize: 2, threads: 2});
    try {
      let done = 0;
      const chunks = await collect(encoder.embedStream([...LONG, ...SHORT].map((text) => ({text})), {onBatch: (rows) => (done += rows)}));
      assert.equal(done, LONG.length + SHORT.length);
      assert.equal(chunks.reduce((n, c) => n + c.records.length, 0), LONG.length + SHORT.length);
    } finally {
      await encoder.close();
    }
  });

  test('an overlap that leaves a window no new text is a usage error naming the room there is', async () => {
    const dir = await folder('chunk-overlap');
    await assert.rejects(
      Encoder.load(readModelSpec(dir), {onOverflow: 'chunk', chunkOverlap: MAX_SEQ - 2}),
      (e: unknown) => e instanceof SbertkitError && e.exitCode === 2 && /from 0 to 13, less than the 14 text tokens of a window \(max_seq_length 16 minus 2 special tokens\); got 14/.test(e.message),
    );
    await assert.rejects(Encoder.load(readModelSpec(dir), {chunkOverlap: 2}), (e: unknown) => e instanceof SbertkitError && e.exitCode === 2 && /only when long texts are chunked/.test(e.message));
  });
});

describe("onOverflow 'error'", () => {
  test('stops at the first long text, naming its token count and its record; shorter texts pass', async () => {
    const dir = await folder('error');
    const records = [...SHORT, LONG[1]!, LONG[0]!].map((text, i) => ({text, line: 10 + i}));
    const encoder = await Encoder.load(readModelSpec(dir), {onOverflow: 'error', windowSize: 2});
    try {
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of encoder.embedStream(records)) seen.push(...chunk.records.map((r) => r.text));
        })(),
        (e: unknown) => {
          assert.ok(e instanceof TextOverflowError);
          const tokens = referenceWordPiece(vocab, LONG[1]!, 1e9).length;
          assert.deepEqual([e.tokens, e.maxSeqLength, e.index, e.record, e.exitCode], [tokens, MAX_SEQ, SHORT.length, records[SHORT.length], 2]);
          assert.equal(e.message, `text has ${tokens} tokens, more than max_seq_length ${MAX_SEQ}`);
          return true;
        },
      );
      // Windows before the long text were embedded and yielded.
      assert.deepEqual(seen, SHORT.slice(0, 4));
    } finally {
      await encoder.close();
    }
    // Texts that fit are embedded as usual.
    const ok = await embed(dir, SHORT, {onOverflow: 'error'});
    ok.vectors.forEach((v, i) => assertClose(v, referenceOf(referenceWordPiece(vocab, SHORT[i]!, MAX_SEQ), 'mean', true), `text ${i}`));
  });
});
