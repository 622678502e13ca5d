/**
 * The staged dedupe (`dedupe plan/assign/bucket/merge`) end to end through the real binary. Its
 * answer is checked against the single-machine `dedupe --exact` on the same rows in the same order
 * and against the naive all-pairs rule (test/algorithms/dedupe-reference.ts) computed here in float64;
 * the cut (shards, buckets, probes) must not change it when the probes reach every near duplicate.
 * Reruns of finished stages do nothing; a stage whose previous stage is missing, unfinished or stale
 * refuses with one line.
 */
import assert from 'node:assert/strict';
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {keepOrder} from '../../src/algorithms/dedupe/decide.js';
import {normalizeText} from '../../src/algorithms/dedupe/normalize.js';
import {openVectorWriter} from '../../src/io/vectors/write-vectors.js';
import {readVectorMatrix} from '../../src/io/vectors/read-vectors.js';
import {cosine, naiveDedupe, type RefDecision} from '../algorithms/dedupe-reference.js';
import {mulberry32} from '../helpers/prng.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';
import {readJsonl, type DuplicateMapRow} from '../helpers/jsonl.js';

let dir: string;
let modelDir: string;
let counter = 0;
const path = (name: string) => join(dir, `${counter++}-${name}`);

type MapRow = DuplicateMapRow;

interface Corpus {
  ids: string[];
  texts: string[];
  vectors: Float32Array[];
}

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 32})).dir;
});

async function sbk(args: string[]): Promise<{code: number | null; stdout: string; stderr: string; result: Record<string, any>}> {
  const r = await runCli([...args, '--json']);
  const parsed = r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as {result?: Record<string, any>});
  return {...r, result: parsed.result ?? {}};
}

async function ok(args: string[]): Promise<Record<string, any>> {
  const r = await sbk(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.result;
}

/** Every row of the parts, in part order (the order the stages take them in). */
async function readParts(partsDir: string, files: string[]): Promise<Corpus> {
  const corpus: Corpus = {ids: [], texts: [], vectors: []};
  for (const file of files) {
    const table = await readVectorMatrix(join(partsDir, file));
    for (let i = 0; i < table.vectors.rows; i++) {
      corpus.ids.push(String(table.vectors.ids[i]));
      corpus.texts.push(String(table.fields.text![i] ?? ''));
      corpus.vectors.push(table.vectors.row(i).slice());
    }
  }
  return corpus;
}

/** The same rows as one JSONL vector file, for the single-machine dedupe. */
async function wholeFile(corpus: Corpus): Promise<string> {
  const file = path('whole.jsonl');
  await writeFile(file, corpus.ids.map((id, i) => JSON.stringify({id, text: corpus.texts[i], embedding: Array.from(corpus.vectors[i]!)}) + '\n').join(''));
  return file;
}

/** plan -> assign (N shards) -> bucket (all, or M shares) -> merge; returns the kept ids and the map. */
async function staged(partsDir: string, planFlags: string[], shards: number, bucketShares = 0, mergeFlags: string[] = []): Promise<{work: string; kept: string[]; map: MapRow[]; result: Record<string, any>}> {
  const work = path('work');
  await ok(['dedupe', 'plan', partsDir, '--out', work, ...planFlags]);
  for (let i = 0; i < shards; i++) await ok(['dedupe', 'assign', work, '--shard', `${i}/${shards}`]);
  if (bucketShares === 0) await ok(['dedupe', 'bucket', work]);
  else for (let i = 0; i < bucketShares; i++) await ok(['dedupe', 'bucket', work, '--shard', `${i}/${bucketShares}`]);
  const out = path('kept.jsonl');
  const map = path('map.jsonl');
  const result = await ok(['dedupe', 'merge', work, '-o', out, '--duplicates', map, ...mergeFlags]);
  return {work, kept: (await readJsonl<{id: string | number}>(out)).map((k) => String(k.id)), map: await readJsonl<MapRow>(map), result};
}

function expectedFrom(corpus: Corpus, want: RefDecision[]): {kept: string[]; map: [string, string, string][]} {
  return {
    kept: corpus.ids.filter((_, i) => want[i]!.reason === 'kept'),
    map: want.flatMap((w, i) => (w.reason === 'kept' ? [] : [[corpus.ids[i]!, corpus.ids[w.keptBy]!, w.reason] as [string, string, string]])),
  };
}

const mapTriples = (map: MapRow[]) => map.map((m) => [String(m.removed_id), String(m.kept_id), m.reason]);

/** A threshold between two distinct pair cosines near the given share of the pairs, so float rounding cannot flip a pair. */
function thresholdAtShare(vectors: Float32Array[], share: number): number {
  const scores: number[] = [];
  for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) scores.push(cosine(vectors[i]!, vectors[j]!));
  const sorted = [...new Set(scores.filter((s) => s < 0.99999))].sort((a, b) => b - a);
  let at = Math.floor(sorted.length * share);
  while (at + 1 < sorted.length && sorted[at]! - sorted[at + 1]! < 2e-4) at++;
  return (sorted[at]! + sorted[at + 1]!) / 2;
}

describe('sbertkit dedupe plan/assign/bucket/merge', () => {
  // Texts with case and space variants (exact), paraphrases (near), an empty text.
  const BASE = ['the cat sat on the mat', 'dogs run in the park', 'rain is expected today', 'books about the sea', 'trains leave at noon', 'a quiet morning walk', 'fresh bread from the oven', 'the stock market fell', 'children play football', 'a letter from home'];
  const ROWS = Array.from({length: 72}, (_, i) => {
    const base = BASE[i % BASE.length]!;
    const text = i % 7 === 3 ? base.toUpperCase() : i % 5 === 1 ? `${base}  ` : i % 3 === 2 ? `${base} ${i % 4}` : i === 40 ? '' : `${base} ${i}`;
    return {id: `doc-${i}`, text};
  });
  let encParts: string;
  let encFiles: string[];
  let encCorpus: Corpus;

  before(async () => {
    const csv = path('corpus.csv');
    await writeFile(csv, 'id,text\n' + ROWS.map((r) => `${r.id},"${r.text}"`).join('\n') + '\n');
    encParts = path('parts');
    await mkdir(encParts);
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['encode', csv, '--id-column', 'id', '--keep-columns', 'text', '--shard', `${i}/3`, '-o', join(encParts, `part-${i}-of-3.arrow`), '--model', modelDir, '--quiet']);
      assert.equal(r.code, 0, r.stderr);
    }
    encFiles = ['part-0-of-3.arrow', 'part-1-of-3.arrow', 'part-2-of-3.arrow'];
    encCorpus = await readParts(encParts, encFiles);
    assert.equal(encCorpus.ids.length, ROWS.length);
  });

  test('encode --shard parts: one bucket, and every bucket probed, both equal dedupe --exact and the naive rule', async () => {
    const threshold = thresholdAtShare(encCorpus.vectors, 0.04);
    const keys = encCorpus.texts.map((t) => normalizeText(t));
    const want = expectedFrom(encCorpus, naiveDedupe(encCorpus.vectors, keys, [...keepOrder(keys.length, 'first')], threshold));
    assert.ok(want.map.some((m) => m[2] === 'exact') && want.map.some((m) => m[2] === 'semantic'), 'both kinds of drop are exercised');

    const single = await wholeFile(encCorpus);
    const singleMap = path('single-map.jsonl');
    const singleOut = path('single.jsonl');
    const r = await sbk(['dedupe', single, '--vectors', '--exact', '--threshold', String(threshold), '-o', singleOut, '--duplicates', singleMap]);
    assert.equal(r.code, 0, r.stderr);
    const singleKept = (await readJsonl<{id: string}>(singleOut)).map((k) => k.id);
    const singleRows = await readJsonl<MapRow>(singleMap);
    assert.deepEqual(singleKept, want.kept);
    assert.deepEqual(mapTriples(singleRows), want.map);

    for (const [planFlags, shards] of [[['--buckets', '1'], 1], [['--buckets', '5', '--probes', '5'], 2], [['--buckets', '3', '--probes', '3'], 4]] as [string[], number][]) {
      const s = await staged(encParts, ['--threshold', String(threshold), ...planFlags], shards);
      assert.deepEqual(s.kept, want.kept, planFlags.join(' '));
      assert.deepEqual(mapTriples(s.map), want.map, planFlags.join(' '));
      s.map.forEach((m, i) => assert.ok(Math.abs(m.score - singleRows[i]!.score) <= 1e-5, `score of ${m.removed_id}`));
      assert.equal(s.result.rows, ROWS.length);
      assert.equal(s.result.kept, want.kept.length);
    }
  });

  test('--keep longest and a stricter merge --threshold decide from the same pairs as dedupe does', async () => {
    const threshold = thresholdAtShare(encCorpus.vectors, 0.05);
    const stricter = thresholdAtShare(encCorpus.vectors, 0.02);
    const s = await staged(encParts, ['--threshold', String(threshold), '--buckets', '2', '--probes', '2'], 2, 0, ['--keep', 'longest', '--threshold', String(stricter)]);
    const keys = encCorpus.texts.map((t) => normalizeText(t));
    const want = expectedFrom(encCorpus, naiveDedupe(encCorpus.vectors, keys, [...keepOrder(keys.length, 'longest', encCorpus.texts)], stricter));
    assert.deepEqual(s.kept, want.kept);
    assert.deepEqual(mapTriples(s.map), want.map);
  });

  test('rows on a circle, cut into 12 arcs: one probe misses the pairs across each cut, two find every pair, whatever the shards; single-machine --buckets agrees', async () => {
    // 180 rows about 2 degrees apart on a circle (1.4 to 2.6: no two neighbours tie), shuffled: each
    // row's near duplicates are its two neighbours on the circle, so every cut k-means makes between
    // buckets splits such pairs.
    const rand = mulberry32(11);
    const degree = Math.PI / 180;
    const angles = Array.from({length: 180}, (_, i) => (2 * i + 0.6 * (rand() - 0.5)) * degree);
    for (let i = angles.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [angles[i], angles[j]] = [angles[j]!, angles[i]!];
    }
    const vectors = angles.map((a) => Float32Array.from({length: 16}, (_, k) => (k === 0 ? Math.cos(a) : k === 1 ? Math.sin(a) : k === 2 ? 0.5 : 0)));
    const partsDir = path('circle');
    await mkdir(partsDir);
    const sizes = [50, 0, 60, vectors.length - 110];
    let at = 0;
    const files: string[] = [];
    for (const [p, size] of sizes.entries()) {
      const file = `p${p}.arrow`;
      files.push(file);
      const writer = await openVectorWriter(join(partsDir, file), {format: 'arrow', dimension: 16, idType: 'string', fieldNames: ['text'], metadata: {'sbertkit.model': 'circle'}});
      await writer.write(vectors.slice(at, at + size).map((v, i) => ({id: `v${at + i}`, vector: v, fields: {text: `row ${at + i}`}})));
      await writer.commit();
      at += size;
    }
    const corpus = await readParts(partsDir, files);
    assert.equal(corpus.ids.length, vectors.length);
    // Neighbours 2.6 degrees apart score 0.99918, 3.4 degrees apart (two steps) 0.99859.
    const threshold = 0.999;
    const naivePairs = corpus.vectors.reduce((sum, a, i) => sum + corpus.vectors.filter((b, j) => j !== i && cosine(a, b) >= threshold).length, 0);
    assert.equal(naivePairs, 2 * vectors.length);
    const want = expectedFrom(corpus, naiveDedupe(corpus.vectors, corpus.texts, corpus.vectors.map((_, i) => i), threshold));

    const oneProbe = await staged(partsDir, ['--threshold', String(threshold), '--buckets', '12', '--probes', '1'], 1);
    assert.ok(oneProbe.result.pairs < naivePairs, `one probe: ${oneProbe.result.pairs} of ${naivePairs} pairs (the cut splits some)`);
    const a = await staged(partsDir, ['--threshold', String(threshold), '--buckets', '12', '--probes', '2'], 1);
    const b = await staged(partsDir, ['--threshold', String(threshold), '--buckets', '12', '--probes', '2'], 3, 5);
    for (const s of [a, b]) {
      assert.equal(s.result.pairs, naivePairs);
      assert.deepEqual(s.kept, want.kept);
      assert.deepEqual(mapTriples(s.map), want.map);
      assert.equal(s.result.buckets, 12);
    }
    const single = await wholeFile(corpus);
    const singleMap = path('single-map.jsonl');
    const r = await sbk(['dedupe', single, '--vectors', '--buckets', '12', '--probes', '2', '--threshold', String(threshold), '-o', path('single.jsonl'), '--duplicates', singleMap]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.result.backend, 'bucketed');
    assert.deepEqual(mapTriples(await readJsonl<MapRow>(singleMap)), mapTriples(a.map));
  });

  test('reruns of finished stages do nothing and the merge writes the same bytes', async () => {
    const work = path('work');
    const plan = ['dedupe', 'plan', encParts, '--out', work, '--buckets', '3', '--threshold', '0.97'];
    assert.equal((await ok(plan)).skipped, false);
    assert.equal((await ok(['dedupe', 'assign', work, '--shard', '0/2'])).skipped, false);
    assert.equal((await ok(['dedupe', 'assign', work, '--shard', '1/2'])).skipped, false);
    assert.equal((await ok(['dedupe', 'bucket', work, '--bucket', '1'])).done, 1);
    const all = await ok(['dedupe', 'bucket', work]);
    assert.deepEqual([all.done, all.skipped], [2, 1]);
    const out1 = path('kept.arrow');
    await ok(['dedupe', 'merge', work, '-o', out1]);
    const listing = await readdir(join(work, 'buckets'));

    assert.equal((await ok(plan)).skipped, true);
    assert.equal((await ok(['dedupe', 'assign', work, '--shard', '1/2'])).skipped, true);
    const again = await ok(['dedupe', 'bucket', work]);
    assert.deepEqual([again.done, again.skipped], [0, 3]);
    const out2 = path('kept.arrow');
    await ok(['dedupe', 'merge', work, '-o', out2]);
    assert.deepEqual(await readFile(out2), await readFile(out1));
    assert.deepEqual(await readdir(join(work, 'buckets')), listing, 'no temp files left behind');

    // The kept rows keep the parts' columns, metadata and original vectors.
    const kept = await readVectorMatrix(out1);
    assert.equal(kept.metadata['sbertkit.model'], modelDir);
    const row = encCorpus.ids.indexOf(String(kept.vectors.ids[0]));
    assert.deepEqual(Array.from(kept.vectors.row(0)), Array.from(encCorpus.vectors[row]!));
    assert.equal(kept.fields.text![0], encCorpus.texts[row]);
  });

  test('a stage refuses a missing, unfinished or stale previous stage with one line', async () => {
    const work = path('work');
    const refuse = async (args: string[], pattern: RegExp) => {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')} should refuse: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    };
    await refuse(['dedupe', 'assign', work, '--shard', '0/1'], /no finished plan/);
    await ok(['dedupe', 'plan', encParts, '--out', work, '--buckets', '4', '--threshold', '0.97']);
    await ok(['dedupe', 'assign', work, '--shard', '0/3']);
    await refuse(['dedupe', 'bucket', work, '--bucket', '0'], /dedupe assign is not finished: 2 of 3 parts/);
    await ok(['dedupe', 'assign', work, '--shard', '1/3']);
    await ok(['dedupe', 'assign', work, '--shard', '2/3']);
    await refuse(['dedupe', 'bucket', work, '--bucket', '4'], /the plan has 4 buckets/);
    await ok(['dedupe', 'bucket', work, '--bucket', '0']);
    await refuse(['dedupe', 'merge', work, '-o', path('k.jsonl')], /dedupe bucket is not finished: 3 of 4 buckets/);
    await refuse(['dedupe', 'merge', work, '-o', path('k.jsonl'), '--threshold', '0.5'], /below the plan's 0.97/);
    // Another plan (another seed): the old assignment is stale, never mixed in.
    await ok(['dedupe', 'plan', encParts, '--out', work, '--buckets', '4', '--threshold', '0.97', '--seed', '5']);
    await refuse(['dedupe', 'bucket', work], /earlier plan/);
    await rm(join(work, 'assign'), {recursive: true});
    await ok(['dedupe', 'assign', work]);
    await ok(['dedupe', 'bucket', work]);
    // A part remade after the plan (its manifest names another checksum).
    const manifestPath = join(encParts, 'part-1-of-3.arrow.manifest.json');
    const original = await readFile(manifestPath, 'utf8');
    try {
      const manifest = JSON.parse(original) as {output: {sha256: string}};
      manifest.output.sha256 = '0'.repeat(64);
      await writeFile(manifestPath, JSON.stringify(manifest));
      await refuse(['dedupe', 'merge', work, '-o', path('k.jsonl')], /was remade/);
    } finally {
      await writeFile(manifestPath, original);
    }
  });
});
