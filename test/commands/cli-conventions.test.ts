/**
 * The CLI conventions of issue 13 through the real binary: help in every spelling, "did you mean" for a
 * mistyped command (one line, exit 127, no prompt), models and models info agreeing, error prefixes
 * with the command as typed, and --threads capped at the core count.
 */
import assert from 'node:assert/strict';
import {availableParallelism} from 'node:os';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {editDistance, suggestCommands} from '../../src/cli/hooks/command-not-found.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';

describe('help', () => {
  test('sbertkit help, help COMMAND, --help and -h all print the usage', async () => {
    const top = await runCli(['help']);
    assert.equal(top.code, 0, top.stderr);
    for (const command of ['encode', 'dedupe', 'cluster', 'models']) assert.match(top.stdout, new RegExp(`^  ${command} `, 'm'));
    for (const args of [['help', 'encode'], ['encode', '--help'], ['encode', '-h']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /USAGE\n {2}\$ sbertkit encode/);
      assert.match(r.stdout, /EXAMPLES/);
    }
  });

  test('models info --help lists only the flags it uses', async () => {
    const r = await runCli(['models', 'info', '--help']);
    assert.equal(r.code, 0);
    for (const used of ['--model-file', '--offline', '--max-seq-length', '--normalize']) assert.ok(r.stdout.includes(used), used);
    for (const unused of ['--batch-size', '--max-tokens', '--window-size', '--threads', '--device']) assert.ok(!r.stdout.includes(unused), unused);
  });
});

describe('a mistyped command', () => {
  test('edit distance: the textbook cases', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('flaw', 'lawn'), 2);
    assert.equal(editDistance('same', 'same'), 0);
  });

  test('suggestions: nearest ids first, nothing for unrelated words', () => {
    const ids = ['encode', 'eval-sts', 'dedupe', 'cluster', 'models', 'models info', 'similarity', 'mine-paraphrases'];
    assert.deepEqual(suggestCommands('encod', ids).slice(0, 1), ['encode']);
    assert.deepEqual(suggestCommands('modles info', ids).slice(0, 1), ['models info']);
    assert.deepEqual(suggestCommands('mine', ids), ['mine-paraphrases']);
    assert.deepEqual(suggestCommands('xyz', ids), []);
  });

  test('one line with the suggestion, exit 127, no prompt even on empty stdin', async () => {
    const r = await runCli(['dedup', 'x.csv']);
    assert.equal(r.code, 127);
    assert.equal(r.stderr, "sbertkit: 'dedup' is not a command; did you mean 'sbertkit dedupe'? (see: sbertkit help)\n");
    assert.equal(r.stdout, '');
  });
});

describe('models and models info agree', () => {
  test('the built-in model: same pooling and max_seq_length under the same JSON names', async () => {
    const list = await runCli(['models', '--json']);
    const info = await runCli(['models', 'info', 'builtin:use-lite', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(info.code, 0, info.stderr);
    const entry = (JSON.parse(list.stdout) as {result: {models: Record<string, unknown>[]}}).result.models.find((m) => m.model === 'builtin:use-lite')!;
    const facts = (JSON.parse(info.stdout) as {command: string; result: Record<string, unknown>}).result;
    assert.equal((JSON.parse(info.stdout) as {command: string}).command, 'models info');
    for (const key of ['pooling', 'max_seq_length', 'normalize', 'dimension']) assert.equal(facts[key], entry[key], key);
    assert.equal(facts.pooling_in_graph, true);
  });

  test('errors name the command as typed', async () => {
    const r = await runCli(['models', 'info', join(await tempDir(), 'missing-model')]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^sbertkit models info: /);
  });
});

describe('--threads', () => {
  test('above the core count: capped, with a note', async () => {
    const dir = await tempDir();
    const r = await runCli(['encode', 'examples/sentences.txt', '-o', join(dir, 'v.jsonl'), '--threads', String(availableParallelism() + 62), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const warnings = (JSON.parse(r.stderr.trim().split('\n').pop()!.startsWith('{') ? r.stderr.trim().split('\n').pop()! : r.stdout) as {warnings: string[]}).warnings;
    assert.ok(warnings.some((w) => w.includes(`using ${availableParallelism()}`)), warnings.join('; '));
  });
});
