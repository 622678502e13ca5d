/** Pairs mode streams in windows with a bounded text cache: the output must not depend on either. */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {test} from 'node:test';
import {Encoder} from '../../src/encoder/encoder.js';
import {readModelSpec} from '../../src/models/read-spec.js';
import {quietServices} from '../../src/pipelines/context.js';
import {runSimilarity} from '../../src/pipelines/similarity.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {mulberry32} from '../helpers/prng.js';
import {tempDir} from '../helpers/tmp.js';

test('pairs mode: window size and cache size do not change a byte of the output', async () => {
  const dir = await tempDir();
  const model = await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 16});
  const words = ['cat', 'dog', 'mat', 'park', 'runs', 'sat', 'the', 'a', 'market', 'fell'];
  const rand = mulberry32(9);
  const sentence = () => Array.from({length: 2 + Math.floor(rand() * 4)}, () => words[Math.floor(rand() * words.length)]).join(' ');
  // Texts repeat across rows, so the cache is really used and really evicts.
  const pool = Array.from({length: 12}, sentence);
  const rows = Array.from({length: 60}, (_, i) => `${pool[Math.floor(rand() * pool.length)]}\t${pool[Math.floor(rand() * pool.length)]}\t${i}`);
  await writeFile(join(dir, 'pairs.tsv'), 'a\tb\tn\n' + rows.join('\n') + '\n');
  const run = async (windowSize: number, cacheSize: number, name: string): Promise<string> => {
    const output = join(dir, name);
    const services = quietServices(() => Encoder.load(readModelSpec(model.dir), {threads: 1}));
    const result = await runSimilarity({mode: 'pairs', input: join(dir, 'pairs.tsv'), column1: 'a', column2: 'b', output, metric: 'cosine', windowSize, cacheSize}, services);
    assert.equal(result.rows, 60);
    return readFile(output, 'utf8');
  };
  const whole = await run(4096, 65536, 'whole.jsonl');
  assert.equal(whole.trim().split('\n').length, 60);
  assert.equal(await run(7, 3, 'small.jsonl'), whole);
  assert.equal(await run(1, 1, 'tiny.jsonl'), whole);
});
