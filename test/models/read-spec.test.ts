/**
 * readModelSpec on sentence_bert_config.json's max_seq_length: values the encoder cannot truncate to
 * (not a positive integer, or more positions than the graph has embeddings for) are refused with the
 * file, line and field; sane values and an absent/null one are read as sentence-transformers would.
 */
import assert from 'node:assert/strict';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {SbertkitError} from '../../src/errors.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import {makeBertWeights, TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';

const weights = makeBertWeights(TINY_BERT);
let root: string;

/** A tiny BERT folder whose sentence_bert_config.json is exactly `config`, pretty-printed (so max_seq_length sits on line 2). */
async function folderWith(name: string, config: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await writeBertModelFolder(dir, {config: TINY_BERT, weights, pooling: 'mean', normalize: true, maxSeqLength: 16});
  await writeFile(join(dir, 'sentence_bert_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}

before(async () => {
  root = await tempDir();
});

describe('max_seq_length in sentence_bert_config.json', () => {
  // TINY_BERT has 64 position embeddings (config.json max_position_embeddings).
  const bad: Array<[string, unknown, RegExp]> = [
    ['negative', -5, /positive integer, got -5/],
    ['zero', 0, /positive integer, got 0/],
    ['fractional', 12.5, /positive integer, got 12\.5/],
    ['a string', '128', /positive integer, got "128"/],
    ['above the position embeddings', TINY_BERT.maxPosition + 1, /65 is above the model's 64 position embeddings/],
  ];
  for (const [name, value, pattern] of bad) {
    test(`${name} (${JSON.stringify(value)}) is a model error naming file, line and field`, async () => {
      const dir = await folderWith(`bad-${name.replace(/\W+/g, '-')}`, {max_seq_length: value, do_lower_case: false});
      assert.throws(
        () => readModelSpec(dir),
        (e: unknown) =>
          e instanceof SbertkitError &&
          e.exitCode === 3 &&
          e.file === join(dir, 'sentence_bert_config.json') &&
          e.line === 2 &&
          e.field === 'max_seq_length' &&
          pattern.test(e.message),
      );
    });
  }

  test('the position limit itself is accepted; null or absent falls back to the tokenizer/position limits', async () => {
    assert.equal(readModelSpec(await folderWith('at-limit', {max_seq_length: TINY_BERT.maxPosition})).maxSeqLength, 64);
    assert.equal(readModelSpec(await folderWith('small', {max_seq_length: 1})).maxSeqLength, 1);
    // The fixture's tokenizer_config model_max_length and max_position_embeddings are both 64.
    assert.equal(readModelSpec(await folderWith('null', {max_seq_length: null, do_lower_case: false})).maxSeqLength, 64);
    assert.equal(readModelSpec(await folderWith('absent', {do_lower_case: false})).maxSeqLength, 64);
  });

  test('through the binary: exit 3 and one line "file:line: message" naming the field', async () => {
    for (const value of [-5, 0, 1000]) {
      const dir = await folderWith(`cli-${value}`, {max_seq_length: value});
      const r = await runCli(['encode', '--model', dir, '--threads', '1'], {stdin: 'a text long enough to matter\n'});
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.startsWith(`sbertkit encode: ${join(dir, 'sentence_bert_config.json')}:2: max_seq_length `), lines[0]);
    }
  });
});

describe('prompts in config_sentence_transformers.json', () => {
  /** A folder whose config_sentence_transformers.json is exactly `config` (pretty-printed: "prompts" on line 2). */
  async function promptFolder(name: string, config: Record<string, unknown> | undefined): Promise<string> {
    const dir = await folderWith(name, {max_seq_length: 16, do_lower_case: false});
    if (config !== undefined) await writeFile(join(dir, 'config_sentence_transformers.json'), `${JSON.stringify(config, null, 2)}\n`);
    return dir;
  }

  test('prompts and default_prompt_name are read; absent file or null default mean none', async () => {
    const spec = readModelSpec(await promptFolder('prompts', {prompts: {query: 'query: ', passage: 'passage: '}, default_prompt_name: 'query', similarity_fn_name: 'cosine'}));
    assert.deepEqual([spec.prompts, spec.defaultPromptName, spec.includePrompt], [{query: 'query: ', passage: 'passage: '}, 'query', true]);
    const none = readModelSpec(await promptFolder('no-config', undefined));
    assert.deepEqual([none.prompts, none.defaultPromptName], [{}, undefined]);
    const nullDefault = readModelSpec(await promptFolder('null-default', {prompts: {query: 'q: '}, default_prompt_name: null}));
    assert.deepEqual([nullDefault.prompts, nullDefault.defaultPromptName], [{query: 'q: '}, undefined]);
  });

  test('a default_prompt_name that is not a prompt, or a prompt that is not a string, is a model error naming file, line and field', async () => {
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['unknown-default', {prompts: {query: 'q: '}, default_prompt_name: 'passage'}, 'default_prompt_name', /"passage" is not one of the prompts \(query\)/],
      ['number-prompt', {prompts: {query: 3}}, 'prompts', /prompt 'query' must be a string, got 3/],
    ];
    for (const [name, config, field, pattern] of cases) {
      const dir = await promptFolder(name, config);
      assert.throws(
        () => readModelSpec(dir),
        (e: unknown) =>
          e instanceof SbertkitError &&
          e.exitCode === 3 &&
          e.file === join(dir, 'config_sentence_transformers.json') &&
          e.field === field &&
          e.line === (field === 'prompts' ? 2 : 5) &&
          pattern.test(e.message),
        name,
      );
    }
  });
});
