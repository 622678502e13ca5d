/**
 * `sbertkit queue` against a real redis-server (SBERTKIT_TEST_REDIS_URL, started by .ci/run), with
 * workers as separate processes of the real binary. Parts are checked against a single-machine
 * encode of the same input and against the input's ids (every row once), never against the queue's
 * own bookkeeping.
 */
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {appendFile, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {repoRoot} from '../helpers/paths.js';
import {REDIS_SKIP, redisCommand, TEST_REDIS_URL} from '../helpers/redis.js';
import {tempDir} from '../helpers/tmp.js';
import {maxAbsDiff} from '../helpers/vector-math.js';
import {sqlString, useDuckDb} from '../helpers/duckdb.js';

const query = useDuckDb();

const WORDS = ['the cat', 'a dog runs', 'blue sky', 'quick brown fox', 'music and books', 'coffee or tea', 'city river park'];
const textOf = (i: number) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 3) % WORDS.length]} ${i}`;

let dir: string;
let model: BertFolder;
const url = TEST_REDIS_URL ?? '';
/** Fast stalled-job recovery for the tests (the defaults are 30 s). */
const FAST_RECOVERY = ['--lock-duration', '2000', '--stalled-interval', '1000'];
const workers: Worker[] = [];

interface Worker {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startWorker(args: string[], env: Record<string, string> = {SBERTKIT_REDIS_URL: url}): Worker {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'queue', 'worker', '--threads', '1', ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const worker = {child, output: () => output, exited};
  workers.push(worker);
  return worker;
}

async function stop(worker: Worker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  await worker.exited;
}

async function writeCsv(path: string, rows: number): Promise<string[]> {
  const ids = Array.from({length: rows}, (_, i) => `row-${i}`);
  await writeFile(path, 'id,text\n' + ids.map((id, i) => `${id},${textOf(i)}`).join('\n') + '\n');
  return ids;
}

interface Line {
  id: string;
  embedding: number[];
}

function readParts(out: string): Line[] {
  return readdirSync(out)
    .filter((name) => /^part-\d+-of-\d+\.jsonl$/.test(name))
    .sort()
    .flatMap((name) => readFileSync(join(out, name), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line));
}

/** Parts are JSONL unless `extra` names another --format. */
function submit(input: string, out: string, queue: string, extra: string[], env: Record<string, string> = {SBERTKIT_REDIS_URL: url}) {
  const format = extra.includes('--format') ? [] : ['--format', 'jsonl'];
  return runCli(['queue', 'submit', 'encode', input, '--id-column', 'id', '--out', out, ...format, '--model', model.dir, '--queue', queue, ...extra], {env});
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const queueName = (label: string) => `sbertkit-test-${process.pid}-${label}`;

describe('sbertkit queue (real redis-server)', {skip: REDIS_SKIP}, () => {
  before(async () => {
    dir = await tempDir();
    model = await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16});
  });
  after(async () => {
    for (const worker of workers) await stop(worker);
  });

  test('three worker processes finish a submit; the parts equal one encode; a re-submit is a no-op', async () => {
    const input = join(dir, 'small.csv');
    const ids = await writeCsv(input, 90);
    const whole = await runCli(['encode', input, '--id-column', 'id', '-o', join(dir, 'whole.jsonl'), '--model', model.dir]);
    assert.equal(whole.code, 0, whole.stderr);
    const reference = new Map(readFileSync(join(dir, 'whole.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line).map((l) => [l.id, l.embedding]));

    const queue = queueName('three');
    const out = join(dir, 'three');
    const three = [0, 1, 2].map(() => startWorker(['--queue', queue]));
    const r = await submit(input, out, queue, ['--parts', '6', '--wait', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = (JSON.parse(r.stdout) as {result: Record<string, number>}).result;
    assert.deepEqual([result.added, result.done, result.failed, result.rows], [6, 6, 0, ids.length]);

    const lines = readParts(out);
    assert.deepEqual(lines.map((l) => l.id).sort(), [...ids].sort(), 'every row once');
    for (const line of lines) assert.ok(maxAbsDiff(line.embedding, reference.get(line.id)!) <= 1e-6, line.id);
    const busy = three.filter((w) => /part \d+\/6 /.test(w.output())).length;
    assert.ok(busy >= 2, `parts were spread over the workers (${busy} of 3 ran some)`);

    const mtimes = readdirSync(out).map((name) => statSync(join(out, name)).mtimeMs);
    const again = await submit(input, out, queue, ['--parts', '6', '--wait', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const second = (JSON.parse(again.stdout) as {result: Record<string, number>}).result;
    assert.deepEqual([second.added, second.already_submitted, second.done], [0, 6, 6]);
    assert.deepEqual(readdirSync(out).map((name) => statSync(join(out, name)).mtimeMs), mtimes, 'nothing was rewritten');
    for (const worker of three) await stop(worker);
  });

  test('a worker killed with SIGKILL mid-job: the job is retried and no row is missing or twice', async () => {
    const input = join(dir, 'big.csv');
    const ids = await writeCsv(input, 60_000);
    const queue = queueName('kill');
    const out = join(dir, 'kill');
    const submitted = await submit(input, out, queue, ['--parts', '2']);
    assert.equal(submitted.code, 0, submitted.stderr);

    const victim = startWorker(['--queue', queue, ...FAST_RECOVERY]);
    // Mid-job means: the part's temp file has rows in it and the part is not in place yet.
    const temp = await until('a part being written', () => {
      const name = readdirSync(out).find((n) => n.includes('.sbertkit-tmp-') && statSync(join(out, n)).size > 0);
      return name;
    });
    victim.child.kill('SIGKILL');
    await victim.exited;
    const target = temp.slice(1, temp.indexOf('.sbertkit-tmp-'));
    assert.ok(!readdirSync(out).includes(target), `${target} was not finished when its worker was killed`);
    assert.ok(readdirSync(out).includes(temp), 'the killed worker left its temp file');

    const rescuer = startWorker(['--queue', queue, ...FAST_RECOVERY]);
    const r = await submit(input, out, queue, ['--parts', '2', '--wait', '--json']);
    assert.equal(r.code, 0, `${r.stderr}\n${rescuer.output()}`);
    const lines = readParts(out);
    assert.equal(lines.length, ids.length, 'no row missing and none twice');
    assert.deepEqual(lines.map((l) => l.id).sort(), [...ids].sort());
    assert.ok(!readdirSync(out).some((n) => n.includes('.sbertkit-tmp-')), 'the retry removed the dead temp file');
    assert.match(rescuer.output(), new RegExp(`${target.includes('00000-of') ? 'part 0/2' : 'part 1/2'} `));
    await stop(rescuer);
  });

  test('a part whose input changed after the submit fails at once, not retried; re-submitting the same work retries it', async () => {
    const input = join(dir, 'changing.csv');
    await writeCsv(input, 30);
    const original = await readFile(input);
    const queue = queueName('changed');
    const out = join(dir, 'changed');
    assert.equal((await submit(input, out, queue, ['--parts', '2'])).code, 0);
    await appendFile(input, 'row-new,a late row\n');
    const worker = startWorker(['--queue', queue]);
    const status = await until('two failed parts', async () => {
      const s = await runCli(['queue', 'status', '--queue', queue, '--json'], {env: {SBERTKIT_REDIS_URL: url}});
      const parsed = JSON.parse(s.stdout) as {result: {failed: number; retrying: number; failures: Array<{reason: string}>}};
      return parsed.result.failed === 2 ? parsed.result : undefined;
    });
    assert.equal(status.retrying, 0);
    for (const f of status.failures) assert.match(f.reason, /input changed since the work was submitted.*\[exit 2\]$/);

    await writeFile(input, original);
    const r = await submit(input, out, queue, ['--parts', '2', '--wait', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = (JSON.parse(r.stdout) as {result: Record<string, number>}).result;
    assert.deepEqual([result.retried, result.done], [2, 2]);
    await stop(worker);
  });

  test('the settings that shape vectors travel with the jobs: delimiter, int8 with one calibration, prompt, truncate-dim', async () => {
    const input = join(dir, 'semicolons.csv');
    const ids = Array.from({length: 40}, (_, i) => `row-${i}`);
    await writeFile(input, 'id;text\n' + ids.map((id, i) => `${id};${textOf(i)}`).join('\n') + '\n');
    const calibration = join(dir, 'calibration.jsonl');
    const shape = ['--truncate-dim', '8', '--prompt', 'query: '];
    const cal = await runCli(['encode', input, '--delimiter', ';', '--id-column', 'id', '-o', calibration, '--model', model.dir, ...shape]);
    assert.equal(cal.code, 0, cal.stderr);
    const settings = ['--delimiter', ';', '--precision', 'int8', '--calibration', calibration, ...shape];
    const whole = await runCli(['encode', input, '--id-column', 'id', '-o', join(dir, 'shaped.jsonl'), '--model', model.dir, ...settings]);
    assert.equal(whole.code, 0, whole.stderr);
    const reference = new Map(readFileSync(join(dir, 'shaped.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line).map((l) => [l.id, l.embedding]));
    // The prompt and truncate-dim made a difference the parts must reproduce.
    const plain = await runCli(['encode', input, '--delimiter', ';', '--id-column', 'id', '-o', '-', '--model', model.dir]);
    assert.equal((JSON.parse(plain.stdout.split('\n')[0]!) as Line).embedding.length, TINY_BERT.hidden);
    assert.equal(reference.get('row-0')!.length, 8);

    const refused = await submit(input, join(dir, 'no-cal'), queueName('no-cal'), ['--parts', '2', '--delimiter', ';', '--precision', 'int8']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--precision int8 on the queue needs --calibration FILE/);

    const queue = queueName('shaped');
    const out = join(dir, 'shaped');
    const worker = startWorker(['--queue', queue]);
    const r = await submit(input, out, queue, ['--parts', '3', '--wait', ...settings]);
    assert.equal(r.code, 0, `${r.stderr}\n${worker.output()}`);
    const lines = readParts(out);
    assert.deepEqual(lines.map((l) => l.id).sort(), [...ids].sort());
    for (const line of lines) assert.deepEqual(line.embedding, reference.get(line.id), line.id);
    await stop(worker);
  });

  test('--reuse over an earlier submit\'s parts: unchanged rows keep their vectors part by part, the rest are encoded', async () => {
    const first = join(dir, 'first.csv');
    const ids = await writeCsv(first, 60);
    // The next version: rows 5-9 changed, 20-22 gone, four new rows.
    const changed = new Set([5, 6, 7, 8, 9]);
    const gone = new Set([20, 21, 22]);
    const rows = ids.flatMap((id, i) => (gone.has(i) ? [] : [`${id},${changed.has(i) ? `edited ${textOf(i)}` : textOf(i)}`]));
    for (let k = 0; k < 4; k++) rows.push(`new-${k},brand new ${textOf(100 + k)}`);
    const second = join(dir, 'second.csv');
    await writeFile(second, 'id,text\n' + rows.join('\n') + '\n');
    const whole = await runCli(['encode', second, '--id-column', 'id', '-o', join(dir, 'second-whole.jsonl'), '--model', model.dir]);
    assert.equal(whole.code, 0, whole.stderr);
    const reference = new Map(readFileSync(join(dir, 'second-whole.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line).map((l) => [l.id, l.embedding]));

    const queue = queueName('reuse');
    const worker = startWorker(['--queue', queue]);
    const parquet = ['--parts', '3', '--format', 'parquet', '--wait', '--json'];
    const firstOut = join(dir, 'reuse-first');
    let r = await submit(first, firstOut, queue, [...parquet, '--text-hash']);
    assert.equal(r.code, 0, `${r.stderr}\n${worker.output()}`);
    const secondOut = join(dir, 'reuse-second');
    r = await submit(second, secondOut, queue, [...parquet, '--reuse', firstOut]);
    assert.equal(r.code, 0, `${r.stderr}\n${worker.output()}`);
    const result = (JSON.parse(r.stdout) as {result: Record<string, number>}).result;
    // An id stays in its part, so each unchanged row finds its text in its own old part.
    assert.deepEqual([result.rows, result.reused], [rows.length, 60 - gone.size - changed.size]);
    const parts = readdirSync(secondOut).filter((name) => name.endsWith('.parquet')).map((name) => join(secondOut, name));
    const lines = (await query(`SELECT id, embedding FROM read_parquet([${parts.map(sqlString).join(', ')}])`)) as unknown as Line[];
    assert.deepEqual(lines.map((l) => l.id).sort(), [...reference.keys()].sort(), 'every row once');
    for (const line of lines) assert.ok(maxAbsDiff(Array.from(line.embedding, Number), reference.get(line.id)!) <= 1e-5, line.id);

    const missing = await submit(second, join(dir, 'reuse-bad'), queue, ['--parts', '4', '--format', 'parquet', '--reuse', firstOut]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr.trim(), /--reuse needs the parts of an earlier submit with the same --parts 4 and --format parquet; part-00000-of-00004\.parquet is missing$/);
    const int8 = await submit(second, join(dir, 'reuse-int8'), queue, ['--parts', '3', '--format', 'parquet', '--reuse', firstOut, '--precision', 'int8', '--calibration', join(firstOut, 'part-00000-of-00003.parquet')]);
    assert.equal(int8.code, 2);
    assert.match(int8.stderr, /--reuse on the queue works for float32, float16, binary and ubinary parts, not int8/);
    await stop(worker);
  });

  test('a Redis password is never printed, nor written into manifests', async () => {
    const user = `sbertkit-test-${process.pid}`;
    const password = `pw-${process.pid}-Zq7!x`;
    assert.equal(await redisCommand(url, ['ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all']), '+OK');
    const {host} = new URL(url);
    const secretUrl = `redis://${user}:${encodeURIComponent(password)}@${host}`;
    const input = join(dir, 'secret.csv');
    await writeCsv(input, 20);
    const queue = queueName('secret');
    const out = join(dir, 'secret');
    const worker = startWorker(['--queue', queue, '--redis', secretUrl], {});
    const r = await submit(input, out, queue, ['--parts', '2', '--wait', '--redis', secretUrl], {});
    const json = await submit(input, out, queue, ['--parts', '2', '--wait', '--json', '--redis', secretUrl], {});
    const wrong = await runCli(['queue', 'status', '--redis', `redis://${user}:not-${password}@${host}`], {env: {SBERTKIT_REDIS_URL: undefined}});
    await stop(worker);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(wrong.code, 69);
    assert.match(wrong.stderr, /^sbertkit queue status: cannot use Redis at redis:\/\/sbertkit-test-\d+:\*\*\*@.*WRONGPASS/);
    assert.match(json.stdout, /"redis":"redis:\/\/sbertkit-test-\d+:\*\*\*@/);
    const manifests = readdirSync(out).filter((n) => n.endsWith('.manifest.json')).map((n) => readFileSync(join(out, n), 'utf8'));
    assert.equal(manifests.length, 2);
    const everything = [r.stdout, r.stderr, json.stdout, json.stderr, wrong.stdout, wrong.stderr, worker.output(), ...manifests].join('\n');
    for (const form of [password, encodeURIComponent(password), `not-${password}`]) assert.ok(!everything.includes(form), `'${form}' was printed or written`);
    await redisCommand(url, ['ACL', 'DELUSER', user]);
  });
});
