/**
 * The one --json envelope of every command, success and failure, end to end through the real binary:
 * a script reads status and result (or error) and never has to parse a human line.
 */
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli, runShell} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';

interface Envelope {
  command: string;
  status: number;
  result?: Record<string, unknown>;
  error?: {message: string; exitCode: number; file?: string; line?: number; field?: string};
  warnings: string[];
}

/** The whole stream must be exactly one JSON line: nothing human around it. */
function onlyEnvelope(stream: string): Envelope {
  const lines = stream.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one JSON line, got:\n${stream}`);
  return JSON.parse(lines[0]!) as Envelope;
}

let dir: string;
let modelDir: string;
let env: Record<string, string>;

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
  await writeFile(join(dir, 'in.csv'), 'id,body\na,the cat sat\nb,a dog ran\n');
  await writeFile(join(dir, 'pairs.tsv'), 'sentence1\tsentence2\tscore\nthe cat sat\ta cat sat\t4\nthe dog ran\tthe market fell\t0.5\nit rains\tit is raining\t4.5\n');
  env = {HF_HUB_CACHE: join(dir, 'hf'), SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_OFFLINE: '1'};
});

describe('--json envelope', () => {
  test('success with a file output: the envelope is on stdout, stderr is empty', async () => {
    const out = join(dir, 'v.jsonl');
    const r = await runCli(['encode', join(dir, 'in.csv'), '--text-column', 'body', '-o', out, '--model', modelDir, '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const e = onlyEnvelope(r.stdout);
    assert.deepEqual([e.command, e.status, e.error, e.warnings], ['encode', 0, undefined, []]);
    assert.equal(e.result!.rows, 2);
    assert.equal(e.result!.output, out);
  });

  test('success with data on stdout: stdout is only data, the envelope is the only stderr line', async () => {
    const r = await runCli(['encode', '--model', modelDir, '--json'], {stdin: 'one\ntwo\nthree\n', env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').filter((l) => 'embedding' in (JSON.parse(l) as object)).length, 3);
    const e = onlyEnvelope(r.stderr);
    assert.equal(e.status, 0);
    assert.equal(e.result!.rows, 3);
  });

  test('bad input: status 2 with file, line and field, and no human line anywhere', async () => {
    const input = join(dir, 'in.csv');
    const r = await runCli(['encode', input, '--text-column', 'text', '-o', join(dir, 'x.parquet'), '--model', modelDir, '--json'], {env});
    assert.equal(r.code, 2);
    assert.equal(r.stderr, '');
    const e = onlyEnvelope(r.stdout);
    assert.equal(e.command, 'encode');
    assert.equal(e.status, 2);
    assert.equal(e.result, undefined);
    assert.deepEqual({file: e.error!.file, line: e.error!.line, field: e.error!.field, exitCode: e.error!.exitCode}, {file: input, line: 1, field: 'text', exitCode: 2});
    assert.match(e.error!.message, /column 'text' not found/);
    assert.equal(existsSync(join(dir, 'x.parquet')), false);
  });

  test('a model problem is status 3; a bad flag value is status 2, both as envelopes', async () => {
    const missing = await runCli(['encode', '--model', join(dir, 'no-such-model'), '-o', join(dir, 'y.jsonl'), '--json'], {stdin: 'x\n', env});
    assert.equal(missing.code, 3);
    assert.equal(onlyEnvelope(missing.stdout).error!.exitCode, 3);
    const flag = await runCli(['encode', '--format', 'xml', '-o', join(dir, 'z.out'), '--json'], {env});
    assert.equal(flag.code, 2);
    const e = onlyEnvelope(flag.stdout);
    assert.equal(e.status, 2);
    assert.match(e.error!.message, /xml/);
  });

  test('eval-sts: a failed gate is status 1 with both the result and the error', async () => {
    const r = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--min-spearman', '101', '-o', join(dir, 'r.json'), '--json'], {env});
    assert.equal(r.code, 1, r.stderr);
    const e = onlyEnvelope(r.stdout);
    assert.equal(e.command, 'eval-sts');
    assert.equal(e.status, 1);
    assert.equal(e.result!.passed, false);
    assert.match(e.error!.message, /gate failed: pairs: cosine Spearman .* < 101\.00/);
    assert.ok(existsSync(join(dir, 'r.json')), 'the report is written even when the gate fails');
  });

  test('models: the listing is the result; the human form is a table on stdout and one summary line', async () => {
    const json = await runCli(['models', '--json'], {env});
    assert.equal(json.code, 0, json.stderr);
    const e = onlyEnvelope(json.stdout);
    assert.equal(e.command, 'models');
    assert.ok((e.result!.models as {model: string}[]).some((m) => m.model === 'builtin:use-lite'));
    assert.equal(e.result!.hub_cache, env.HF_HUB_CACHE);

    const human = await runCli(['models'], {env});
    assert.match(human.stdout.split('\n')[0]!, /^MODEL +SOURCE +REVISION/);
    // The built-in model is not converted in this fresh cache: a note, then the summary.
    assert.match(human.stderr, /^note: builtin:use-lite: not converted yet.*\nmodels: 1 built-in, 0 cached in .*\n$/);
    assert.deepEqual(e.warnings, ['builtin:use-lite: not converted yet (happens on first use, offline)']);
  });

  test('stdout on a full disk: status 74 in an envelope on stderr, for the data and for the envelope itself', async () => {
    // encode's data and models' envelope both go to stdout; when stdout fails, stderr carries the error.
    for (const [command, args] of [['encode', `${join(dir, 'in.csv')} --text-column body --model ${modelDir}`], ['models', '']] as const) {
      const r = await runShell(`$SBERTKIT ${command} ${args} --json > /dev/full`, env);
      assert.equal(r.code, 74, r.stderr);
      const e = onlyEnvelope(r.stderr);
      assert.equal(e.command, command);
      assert.equal(e.status, 74);
      assert.deepEqual(e.error, {message: 'cannot write: no space left on device', exitCode: 74, file: '<stdout>'});
    }
    const human = await runShell('$SBERTKIT models > /dev/full', env);
    assert.equal(human.code, 74);
    assert.deepEqual(human.stderr.trim().split('\n').filter((l) => !l.startsWith('note: ')), ['sbertkit models: <stdout>: cannot write: no space left on device']);
  });
});
