/**
 * listsFromPairs (what dedupe merge joins the buckets' pairs with): every list best first with ties to
 * the lower row, a repeated pair once; and decide() over lists joined from pairs given in any order,
 * split across "buckets", equals the naive rule (dedupe-reference.ts).
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {decide, exactRepresentatives, keepOrder, REASON_NAMES} from '../../src/algorithms/dedupe/decide.js';
import {listsFromPairs} from '../../src/algorithms/dedupe/pair-lists.js';
import {mulberry32} from '../helpers/prng.js';
import {plantedGroups} from './cluster-reference.js';
import {cosine, naiveDedupe} from './dedupe-reference.js';

describe('listsFromPairs', () => {
  test('orders each list by score, then lower row; keeps a repeated pair once, at its better score', () => {
    // query, neighbour, score
    const pairs: [number, number, number][] = [[0, 3, 0.5], [2, 1, 0.9], [0, 1, 0.9], [0, 2, 0.9], [0, 3, 0.7], [2, 0, 0.95]];
    const lists = listsFromPairs(4, Int32Array.from(pairs, (p) => p[0]), Int32Array.from(pairs, (p) => p[1]), Float32Array.from(pairs, (p) => p[2]));
    const listOf = (r: number) => Array.from(lists.indices.subarray(lists.offsets[r]!, lists.offsets[r + 1]!));
    assert.deepEqual(listOf(0), [1, 2, 3]);
    assert.ok(Math.abs(lists.scores[lists.offsets[0]! + 2]! - 0.7) < 1e-6, 'the better of the two scores of (0, 3)');
    assert.deepEqual(listOf(1), []);
    assert.deepEqual(listOf(2), [0, 1]);
    assert.deepEqual(listOf(3), []);
    assert.deepEqual(Array.from(lists.best), [1, -1, 0, -1]);
  });

  test('decide() over pairs found bucket by bucket, shuffled, equals the naive rule', () => {
    const rows = plantedGroups(5, 12, 10, 6, 40, 0.15);
    const threshold = 0.9;
    const keys = rows.map((_, i) => (i % 17 === 4 ? 'same text' : `row ${i}`));
    for (const policy of ['first', 'longest'] as const) {
      const texts = keys.map((k, i) => `${k}${'x'.repeat(i % 5)}`);
      const order = keepOrder(rows.length, policy, policy === 'first' ? undefined : texts);
      const representative = exactRepresentatives(keys, order);
      const semantic = rows.map((_, r) => r).filter((r) => representative[r] === r);
      // Every pair at the threshold, from each side, in a shuffled order (as buckets would give them).
      const found: [number, number, number][] = [];
      semantic.forEach((a, i) => semantic.forEach((b, j) => {
        if (i !== j && cosine(rows[a]!, rows[b]!) >= threshold) found.push([i, j, cosine(rows[a]!, rows[b]!)]);
      }));
      const rand = mulberry32(9);
      for (let i = found.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [found[i], found[j]] = [found[j]!, found[i]!];
      }
      const lists = listsFromPairs(semantic.length, Int32Array.from(found, (p) => p[0]), Int32Array.from(found, (p) => p[1]), Float32Array.from(found, (p) => p[2]));
      const decisions = decide({rows: rows.length, order, representative, semanticRows: Int32Array.from(semantic), lists}, threshold);
      const want = naiveDedupe(rows, keys, [...order], threshold);
      assert.ok(want.some((w) => w.reason === 'semantic') && want.some((w) => w.reason === 'exact'));
      want.forEach((w, r) => {
        assert.equal(REASON_NAMES[decisions.reason[r]!], w.reason, `${policy}: row ${r}`);
        assert.equal(decisions.keptBy[r], w.keptBy, `${policy}: row ${r} kept by`);
      });
    }
  });
});
