/**
 * The shared encoder against an independent forward pass (test/helpers/reference-bert.ts) on generated
 * BERT-layout models: every pooling mode, graph-pooled outputs, truncation counts, and invariance to
 * batch size, window size, token budget and thread count.
 */
import assert from 'node:assert/strict';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {Encoder, LONG_TEXT_TOKENS, planStages} from '../../src/encoder/encoder.js';
import {SbertkitError} from '../../src/errors.js';
import type {EncodeStats, EncoderOptions} from '../../src/encoder/types.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import type {PoolingMode} from '../../src/models/spec.js';
import {graphNeedingPositionIds, makeBertWeights, TINY_BERT, writeBertModelFolder, type BertFolderOptions} from '../helpers/bert-fixture.js';
import {cosine, maxAbsDiff} from '../helpers/vector-math.js';
import {l2Normalize, referencePool, referenceTokenEmbeddings, referenceWordPiece} from '../helpers/reference-bert.js';
import {tempDir} from '../helpers/tmp.js';

const MAX_SEQ = 24;

/** Our own sentences: short, long, punctuation, unknown characters, repeated words, an empty text. */
const SENTENCES = [
  'The cat sat on the mat.',
  'a dog runs in the park',
  'Where is the nearest train station?',
  '',
  'Numbers like 42 and 7 appear here, too!',
  'this sentence is deliberately long so that it will be cut off by the truncation limit of the model, because it keeps going and going well past it',
  'Ünïcödé and emoji 🙂 are unknown here',
  'red red red red red',
  'I',
  'We walked home after the game, tired but happy.',
  'time',
  'another long one: the quick brown fox jumps over the lazy dog while the people in the house watch it and laugh about it all day long',
];

const weights = makeBertWeights(TINY_BERT);
let root: string;
let vocab: string[];

async function folder(name: string, opts: Partial<BertFolderOptions>): Promise<string> {
  const dir = join(root, name);
  const written = await writeBertModelFolder(dir, {config: TINY_BERT, weights, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ, ...opts});
  vocab = written.vocab;
  return dir;
}

async function encodeAll(dir: string, texts: string[], options: EncoderOptions = {}): Promise<{vectors: Float32Array[]; stats: EncodeStats; encoder: Encoder}> {
  const encoder = await Encoder.load(readModelSpec(dir), options);
  try {
    const {vectors, stats} = await encoder.embed(texts);
    return {vectors: vectors.toRows(), stats, encoder};
  } finally {
    await encoder.close();
  }
}

function reference(text: string, pooling: PoolingMode, normalize: boolean): Float64Array {
  const ids = referenceWordPiece(vocab, text, MAX_SEQ);
  const pooled = referencePool(referenceTokenEmbeddings(TINY_BERT, weights, ids, ids.map(() => 0)), pooling);
  return normalize ? l2Normalize(pooled) : pooled;
}

/** Largest element difference over two lists of vectors. */
function maxAbsDiffAll(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  return Math.max(0, ...a.map((v, i) => maxAbsDiff(v, b[i]!)));
}

before(async () => {
  root = await tempDir();
});
describe('encoder vs independent forward pass', () => {
  for (const pooling of ['mean', 'cls', 'max', 'lasttoken'] as const) {
    test(`${pooling} pooling matches the reference (cosine >= 0.99999, values within 1e-4)`, async () => {
      const dir = await folder(`pool-${pooling}`, {pooling, normalize: true});
      const {vectors, encoder} = await encodeAll(dir, SENTENCES);
      assert.equal(encoder.pooling, pooling);
      assert.equal(encoder.dimension, TINY_BERT.hidden);
      SENTENCES.forEach((text, i) => {
        const ref = reference(text, pooling, true);
        assert.ok(cosine(vectors[i]!, ref) >= 0.99999, `${pooling} "${text}": cosine ${cosine(vectors[i]!, ref)}`);
        ref.forEach((x, j) => assert.ok(Math.abs(x - vectors[i]![j]!) < 1e-4, `${pooling} "${text}" dim ${j}`));
      });
    });
  }

  test('without a Normalize module vectors keep their norm; --normalize forces unit length', async () => {
    const dir = await folder('no-normalize', {pooling: 'mean', normalize: false});
    const plain = await encodeAll(dir, SENTENCES);
    assert.equal(plain.encoder.normalized, false);
    SENTENCES.forEach((text, i) => {
      const ref = reference(text, 'mean', false);
      ref.forEach((x, j) => assert.ok(Math.abs(x - plain.vectors[i]![j]!) < 1e-4));
    });
    const forced = await encodeAll(dir, SENTENCES, {normalize: true});
    forced.vectors.forEach((v) => assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5));
  });

  test('uses the graph\'s sentence_embedding output when present, not 1_Pooling', async () => {
    // 1_Pooling says mean, the graph pools CLS itself: the graph must win.
    const dir = await folder('graph-pooled', {pooling: 'mean', normalize: false, sentenceEmbedding: {pooling: 'cls', normalize: false}});
    const {vectors, encoder} = await encodeAll(dir, SENTENCES);
    assert.equal(encoder.pooling, 'graph');
    SENTENCES.forEach((text, i) => assert.ok(cosine(vectors[i]!, reference(text, 'cls', false)) >= 0.99999, text));
  });

  test('token_embeddings output, graph at model.onnx, no token_type_ids input', async () => {
    const dir = await folder('variant-layout', {outputName: 'token_embeddings', onnxLocation: 'model.onnx', withTokenTypeIds: false});
    const {vectors} = await encodeAll(dir, SENTENCES);
    SENTENCES.forEach((text, i) => assert.ok(cosine(vectors[i]!, reference(text, 'mean', true)) >= 0.99999, text));
  });

  test('do_lower_case in sentence_bert_config lower-cases before a case-sensitive tokenizer', async () => {
    const dir = await folder('lowercase', {doLowerCase: true, tokenizerLowercase: false});
    const {vectors} = await encodeAll(dir, ['The CAT Sat', 'the cat sat']);
    assert.ok(maxAbsDiffAll([vectors[0]!], [vectors[1]!]) === 0);
    assert.ok(cosine(vectors[0]!, reference('the cat sat', 'mean', true)) >= 0.99999);
  });
});

describe('truncation is counted, never silent', () => {
  test('stats.truncated equals the number of texts longer than max_seq_length', async () => {
    const dir = await folder('truncation', {});
    const {stats} = await encodeAll(dir, SENTENCES);
    const expected = SENTENCES.filter((t) => referenceWordPiece(vocab, t, Number.MAX_SAFE_INTEGER).length > MAX_SEQ).length;
    assert.ok(expected >= 2, 'fixture must contain long texts');
    assert.equal(stats.truncated, expected);
    assert.equal(stats.rows, SENTENCES.length);
    const tokens = SENTENCES.reduce((n, t) => n + referenceWordPiece(vocab, t, MAX_SEQ).length, 0);
    assert.equal(stats.tokens, tokens);
  });

  test('--max-seq-length lowers the limit and changes the count', async () => {
    const dir = await folder('truncation-8', {});
    const {vectors, stats} = await encodeAll(dir, SENTENCES, {maxSeqLength: 8});
    const expected = SENTENCES.filter((t) => referenceWordPiece(vocab, t, Number.MAX_SAFE_INTEGER).length > 8).length;
    assert.equal(stats.truncated, expected);
    const ids = referenceWordPiece(vocab, SENTENCES[5]!, 8);
    const ref = l2Normalize(referencePool(referenceTokenEmbeddings(TINY_BERT, weights, ids, ids.map(() => 0)), 'mean'));
    assert.ok(cosine(vectors[5]!, ref) >= 0.99999);
  });
});

describe('same text, same vector', () => {
  // Many texts in shuffled lengths, so windows and batches really differ between settings.
  const many = Array.from({length: 150}, (_, i) => SENTENCES[(i * 7) % SENTENCES.length]!.split(' ').slice(0, 1 + (i % 13)).join(' ') + ` ${i}`);

  test('batch size, window size, token budget and thread count do not change vectors (max |diff| <= 1e-5)', async () => {
    const dir = await folder('invariance', {});
    const base = (await encodeAll(dir, many, {batchSize: 1, windowSize: 1, threads: 1})).vectors;
    for (const options of [
      {batchSize: 7, windowSize: 5, threads: 2},
      {batchSize: 64, windowSize: 1000},
      {batchSize: 32, maxTokens: 40, windowSize: 37, threads: 1},
      {batchSize: 150, windowSize: 150, threads: 2},
      // Windows planned in several stages (8 batches, then 16, 32, the rest), tokenized while earlier stages run.
      {batchSize: 2, windowSize: 150, threads: 2},
      {batchSize: 1, windowSize: 100, threads: 2},
    ]) {
      const other = (await encodeAll(dir, many, options)).vectors;
      assert.ok(maxAbsDiffAll(base, other) <= 1e-5, `options ${JSON.stringify(options)}: ${maxAbsDiffAll(base, other)}`);
    }
  });

  test('long texts switch 2 threads from two sessions to one session with 2 intra-op threads, same vectors', async () => {
    const dir = await folder('long-layout', {config: {...TINY_BERT, maxPosition: 256}, weights: makeBertWeights({...TINY_BERT, maxPosition: 256}), maxSeqLength: 256});
    // ~200-250 tokens each (the fixture vocabulary splits unknown words into pieces): over LONG_TEXT_TOKENS on average.
    const long = Array.from({length: 6}, (_, i) => Array.from({length: 90 + 10 * i}, (_, w) => SENTENCES[(w + i) % SENTENCES.length]!.split(' ')[w % 3] ?? 'cat').join(' '));
    const short = many.slice(0, 20);
    const results = new Map<string, Float32Array[]>();
    for (const threads of [1, 2]) {
      const encoder = await Encoder.load(readModelSpec(dir), {threads});
      try {
        assert.equal(encoder.layout, threads === 1 ? 'intra-op' : 'sessions');
        const {vectors, stats} = await encoder.embed(long);
        assert.ok(stats.tokens / long.length >= LONG_TEXT_TOKENS, `mean ${stats.tokens / long.length} tokens`);
        assert.equal(encoder.layout, 'intra-op');
        assert.equal(encoder.threads, threads);
        results.set(`long ${threads}`, vectors.toRows());
        // The choice is made once: later windows keep it.
        results.set(`short ${threads}`, (await encoder.embed(short)).vectors.toRows());
      } finally {
        await encoder.close();
      }
    }
    assert.ok(maxAbsDiffAll(results.get('long 1')!, results.get('long 2')!) <= 1e-5);
    assert.ok(maxAbsDiffAll(results.get('short 1')!, results.get('short 2')!) <= 1e-5);
    // Short texts first: the pool stays.
    const encoder = await Encoder.load(readModelSpec(dir), {threads: 2});
    try {
      const first = (await encoder.embed(short)).vectors.toRows();
      assert.equal(encoder.layout, 'sessions');
      assert.ok(maxAbsDiffAll(first, results.get('short 1')!) <= 1e-5);
    } finally {
      await encoder.close();
    }
  });

  test('planStages covers a window once, in order: the head, then doubling stages, no stub at the end', () => {
    assert.deepEqual(planStages(4096, 256), [[0, 256], [256, 768], [768, 1792], [1792, 4096]]);
    assert.deepEqual(planStages(511, 256), [[0, 511]]);
    assert.deepEqual(planStages(512, 256), [[0, 256], [256, 512]]);
    assert.deepEqual(planStages(1, 256), [[0, 1]]);
    assert.deepEqual(planStages(0, 256), []);
    for (const [length, head] of [[150, 16], [100, 8], [4095, 256], [7, 1]] as const) {
      const stages = planStages(length, head);
      assert.equal(stages[0]![0], 0);
      assert.equal(stages.at(-1)![1], length);
      stages.forEach(([from, to], i) => {
        assert.ok(to > from);
        if (i > 0) assert.equal(from, stages[i - 1]![1]);
      });
    }
  });

  test('embedStream yields every record once, in input order, across windows', async () => {
    const dir = await folder('order', {});
    const encoder = await Encoder.load(readModelSpec(dir), {windowSize: 17, batchSize: 5});
    try {
      async function* source() {
        for (let i = 0; i < many.length; i++) yield {id: i, text: many[i]!};
      }
      const seen: number[] = [];
      let batchedRows = 0;
      const single = (await encoder.embed([many[42]!])).vectors.toRows();
      const chunkRows: number[] = [];
      let statsRows = 0;
      for await (const chunk of encoder.embedStream(source(), {onBatch: (rows) => (batchedRows += rows)})) {
        assert.equal(chunk.vectors.rows, chunk.records.length);
        assert.equal(chunk.vectors.dimension, encoder.dimension);
        chunkRows.push(chunk.records.length);
        statsRows += chunk.stats.rows;
        chunk.records.forEach((record, i) => {
          seen.push(record.id);
          if (record.id === 42) assert.ok(maxAbsDiffAll([chunk.vectors.row(i)], single) <= 1e-5);
        });
      }
      assert.deepEqual(seen, many.map((_, i) => i));
      assert.equal(batchedRows, many.length);
      // One chunk per window of 17, with each window's own stats.
      assert.deepEqual(chunkRows, [...Array(Math.floor(many.length / 17)).fill(17), many.length % 17]);
      assert.equal(statsRows, many.length);
    } finally {
      await encoder.close();
    }
  });

  test('a batch made only of empty texts still runs', async () => {
    const dir = await folder('empty', {});
    const {vectors} = await encodeAll(dir, ['', ''], {batchSize: 2});
    assert.equal(vectors.length, 2);
    // BERT still sees [CLS] [SEP] for an empty text.
    assert.ok(cosine(vectors[0]!, reference('', 'mean', true)) >= 0.99999);
  });
});

describe('model folder problems are one clear error', () => {
  test('missing ONNX graph names the folder and how to export one', async () => {
    const dir = await folder('no-onnx', {onnxLocation: 'model.onnx'});
    assert.throws(() => readModelSpec(dir, {modelFile: 'onnx/model_qint8_avx512.onnx'}), /no ONNX graph in .*onnx\/model_qint8_avx512\.onnx.*export/);
  });

  test('a graph that needs an input sbertkit cannot feed is a model error naming it', async () => {
    const dir = await folder('extra-input', {});
    await writeFile(join(dir, 'onnx', 'model.onnx'), graphNeedingPositionIds());
    await assert.rejects(Encoder.load(readModelSpec(dir)), (e: unknown) => e instanceof SbertkitError && e.exitCode === 3 && /position_ids/.test(e.message));
  });

  test('an unreadable tokenizer.json is a model error naming the file', async () => {
    const dir = await folder('bad-tokenizer', {});
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({model: {type: 'NoSuchModel'}}));
    await assert.rejects(Encoder.load(readModelSpec(dir)), (e: unknown) => e instanceof SbertkitError && e.exitCode === 3 && e.file === join(dir, 'tokenizer.json'));
  });

  test('two pooling modes at once is refused', async () => {
    const dir = await folder('two-poolings', {});
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({word_embedding_dimension: 32, pooling_mode_mean_tokens: true, pooling_mode_cls_token: true}));
    assert.throws(() => readModelSpec(dir), /unsupported pooling \(mean, cls\)/);
  });
});

describe('normalization that cannot be undone is refused', () => {
  test('--no-normalize on a graph that already outputs unit vectors is an error, not a mislabel', async () => {
    const dir = await folder('graph-normalized', {normalize: true, sentenceEmbedding: {pooling: 'mean', normalize: true}});
    await assert.rejects(Encoder.load(readModelSpec(dir), {normalize: false}), /normalizes inside its ONNX graph/);
    // A graph that pools without normalizing can still be left unnormalized.
    const plain = await folder('graph-plain', {normalize: false, sentenceEmbedding: {pooling: 'mean', normalize: false}});
    const {vectors} = await encodeAll(plain, ['the cat sat'], {normalize: false});
    assert.ok(Math.abs(Math.hypot(...vectors[0]!) - 1) > 1e-3);
  });
});
