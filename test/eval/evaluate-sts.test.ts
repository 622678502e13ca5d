import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {SbertkitError} from '../../src/errors.js';
import type {Embeddings} from '../../src/encoder/types.js';
import {evaluateSts, type StsEncoder} from '../../src/eval/evaluate-sts.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {readStsDatasets, type StsDataset} from '../../src/io/sts/read-sts.js';
import type {ModelSpec} from '../../src/models/spec.js';
import {naivePearson, naiveSpearman} from '../helpers/naive-stats.js';
import {repoRoot, sharedDir} from '../helpers/paths.js';

/**
 * Each sentence is a 2-d vector r·(cos a, sin a), so for a pair:
 * cosine = cos(a1 − a2), dot = r1·r2·cos(a1 − a2), |u − v| = sqrt(r1² + r2² − 2·r1·r2·cos(a1 − a2)).
 */
const POLAR: Record<string, {a: number; r: number}> = {
  'A dog runs.': {a: 0, r: 1},
  'A puppy is running.': {a: 0.3, r: 2},
  'Stocks fell today.': {a: 1.0, r: 0.5},
  'It is raining in Oslo.': {a: 2.0, r: 1.5},
  'A dog is running.': {a: 0.1, r: 3},
  'The market dropped.': {a: 2.6, r: 0.8},
};

/** What an encoder's embed() returns, for vectors the test made itself. */
function embeddings(rows: Float32Array[]): Embeddings {
  return {vectors: VectorMatrix.fromRows(rows), stats: {rows: rows.length, tokens: 0, truncated: 0, chunked: 0}};
}

/** A fake encoder that records every text it is asked to embed, call by call. */
function fakeEncoder(extra: Partial<StsEncoder> = {}): StsEncoder & {calls: string[][]} {
  const calls: string[][] = [];
  return {
    calls,
    async embed(texts: readonly string[]) {
      calls.push([...texts]);
      return embeddings(
        texts.map((t) => {
          const p = POLAR[t];
          if (p === undefined) throw new Error(`unexpected text ${t}`);
          return Float32Array.of(p.r * Math.cos(p.a), p.r * Math.sin(p.a));
        }),
      );
    },
    ...extra,
  };
}

const S = Object.keys(POLAR);
const pair = (i: number, j: number, score: number, line: number) => ({s1: S[i], s2: S[j], score, line});

const DATASETS: StsDataset[] = [
  {
    name: 'first',
    file: 'first.tsv',
    format: 'tsv',
    skipped: 1,
    invalidUtf8Lines: 0,
    // S[0] appears in three pairs, S[2] paired with itself.
    pairs: [pair(0, 1, 4, 2), pair(0, 2, 2, 3), pair(1, 3, 0.5, 4), pair(2, 2, 5, 5), pair(4, 0, 4.5, 6)],
  },
  {
    name: 'second',
    file: 'second.csv',
    format: 'original',
    skipped: 0,
    invalidUtf8Lines: 0,
    // Shares S[0..4] with the first dataset; only S[5] is new.
    pairs: [pair(1, 2, 3, 1), pair(3, 0, 0, 2), pair(4, 2, 2, 3), pair(5, 0, 1, 4), pair(5, 3, 3.5, 5)],
  },
];

/** Expected scores computed in the test from the polar closed forms and naive statistics. */
function expected(ds: StsDataset) {
  const gold = ds.pairs.map((p) => p.score);
  const cos: number[] = [];
  const dots: number[] = [];
  const euc: number[] = [];
  const man: number[] = [];
  for (const p of ds.pairs) {
    const u = POLAR[p.s1];
    const v = POLAR[p.s2];
    const c = Math.cos(u.a - v.a);
    cos.push(c);
    dots.push(u.r * v.r * c);
    euc.push(-Math.sqrt(Math.max(0, u.r ** 2 + v.r ** 2 - 2 * u.r * v.r * c)));
    man.push(-(Math.abs(u.r * Math.cos(u.a) - v.r * Math.cos(v.a)) + Math.abs(u.r * Math.sin(u.a) - v.r * Math.sin(v.a))));
  }
  return {
    main_score: naiveSpearman(gold, cos),
    cosine_spearman: naiveSpearman(gold, cos),
    cosine_pearson: naivePearson(gold, cos),
    dot_spearman: naiveSpearman(gold, dots),
    dot_pearson: naivePearson(gold, dots),
    euclidean_spearman: naiveSpearman(gold, euc),
    euclidean_pearson: naivePearson(gold, euc),
    manhattan_spearman: naiveSpearman(gold, man),
    manhattan_pearson: naivePearson(gold, man),
  };
}

const close = (actual: number, want: number, tol: number, msg: string) => assert.ok(Math.abs(actual - want) <= tol, `${msg}: expected ${want}, got ${actual}`);

describe('evaluateSts', () => {
  test('scores match values computed independently; average is the per-metric mean', async () => {
    const {report} = await evaluateSts(fakeEncoder(), DATASETS, {sbertkitVersion: '9.9.9'});
    assert.equal(report.datasets.length, 2);
    const avg: Record<string, number> = {};
    DATASETS.forEach((ds, i) => {
      const got = report.datasets[i];
      assert.deepEqual([got.name, got.file, got.format, got.pairs, got.skipped], [ds.name, ds.file, ds.format, 5, ds.skipped]);
      for (const [key, want] of Object.entries(expected(ds))) {
        // Spearman only depends on order (exact up to float32 storage); Pearson on values stored as float32.
        close(got[key as keyof typeof got] as number, want, key.endsWith('spearman') || key === 'main_score' ? 1e-12 : 1e-6, `${ds.name}.${key}`);
        avg[key] = (avg[key] ?? 0) + want / DATASETS.length;
      }
    });
    for (const [key, want] of Object.entries(avg)) close(report.average[key as keyof typeof report.average], want, 1e-6, `average.${key}`);
    assert.equal(report.unique_sentences, 6);
    assert.equal(report.sbertkit_version, '9.9.9');
    assert.equal(report.encode_seconds, undefined, 'no run-dependent timing unless asked, so reports diff cleanly');
    const {report: timed} = await evaluateSts(fakeEncoder(), DATASETS, {sbertkitVersion: '9.9.9', includeTiming: true});
    assert.ok(timed.encode_seconds! >= 0);
  });

  test('each unique sentence is embedded exactly once across pairs and datasets', async () => {
    const enc = fakeEncoder();
    await evaluateSts(enc, DATASETS, {sbertkitVersion: 'x'});
    const all = enc.calls.flat();
    assert.equal(all.length, new Set(all).size, 'no text embedded twice');
    assert.deepEqual([...all].sort(), [...S].sort(), 'every sentence embedded');
  });

  test('chunking: calls respect chunkSize, progress is reported, results do not depend on it', async () => {
    const progress: [number, number][] = [];
    const enc = fakeEncoder();
    const {report: chunked} = await evaluateSts(enc, DATASETS, {chunkSize: 4, sbertkitVersion: 'x', onProgress: (d, t) => progress.push([d, t])});
    assert.deepEqual(
      enc.calls.map((c) => c.length),
      [4, 2],
    );
    assert.deepEqual(progress, [
      [0, 6],
      [4, 6],
      [6, 6],
    ]);
    const enc1 = fakeEncoder();
    const {report: single} = await evaluateSts(enc1, DATASETS, {chunkSize: 1, sbertkitVersion: 'x'});
    assert.equal(enc1.calls.length, 6);
    const {report: whole} = await evaluateSts(fakeEncoder(), DATASETS, {sbertkitVersion: 'x'});
    const strip = (r: typeof whole) => ({...r, encode_seconds: 0});
    assert.deepEqual(strip(chunked), strip(whole));
    assert.deepEqual(strip(single), strip(whole));
  });

  test('model block comes from the encoder, overrides win; created_at only when asked', async () => {
    const spec = {name: 'org/model@abc123', revision: 'abc123', pooling: 'cls', normalize: false} as ModelSpec;
    const enc = fakeEncoder({spec, dimension: 2, pooling: 'mean', normalized: true});
    const {report: r} = await evaluateSts(enc, DATASETS);
    assert.deepEqual(r.model, {name: 'org/model@abc123', revision: 'abc123', dimension: 2, pooling: 'mean', normalized: true});
    assert.equal('created_at' in r, false);
    const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as {version: string};
    assert.equal(r.sbertkit_version, pkg.version);

    const {report: bare} = await evaluateSts(fakeEncoder(), DATASETS, {model: {name: 'shown name'}, createdAt: new Date('2024-05-06T07:08:09Z'), sbertkitVersion: 'x'});
    assert.deepEqual(bare.model, {name: 'shown name', dimension: 2, pooling: 'unknown', normalized: false});
    assert.equal(bare.created_at, '2024-05-06T07:08:09.000Z');
    assert.deepEqual(Object.keys(bare).slice(0, 3), ['sbertkit_version', 'model', 'created_at']);
  });

  test('bad encoder output and empty input are reported', async () => {
    const short: StsEncoder = {embed: async (texts) => embeddings(texts.slice(1).map(() => new Float32Array(2)))};
    await assert.rejects(evaluateSts(short, DATASETS), (e: unknown) => e instanceof SbertkitError && e.message === 'encoder returned 5 vectors for 6 texts' && e.exitCode === 3);
    // Chunks of different dimensions (one text per call, the first of dimension 2).
    const ragged: StsEncoder = {embed: async (texts) => embeddings(texts.map(() => new Float32Array(texts[0] === S[0] ? 2 : 3)))};
    await assert.rejects(evaluateSts(ragged, DATASETS, {chunkSize: 1}), /dimension 2 and 3/);
    await assert.rejects(evaluateSts(fakeEncoder(), []), /no STS dataset/);
    await assert.rejects(evaluateSts(fakeEncoder(), DATASETS, {chunkSize: 0}), RangeError);
  });
});

describe('evaluateSts on the shared STS Benchmark test split', () => {
  const shared = sharedDir();
  const files = shared === undefined ? [] : [join(shared, 'data/stsb/original/sts-test.csv'), join(shared, 'data/stsb/test.tsv')];
  const present = files.length > 0 && files.every((f) => existsSync(f));

  test('both layouts give identical scores; sentences shared between them are embedded once', {skip: present ? false : 'shared STS-B data not present'}, async () => {
    // Hashed bag of lower-cased words: a cheap deterministic "model" with non-trivial correlations.
    const calls: string[] = [];
    const encoder: StsEncoder = {
      async embed(texts) {
        calls.push(...texts);
        return embeddings(
          texts.map((t) => {
            const v = new Float32Array(64);
            for (const w of t.toLowerCase().match(/[a-z0-9']+/g) ?? []) {
              let h = 2166136261;
              for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
              v[(h >>> 0) % 64] += 1;
            }
            return v;
          }),
        );
      },
    };
    const datasets = await readStsDatasets(files);
    const {report} = await evaluateSts(encoder, datasets, {chunkSize: 500, sbertkitVersion: 'x'});
    const unique = new Set(datasets[0].pairs.flatMap((p) => [p.s1, p.s2]));
    assert.equal(report.unique_sentences, unique.size);
    assert.equal(calls.length, unique.size);
    const [o, t] = report.datasets;
    assert.deepEqual([o.name, t.name, o.pairs, t.pairs], ['sts-test', 'test', 1379, 1379]);
    const scores = (d: typeof o) => ({...d, name: '', file: '', format: 'tsv'});
    assert.deepEqual(scores(o), scores(t));
    // Word overlap does correlate with human judgements; a sanity bound, not a published value.
    assert.ok(o.cosine_spearman > 0.3 && o.cosine_spearman < 0.9, String(o.cosine_spearman));
  });
});
