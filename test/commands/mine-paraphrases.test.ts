/**
 * `sbertkit mine-paraphrases` end to end: pairs checked against a brute force over the vectors that
 * `encode` wrote (read back with apache-arrow), texts and vector files giving the same pairs, the
 * model check, empty input, and a sanity check with the real built-in model on our own sentences.
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {tableFromIPC} from 'apache-arrow';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';
import {cosine} from '../helpers/vector-math.js';

const TEXTS = [
  'the cat sat on the mat',
  'a cat is sitting on a mat',
  'the dog runs in the park',
  'a dog is running outside',
  'we ate dinner at home',
  'the train left the station',
  'she reads a book',
  'a woman is reading',
  'the sun is hot today',
  'it is a warm day',
];

let dir: string;
let modelDir: string;
let env: Record<string, string>;

interface Pair {
  score: number;
  id1: string;
  id2: string;
  text1?: string;
  text2?: string;
}

const readJsonl = async (path: string): Promise<Pair[]> =>
  (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Pair);

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
  await writeFile(join(dir, 'in.csv'), 'key,text\n' + TEXTS.map((t, i) => `k${i},${t}`).join('\n') + '\n');
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
});

describe('sbertkit mine-paraphrases', () => {
  test('pairs equal a brute force over the encoded vectors; texts and the vector file give the same pairs', async () => {
    const vectorsFile = join(dir, 'v.arrow');
    const enc = await runCli(['encode', join(dir, 'in.csv'), '--id-column', 'key', '--keep-columns', 'text', '-o', vectorsFile, '--model', modelDir, '--quiet'], {env});
    assert.equal(enc.code, 0, enc.stderr);
    const table = tableFromIPC(await readFile(vectorsFile));
    const ids = table.getChild('id')!.toArray() as string[];
    const vectors = Array.from({length: table.numRows}, (_, i) => Float32Array.from(table.getChild('embedding')!.get(i)!.toArray() as Float32Array));

    // Reference: every unordered pair (top-k = n - 1 finds them all), best first, ties by lower row.
    const all: {a: number; b: number; s: number}[] = [];
    for (let a = 0; a < vectors.length; a++) for (let b = a + 1; b < vectors.length; b++) all.push({a, b, s: cosine(vectors[a]!, vectors[b]!)});
    all.sort((x, y) => y.s - x.s || x.a - y.a || x.b - y.b);
    const want = all.slice(0, 12);

    const fromTexts = join(dir, 'from-texts.jsonl');
    const r1 = await runCli(['mine-paraphrases', join(dir, 'in.csv'), '--id-column', 'key', '--top-k', '9', '--max-pairs', '12', '-o', fromTexts, '--model', modelDir, '--quiet'], {env});
    assert.equal(r1.code, 0, r1.stderr);
    const fromVectors = join(dir, 'from-vectors.jsonl');
    const r2 = await runCli(['mine-paraphrases', vectorsFile, '--top-k', '9', '--max-pairs', '12', '-o', fromVectors, '--quiet'], {env});
    assert.equal(r2.code, 0, r2.stderr);

    for (const [label, path] of [['texts', fromTexts], ['vectors', fromVectors]] as const) {
      const got = await readJsonl(path);
      assert.equal(got.length, 12, label);
      assert.deepEqual(got.map((p) => [p.id1, p.id2]), want.map((p) => [ids[p.a], ids[p.b]]), label);
      got.forEach((p, i) => assert.ok(Math.abs(p.score - want[i]!.s) <= 1e-5, `${label} pair ${i}`));
      assert.deepEqual(got.map((p) => [p.text1, p.text2]), want.map((p) => [TEXTS[p.a], TEXTS[p.b]]), `${label} texts`);
    }
  });

  test('a vector file made by another model than --model: one line, exit 2', async () => {
    const r = await runCli(['mine-paraphrases', join(dir, 'v.arrow'), '--model', 'builtin:use-lite'], {env});
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /v\.arrow: made with model .*model.*but --model .*builtin:use-lite|cannot be compared/);
  });

  test('empty input gives a valid empty output; one row gives no pairs', async () => {
    await writeFile(join(dir, 'empty.csv'), 'text\n');
    const out = join(dir, 'empty-pairs.csv');
    const r = await runCli(['mine-paraphrases', join(dir, 'empty.csv'), '-o', out, '--model', modelDir, '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(out, 'utf8'), 'score,id1,id2,text1,text2\n');
    assert.equal((JSON.parse(r.stdout) as {result: {pairs: number}}).result.pairs, 0);
    const one = await runCli(['mine-paraphrases', '--model', modelDir, '--quiet'], {stdin: 'just one line\n', env});
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, '');
  });

  test('with the built-in model, every pair above 0.5 is a paraphrase pair of our own groups', async () => {
    const groups = [
      ['The kettle is boiling on the stove.', 'Water is boiling in the kettle on the cooker.'],
      ['He repaired the bicycle tyre.', 'He fixed the flat tire on his bike.'],
      ['Stock prices fell sharply this morning.', 'Shares dropped steeply early today.'],
    ];
    const texts = groups.flat();
    const r = await runCli(['mine-paraphrases', '--max-pairs', '0'], {stdin: texts.join('\n') + '\n', env});
    assert.equal(r.code, 0, r.stderr);
    const pairs = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as {score: number; id1: number; id2: number});
    assert.equal(pairs.length, (texts.length * (texts.length - 1)) / 2, 'top-k 100 > n: every pair');
    const sameGroup = (a: number, b: number) => Math.floor(a / 2) === Math.floor(b / 2);
    const strong = pairs.filter((p) => p.score > 0.5);
    assert.ok(strong.length >= 3, `expected the three paraphrase pairs above 0.5, got ${JSON.stringify(pairs.slice(0, 5))}`);
    for (const p of strong) assert.ok(sameGroup(p.id1, p.id2), `pair ${p.id1}-${p.id2} at ${p.score} crosses groups`);
  });
});
