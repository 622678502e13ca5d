/**
 * ONNX Runtime's telemetry store (~/.cache/Microsoft/DeveloperTools/.onnxruntime: a device id and an
 * SQLite queue of events for upload) is not written by default, and is when the user opts in with
 * ORT_DISABLE_TELEMETRY=0, which shows the check can see it. HOME points at a fresh folder per run.
 */
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';

let model: string;
before(async () => {
  model = (await writeBertModelFolder(join(await tempDir(), 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16})).dir;
});

async function encodeWithHome(env: Record<string, string>): Promise<string> {
  const home = await tempDir();
  const r = await runCli(['encode', 'examples/sentences.txt', '--model', model, '-o', join(home, 'v.jsonl'), '--quiet'], {env: {HOME: home, XDG_CACHE_HOME: join(home, '.cache'), ...env}});
  assert.equal(r.code, 0, r.stderr);
  return join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');
}

describe('ONNX Runtime telemetry', () => {
  test('off by default: no device id, no event database', async () => {
    const store = await encodeWithHome({});
    assert.ok(!existsSync(join(store, 'deviceid')), `${store} has a device id`);
    assert.ok(!existsSync(join(store, 'onnxruntime.db')));
  });

  test('ORT_DISABLE_TELEMETRY=0 lets ONNX Runtime write its store (so the check above can see it)', async () => {
    const store = await encodeWithHome({ORT_DISABLE_TELEMETRY: '0'});
    assert.ok(existsSync(join(store, 'deviceid')), `${store} has no device id`);
  });
});
