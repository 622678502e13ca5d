/**
 * encode and similarity's pairs mode stream. encode: rows come out as soon as their batch is done, in input order, with the vectors of
 * a whole-window run. A slow writer on stdin sends line i+1 only once row i has come out, so a run
 * that held rows until the end of its input (the old window barrier) would never finish this test.
 * Timings are bench/latency.ts's job; here only "arrives before the input ends" is asserted.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {Encoder} from '../../src/encoder/encoder.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runShell} from '../helpers/cli.js';
import {repoRoot} from '../helpers/paths.js';
import {l2Normalize, referencePool, referenceTokenEmbeddings, referenceWordPiece} from '../helpers/reference-bert.js';
import {cosine} from '../helpers/vector-math.js';
import {tempDir} from '../helpers/tmp.js';

const MAX_SEQ = 20;
let dir: string;
let model: BertFolder;

const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'runs', 'in', 'park', 'where', 'is', 'station'];
/** Texts of shuffled lengths, so length sorting really reorders them inside a window. */
const text = (i: number): string => Array.from({length: 1 + ((i * 7) % 15)}, (_, k) => WORDS[(i + k * 3) % WORDS.length]!).join(' ') + ` ${i}`;

interface Row {
  id: number;
  embedding: number[];
}

/** Vectors of the same texts from the library's whole-window embed(): the non-streaming run. */
async function wholeWindowVectors(texts: string[]): Promise<Float32Array[]> {
  const encoder = await Encoder.load(readModelSpec(model.dir), {threads: 1});
  try {
    const {vectors} = await encoder.embed(texts);
    return texts.map((_, i) => vectors.row(i).slice());
  } finally {
    await encoder.close();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

before(async () => {
  dir = await tempDir();
  model = await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ});
});

describe('sbertkit encode streams its rows', () => {
  test('slow stdin: each row comes out while the input is still open, in input order, with the whole-window vectors', async () => {
    const texts = Array.from({length: 6}, (_, i) => text(i));
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'encode', '-', '--model', model.dir, '--threads', '2'], {stdio: ['pipe', 'pipe', 'pipe']});
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const rows: Row[] = [];
    let buffered = '';
    let arrived: (() => void) | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) rows.push(JSON.parse(line) as Row);
      arrived?.();
    });
    const rowsBy = async (count: number): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (rows.length < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          arrived = resolve;
          setTimeout(resolve, 250);
        });
      }
    };
    try {
      for (let i = 0; i < texts.length; i++) {
        child.stdin.write(`${texts[i]}\n`);
        // Stdin stays open: row i can only come out because encode flushed on the stall.
        await rowsBy(i + 1);
        assert.equal(rows.length, i + 1, `row ${i} came out before the input ended (stderr: ${stderr})`);
      }
    } finally {
      child.stdin.end();
    }
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(rows.map((r) => r.id), texts.map((_, i) => i));
    const whole = await wholeWindowVectors(texts);
    rows.forEach((row, i) => assert.ok(maxAbsDiff(row.embedding, whole[i]!) <= 1e-5, `row ${i}`));
    // And against the independent forward pass.
    rows.forEach((row, i) => {
      const ids = referenceWordPiece(model.vocab, texts[i]!, MAX_SEQ);
      const reference = l2Normalize(referencePool(referenceTokenEmbeddings(TINY_BERT, model.weights, ids, ids.map(() => 0)), 'mean'));
      assert.ok(cosine(Float32Array.from(row.embedding), Float32Array.from(reference)) >= 0.9999, `row ${i} vs reference`);
    });
  });

  test('a big file, small batches and two threads: rows in input order, vectors equal to the whole-window run', async () => {
    const texts = Array.from({length: 3000}, (_, i) => text(i));
    const input = join(dir, 'big.txt');
    await writeFile(input, texts.join('\n') + '\n');
    const out = join(dir, 'big.jsonl');
    const r = await runShell(`$SBERTKIT encode ${input} -o ${out} --model ${model.dir} --threads 2 --batch-size 7 --window-size 500`);
    assert.equal(r.code, 0, r.stderr);
    const rows = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Row);
    assert.deepEqual(rows.map((row) => row.id), texts.map((_, i) => i));
    const whole = await wholeWindowVectors(texts);
    let worst = 0;
    rows.forEach((row, i) => (worst = Math.max(worst, maxAbsDiff(row.embedding, whole[i]!))));
    assert.ok(worst <= 1e-5, `max |diff| ${worst}`);
  });

  test('| head -1 on a big file: row 0 comes out, the run stops early and exits 0', async () => {
    const input = join(dir, 'head.txt');
    await writeFile(input, Array.from({length: 20_000}, (_, i) => text(i)).join('\n'));
    const r = await runShell(`$SBERTKIT encode ${input} --model ${model.dir} --threads 1 --json 2>${join(dir, 'head.err')} | head -1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Row).id, 0);
    const envelope = JSON.parse(await readFile(join(dir, 'head.err'), 'utf8')) as {result: {stopped_early: boolean; rows: number}};
    assert.equal(envelope.result.stopped_early, true);
    assert.ok(envelope.result.rows < 20_000);
  });
});

describe('sbertkit similarity (pairs) streams its scores', () => {
  test('slow stdin: each pair\'s score comes out while the input is still open, equal to the independent forward pass', async () => {
    const pairs = Array.from({length: 5}, (_, i) => [text(i), text(i + 7)] as const);
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'similarity', '-', '--column1', 'a', '--column2', 'b', '--model', model.dir, '--threads', '1'], {stdio: ['pipe', 'pipe', 'pipe']});
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const rows: Array<{a: string; b: string; score: number}> = [];
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) rows.push(JSON.parse(line) as {a: string; b: string; score: number});
    });
    try {
      child.stdin.write('a\tb\n');
      for (let i = 0; i < pairs.length; i++) {
        child.stdin.write(`${pairs[i]![0]}\t${pairs[i]![1]}\n`);
        const deadline = Date.now() + 60_000;
        while (rows.length < i + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal(rows.length, i + 1, `pair ${i} was scored before the input ended (stderr: ${stderr})`);
      }
    } finally {
      child.stdin.end();
    }
    assert.equal(await exited, 0, stderr);
    const reference = (t: string): Float32Array => {
      const ids = referenceWordPiece(model.vocab, t, MAX_SEQ);
      return Float32Array.from(l2Normalize(referencePool(referenceTokenEmbeddings(TINY_BERT, model.weights, ids, ids.map(() => 0)), 'mean')));
    };
    rows.forEach((row, i) => {
      assert.deepEqual([row.a, row.b], pairs[i]);
      assert.ok(Math.abs(row.score - cosine(reference(pairs[i]![0]), reference(pairs[i]![1]))) <= 1e-4, `pair ${i}`);
    });
  });
});
