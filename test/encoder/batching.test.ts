import assert from 'node:assert/strict';
import {test} from 'node:test';
import {planBatches} from '../../src/encoder/batching.js';
import {mulberry32} from '../helpers/prng.js';

/** Deterministic pseudo-random lengths 0..129 from the tests' one seeded PRNG, so failures reproduce. */
function lengths(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({length: n}, () => Math.floor(rand() * 130));
}

test('every index appears exactly once and each batch respects rows and token budget', () => {
  for (const [n, batchSize, maxTokens] of [
    [1, 1, 1],
    [100, 8, 256],
    [257, 32, 1000],
    [50, 50, 100_000],
  ] as const) {
    const ls = lengths(n, n + batchSize);
    const batches = planBatches(ls, {batchSize, maxTokens});
    const all = batches.flat().sort((a, b) => a - b);
    assert.deepEqual(all, ls.map((_, i) => i));
    for (const batch of batches) {
      assert.ok(batch.length <= batchSize);
      const width = Math.max(1, ...batch.map((i) => ls[i]!));
      // A single over-long text may exceed the budget on its own; anything more must fit.
      if (batch.length > 1) assert.ok(width * batch.length <= maxTokens, `batch of ${batch.length} x ${width} > ${maxTokens}`);
    }
  }
});

test('length sorting: within the plan, lengths never increase', () => {
  const ls = lengths(300, 3);
  const flat = planBatches(ls, {batchSize: 16, maxTokens: 2048}).flat();
  for (let i = 1; i < flat.length; i++) assert.ok(ls[flat[i]!]! <= ls[flat[i - 1]!]!);
});

test('hand-worked plan', () => {
  // lengths 5,1,9,9,2 with 2 rows / 18 tokens: sorted 2(9),3(9),0(5),4(2),1(1) -> [2,3] [0,4] [1]
  assert.deepEqual(planBatches([5, 1, 9, 9, 2], {batchSize: 2, maxTokens: 18}), [[2, 3], [0, 4], [1]]);
  // token budget 10 forces the 9s apart: [2] [3]; then 5x2=10 fits but 5x3=15 does not -> [0,4] [1]
  assert.deepEqual(planBatches([5, 1, 9, 9, 2], {batchSize: 4, maxTokens: 10}), [[2], [3], [0, 4], [1]]);
});
