/**
 * Proves the test fixtures right before anything is tested with them: the generated ONNX graph, run
 * by onnxruntime-node directly, must agree with the independent Float64 reference forward pass, and
 * the generated tokenizer.json, read by @huggingface/tokenizers and by transformers.js, must agree with
 * the independent reference WordPiece.
 */
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, stat} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import * as ort from 'onnxruntime-node';
import {Tokenizer} from '@huggingface/tokenizers';
import {buildBertOnnx, TINY_BERT, SPECIAL_TOKENS, writeBertModelFolder, type BertFolder, type FusedOps} from '../helpers/bert-fixture.js';
import {decodeModel} from '../../src/onnx/model-proto.js';
import {erf, l2Normalize, referencePool, referenceSentenceEmbedding, referenceTokenEmbeddings, referenceWordPiece} from '../helpers/reference-bert.js';
import {repoRoot} from '../helpers/paths.js';
import {tempDir} from '../helpers/tmp.js';

const H = TINY_BERT.hidden;

/** Three sentences of clearly different token lengths, so the batch has real padding. */
const BATCH_TEXTS = [
  'The cat sat.',
  'A quick brown fox jumps over the lazy dog, twice!',
  'Sentence embeddings map every text to one vector; similar meanings end up close together in that space.',
];

/** Covers whole words, ##pieces, punctuation, digits, unknown scripts, accents, control chars, CJK, specials, an over-long word. */
const TOKENIZER_TEXTS = [
  'Hello world',
  'The dogs were playing in the park.',
  "Don't stop-believing!!! (really?)",
  'Prices rose 12.5% in 2024: $3,000 -> $3,375.',
  'Café naïve résumé',
  'emoji 🙂 and greek λόγος are unknown',
  'tabs\tand\nnewlines  and   spaces',
  'null\u0000byte and zero\u200bwidth',
  '中文字 mixed with english',
  'mask this [MASK] token',
  'supercalifragilistic ' + 'x'.repeat(120) + ' end',
  Array.from({length: 40}, (_, i) => `word${i} is number ${i}, right?`).join(' '),
];

/** Whether a node of type `op` is in the serialized graph (Gemm in ONNX's domain, the others in com.microsoft). */
function graphUses(graph: Uint8Array, op: string): boolean {
  const domain = op === 'Gemm' ? '' : 'com.microsoft';
  return (decodeModel(graph, 'fused graph').graph?.node ?? []).some((n) => n.opType === op && (n.domain ?? '') === domain);
}

interface Batch {
  ids: number[][];
  typeIds?: number[][];
}

/** Pads right with [PAD]=0 and runs the graph; returns each requested output as a flat Float32Array. */
async function run(session: ort.InferenceSession, batch: Batch): Promise<Record<string, {data: Float32Array; dims: readonly number[]}>> {
  const rows = batch.ids.length;
  const seq = Math.max(...batch.ids.map((r) => r.length));
  const ids = new BigInt64Array(rows * seq);
  const mask = new BigInt64Array(rows * seq);
  const types = new BigInt64Array(rows * seq);
  batch.ids.forEach((row, r) =>
    row.forEach((id, t) => {
      ids[r * seq + t] = BigInt(id);
      mask[r * seq + t] = 1n;
      types[r * seq + t] = BigInt(batch.typeIds?.[r]?.[t] ?? 0);
    }),
  );
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [rows, seq]),
    attention_mask: new ort.Tensor('int64', mask, [rows, seq]),
  };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', types, [rows, seq]);
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, {data: v.data as Float32Array, dims: v.dims}]));
}

/**
 * Float32 ORT vs Float64 reference differs by ~1e-6 on TINY_BERT; 2e-5 leaves margin for other CPUs
 * while still catching e.g. tanh-approximated GELU (~1e-4 off).
 */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 2e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let maxDiff = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    maxDiff = Math.max(maxDiff, Math.abs(a - b));
    dot += a * b;
    na += a * a;
    nb += b * b;
  }
  const cosine = dot / Math.sqrt(na * nb);
  assert.ok(maxDiff < tol, `${what}: max abs diff ${maxDiff}`);
  assert.ok(cosine >= 0.99999, `${what}: cosine ${cosine}`);
}

let root: string;
before(async () => {
  root = await tempDir();
});
test('reference erf matches table values', () => {
  // Values of erf from standard tables (Abramowitz & Stegun 7.1, extended precision).
  const table: Array<[number, number]> = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.5, 0.999593047982555],
    [2.9, 0.9999589021219005],
    [3, 0.9999779095030014],
    [3.1, 0.9999883513426328],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
  ];
  for (const [x, want] of table) {
    assert.ok(Math.abs(erf(x) - want) < 1e-14, `erf(${x}) = ${erf(x)}, want ${want}`);
    assert.ok(Math.abs(erf(-x) + want) < 1e-14, `erf(${-x})`);
  }
});

test('reference pooling on a hand-computed example', () => {
  const toks = [Float64Array.of(1, -2), Float64Array.of(3, 4), Float64Array.of(-1, 0)];
  assert.deepEqual([...referencePool(toks, 'mean')], [1, 2 / 3]);
  assert.deepEqual([...referencePool(toks, 'max')], [3, 4]);
  assert.deepEqual([...referencePool(toks, 'cls')], [1, -2]);
  assert.deepEqual([...referencePool(toks, 'lasttoken')], [-1, 0]);
  assert.deepEqual([...l2Normalize(Float64Array.of(3, 4))], [0.6, 0.8]);
});

describe('tiny BERT folder', () => {
  let folder: BertFolder;
  let tokenizer: Tokenizer;
  let session: ort.InferenceSession;

  before(async () => {
    folder = await writeBertModelFolder(join(root, 'tiny'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 48});
    const [tj, tc] = await Promise.all(['tokenizer.json', 'tokenizer_config.json'].map(async (f) => JSON.parse(await readFile(join(folder.dir, f), 'utf8')) as object));
    tokenizer = new Tokenizer(tj!, tc!);
    session = await ort.InferenceSession.create(join(folder.dir, 'onnx', 'model.onnx'), {intraOpNumThreads: 1});
  });
  after(async () => {
    await session?.release();
  });

  test('writes the sentence-transformers configs', async () => {
    const json = async (p: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(folder.dir, p), 'utf8')) as Record<string, unknown>;
    const modules = (await json('modules.json')) as unknown as Array<{path: string; type: string}>;
    assert.deepEqual(
      modules.map((m) => [m.path, m.type]),
      [
        ['', 'sentence_transformers.models.Transformer'],
        ['1_Pooling', 'sentence_transformers.models.Pooling'],
        ['2_Normalize', 'sentence_transformers.models.Normalize'],
      ],
    );
    const pooling = await json('1_Pooling/config.json');
    assert.equal(pooling.word_embedding_dimension, H);
    assert.equal(pooling.pooling_mode_mean_tokens, true);
    assert.equal(pooling.pooling_mode_cls_token, false);
    assert.deepEqual(await json('sentence_bert_config.json'), {max_seq_length: 48, do_lower_case: false});
    const config = await json('config.json');
    assert.equal(config.model_type, 'bert');
    assert.equal(config.hidden_size, H);
    assert.equal(config.vocab_size, folder.vocab.length);
    const vocabTxt = (await readFile(join(folder.dir, 'vocab.txt'), 'utf8')).trimEnd().split('\n');
    assert.deepEqual(vocabTxt, folder.vocab);
    assert.deepEqual(vocabTxt.slice(0, 5), [...SPECIAL_TOKENS]);
    assert.equal(new Set(vocabTxt).size, vocabTxt.length, 'vocab entries are unique');
  });

  test('graph declares the BERT inputs and output', () => {
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.deepEqual(session.outputNames, ['last_hidden_state']);
  });

  test('padded batch matches the reference forward pass token by token', async () => {
    const ids = BATCH_TEXTS.map((t) => referenceWordPiece(folder.vocab, t, 48));
    const lengths = ids.map((r) => r.length);
    assert.ok(lengths[0]! < lengths[1]! && lengths[1]! < lengths[2]!, `lengths differ: ${lengths}`);
    // Segment B types on the middle row exercise the token-type embedding.
    const typeIds = ids.map((r, i) => r.map((_, t) => (i === 1 && t >= 4 ? 1 : 0)));
    const out = (await run(session, {ids, typeIds})).last_hidden_state!;
    const seq = lengths[2]!;
    assert.deepEqual(out.dims, [3, seq, H]);
    ids.forEach((row, r) => {
      const ref = referenceTokenEmbeddings(TINY_BERT, folder.weights, row, typeIds[r]);
      row.forEach((_, t) => {
        const start = (r * seq + t) * H;
        assertClose(out.data.subarray(start, start + H), ref[t]!, `row ${r} token ${t}`);
      });
    });
  });

  // bench/fusion.ts times these graphs against the plain one; they must compute the same network.
  for (const fused of [
    {gemmBias: true},
    {skipLayerNorm: true},
    {skipLayerNorm: true, attention: 'MultiHeadAttention'},
    {skipLayerNorm: true, attention: 'Attention'},
  ] satisfies FusedOps[]) {
    test(`the graph with ORT's fused ops ${JSON.stringify(fused)} matches the reference forward pass`, async () => {
      const graph = buildBertOnnx(TINY_BERT, folder.weights, {withTokenTypeIds: true, outputName: 'last_hidden_state', fused});
      const fusedSession = await ort.InferenceSession.create(graph, {intraOpNumThreads: 1, logSeverityLevel: 3});
      try {
        const ops = fused.gemmBias ? new Set(['Gemm']) : new Set(['SkipLayerNormalization', ...(fused.attention === undefined ? [] : [fused.attention])]);
        const ids = BATCH_TEXTS.map((t) => referenceWordPiece(folder.vocab, t, 48));
        const typeIds = ids.map((r, i) => r.map((_, t) => (i === 1 && t >= 4 ? 1 : 0)));
        const out = (await run(fusedSession, {ids, typeIds})).last_hidden_state!;
        const seq = out.dims[1]!;
        ids.forEach((row, r) => {
          const ref = referenceTokenEmbeddings(TINY_BERT, folder.weights, row, typeIds[r]);
          row.forEach((_, t) => assertClose(out.data.subarray((r * seq + t) * H, (r * seq + t + 1) * H), ref[t]!, `row ${r} token ${t}`));
        });
        assert.ok(ops.size > 0 && [...ops].every((op) => graphUses(graph, op)), `graph uses ${[...ops].join(', ')}`);
      } finally {
        await fusedSession.release();
      }
    });
  }

  test('padding does not change real-token outputs', async () => {
    const ids = BATCH_TEXTS.map((t) => referenceWordPiece(folder.vocab, t, 48));
    const batch = (await run(session, {ids})).last_hidden_state!;
    const seq = batch.dims[1]!;
    for (const [r, row] of ids.entries()) {
      const single = (await run(session, {ids: [row]})).last_hidden_state!;
      const real = batch.data.subarray(r * seq * H, (r * seq + row.length) * H);
      assertClose(real, single.data, `row ${r} batch vs alone`, 1e-5);
    }
  });

  test('@huggingface/tokenizers ids equal the reference WordPiece', () => {
    const unk = folder.vocab.indexOf('[UNK]');
    for (const text of TOKENIZER_TEXTS) {
      const lib = tokenizer.encode(text).ids;
      assert.deepEqual(referenceWordPiece(folder.vocab, text, 10_000), lib, JSON.stringify(text));
    }
    // Plain ASCII with unseen words still avoids [UNK] (single characters and ##pieces cover it).
    assert.ok(!tokenizer.encode('Zebras quizzically juxtapose 42 xylophones.').ids.includes(unk));
    // Truncation keeps [CLS] + the first pieces and ends with [SEP].
    const long = TOKENIZER_TEXTS.at(-1)!;
    const full = tokenizer.encode(long).ids;
    assert.ok(full.length > 16);
    assert.deepEqual(referenceWordPiece(folder.vocab, long, 16), [...full.slice(0, 15), full.at(-1)!]);
  });

  test('transformers.js AutoTokenizer loads the folder and agrees', async () => {
    const {AutoTokenizer, env} = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dirname(folder.dir);
    const tok = await AutoTokenizer.from_pretrained(basename(folder.dir));
    for (const text of TOKENIZER_TEXTS.slice(0, 10)) {
      const ids = tok.encode(text);
      assert.deepEqual(ids, referenceWordPiece(folder.vocab, text, 10_000), JSON.stringify(text));
    }
  });
});

describe('graph-pooled sentence_embedding', () => {
  const variants = [
    {pooling: 'mean', normalize: true},
    {pooling: 'cls', normalize: false},
  ] as const;
  for (const v of variants) {
    test(`${v.pooling}${v.normalize ? ' + normalize' : ''}, token_embeddings output, no token_type_ids`, async () => {
      const folder = await writeBertModelFolder(join(root, `se-${v.pooling}`), {
        config: TINY_BERT,
        pooling: v.pooling,
        normalize: v.normalize,
        maxSeqLength: 48,
        withTokenTypeIds: false,
        outputName: 'token_embeddings',
        sentenceEmbedding: v,
        onnxLocation: 'model.onnx',
      });
      const onnxPath = join(folder.dir, 'model.onnx');
      assert.ok((await stat(onnxPath)).isFile());
      const session = await ort.InferenceSession.create(onnxPath, {intraOpNumThreads: 1});
      try {
        assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
        assert.deepEqual([...session.outputNames].sort(), ['sentence_embedding', 'token_embeddings']);
        const ids = BATCH_TEXTS.map((t) => referenceWordPiece(folder.vocab, t, 48));
        const out = await run(session, {ids});
        const se = out.sentence_embedding!;
        assert.deepEqual(se.dims, [3, H]);
        ids.forEach((row, r) => {
          const ref = referenceSentenceEmbedding(TINY_BERT, folder.weights, row, v.pooling, v.normalize);
          assertClose(se.data.subarray(r * H, (r + 1) * H), ref, `row ${r}`);
        });
      } finally {
        await session.release();
      }
    });
  }
});

test('repoRoot finds the sbertkit package', async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot(), 'package.json'), 'utf8')) as {name: string};
  assert.equal(pkg.name, 'sbertkit');
});
