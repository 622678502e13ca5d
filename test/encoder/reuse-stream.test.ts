/**
 * embedStreamReusing over a stand-in encoder that cuts windows the real way (readWindows) and
 * records every text it is given: the texts that reach it must be exactly the unknown ones, the
 * output must be every record once, in input order, each with its own vector, whatever the mix,
 * the window sizes and eager or not; a known row must not wait for the end of the input.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {embedStreamReusing} from '../../src/encoder/reuse-stream.js';
import {readWindows} from '../../src/encoder/windows.js';
import type {EmbeddedChunk, EmbedStreamOptions, SentenceEncoder} from '../../src/encoder/types.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {mulberry32} from '../helpers/prng.js';

const DIM = 3;
/** The stand-in model: a vector any test can recompute from the text. */
const modelVector = (text: string): Float32Array => Float32Array.from([text.length, text.charCodeAt(0), -1]);
const knownVector = (text: string): Float32Array => Float32Array.from([Number(text.slice(1)), 7, 1]);

function standInEncoder(seen: string[], window = 8): SentenceEncoder {
  return {
    dimension: DIM,
    async *embedStream<R extends {text: string}>(records: AsyncIterable<R> | Iterable<R>, options: EmbedStreamOptions = {}): AsyncGenerator<EmbeddedChunk<R>> {
      const plan = options.eager === true ? {first: 2, max: window, stallMs: options.stallMs ?? 200} : {first: window, max: window};
      for await (const rows of readWindows(records, plan)) {
        for (const row of rows) seen.push(row.text);
        await new Promise((resolve) => setTimeout(resolve, 1));
        const data = new Float32Array(rows.length * DIM);
        rows.forEach((row, i) => data.set(modelVector(row.text), i * DIM));
        yield {records: rows, vectors: new VectorMatrix(rows.map((_, i) => i), DIM, data), stats: {rows: rows.length, tokens: rows.length * 2, truncated: 0, chunked: 0}};
      }
    },
  } as unknown as SentenceEncoder;
}

async function* slowly<T>(items: T[], everyMs = 0): AsyncGenerator<T> {
  for (const item of items) {
    if (everyMs > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
    yield item;
  }
}

/** Records t0..t(n-1); a record is known when `isKnown(i)`; known texts are 'k<i>', others 'n<i>'. */
function records(n: number, isKnown: (i: number) => boolean): {text: string; i: number}[] {
  return Array.from({length: n}, (_, i) => ({text: `${isKnown(i) ? 'k' : 'n'}${i}`, i}));
}
const lookup = (record: {text: string}): Float32Array | undefined => (record.text.startsWith('k') ? knownVector(record.text) : undefined);

async function run(input: {text: string; i: number}[], eager: boolean, window = 8) {
  const seen: string[] = [];
  const out: {i: number; vector: Float32Array}[] = [];
  let reused = 0;
  let encodedRows = 0;
  let tokens = 0;
  for await (const chunk of embedStreamReusing(standInEncoder(seen, window), slowly(input), lookup, {eager})) {
    assert.equal(chunk.records.length, chunk.vectors.length);
    chunk.records.forEach((record, k) => out.push({i: record.i, vector: chunk.vectors[k]!}));
    reused += chunk.reused;
    encodedRows += chunk.stats.rows;
    tokens += chunk.stats.tokens;
  }
  return {seen, out, reused, encodedRows, tokens};
}

describe('embedStreamReusing', () => {
  for (const eager of [true, false]) {
    for (const [name, isKnown] of [
      ['a random mix', (i: number) => mulberry32(i + 1)() < 0.6],
      ['nothing known', () => false],
      ['everything known', () => true],
      ['long known runs between new rows', (i: number) => i % 50 !== 7],
    ] as const) {
      test(`${name} (${eager ? 'eager' : 'whole windows'}): only unknown texts reach the encoder; every row once, in order, with its own vector`, async () => {
        const input = records(300, isKnown);
        const {seen, out, reused, encodedRows, tokens} = await run(input, eager);
        const unknown = input.filter((r) => lookup(r) === undefined).map((r) => r.text);
        assert.deepEqual(seen, unknown);
        assert.deepEqual(out.map((o) => o.i), input.map((r) => r.i));
        out.forEach(({i, vector}) => assert.deepEqual(vector, lookup(input[i]!) ?? modelVector(input[i]!.text), `row ${i}`));
        assert.equal(reused, input.length - unknown.length);
        assert.equal(encodedRows, unknown.length);
        assert.equal(tokens, unknown.length * 2);
      });
    }
  }

  test('more known rows than the reader runs ahead (HIGH_WATER) with a slow consumer: all of them, in order', async () => {
    const input = records(20_000, (i) => i !== 10_000);
    const seen: string[] = [];
    let count = 0;
    let last = -1;
    for await (const chunk of embedStreamReusing(standInEncoder(seen), slowly(input), lookup, {eager: false})) {
      for (const record of chunk.records) {
        assert.equal(record.i, last + 1);
        last = record.i;
        count++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(count, input.length);
    assert.deepEqual(seen, ['n10000']);
  });

  test('known rows ready to go hold the reader back: it runs at most HIGH_WATER (4096) rows ahead of a slow consumer', async () => {
    const input = records(20_000, () => true);
    let read = 0;
    async function* counted(): AsyncGenerator<{text: string; i: number}> {
      for (const record of input) {
        read++;
        yield record;
      }
    }
    let consumed = 0;
    let ahead = 0;
    for await (const chunk of embedStreamReusing(standInEncoder([]), counted(), lookup, {eager: true})) {
      consumed += chunk.records.length;
      await new Promise((resolve) => setTimeout(resolve, 2));
      ahead = Math.max(ahead, read - consumed);
    }
    assert.equal(consumed, input.length);
    assert.ok(ahead <= 4096 + 1, `the reader ran ${ahead} rows ahead`);
    assert.ok(ahead > 0);
  });

  test('a known row goes out before the input ends, even when the encoder holds a partial window', async () => {
    // Input: k0, n1, k2, then a long pause before the rest. Not eager, the encoder waits for a full
    // window of 8 unknown texts, so n1 is held; k0 (before it) must come out during the pause.
    const input = records(12, (i) => i % 2 === 0);
    async function* paused(): AsyncGenerator<{text: string; i: number}> {
      yield* input.slice(0, 3);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      yield* input.slice(3);
    }
    const started = performance.now();
    const times: {i: number; ms: number}[] = [];
    for await (const chunk of embedStreamReusing(standInEncoder([]), paused(), lookup, {eager: false})) {
      for (const record of chunk.records) times.push({i: record.i, ms: performance.now() - started});
    }
    assert.equal(times[0]!.i, 0);
    assert.ok(times[0]!.ms < 800, `k0 came out after ${times[0]!.ms} ms`);
    assert.deepEqual(times.map((t) => t.i), input.map((r) => r.i));
  });

  test('the consumer stopping early stops the encoder and the reader', async () => {
    const input = records(100_000, (i) => i % 3 !== 0);
    let read = 0;
    async function* counted(): AsyncGenerator<{text: string; i: number}> {
      for (const record of input) {
        read++;
        yield record;
      }
    }
    let got = 0;
    for await (const chunk of embedStreamReusing(standInEncoder([]), counted(), lookup, {eager: true})) {
      got += chunk.records.length;
      if (got >= 10) break;
    }
    assert.ok(read < input.length, `read ${read} of ${input.length}`);
  });
});
