/**
 * Hub ids through the real CLI: `encode --model org/name` downloads a generated model from a local
 * imitation of the hub into a temp HF cache, then works with the server gone; `models` and
 * `models info` describe what is cached. Vectors are checked against the independent forward pass.
 */
import assert from 'node:assert/strict';
import {readdir, readFile} from 'node:fs/promises';
import {join, relative} from 'node:path';
import {after, before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {FakeHub} from '../helpers/hub-server.js';
import {l2Normalize, referencePool, referenceTokenEmbeddings, referenceWordPiece} from '../helpers/reference-bert.js';
import {cosine} from '../helpers/vector-math.js';
import {tempDir} from '../helpers/tmp.js';

const REPO = 'acme/tiny-bert';
const MAX_SEQ = 24;
let dir: string;
let hub: FakeHub;
let model: BertFolder;
let env: Record<string, string>;

async function filesOf(folder: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of await readdir(folder, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[relative(folder, path)] = await readFile(path);
    }
  }
  return out;
}

before(async () => {
  dir = await tempDir();
  model = await writeBertModelFolder(join(dir, 'source-model'), {config: TINY_BERT, pooling: 'cls', normalize: true, maxSeqLength: MAX_SEQ});
  hub = await FakeHub.start();
  hub.addRepo({id: REPO, commits: [{files: await filesOf(model.dir)}]});
  // A private cache and sbertkit cache, and no token or offline switch inherited from the machine.
  env = {HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'hf-cache'), SBERTKIT_CACHE: join(dir, 'sbertkit-cache'), HF_TOKEN: '', HF_HUB_OFFLINE: ''};
});
after(async () => {
  await hub?.stop();
});

describe('hub ids through the CLI', () => {
  const texts = ['the cat sat on the mat', 'a dog runs in the park'];

  test('encode --model org/name downloads into the HF cache layout and matches the reference', async () => {
    const r = await runCli(['encode', '--model', REPO, '--quiet'], {stdin: texts.join('\n') + '\n', env});
    assert.equal(r.code, 0, r.stderr);
    const vectors = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {embedding: number[]}).embedding);
    texts.forEach((t, i) => {
      const ids = referenceWordPiece(model.vocab, t, MAX_SEQ);
      const ref = l2Normalize(referencePool(referenceTokenEmbeddings(TINY_BERT, model.weights, ids, ids.map(() => 0)), 'cls'));
      assert.ok(cosine(vectors[i]!, ref) >= 0.99999);
    });
    const snapshots = await readdir(join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert', 'snapshots'));
    assert.equal(snapshots.length, 1);
    assert.ok(hub.requests.length > 0);
  });

  test('with the server stopped, the cached model still works (offline and not)', async () => {
    await hub.stop();
    for (const extra of [[], ['--offline']]) {
      const r = await runCli(['encode', '--model', REPO, '--quiet', ...extra], {stdin: texts.join('\n') + '\n', env});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 2);
    }
  });

  test('offline with an uncached model: exit 3 and one line naming the repo and the cache folder', async () => {
    const r = await runCli(['encode', '--model', 'acme/not-cached', '--offline'], {stdin: 'x\n', env});
    assert.equal(r.code, 3);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /acme\/not-cached/);
    assert.ok(lines[0]!.includes(env.HF_HUB_CACHE!), lines[0]);
  });

  test('models lists the cached model with dimension and pooling; models info describes it', async () => {
    const list = await runCli(['models', '--json'], {env});
    assert.equal(list.code, 0, list.stderr);
    const entries = (JSON.parse(list.stdout) as {result: {models: unknown}}).result.models as Array<{model: string; source: string; dimension?: number; pooling?: string; sizeBytes?: number}>;
    const cached = entries.find((e) => e.model.startsWith(`${REPO}@`));
    assert.ok(cached, list.stdout);
    assert.equal(cached.source, 'hub-cache');
    assert.equal(cached.dimension, TINY_BERT.hidden);
    assert.equal(cached.pooling, 'cls');
    const onnxSize = (await readFile(join(model.dir, 'onnx', 'model.onnx'))).length;
    assert.ok(cached.sizeBytes! >= onnxSize);
    assert.ok(entries.some((e) => e.model === 'builtin:use-lite'));

    const info = await runCli(['models', 'info', REPO, '--offline', '--json'], {env});
    assert.equal(info.code, 0, info.stderr);
    const facts = (JSON.parse(info.stdout) as {result: Record<string, unknown>}).result;
    assert.equal(facts.dimension, TINY_BERT.hidden);
    assert.equal(facts.max_seq_length, MAX_SEQ);
    assert.equal(facts.pooling, 'cls');
    assert.equal(facts.normalize, true);
    assert.ok((facts.files as string[]).includes('onnx/model.onnx'));
  });
});
