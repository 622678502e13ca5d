/**
 * Token windows of chunked texts: every token covered, in order, consecutive windows sharing exactly
 * the overlap, none longer than the window; checked by brute force over small sizes.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {tokenWindows, weightedMean} from '../../src/encoder/chunking.js';

describe('tokenWindows', () => {
  test('cover [0, length) in order, at most `size` each, `overlap` shared, the last ending at length', () => {
    for (let size = 1; size <= 9; size++) {
      for (let overlap = 0; overlap < size; overlap++) {
        for (let length = 0; length <= 40; length++) {
          const windows = tokenWindows(length, size, overlap);
          const label = `length ${length}, size ${size}, overlap ${overlap}`;
          assert.deepEqual(windows[0]![0], 0, label);
          assert.equal(windows.at(-1)![1], length, label);
          const covered = new Array<number>(length).fill(0);
          windows.forEach(([start, end], i) => {
            assert.ok(end - start <= size && (end > start || length === 0), label);
            for (let t = start; t < end; t++) covered[t]!++;
            if (i > 0) assert.equal(windows[i - 1]![1] - start, overlap, `${label}: window ${i} overlap`);
            // Only the last window may be short.
            if (i < windows.length - 1) assert.equal(end - start, size, label);
          });
          assert.ok(covered.every((c) => c >= 1), label);
          // A text that fits is one window; otherwise as few as reach the end.
          assert.equal(windows.length, length <= size ? 1 : 1 + Math.ceil((length - size) / (size - overlap)), label);
        }
      }
    }
  });
});

describe('weightedMean', () => {
  test('Σ wᵢvᵢ / Σ wᵢ', () => {
    const got = weightedMean([Float32Array.of(1, 0, 2), Float32Array.of(0, 4, 2)], [3, 1]);
    assert.deepEqual(Array.from(got), [0.75, 1, 2]);
  });
});
