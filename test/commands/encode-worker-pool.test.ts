/**
 * The worker pool (--threads 2) under faults, through the real binary, repeated because the failures
 * were races: worker.terminate() while ONNX Runtime was inside a native call in a worker aborted the
 * process ("terminate called after throwing an instance of 'Napi::Error'", exit 134). Before the fix,
 * corrupt graphs aborted in 7 to 9 of 10 runs of this setup.
 */
import assert from 'node:assert/strict';
import {cp, mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {DEFAULT_WORDS, TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli} from '../helpers/cli.js';
import {mulberry32} from '../helpers/prng.js';
import {tempDir} from '../helpers/tmp.js';

const RUNS = 10;
let dir: string;
let model: BertFolder;
let input: string;

before(async () => {
  dir = await tempDir();
  // Wider and deeper than TINY_BERT, so loading its graph takes long enough for the race below.
  model = await writeBertModelFolder(join(dir, 'model'), {
    config: {...TINY_BERT, hidden: 128, layers: 4, intermediate: 512, maxPosition: 128},
    pooling: 'mean',
    normalize: true,
    maxSeqLength: 128,
  });
  const rand = mulberry32(99);
  const line = () => Array.from({length: 60}, () => DEFAULT_WORDS[Math.floor(rand() * DEFAULT_WORDS.length)]).join(' ');
  input = join(dir, 'texts.txt');
  await writeFile(input, Array.from({length: 20_000}, line).join('\n'));
});

describe('encode --threads 2: a corrupt model.onnx', () => {
  // From the graph above: a long parse before the failure is when the other worker used to be
  // terminated mid-load (7-9 aborts in 10 runs before the fix).
  const corruptions: Array<[string, (graph: Buffer) => Buffer]> = [
    ['truncated', (graph) => graph.subarray(0, Math.floor(graph.length * 0.9))],
    [
      'random bytes',
      (graph) => {
        const rand = mulberry32(5);
        return Buffer.from(graph.map(() => Math.floor(rand() * 256)));
      },
    ],
  ];
  for (const [name, corrupt] of corruptions) {
    test(`${name}: exit 3 and one line naming the graph, in ${RUNS} of ${RUNS} runs`, async () => {
      const bad = join(dir, `bad-${name.replace(' ', '-')}`);
      await cp(model.dir, bad, {recursive: true});
      const graph = join(bad, 'onnx', 'model.onnx');
      await writeFile(graph, corrupt(await readFile(graph)));
      for (let run = 0; run < RUNS; run++) {
        const outDir = join(dir, `corrupt-${name.replace(' ', '-')}-${run}`);
        await mkdir(outDir);
        const r = await runCli(['encode', input, '-o', join(outDir, 'out.parquet'), '--model', bad, '--threads', '2']);
        const lines = r.stderr.trimEnd().split('\n');
        assert.deepEqual({run, code: r.code, lines: lines.length}, {run, code: 3, lines: 1}, r.stderr);
        assert.ok(lines[0]!.startsWith(`sbertkit encode: ${graph}: cannot load ONNX graph`), lines[0]);
        assert.deepEqual(await readdir(outDir), []);
      }
    });
  }
});
