/**
 * `sbertkit quantize` end to end through the real binary, on the fixture BERT model and the built-in
 * model: the output folder is a complete model that `encode --model OUT_DIR` loads; the printed cosine
 * figures equal the cosines computed here from what `encode` writes with each folder; a hub-style
 * folder holding both graphs loads the int8 one through --model-file; bad inputs fail with one line and
 * leave no output and no temp folder.
 */
import assert from 'node:assert/strict';
import {copyFile, cp, mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises';
import {join, relative} from 'node:path';
import {before, describe, test} from 'node:test';
import {decodeModel, encodeModel} from '../../src/onnx/model-proto.js';
import type {QuantizeResult} from '../../src/pipelines/quantize/run.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';
import {cosine, maxAbsDiff} from '../helpers/vector-math.js';

/** The --json result as the pipeline types it. */
type QuantizeJson = QuantizeResult;

let dir: string;
let env: Record<string, string>;
let src: string;
let sample: string;
let counter = 0;

/** Sentences in the fixture vocabulary, so the tiny model sees real words. */
const SENTENCES = [
  'the quick brown fox jumps over the lazy dog',
  'a cat and a dog play in the park',
  'she reads a book about music every night',
  'the river runs through the old city',
  'we want to buy bread and coffee today',
  'my friend will drive the new car tomorrow',
  'children learn fast when they play',
  'the teacher helps each student with the text',
  'rain and wind in the morning, sun at night',
  'how do you search for a word in a sentence?',
  'the bank will pay more money next month',
  'birds fly over the green tree',
  'he did not sleep well this week',
  'machine learning model for text data',
  'is the water cold in the river?',
  'big red fire in the sky',
];

async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, {withFileTypes: true})) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  await walk(root);
  return out.sort();
}

async function encodeRows(model: string, extra: string[] = []): Promise<Float32Array[]> {
  const path = join(dir, `e${counter++}.jsonl`);
  const r = await runCli(['encode', sample, '--model', model, '-o', path, '--quiet', ...extra], {env});
  assert.equal(r.code, 0, r.stderr);
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => Float32Array.from((JSON.parse(line) as {embedding: number[]}).embedding));
}

function cosineFigures(a: Float32Array[], b: Float32Array[]): {min: number; mean: number} {
  const c = a.map((row, i) => cosine(row, b[i]!));
  return {min: Math.min(...c), mean: c.reduce((s, v) => s + v, 0) / c.length};
}

async function quantize(args: string[]): Promise<{code: number | null; stdout: string; stderr: string; result?: QuantizeJson}> {
  const r = await runCli(['quantize', ...args, '--json'], {env});
  const envelope = r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as {result?: QuantizeJson});
  return {...r, result: envelope?.result};
}

/** Entries of `parent` that are temp files or folders of an unfinished write. */
async function temps(parent: string): Promise<string[]> {
  return (await readdir(parent)).filter((n) => n.includes('.sbertkit-tmp-'));
}

before(async () => {
  dir = await tempDir();
  env = {SBERTKIT_CACHE: join(dir, 'sbk'), HF_HUB_CACHE: join(dir, 'hf'), HF_HUB_OFFLINE: '1'};
  src = join(dir, 'src');
  await writeBertModelFolder(src, {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 64});
  sample = join(dir, 'sample.txt');
  await writeFile(sample, `${SENTENCES.join('\n')}\n`);
});

describe('sbertkit quantize on the fixture BERT model', () => {
  let out: string;
  let result: QuantizeJson;

  before(async () => {
    out = join(dir, 'int8');
    const r = await quantize([src, '-o', out, '--sample', sample]);
    assert.equal(r.code, 0, r.stderr);
    result = r.result!;
  });

  test('the output folder is the source folder with the int8 graph and quantize_config.json', async () => {
    const srcFiles = await files(src);
    assert.deepEqual(await files(out), [...srcFiles, 'quantize_config.json'].sort());
    for (const f of srcFiles.filter((f) => !f.endsWith('.onnx'))) assert.deepEqual(await readFile(join(out, f)), await readFile(join(src, f)), f);
    assert.equal(result.onnx_file, 'onnx/model.onnx');
    assert.equal(result.quantized_nodes, 6 * TINY_BERT.layers);
    assert.deepEqual(result.skipped, {'weight-not-constant': 2 * TINY_BERT.layers});
    assert.equal(result.size_before, (await stat(join(src, 'onnx/model.onnx'))).size);
    assert.equal(result.size_after, (await stat(join(out, 'onnx/model.onnx'))).size);
    assert.ok(result.size_after < result.size_before);

    const config = JSON.parse(await readFile(join(out, 'quantize_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.source_model, src);
    assert.equal(config.weight_type, 'int8');
    assert.equal(config.per_channel, false);
    assert.equal(config.quantized_nodes, 6 * TINY_BERT.layers);
    assert.match(String(config.sbertkit_version), /^\d+\.\d+\.\d+/);
    assert.deepEqual(config.check, {sample, sentences: SENTENCES.length, cosine_min: result.cosine_min, cosine_mean: result.cosine_mean});

    const graph = decodeModel(await readFile(join(out, 'onnx/model.onnx')), 'model.onnx');
    const props = Object.fromEntries((graph.metadataProps ?? []).map((p) => [p.key, p.value]));
    assert.equal(props['sbertkit.source_model'], src);
    assert.equal(props['sbertkit.quantization.nodes'], String(6 * TINY_BERT.layers));
    assert.deepEqual(await temps(dir), []);
  });

  test('the reported min and mean are the cosines between what encode writes with each folder', async () => {
    const [fp32, int8] = [await encodeRows(src), await encodeRows(out)];
    assert.equal(fp32.length, SENTENCES.length);
    const want = cosineFigures(fp32, int8);
    assert.ok(Math.abs(result.cosine_min - want.min) < 1e-6, `${result.cosine_min} vs ${want.min}`);
    assert.ok(Math.abs(result.cosine_mean - want.mean) < 1e-6, `${result.cosine_mean} vs ${want.mean}`);
    // The tiny model (hidden 32) keeps its direction well under int8.
    assert.ok(want.min > 0.98, `min cosine ${want.min}`);
    // And the int8 graph really ran: its vectors are not the fp32 ones.
    assert.ok(Math.max(...fp32.map((row, i) => maxAbsDiff(row, int8[i]!))) > 1e-4);
  });

  test('--per-channel: the summary line prints the same figures as encode gives', async () => {
    const pc = join(dir, 'int8-pc');
    const r = await runCli(['quantize', src, '-o', pc, '--sample', sample, '--per-channel'], {env});
    assert.equal(r.code, 0, r.stderr);
    const line = r.stderr.trim().split('\n').at(-1)!;
    assert.match(line, /^quantized 12 MatMul\/Gemm nodes to int8 \(per channel\): .*int8-pc\/onnx\/model\.onnx, [\d.]+ MiB -> [\d.]+ MiB; cosine fp32 vs int8 on 16 sample sentences: min \d\.\d{4}, mean \d\.\d{4}; [\d.]+ s$/);
    const [, min, mean] = /min (\d\.\d{4}), mean (\d\.\d{4})/.exec(line)!;
    const want = cosineFigures(await encodeRows(src), await encodeRows(pc));
    assert.equal(min, want.min.toFixed(4));
    assert.equal(mean, want.mean.toFixed(4));
    const config = JSON.parse(await readFile(join(pc, 'quantize_config.json'), 'utf8')) as {per_channel: boolean};
    assert.equal(config.per_channel, true);
  });

  test('a hub-style folder with onnx/model.onnx and onnx/model_qint8_avx512.onnx loads either through --model-file', async () => {
    const hub = join(dir, 'hub-style');
    await cp(src, hub, {recursive: true});
    await copyFile(join(out, 'onnx/model.onnx'), join(hub, 'onnx/model_qint8_avx512.onnx'));
    const viaFile = await encodeRows(hub, ['--model-file', 'onnx/model_qint8_avx512.onnx']);
    const viaFolder = await encodeRows(out);
    const fp32 = await encodeRows(hub);
    viaFile.forEach((row, i) => assert.ok(maxAbsDiff(row, viaFolder[i]!) <= 1e-6, `row ${i}`));
    assert.ok(Math.max(...fp32.map((row, i) => maxAbsDiff(row, viaFile[i]!))) > 1e-4, 'the int8 file was not the one used');

    // quantize reads the graph --model-file names, and the output keeps no other graph.
    const again = join(dir, 'from-hub');
    const r = await quantize([hub, '--model-file', 'onnx/model.onnx', '-o', again, '--sample', sample]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(await files(again)).includes('onnx/model_qint8_avx512.onnx'));
    assert.equal(r.result!.cosine_min, result.cosine_min);

    // The int8 graph has nothing left to quantize: one line, exit 3.
    const twice = await quantize([hub, '--model-file', 'onnx/model_qint8_avx512.onnx', '-o', join(dir, 'twice'), '--sample', sample]);
    assert.equal(twice.code, 3);
    assert.match(twice.stderr + twice.stdout, /nothing to quantize/);
  });
});

describe('sbertkit quantize on the built-in model', () => {
  test('quantizes with no MODEL given, and encode loads the result', async () => {
    const out = join(dir, 'use-lite-int8');
    const r = await quantize(['-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const result = r.result!;
    assert.equal(result.model, 'builtin:use-lite');
    assert.equal(result.sample, 'built-in');
    assert.ok(result.sample_sentences >= 50);
    assert.ok(result.quantized_nodes > 0);
    assert.ok(result.size_after < 0.6 * result.size_before);
    assert.ok(result.cosine_min > 0.98 && result.cosine_mean > 0.99, `${result.cosine_min} ${result.cosine_mean}`);
    const fp32 = await encodeRows('builtin:use-lite');
    const int8 = await encodeRows(out);
    assert.equal(int8[0]!.length, 512);
    const got = cosineFigures(fp32, int8);
    assert.ok(got.min > 0.98, `min cosine on the fixture sentences ${got.min}`);
  });
});

describe('sbertkit quantize: bad input, one line, no output', () => {
  const fails = async (args: string[], code: number, message: RegExp): Promise<void> => {
    const r = await runCli(['quantize', ...args], {env});
    assert.equal(r.code, code, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), message);
    assert.deepEqual(await temps(dir), []);
  };

  test('a graph file that is not ONNX: exit 3, no output folder', async () => {
    const bad = join(dir, 'bad-model');
    await cp(src, bad, {recursive: true});
    await writeFile(join(bad, 'onnx/model.onnx'), 'this is not a protobuf model\n');
    const target = join(dir, 'bad-out');
    await fails([bad, '-o', target], 3, /^sbertkit quantize: .*bad-model\/onnx\/model\.onnx: not an ONNX model/);
    await assert.rejects(stat(target));
  });

  test('a graph with external data: exit 3 naming it, no output folder', async () => {
    const external = join(dir, 'external-model');
    await cp(src, external, {recursive: true});
    const graphPath = join(external, 'onnx/model.onnx');
    const model = decodeModel(await readFile(graphPath), graphPath);
    const weight = model.graph!.initializer!.find((t) => t.name!.endsWith('query.weight'))!;
    await writeFile(join(external, 'onnx/model.onnx_data'), weight.rawData!);
    weight.rawData = new Uint8Array(0);
    weight.dataLocation = 1;
    weight.externalData = [{key: 'location', value: 'model.onnx_data'}, {key: 'offset', value: '0'}, {key: 'length', value: String((await stat(join(external, 'onnx/model.onnx_data'))).size)}];
    await writeFile(graphPath, encodeModel(model));
    const target = join(dir, 'external-out');
    await fails([external, '-o', target, '--sample', sample], 3, /external-model\/onnx\/model\.onnx: the graph keeps its weights in external data files/);
    await assert.rejects(stat(target));
  });

  test('an output folder that exists and is not empty: exit 2 and untouched; --force replaces it', async () => {
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'keep.txt'), 'mine');
    await fails([src, '-o', target, '--sample', sample], 2, /^sbertkit quantize: .*taken: output folder exists and is not empty \(--force replaces it\)$/);
    assert.equal(await readFile(join(target, 'keep.txt'), 'utf8'), 'mine');
    const json = await quantize([src, '-o', target, '--sample', sample]);
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout).status, 2);

    const forced = await runCli(['quantize', src, '-o', target, '--sample', sample, '--force', '--quiet'], {env});
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stderr, '');
    assert.deepEqual(await files(target), [...(await files(src)), 'quantize_config.json'].sort());
    assert.deepEqual(await temps(dir), []);
  });

  test('an empty existing folder is used as is', async () => {
    const target = join(dir, 'empty');
    await mkdir(target);
    const r = await runCli(['quantize', src, '-o', target, '--sample', sample, '--quiet'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await files(target)).includes('onnx/model.onnx'));
  });

  test('an output that is a file, or inside the source model: exit 2', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await fails([src, '-o', file], 2, /a-file: output exists and is not a folder$/);
    await fails([src, '-o', join(src, 'int8')], 2, /output folder must be outside the source model folder/);
    await fails([src, '-o', dir, '--force'], 2, /output folder must be outside the source model folder/);
  });

  test('MODEL given as the .onnx file itself: exit 2 with what to give instead', async () => {
    await fails([join(src, 'onnx/model.onnx'), '-o', join(dir, 'x1')], 2, /model\.onnx: MODEL is a file; give the model folder .*--model-file/);
  });

  test('an empty sample or a missing column: exit 2', async () => {
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    await fails([src, '-o', join(dir, 'x2'), '--sample', empty], 2, /empty\.txt: the sample has no sentences$/);
    const csv = join(dir, 'sample.csv');
    await writeFile(csv, 'id,body\n1,hello\n');
    await fails([src, '-o', join(dir, 'x3'), '--sample', csv], 2, /column 'text' not found/);
  });

  test('a model whose tokenizer fails after the folder was staged: no output, no temp folder', async () => {
    const broken = join(dir, 'broken-tokenizer');
    await cp(src, broken, {recursive: true});
    await writeFile(join(broken, 'tokenizer.json'), '{}');
    const target = join(dir, 'x4');
    const r = await runCli(['quantize', broken, '-o', target, '--sample', sample], {env});
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    await assert.rejects(stat(target));
    assert.deepEqual(await temps(dir), []);
  });
});
