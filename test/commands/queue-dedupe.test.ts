/**
 * `sbertkit queue submit dedupe` against a real redis-server (SBERTKIT_TEST_REDIS_URL), with workers as
 * separate processes of the real binary: the queued dedupe's kept rows and duplicates map equal the
 * single-machine `dedupe --exact` on the same rows in the same order; re-submitting adds nothing.
 */
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import {readVectorMatrix} from '../../src/io/vectors/read-vectors.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {repoRoot} from '../helpers/paths.js';
import {REDIS_SKIP, TEST_REDIS_URL} from '../helpers/redis.js';
import {tempDir} from '../helpers/tmp.js';
import {readJsonl} from '../helpers/jsonl.js';

const url = TEST_REDIS_URL ?? '';
let dir: string;
let modelDir: string;
const workers: {child: ChildProcess; output: () => string; exited: Promise<number | null>}[] = [];

function startWorker(queue: string) {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'queue', 'worker', '--threads', '1', '--queue', queue], {env: {...process.env, SBERTKIT_REDIS_URL: url}, stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const worker = {child, output: () => output, exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))};
  workers.push(worker);
  return worker;
}


describe('sbertkit queue submit dedupe (real redis-server)', {skip: REDIS_SKIP}, () => {
  before(async () => {
    dir = await tempDir();
    modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 32})).dir;
  });
  after(async () => {
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await w.exited;
    }
  });

  test('two workers run plan, assign, bucket and merge jobs; the result equals dedupe --exact; a re-submit adds nothing; a child failing for good fails the submit with its line', async () => {
    const base = ['the cat sat on the mat', 'dogs run in the park', 'rain is expected today', 'books about the sea', 'trains leave at noon'];
    const rows = Array.from({length: 40}, (_, i) => ({id: `doc-${i}`, text: i % 6 === 2 ? base[i % 5]!.toUpperCase() : `${base[i % 5]} ${i % 3 === 0 ? '' : i}`.trim()}));
    const csv = join(dir, 'corpus.csv');
    await writeFile(csv, 'id,text\n' + rows.map((r) => `${r.id},${r.text}`).join('\n') + '\n');
    const parts = join(dir, 'parts');
    await mkdir(parts);
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['encode', csv, '--id-column', 'id', '--keep-columns', 'text', '--shard', `${i}/3`, '-o', join(parts, `part-${i}-of-3.arrow`), '--model', modelDir, '--quiet']);
      assert.equal(r.code, 0, r.stderr);
    }
    // The same rows in part order, as one vector file for the single-machine dedupe.
    const whole = join(dir, 'whole.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 3; i++) {
      const table = await readVectorMatrix(join(parts, `part-${i}-of-3.arrow`));
      for (let r = 0; r < table.vectors.rows; r++) lines.push(JSON.stringify({id: table.vectors.ids[r], text: table.fields.text![r], embedding: Array.from(table.vectors.row(r))}));
    }
    await writeFile(whole, lines.join('\n') + '\n');
    const threshold = '0.995';
    const single = await runCli(['dedupe', whole, '--vectors', '--exact', '--threshold', threshold, '-o', join(dir, 'single.jsonl'), '--duplicates', join(dir, 'single-map.jsonl')]);
    assert.equal(single.code, 0, single.stderr);

    const queue = `sbertkit-test-${process.pid}-dedupe`;
    const pair = [startWorker(queue), startWorker(queue)];
    const args = ['queue', 'submit', 'dedupe', parts, '--out', join(dir, 'work'), '-o', join(dir, 'kept.jsonl'), '--duplicates', join(dir, 'map.jsonl'), '--threshold', threshold, '--buckets', '3', '--probes', '3', '--assign-shards', '2', '--queue', queue, '--wait', '--json'];
    const r = await runCli(args, {env: {SBERTKIT_REDIS_URL: url}});
    assert.equal(r.code, 0, `${r.stderr}\n${pair.map((w) => w.output()).join('\n')}`);
    const result = (JSON.parse(r.stdout) as {result: {state: string; rows: number}}).result;
    assert.deepEqual([result.state, result.rows], ['added', rows.length]);

    const want = await readJsonl<{id: string}>(join(dir, 'single.jsonl'));
    const got = await readJsonl<{id: string}>(join(dir, 'kept.jsonl'));
    assert.ok(want.length < rows.length, 'some rows are dropped');
    const reasons = new Set((await readJsonl<{reason: string}>(join(dir, 'single-map.jsonl'))).map((m) => m.reason));
    assert.deepEqual([...reasons].sort(), ['exact', 'semantic'], 'both kinds of drop are exercised');
    assert.deepEqual(got.map((k) => k.id), want.map((k) => k.id));
    const triples = (m: {removed_id: string; kept_id: string; reason: string}[]) => m.map((x) => [x.removed_id, x.kept_id, x.reason]);
    assert.deepEqual(triples(await readJsonl(join(dir, 'map.jsonl'))), triples(await readJsonl(join(dir, 'single-map.jsonl'))));
    const all = pair.map((w) => w.output()).join('\n');
    assert.match(all, /dedupe assign shard 0\/2/);
    assert.match(all, /dedupe bucket 2 of 3/);

    const again = await runCli(args, {env: {SBERTKIT_REDIS_URL: url}});
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as {result: {state: string}}).result.state, 'already submitted');

    // A part whose manifest miscounts its rows: its assign job fails for good (bad input), which
    // fails the parent, and --wait exits 2 with the part's line.
    const manifestPath = join(parts, 'part-1-of-3.arrow.manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {rows: number};
    manifest.rows += 1;
    await writeFile(manifestPath, JSON.stringify(manifest));
    const bad = await runCli([...args.slice(0, 5), join(dir, 'work-bad'), ...args.slice(6).filter((a) => a !== '--json')], {env: {SBERTKIT_REDIS_URL: url}});
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /failed: .*part-1-of-3\.arrow.*the plan counted/);
    assert.equal(bad.stderr.trim().split('\n').filter((l) => l.startsWith('sbertkit ')).length, 1, bad.stderr);
  });
});
