/**
 * The encoder flags every encoding command shares (--truncate-dim, --prompt/--prompt-name,
 * --on-overflow, --chunk-overlap) through the real binary: vectors against a full-dimension run, the
 * literal prompt + text, and the reference forward pass over token windows; the metadata and summary
 * that record them; and the one-line errors with their exit codes.
 */
import assert from 'node:assert/strict';
import {existsSync, readdirSync} from 'node:fs';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {tableFromIPC} from 'apache-arrow';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {l2Normalize, referenceWordPiece} from '../helpers/reference-bert.js';
import {referenceChunked, referenceOfIds, type ReferenceModel} from '../helpers/reference-chunks.js';
import {tempDir} from '../helpers/tmp.js';
import {cosine, maxAbsDiff} from '../helpers/vector-math.js';

const MAX_SEQ = 16;
const PROMPTS = {query: 'query: ', passage: 'passage: '};
const TEXTS = [
  'the cat and the dog play in the park',
  'this sentence is deliberately long so that it will be cut off by the truncation limit of the model, because it keeps going and going well past it',
  'where is the house?',
  'another long one: the quick brown fox jumps over the lazy dog while the people in the house watch it and laugh about it all day long',
];
/** TEXTS[i] is longer than MAX_SEQ for these. */
const LONG = [1, 3];

let dir: string;
let input: string;
/** The fixture with prompts and a default prompt name ('query'). */
let model: BertFolder;
/** The same weights without config_sentence_transformers.json. */
let bare: BertFolder;
let reference: ReferenceModel;

before(async () => {
  dir = await tempDir();
  model = await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ});
  await writeFile(join(model.dir, 'config_sentence_transformers.json'), JSON.stringify({prompts: PROMPTS, default_prompt_name: 'query'}));
  bare = await writeBertModelFolder(join(dir, 'bare'), {config: TINY_BERT, weights: model.weights, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ});
  reference = {config: TINY_BERT, weights: model.weights, vocab: model.vocab, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ};
  input = join(dir, 'in.txt');
  await writeFile(input, `${TEXTS.join('\n')}\n`);
  assert.deepEqual(TEXTS.flatMap((t, i) => (referenceWordPiece(model.vocab, t, 1e9).length > MAX_SEQ ? [i] : [])), LONG);
});

interface Encoded {
  vectors: number[][];
  metadata: Map<string, string>;
  result: {dimension: number; rows: number; truncated: number; chunked: number; tokens: number};
  stderr: string;
}

/** `sbertkit encode` to an Arrow file with `args`; the vectors, the file's metadata and the --json result. */
async function encode(args: string[], options: {texts?: string; json?: boolean} = {}): Promise<Encoded> {
  const source = options.texts === undefined ? input : join(await mkdtemp(join(dir, 'in-')), 'in.txt');
  if (options.texts !== undefined) await writeFile(source, options.texts);
  const out = join(await mkdtemp(join(dir, 'out-')), 'out.arrow');
  const json = options.json ?? true;
  const r = await runCli(['encode', source, '-o', out, ...(json ? ['--json'] : []), ...args]);
  assert.equal(r.code, 0, r.stderr);
  const table = tableFromIPC(await readFile(out));
  const vectors = table.toArray().map((row) => Array.from((row as {embedding: {toArray(): Float32Array}}).embedding.toArray()));
  return {vectors, metadata: table.schema.metadata, result: json ? (JSON.parse(r.stdout) as {result: Encoded['result']}).result : ({} as Encoded['result']), stderr: r.stderr};
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, label);
  assert.ok(maxAbsDiff(actual, expected) <= tolerance, `${label}: max |diff| ${maxAbsDiff(actual, expected)}`);
  assert.ok(cosine(actual, expected) >= 0.99999, `${label}: cosine ${cosine(actual, expected)}`);
}

describe('sbertkit encode --truncate-dim', () => {
  test('the first N dimensions of the full vectors, re-normalized; dimension N in result and metadata', async () => {
    const full = await encode(['--model', bare.dir]);
    const cut = await encode(['--model', bare.dir, '--truncate-dim', '12']);
    assert.equal(cut.result.dimension, 12);
    assert.equal(cut.metadata.get('sbertkit.dimension'), '12');
    assert.equal(cut.metadata.get('sbertkit.truncate_dim'), '12');
    assert.equal(full.metadata.get('sbertkit.truncate_dim'), undefined);
    cut.vectors.forEach((v, i) => assertClose(v, l2Normalize(Float64Array.from(full.vectors[i]!.slice(0, 12))), `row ${i}`, 1e-5));
  });
});

describe('sbertkit encode --prompt / --prompt-name', () => {
  test("the model's default prompt is used and recorded; the vectors are those of the literal 'query: ' + text", async () => {
    const prompted = await encode(['--model', model.dir]);
    const literal = await encode(['--model', bare.dir], {texts: `${TEXTS.map((t) => `query: ${t}`).join('\n')}\n`});
    prompted.vectors.forEach((v, i) => assertClose(v, literal.vectors[i]!, `row ${i}`, 1e-6));
    assert.equal(prompted.metadata.get('sbertkit.prompt'), 'query: ');
    assert.equal(prompted.metadata.get('sbertkit.prompt_name'), 'query');
  });

  test('--prompt "" turns the default off; --prompt TEXT and --prompt-name NAME are the literal prefix', async () => {
    const off = await encode(['--model', model.dir, '--prompt', '']);
    const plain = await encode(['--model', bare.dir]);
    off.vectors.forEach((v, i) => assertClose(v, plain.vectors[i]!, `row ${i}`, 1e-6));
    assert.equal(off.metadata.get('sbertkit.prompt'), '');
    assert.equal(off.metadata.get('sbertkit.prompt_name'), undefined);

    const named = await encode(['--model', model.dir, '--prompt-name', 'passage']);
    const custom = await encode(['--model', bare.dir, '--prompt', 'passage: ']);
    const literal = await encode(['--model', bare.dir], {texts: `${TEXTS.map((t) => `passage: ${t}`).join('\n')}\n`});
    named.vectors.forEach((v, i) => assertClose(v, literal.vectors[i]!, `named row ${i}`, 1e-6));
    custom.vectors.forEach((v, i) => assertClose(v, literal.vectors[i]!, `custom row ${i}`, 1e-6));
    assert.deepEqual([custom.metadata.get('sbertkit.prompt'), custom.metadata.get('sbertkit.prompt_name')], ['passage: ', undefined]);
  });
});

describe('sbertkit encode --on-overflow chunk', () => {
  test('long rows are the token-weighted mean of their windows (reference forward pass); the summary counts them', async () => {
    const run = await encode(['--model', bare.dir, '--on-overflow', 'chunk', '--chunk-overlap', '3'], {json: false});
    assert.match(run.stderr, /^encoded 4 texts \(\d+ tokens, 0 truncated, 2 texts chunked\) with /);
    run.vectors.forEach((v, i) => {
      const expected = LONG.includes(i) ? referenceChunked(reference, TEXTS[i]!, {overlap: 3}) : referenceOfIds(reference, referenceWordPiece(model.vocab, TEXTS[i]!, MAX_SEQ));
      assertClose(v, expected, `row ${i}`);
    });
    assert.equal(run.metadata.get('sbertkit.on_overflow'), 'chunk');
    assert.equal(run.metadata.get('sbertkit.chunk_overlap'), '3');
    const json = await encode(['--model', bare.dir, '--on-overflow', 'chunk']);
    assert.deepEqual([json.result.rows, json.result.truncated, json.result.chunked], [4, 0, 2]);
  });

  test('with the default prompt in every window', async () => {
    const run = await encode(['--model', model.dir, '--on-overflow', 'chunk']);
    LONG.forEach((i) => assertClose(run.vectors[i]!, referenceChunked(reference, TEXTS[i]!, {overlap: 0, prompt: 'query: '}), `row ${i}`));
  });

  test('the same output whatever the batch size and thread count (max |diff| <= 1e-5)', async () => {
    const texts = `${[...TEXTS, ...TEXTS.map((t) => `${t} ${t}`)].join('\n')}\n`;
    const a = await encode(['--model', bare.dir, '--on-overflow', 'chunk', '--chunk-overlap', '4', '--batch-size', '1', '--threads', '1'], {texts});
    const b = await encode(['--model', bare.dir, '--on-overflow', 'chunk', '--chunk-overlap', '4', '--batch-size', '5', '--threads', '2', '--window-size', '3', '--max-tokens', '40'], {texts});
    assert.equal(a.vectors.length, 8);
    a.vectors.forEach((v, i) => assert.ok(maxAbsDiff(v, b.vectors[i]!) <= 1e-5, `row ${i}`));
    const counts = (r: Encoded['result']) => [r.rows, r.tokens, r.truncated, r.chunked];
    assert.deepEqual(counts(a.result), counts(b.result));
  });
});

describe('sbertkit encode: errors of the encoder flags are one line, exit 2, no output', () => {
  async function fails(args: string[], source = input): Promise<{line: string; out: string; outDir: string; stdout: string}> {
    const outDir = await mkdtemp(join(dir, 'fail-'));
    const out = join(outDir, 'out.parquet');
    const r = await runCli(['encode', source, '-o', out, ...args]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    if (!args.includes('--json')) assert.equal(lines.length, 1, r.stderr);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(outDir), []);
    return {line: lines[0]!, out, outDir, stdout: r.stdout};
  }

  test('--on-overflow error names file:line of the first long text, its tokens and the way out', async () => {
    const tokens = referenceWordPiece(model.vocab, TEXTS[1]!, 1e9).length;
    const {line} = await fails(['--model', bare.dir, '--on-overflow', 'error', '--window-size', '1']);
    assert.equal(line, `sbertkit encode: ${input}:2: text has ${tokens} tokens, more than max_seq_length ${MAX_SEQ} (--on-overflow truncate|chunk)`);
    // A CSV: the line counts the header; the prompt's tokens count too.
    const csv = join(dir, 'in.csv');
    await writeFile(csv, `id,text\n${TEXTS.map((t, i) => `${i},"${t}"`).join('\n')}\n`);
    const withPrompt = referenceWordPiece(model.vocab, `query: ${TEXTS[1]!}`, 1e9).length;
    const {stdout} = await fails(['--model', model.dir, '--on-overflow', 'error', '--json'], csv);
    assert.deepEqual(JSON.parse(stdout).error, {
      message: `text has ${withPrompt} tokens, more than max_seq_length ${MAX_SEQ} (--on-overflow truncate|chunk)`,
      exitCode: 2,
      file: csv,
      line: 3,
    });
  });

  test('bad option values', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--prompt-name', 'document'], new RegExp(`^sbertkit encode: unknown prompt name 'document' for ${model.dir}: its prompts are query, passage$`)],
      [['--truncate-dim', '33'], /^sbertkit encode: truncate_dim 33 is more than the 32 dimensions of /],
      [['--truncate-dim', '0'], /--truncate-dim/],
      [['--prompt', 'x', '--prompt-name', 'query'], /--prompt-name=query cannot also be provided when using --prompt/],
      [['--chunk-overlap', '2'], /^sbertkit encode: --chunk-overlap applies only with --on-overflow chunk \(got --on-overflow truncate\)$/],
      [['--on-overflow', 'chunk', '--chunk-overlap', '9'], /chunk overlap must be an integer from 0 to 8, less than the 9 text tokens of a window \(max_seq_length 16 minus 2 special tokens and 5 prompt tokens\); got 9/],
      [['--on-overflow', 'drop'], /--on-overflow/],
    ];
    for (const [args, pattern] of cases) {
      const {line} = await fails(['--model', model.dir, ...args]);
      assert.match(line, pattern, args.join(' '));
    }
  });
});

describe('the encoder flags in the other commands', () => {
  test("models info lists the model's prompts, the default marked, and the dimension --truncate-dim gives", async () => {
    const r = await runCli(['models', 'info', '--model', model.dir, '--truncate-dim', '8', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = (JSON.parse(r.stdout) as {result: {prompts: string[]; dimension: number}}).result;
    assert.deepEqual([info.prompts, info.dimension], [['query: "query: " (default)', 'passage: "passage: "'], 8]);
  });

  test('mine-paraphrases, dedupe, cluster, similarity: --on-overflow error names file:line; chunking and --truncate-dim make the vectors compared', async () => {
    const tokens = referenceWordPiece(model.vocab, TEXTS[1]!, 1e9).length;
    const expected = `${input}:2: text has ${tokens} tokens, more than max_seq_length ${MAX_SEQ} (--on-overflow truncate|chunk)`;
    for (const command of ['mine-paraphrases', 'dedupe', 'cluster']) {
      const r = await runCli([command, input, '-o', join(dir, `${command}.${command === 'dedupe' ? 'txt' : 'jsonl'}`), '--model', bare.dir, '--on-overflow', 'error']);
      assert.deepEqual([r.code, r.stderr.trim()], [2, `sbertkit ${command}: ${expected}`], command);
    }
    // similarity's pairs mode encodes distinct texts; the line is the first row holding the long one.
    const pairs = join(dir, 'pairs.tsv');
    await writeFile(pairs, `sentence1\tsentence2\n${TEXTS[0]}\t${TEXTS[2]}\n${TEXTS[2]}\t${TEXTS[1]}\n`);
    const sim = await runCli(['similarity', pairs, '--column1', 'sentence1', '--column2', 'sentence2', '--model', bare.dir, '--on-overflow', 'error']);
    assert.deepEqual([sim.code, sim.stderr.trim()], [2, `sbertkit similarity: ${pairs}:3: text has ${tokens} tokens, more than max_seq_length ${MAX_SEQ} (--on-overflow truncate|chunk)`]);

    // The scores are cosines of the chunked reference vectors cut to 8 dimensions.
    const r = await runCli(['mine-paraphrases', input, '--model', bare.dir, '--on-overflow', 'chunk', '--truncate-dim', '8', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const vectors = TEXTS.map((t, i) => (LONG.includes(i) ? referenceChunked(reference, t, {overlap: 0}) : referenceOfIds(reference, referenceWordPiece(model.vocab, t, MAX_SEQ))).slice(0, 8));
    const mined = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as {score: number; id1: number; id2: number});
    assert.equal(mined.length, (TEXTS.length * (TEXTS.length - 1)) / 2);
    for (const p of mined) assert.ok(Math.abs(p.score - cosine(vectors[p.id1]!, vectors[p.id2]!)) <= 1e-4, `${p.id1}-${p.id2}: ${p.score}`);
  });
});
