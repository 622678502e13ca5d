/**
 * `sbertkit encode --shard i/N` end to end: the parts of N runs together are the single-machine
 * encode (same ids, vectors within 1e-6, no row twice), each part holds exactly the rows the
 * independent hash rule gives it, in input order; manifests are checked against checksums computed
 * here; a rerun of a complete part does nothing and a changed input or setting is redone.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {appendFile, readFile, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {repoRoot} from '../helpers/paths.js';
import {referenceShardOf} from '../helpers/shard-reference.js';
import {listDir, tempDir} from '../helpers/tmp.js';
import {maxAbsDiff} from '../helpers/vector-math.js';
import {useDuckDb} from '../helpers/duckdb.js';

const query = useDuckDb();

const WORDS = ['the cat', 'a dog runs', 'blue sky', 'quick brown fox', 'music and books', 'coffee or tea', 'city river park', 'machine learning model'];
const ROWS = Array.from({length: 61}, (_, i) => ({id: `doc-${(i * 7919) % 1000}`, text: `${WORDS[i % WORDS.length]} ${WORDS[(i * 3) % WORDS.length]} ${i}`}));

let dir: string;
let model: BertFolder;
let input: string;

interface Line {
  id: string | number;
  embedding: number[];
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const readJsonl = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

before(async () => {
  dir = await tempDir();
  model = await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16});
  input = join(dir, 'in.csv');
  await writeFile(input, 'id,text\n' + ROWS.map((r) => `${r.id},${r.text}`).join('\n') + '\n');
});

async function encode(args: string[]) {
  const r = await runCli(['encode', ...args, '--model', model.dir, '--json']);
  return {...r, envelope: r.code === 0 ? (JSON.parse(r.stdout) as {result: Record<string, unknown>}) : undefined};
}

describe('sbertkit encode --shard', () => {
  test('parts 0..3 of 4 together equal one encode: same ids, vectors within 1e-6, no row twice; manifests check out', async () => {
    const whole = await encode([input, '--id-column', 'id', '-o', join(dir, 'whole.jsonl')]);
    assert.equal(whole.code, 0, whole.stderr);
    const reference = new Map((await readJsonl(join(dir, 'whole.jsonl'))).map((l) => [l.id, l.embedding]));
    assert.equal(reference.size, ROWS.length);

    const seen = new Map<string | number, number>();
    for (let i = 0; i < 4; i++) {
      const part = join(dir, `part-${i}.jsonl`);
      const r = await encode([input, '--id-column', 'id', '--shard', `${i}/4`, '-o', part]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.envelope!.result.skipped, false);
      assert.equal(r.envelope!.result.shard, `${i}/4`);
      const lines = await readJsonl(part);
      assert.deepEqual(lines.map((l) => l.id), ROWS.map((row) => row.id).filter((id) => referenceShardOf(id, 4) === i), `part ${i}: its rows in input order`);
      for (const l of lines) {
        seen.set(l.id, (seen.get(l.id) ?? 0) + 1);
        assert.ok(maxAbsDiff(l.embedding, reference.get(l.id)!) <= 1e-6, String(l.id));
      }

      const manifest = JSON.parse(await readFile(`${part}.manifest.json`, 'utf8')) as Record<string, any>;
      const version = (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as {version: string}).version;
      assert.equal(manifest.status, 'complete');
      assert.equal(manifest.sbertkit_version, version);
      assert.deepEqual([manifest.input.path, manifest.input.sha256, manifest.input.bytes], [input, sha256(input), (await stat(input)).size]);
      assert.deepEqual([manifest.shard.index, manifest.shard.count], [i, 4]);
      assert.equal(manifest.rows, lines.length);
      assert.deepEqual([manifest.output.sha256, manifest.output.bytes], [sha256(part), (await stat(part)).size]);
      assert.equal(manifest.model.id, model.dir);
      assert.equal(manifest.model.onnx_sha256, sha256(join(model.dir, 'onnx', 'model.onnx')));
      assert.equal(manifest.model.dimension, TINY_BERT.hidden);
    }
    assert.equal(seen.size, ROWS.length, 'every row in some part');
    assert.ok([...seen.values()].every((n) => n === 1), 'no row twice');
    assert.ok(!(await listDir(dir)).some((name) => name.includes('sbertkit-tmp')), 'no temp file left');
  });

  test('without --id-column the row numbers are cut, and the parts still cover every row once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const part = join(dir, `rows-${i}.jsonl`);
      const r = await encode([input, '--shard', `${i}/3`, '-o', part]);
      assert.equal(r.code, 0, r.stderr);
      const got = (await readJsonl(part)).map((l) => l.id as number);
      assert.deepEqual(got, ROWS.map((_, row) => row).filter((row) => referenceShardOf(row, 3) === i));
      ids.push(...got);
    }
    assert.deepEqual(ids.sort((a, b) => a - b), ROWS.map((_, row) => row));
  });

  test('a rerun of a complete part is a no-op; a changed input or setting is redone', async () => {
    const work = await tempDir();
    const own = join(work, 'in.csv');
    await writeFile(own, await readFile(input));
    const part = join(work, 'p1.parquet');
    const first = await encode([own, '--id-column', 'id', '--shard', '1/2', '-o', part]);
    assert.equal(first.code, 0, first.stderr);
    const before = await stat(part);
    const manifestBefore = await readFile(`${part}.manifest.json`, 'utf8');

    const again = await encode([own, '--id-column', 'id', '--shard', '1/2', '-o', part]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.envelope!.result.skipped, true);
    assert.equal(again.envelope!.result.rows, first.envelope!.result.rows);
    assert.equal((await stat(part)).mtimeMs, before.mtimeMs, 'the part was not rewritten');
    assert.equal(await readFile(`${part}.manifest.json`, 'utf8'), manifestBefore);

    const human = await runCli(['encode', own, '--id-column', 'id', '--shard', '1/2', '-o', part, '--model', model.dir]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /part 1\/2 already complete .*nothing to do/);

    // Another setting: the part is redone.
    const kept = await encode([own, '--id-column', 'id', '--keep-columns', 'text', '--shard', '1/2', '-o', part]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.envelope!.result.skipped, false);

    // Another input: redone, and the manifest has the new checksum and row count.
    await appendFile(own, 'doc-new-1,a brand new row\ndoc-new-2,and another one\n');
    const changed = await encode([own, '--id-column', 'id', '--keep-columns', 'text', '--shard', '1/2', '-o', part]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.envelope!.result.skipped, false);
    const manifest = JSON.parse(await readFile(`${part}.manifest.json`, 'utf8')) as {input: {sha256: string}; rows: number};
    assert.equal(manifest.input.sha256, sha256(own));
    const ids = [...ROWS.map((r) => r.id), 'doc-new-1', 'doc-new-2'];
    assert.equal(manifest.rows, ids.filter((id) => referenceShardOf(id, 2) === 1).length);

    // A part file that is not the one its manifest describes (emptied here) is redone.
    await writeFile(part, '');
    const truncated = await encode([own, '--id-column', 'id', '--keep-columns', 'text', '--shard', '1/2', '-o', part]);
    assert.equal(truncated.envelope!.result.skipped, false);
  });

  test('every part types its id and kept columns from the whole input, so the parts share one schema', async () => {
    // Rows of part 0 get integer ids and integer n, rows of part 1 string ids and decimal n: typed from
    // its own rows, part 0 would be BIGINT/BIGINT and part 1 VARCHAR/DOUBLE.
    const lines: string[] = [];
    for (let i = 0; lines.length < 40; i++) {
      if (referenceShardOf(String(i), 2) === 0) lines.push(JSON.stringify({id: i, n: i, text: `row ${i}`}));
      if (referenceShardOf(`x-${i}`, 2) === 1) lines.push(JSON.stringify({id: `x-${i}`, n: i + 0.5, text: `row ${i}`}));
    }
    const mixed = join(dir, 'mixed.jsonl');
    await writeFile(mixed, lines.join('\n') + '\n');
    const types: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 2; i++) {
      const part = join(dir, `mixed-${i}.parquet`);
      const r = await encode([mixed, '--id-column', 'id', '--keep-columns', 'n', '--shard', `${i}/2`, '-o', part]);
      assert.equal(r.code, 0, r.stderr);
      types.push(Object.fromEntries((await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${part}'))`)).map((row) => [row.column_name, row.column_type])));
    }
    assert.deepEqual(types, [0, 1].map(() => ({id: 'VARCHAR', n: 'DOUBLE', embedding: 'FLOAT[]'})));
    // Read as one table, every row is there with its value.
    const rows = await query(`SELECT id, n FROM read_parquet(['${join(dir, 'mixed-0.parquet')}', '${join(dir, 'mixed-1.parquet')}']) ORDER BY n`);
    assert.deepEqual(rows.map((row) => [row.id, row.n]), lines.map((l) => JSON.parse(l) as {id: unknown; n: number}).sort((a, b) => a.n - b.n).map((r) => [String(r.id), r.n]));
  });

  test('stdin, stdout and a bad i/N are refused with one line and exit 2', async () => {
    const fromStdin = await runCli(['encode', '-', '--shard', '0/2', '-o', join(dir, 'x.jsonl'), '--model', model.dir], {stdin: 'a\nb\n'});
    assert.equal(fromStdin.code, 2);
    assert.match(fromStdin.stderr, /^sbertkit encode: --shard needs an input file that every part can read \(not stdin\)\n$/);
    const toStdout = await runCli(['encode', input, '--shard', '0/2', '--model', model.dir]);
    assert.equal(toStdout.code, 2);
    assert.match(toStdout.stderr, /--shard needs -o PART_FILE/);
    const bad = await runCli(['encode', input, '--shard', '2/2', '-o', join(dir, 'y.jsonl'), '--model', model.dir]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /--shard '2\/2': i counts from 0/);
  });
});
