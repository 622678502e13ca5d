/**
 * `sbertkit dedupe` end to end through the real binary. Decisions are checked against the naive
 * all-pairs rule (test/algorithms/dedupe-reference.ts) over the vectors `encode` writes for the same
 * texts; the kept rows against the bytes the test itself wrote for each row (format preservation);
 * sweep counts against separate runs; and the error paths for one clear line and no output file.
 */
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {keepOrder} from '../../src/algorithms/dedupe/decide.js';
import {normalizeText} from '../../src/algorithms/dedupe/normalize.js';
import {cosine, naiveDedupe} from '../algorithms/dedupe-reference.js';
import {plantedGroups} from '../algorithms/cluster-reference.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';
import {sqlString, useDuckDb} from '../helpers/duckdb.js';
import {readJsonl, type DuplicateMapRow} from '../helpers/jsonl.js';

let dir: string;
let modelDir: string;
let env: Record<string, string>;
let counter = 0;
const path = (name: string) => join(dir, `${counter++}-${name}`);

type MapRow = DuplicateMapRow;

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 32})).dir;
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
});

/** Our own sentences: near-paraphrases, case and space variants, an empty text. */
const TEXTS = [
  'the cat sat on the mat',
  'The  cat sat on the MAT',
  'a cat sat on a mat',
  'dogs run in the park',
  'the dog runs in the park',
  'rain is expected today',
  '',
  'rain expected today',
  'books about the sea',
  'the cat sat on the mat',
  'trains leave at noon',
  'the train leaves at noon',
];

/**
 * A CSV whose rows are written in different ways (quoted fields, a quote inside, an embedded newline,
 * an extra column), each row's raw text kept so the expected output is those bytes.
 */
function csvRows(): {header: string; raw: string[]} {
  const raw = TEXTS.map((t, i) => {
    if (i === 2) return `k${i},"${t}","note, with comma"\r\n`;
    if (i === 4) return `k${i},"${t}","line one\nline two"\n`;
    if (i === 8) return `k${i},${t},"she said ""hi"""\n`;
    return `k${i},${t},plain\n`;
  });
  return {header: 'key,text,note\n', raw};
}

async function encodeVectors(csv: string): Promise<Float32Array[]> {
  const out = path('enc.jsonl');
  const r = await runCli(['encode', csv, '--id-column', 'key', '-o', out, '--model', modelDir, '--quiet'], {env});
  assert.equal(r.code, 0, r.stderr);
  return (await readJsonl<{embedding: number[]}>(out)).map((row) => Float32Array.from(row.embedding));
}

/** A threshold halfway between two neighbouring pairwise cosines near the given quantile (no ties at it). */
function thresholdAt(vectors: Float32Array[], quantile: number): number {
  const all: number[] = [];
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) all.push(dot(vectors[i]!, vectors[j]!));
  all.sort((a, b) => a - b);
  const q = Math.floor(all.length * quantile);
  return Number(((all[q]! + all[q + 1]!) / 2).toFixed(6));
}

describe('sbertkit dedupe: texts', () => {
  for (const keep of ['first', 'longest', 'shortest'] as const) {
    test(`--keep ${keep}: decisions equal the naive rule, kept CSV rows are the source bytes`, async () => {
      const {header, raw} = csvRows();
      const csv = path('in.csv');
      await writeFile(csv, header + raw.join(''));
      const vectors = await encodeVectors(csv);
      const threshold = thresholdAt(vectors, 0.85);
      const keys = TEXTS.map(normalizeText);
      const want = naiveDedupe(vectors, keys, Array.from(keepOrder(TEXTS.length, keep, TEXTS)), threshold);

      const out = path('kept.csv');
      const map = path('map.jsonl');
      const r = await runCli(['dedupe', csv, '--id-column', 'key', '--threshold', String(threshold), '--keep', keep, '-o', out, '--duplicates', map, '--model', modelDir], {env});
      assert.equal(r.code, 0, r.stderr);
      const kept = want.map((w, i) => (w.reason === 'kept' ? i : -1)).filter((i) => i >= 0);
      assert.equal(await readFile(out, 'utf8'), header + kept.map((i) => raw[i]).join(''));
      const got = await readJsonl<MapRow>(map);
      const dropped = want.map((w, i) => ({w, i})).filter(({w}) => w.reason !== 'kept');
      assert.deepEqual(got.map((g) => [g.removed_id, g.kept_id, g.reason]), dropped.map(({w, i}) => [`k${i}`, `k${w.keptBy}`, w.reason]));
      got.forEach((g, p) => assert.ok(Math.abs(g.score - dropped[p]!.w.score) <= 1e-5, `score of ${g.removed_id}`));
      const exact = want.filter((w) => w.reason === 'exact').length;
      const semantic = want.filter((w) => w.reason === 'semantic').length;
      // Rows 0, 1 and 9 are one text up to case and spaces: at most one of them stays.
      assert.ok([0, 1, 9].filter((i) => want[i]!.reason === 'kept').length <= 1, 'the case/space twins go');
      assert.match(r.stderr, new RegExp(`dedupe: 12 rows in, ${kept.length} kept, ${exact} exact and ${semantic} near duplicates dropped`));
    });
  }

  test('--sweep counts equal separate runs at each threshold, and writes no rows', async () => {
    const {header, raw} = csvRows();
    const csv = path('in.csv');
    await writeFile(csv, header + raw.join(''));
    const vectors = await encodeVectors(csv);
    const sweep = [0.6, 0.75, 0.9].map((q) => thresholdAt(vectors, q));
    const out = path('never.csv');
    const r = await runCli(['dedupe', csv, '--sweep', sweep.join(','), '-o', out, '--model', modelDir, '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(out), 'no rows written under --sweep');
    const rows = (JSON.parse(r.stdout) as {result: {sweep: {threshold: number; kept: number; exact: number; semantic: number; dropped: number}[]}}).result.sweep;
    assert.deepEqual(rows.map((s) => s.threshold), [...sweep].sort((a, b) => a - b));
    for (const s of rows) {
      const one = await runCli(['dedupe', csv, '--threshold', String(s.threshold), '-o', path('k.csv'), '--model', modelDir, '--json'], {env});
      assert.equal(one.code, 0, one.stderr);
      const res = (JSON.parse(one.stdout) as {result: {kept: number; exact_dropped: number; semantic_dropped: number}}).result;
      assert.deepEqual([s.kept, s.exact, s.semantic], [res.kept, res.exact_dropped, res.semantic_dropped], `threshold ${s.threshold}`);
    }
    // The table form on stdout.
    const table = await runCli(['dedupe', csv, '--sweep', sweep.join(','), '--model', modelDir, '--quiet'], {env});
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ *threshold +kept +dropped +exact +near +against\n/);
    assert.equal(table.stdout.trim().split('\n').length, 4);
  });

  test('--report writes one self-contained page with the counts', async () => {
    const {header, raw} = csvRows();
    const csv = path('in.csv');
    await writeFile(csv, header + raw.join(''));
    const report = path('report.html');
    const r = await runCli(['dedupe', csv, '--threshold', '0.9', '-o', path('k.csv'), '--report', report, '--model', modelDir, '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    const html = await readFile(report, 'utf8');
    const result = (JSON.parse(r.stdout) as {result: {rows: number; kept: number}}).result;
    assert.match(html, /^<!DOCTYPE html>/i);
    assert.match(html, /<svg/);
    assert.ok(html.includes(String(result.kept)));
    assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), 'no network reference');
  });

  test('--exact-only loads no model: JSONL lines and txt from stdin come out byte for byte', async () => {
    const lines = ['{"text": "Hello  World", "n": 1}', '{ "n":2,"text":"hello world" }', '', '{"text":"caf\\u00e9","n":3}', '{"text":"cafe\u0301","n":4}', '{"text":"other","n":5.50}'];
    const jsonl = path('in.jsonl');
    await writeFile(jsonl, lines.join('\n') + '\n');
    const out = path('kept.jsonl');
    const map = path('map.csv');
    // A model that does not exist: it must never be loaded.
    const r = await runCli(['dedupe', jsonl, '--exact-only', '-o', out, '--duplicates', map, '--model', join(dir, 'no-such-model')], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(out, 'utf8'), [lines[0], lines[3], lines[5]].join('\n') + '\n');
    assert.equal(await readFile(map, 'utf8'), 'removed_id,kept_id,score,reason\n1,0,1,exact\n3,2,1,exact\n');

    const piped = await runCli(['dedupe', '--exact-only', '--quiet'], {stdin: 'b\nA\na\n\n\nB \nc'});
    assert.equal(piped.code, 0, piped.stderr);
    // txt: every line is a row (two empty lines are exact duplicates of each other); the last line keeps its missing newline.
    assert.equal(piped.stdout, 'b\nA\n\nc');
  });
});

describe('sbertkit dedupe: vector files', () => {
  async function vectorFile(rows: ArrayLike<number>[], extra?: (i: number) => Record<string, unknown>): Promise<string> {
    const file = path('v.jsonl');
    await writeFile(file, rows.map((r, i) => JSON.stringify({id: `r${i}`, ...extra?.(i), embedding: Array.from(r)}) + '\n').join(''));
    return file;
  }

  test('planted groups: decisions equal the naive rule; the kept file keeps its columns', async () => {
    const rows = plantedGroups(41, 12, 8, 6, 30, 0.2);
    const input = await vectorFile(rows, (i) => ({text: `row ${i}`, source: `s${i % 3}`}));
    const threshold = 0.9;
    const want = naiveDedupe(rows, rows.map((_, i) => `row ${i}`), rows.map((_, i) => i), threshold);
    const out = path('kept.jsonl');
    const map = path('map.jsonl');
    const r = await runCli(['dedupe', input, '--vectors', '--threshold', String(threshold), '-o', out, '--duplicates', map]);
    assert.equal(r.code, 0, r.stderr);
    const kept = await readJsonl<{id: string; text: string; source: string; embedding: number[]}>(out);
    const keptIndices = want.map((w, i) => (w.reason === 'kept' ? i : -1)).filter((i) => i >= 0);
    assert.ok(keptIndices.length < rows.length && keptIndices.length > 8);
    assert.deepEqual(kept.map((k) => k.id), keptIndices.map((i) => `r${i}`));
    assert.deepEqual(kept.map((k) => [k.text, k.source]), keptIndices.map((i) => [`row ${i}`, `s${i % 3}`]));
    // The original vectors, not the normalized ones used for comparing.
    kept.forEach((k, p) => k.embedding.forEach((x, j) => assert.ok(Math.abs(x - rows[keptIndices[p]!]![j]!) <= 1e-6)));
    const got = await readJsonl<MapRow>(map);
    assert.deepEqual(got.map((g) => [g.removed_id, g.kept_id, g.reason]), want.flatMap((w, i) => (w.reason === 'kept' ? [] : [[`r${i}`, `r${w.keptBy}`, w.reason]])));
  });

  test('a row without a text (field absent or null) is nobody\'s exact duplicate; it is compared by its vector', async () => {
    // Rows 0, 1 and 4 have no text and point in different directions; 2 and 3 share a text.
    const rows = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0.2, 1], [-1, 0, 0]].map((r) => Float32Array.from(r));
    const texts: Array<string | null | undefined> = [undefined, null, 'same words', 'Same  words', null];
    const input = await vectorFile(rows, (i) => (texts[i] === undefined ? {} : {text: texts[i]}));
    const map = path('map.jsonl');
    const r = await runCli(['dedupe', input, '--vectors', '--threshold', '0.9', '-o', path('k.jsonl'), '--duplicates', map]);
    assert.equal(r.code, 0, r.stderr);
    const got = await readJsonl<MapRow>(map);
    assert.deepEqual(got.map((g) => [g.removed_id, g.kept_id, g.reason]), [['r3', 'r2', 'exact']]);
  });

  test('--ann and --buckets: approximate backends report their measured recall; every drop is still a true match', async () => {
    const rows = plantedGroups(42, 16, 30, 4, 40, 0.1);
    const input = await vectorFile(rows);
    const want = naiveDedupe(rows, rows.map(() => undefined), rows.map((_, i) => i), 0.9);
    for (const flags of [['--ann'], ['--buckets', '4', '--probes', '1'], ['--buckets', '4', '--probes', '4']]) {
      const map = path('map.jsonl');
      const r = await runCli(['dedupe', input, '--vectors', ...flags, '-o', path('k.jsonl'), '--duplicates', map, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = (JSON.parse(r.stdout) as {result: {backend: string; kept: number; neighbour_recall: {recall: number; sampled: number}}}).result;
      assert.equal(result.backend, flags[0] === '--ann' ? 'ann' : 'bucketed');
      assert.equal(result.neighbour_recall.sampled, rows.length);
      const got = await readJsonl<MapRow>(map);
      const keptIds = new Set(rows.map((_, i) => `r${i}`).filter((id) => !got.some((g) => g.removed_id === id)));
      for (const g of got) {
        assert.ok(keptIds.has(String(g.kept_id)), `${g.removed_id}'s kept row is kept`);
        const [a, b] = [rows[Number(String(g.removed_id).slice(1))]!, rows[Number(String(g.kept_id).slice(1))]!];
        assert.ok(Math.abs(cosine(a, b) - g.score) <= 1e-5 && g.score >= 0.9);
      }
      // Probing every bucket is exact: the naive decisions.
      if (flags.includes('4') && flags[3] === '4') {
        assert.equal(result.neighbour_recall.recall, 1);
        assert.equal(result.kept, want.filter((w) => w.reason === 'kept').length);
      }
    }
  });

  test('--against a vector-file reference drops the input rows it matches, and never outputs reference rows', async () => {
    const rows = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.7, 0.7, 0]].map((r) => Float32Array.from(r));
    const reference = [[0.99, 0.05, 0], [0, 0, -1]].map((r) => Float32Array.from(r));
    const input = await vectorFile(rows);
    const ref = path('ref.jsonl');
    await writeFile(ref, reference.map((r, i) => JSON.stringify({id: `train${i}`, embedding: Array.from(r)}) + '\n').join(''));
    const out = path('kept.jsonl');
    const map = path('map.jsonl');
    // Both files are vector files: --vectors reads the input; the reference is told by the same flag... as JSONL vectors.
    const r = await runCli(['dedupe', input, '--vectors', '--against', `${ref}`, '--threshold', '0.95', '-o', out, '--duplicates', map, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readJsonl<{id: string}>(out)).map((k) => k.id), ['r1', 'r2', 'r3']);
    const got = await readJsonl<MapRow>(map);
    assert.equal(got.length, 1);
    assert.deepEqual([got[0]!.removed_id, got[0]!.kept_id, got[0]!.reason, got[0]!.reference], ['r0', 'train0', 'against', ref]);
    const cos = 0.99 / Math.hypot(0.99, 0.05);
    assert.ok(Math.abs(got[0]!.score - cos) <= 1e-5);
    assert.equal((JSON.parse(r.stdout) as {result: {against_dropped: number}}).result.against_dropped, 1);
  });
});

describe('sbertkit dedupe: references and Parquet', () => {
  test('--exact-only --against a text file: rows equal to a reference text go, with no model', async () => {
    const csv = path('test.csv');
    await writeFile(csv, 'id,text\nq1,What is the capital of France?\nq2,How tall is Everest?\nq3,what is the CAPITAL of  france?\n');
    const ref = path('train.txt');
    await writeFile(ref, 'how tall is everest?\nsomething else\n');
    const out = path('clean.csv');
    const map = path('map.jsonl');
    const r = await runCli(['dedupe', csv, '--id-column', 'id', '--exact-only', '--against', ref, '-o', out, '--duplicates', map, '--model', join(dir, 'no-such-model')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(out, 'utf8'), 'id,text\nq1,What is the capital of France?\n');
    // kept_id mixes a reference row number and an input id, so the column is text.
    assert.deepEqual(await readJsonl<MapRow>(map), [
      {removed_id: 'q2', kept_id: '0', score: 1, reason: 'against', reference: ref},
      {removed_id: 'q3', kept_id: 'q1', score: 1, reason: 'exact', reference: null},
    ]);
  });

  test('a Parquet file from encode stays Parquet with its columns and metadata', async () => {
    const {header, raw} = csvRows();
    const csv = path('in.csv');
    await writeFile(csv, header + raw.join(''));
    const parquet = path('enc.parquet');
    const enc = await runCli(['encode', csv, '--id-column', 'key', '--keep-columns', 'text,note', '-o', parquet, '--model', modelDir, '--quiet'], {env});
    assert.equal(enc.code, 0, enc.stderr);
    const out = path('kept.parquet');
    const r = await runCli(['dedupe', parquet, '--threshold', '0.95', '-o', out, '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    const {readVectorMatrix} = await import('../../src/io/vectors/read-vectors.js');
    const before = await readVectorMatrix(parquet);
    const after = await readVectorMatrix(out);
    const result = (JSON.parse(r.stdout) as {result: {kept: number; exact_dropped: number}}).result;
    assert.equal(after.vectors.rows, result.kept);
    assert.ok(result.exact_dropped >= 2, 'the twins of row 0 are exact duplicates');
    assert.deepEqual(Object.keys(after.fields).sort(), Object.keys(before.fields).sort());
    assert.equal(after.metadata['sbertkit.model'], before.metadata['sbertkit.model']);
    // Each kept row is the same row of the input: id, columns and vector.
    after.vectors.ids.forEach((id, p) => {
      const i = before.vectors.ids.indexOf(id);
      assert.ok(i >= 0);
      assert.equal(after.fields.note![p], before.fields.note![i]);
      assert.deepEqual(Array.from(after.vectors.row(p)), Array.from(before.vectors.row(i)));
    });
  });
});

describe('sbertkit dedupe: compact vector files', () => {
  const query = useDuckDb();
  for (const precision of ['int8', 'ubinary', 'float16'] as const) {
    test(`a ${precision} Parquet file stays ${precision}: kept rows keep their stored values`, async () => {
      const {header, raw} = csvRows();
      const csv = path('in.csv');
      await writeFile(csv, header + raw.join(''));
      const input = path(`enc-${precision}.parquet`);
      const enc = await runCli(['encode', csv, '--id-column', 'key', '--keep-columns', 'text', '--precision', precision, '-o', input, '--model', modelDir, '--quiet'], {env});
      assert.equal(enc.code, 0, enc.stderr);
      const out = path(`kept-${precision}.parquet`);
      const r = await runCli(['dedupe', input, '--threshold', '0.99', '-o', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = (JSON.parse(r.stdout) as {result: {kept: number; rows: number}}).result;
      assert.ok(result.kept < result.rows, 'the exact twins went');
      const before = await query(`SELECT id, embedding::VARCHAR AS e, typeof(embedding) AS t FROM ${sqlString(input)}`);
      const after = await query(`SELECT id, embedding::VARCHAR AS e, typeof(embedding) AS t FROM ${sqlString(out)}`);
      assert.equal(after.length, result.kept);
      const byId = new Map(before.map((row) => [row.id, row]));
      for (const row of after) {
        assert.equal(row.t, byId.get(row.id)!.t, 'same column type');
        assert.equal(row.e, byId.get(row.id)!.e, `row ${String(row.id)}: same stored values`);
      }
      const meta = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlString(out)}) WHERE decode(key) = 'sbertkit.precision'`);
      assert.deepEqual(meta.map((m) => m.v), [precision]);
    });
  }
});

describe('sbertkit dedupe: bad input', () => {
  test('a missing text column: one line naming file, line and column; exit 2; no output file', async () => {
    const csv = path('in.csv');
    await writeFile(csv, 'id,body\n1,hello\n');
    const out = path('kept.csv');
    const r = await runCli(['dedupe', csv, '--exact-only', '-o', out]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${csv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: column 'text' not found`));
    assert.ok(!existsSync(out));
  });

  test('an output in another format than the input is refused before any work', async () => {
    const csv = path('in.csv');
    await writeFile(csv, 'text\nhello\n');
    const r = await runCli(['dedupe', csv, '--exact-only', '-o', path('kept.jsonl')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /keeps|input's format/);
  });

  test('an empty input gives an empty output (the header only) and zero counts', async () => {
    const csv = path('in.csv');
    await writeFile(csv, 'id,text\n');
    const out = path('kept.csv');
    const r = await runCli(['dedupe', csv, '-o', out, '--model', modelDir, '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(out, 'utf8'), 'id,text\n');
    const res = (JSON.parse(r.stdout) as {result: {rows: number; kept: number}}).result;
    assert.deepEqual([res.rows, res.kept], [0, 0]);
  });
});
