/**
 * dedupe's decisions against the naive reference (dedupe-reference.ts): exact groups, the
 * non-chaining rule, every keep policy, --against, and sweep counts equal to separate runs.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {AGAINST, decide, EXACT, exactRepresentatives, keepOrder, REASON_NAMES, type DedupeInputs} from '../../src/algorithms/dedupe/decide.js';
import {codePointLength, normalizeText} from '../../src/algorithms/dedupe/normalize.js';
import {nearNeighbours} from '../../src/algorithms/neighbour-lists.js';
import {VectorMatrix} from '../../src/vectors/matrix.js';
import {normalizeRows} from '../../src/vectors/metric.js';
import {plantedGroups} from './cluster-reference.js';
import {cosine, naiveDedupe} from './dedupe-reference.js';

async function run(rows: Float32Array[], keys: (string | undefined)[], order: Int32Array, threshold: number, lowest = threshold) {
  const representative = exactRepresentatives(keys, order);
  const semanticRows = Int32Array.from(rows.map((_, r) => r).filter((r) => representative[r] === r && keys[r] !== ''));
  const unit = normalizeRows(VectorMatrix.fromRows(Array.from(semanticRows, (r) => rows[r]!)));
  const {lists} = await nearNeighbours(unit, {threshold: lowest, backend: 'exact', k: 2});
  const inputs: DedupeInputs = {rows: rows.length, order, representative, semanticRows, lists};
  return {inputs, decisions: decide(inputs, threshold)};
}

function assertMatchesReference(decisions: ReturnType<typeof decide>, want: ReturnType<typeof naiveDedupe>, label: string): void {
  want.forEach((w, r) => {
    assert.equal(REASON_NAMES[decisions.reason[r]!], w.reason, `${label}: row ${r} reason`);
    assert.equal(decisions.keptBy[r], w.keptBy, `${label}: row ${r} kept_id`);
    if (w.reason !== 'kept') assert.ok(Math.abs(decisions.score[r]! - w.score) <= 1e-5, `${label}: row ${r} score ${decisions.score[r]} vs ${w.score}`);
  });
}

describe('normalizeText (the exact stage key)', () => {
  const same: [string, string, string][] = [
    ['composed and decomposed accents', 'caf\u00e9 cr\u00e8me', 'cafe\u0301 cre\u0300me'],
    ['case', 'Hello World', 'hELLO wORLD'],
    ['sharp s folds to ss', 'STRASSE', 'stra\u00dfe'],
    ['final sigma', '\u039f\u0394\u039f\u03a3', '\u03bf\u03b4\u03bf\u03c2'],
    ['fi ligature', '\ufb01le', 'FILE'],
    ['runs of spaces, tabs and newlines', 'a  b\t\tc\nd', 'a b c d'],
    ['no-break and ideographic spaces', 'a\u00a0b\u3000c', 'a b c'],
    ['leading and trailing space', '  padded\t', 'padded'],
    ['CRLF inside a text', 'line one\r\nline two', 'line one line two'],
  ];
  for (const [label, a, b] of same) test(`equal: ${label}`, () => assert.equal(normalizeText(a), normalizeText(b)));
  const different: [string, string, string][] = [
    ['punctuation stays', 'Hello.', 'Hello'],
    ['inner space is not removed', 'a b', 'ab'],
    ['accents are not stripped', 'caf\u00e9', 'cafe'],
  ];
  for (const [label, a, b] of different) test(`different: ${label}`, () => assert.notEqual(normalizeText(a), normalizeText(b)));
  test('empty and white space only are the empty key', () => {
    assert.equal(normalizeText(''), '');
    assert.equal(normalizeText(' \t\n'), '');
  });
  test('lengths count code points, not UTF-16 units', () => {
    assert.equal(codePointLength('a\u{1F600}b'), 3);
    assert.equal(codePointLength('\u00e9'), 1);
  });
});

describe('keepOrder', () => {
  const texts = ['bb', 'a', 'cccc', 'dd', '\u{1F600}\u{1F600}\u{1F600}'];
  test('first is input order', () => assert.deepEqual(Array.from(keepOrder(5, 'first', texts)), [0, 1, 2, 3, 4]));
  test('longest first, ties in input order, emoji count once', () => assert.deepEqual(Array.from(keepOrder(5, 'longest', texts)), [2, 4, 0, 3, 1]));
  test('shortest first, ties in input order', () => assert.deepEqual(Array.from(keepOrder(5, 'shortest', texts)), [1, 0, 3, 4, 2]));
});

describe('decide', () => {
  test('a chain A~B~C with A and C unlike keeps A and C (no union-find chaining)', async () => {
    const at = (deg: number) => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));
    const rows = [at(0), at(20), at(40)];
    const threshold = Math.cos((25 * Math.PI) / 180);
    assert.ok(cosine(rows[0]!, rows[1]!) >= threshold && cosine(rows[1]!, rows[2]!) >= threshold && cosine(rows[0]!, rows[2]!) < threshold);
    const {decisions} = await run(rows, [undefined, undefined, undefined], keepOrder(3, 'first'), threshold);
    assert.deepEqual(Array.from(decisions.reason, (c) => REASON_NAMES[c]), ['kept', 'semantic', 'kept']);
    assert.equal(decisions.keptBy[1], 0);
    // Visiting B first (it is the longest text) keeps B and drops both A and C for it.
    const {decisions: byLength} = await run(rows, [undefined, undefined, undefined], keepOrder(3, 'longest', ['a', 'bbb', 'c']), threshold);
    assert.deepEqual(Array.from(byLength.reason, (c) => REASON_NAMES[c]), ['semantic', 'kept', 'semantic']);
    assert.deepEqual([byLength.keptBy[0], byLength.keptBy[2]], [1, 1]);
  });

  for (const [seed, threshold, policy] of [
    [11, 0.9, 'first'],
    [12, 0.8, 'longest'],
    [13, 0.7, 'shortest'],
    [14, 0.95, 'first'],
  ] as const) {
    test(`equals the naive rule on planted groups with exact twins (seed ${seed}, ${policy}, ${threshold})`, async () => {
      const base = plantedGroups(seed, 16, 10, 8, 40, 0.25);
      // Exact twins: some rows repeated with other case and spacing (same vector: the model would
      // see other text, but stage 1 never looks at vectors).
      const rows = [...base];
      const texts = base.map((_, i) => `text number ${i}${'!'.repeat(i % 7)}`);
      for (let i = 0; i < base.length; i += 9) {
        rows.push(base[i]!);
        texts.push(`  TEXT  number ${i}${'!'.repeat(i % 7)} `);
      }
      texts[3] = '';
      texts[5] = '   ';
      const keys = texts.map(normalizeText);
      const order = keepOrder(rows.length, policy, texts);
      const {decisions} = await run(rows, keys, order, threshold);
      assertMatchesReference(decisions, naiveDedupe(rows, keys, Array.from(order), threshold), `seed ${seed}`);
      assert.ok(decisions.counts.exact > 0 && decisions.counts.semantic > 0, 'both stages dropped rows');
      // Every dropped row names a kept row, at or above the threshold.
      decisions.reason.forEach((code, r) => {
        if (code === 0) return;
        assert.equal(decisions.reason[decisions.keptBy[r]!], 0, `row ${r}'s kept row is kept`);
        assert.ok(decisions.score[r]! >= threshold);
      });
    });
  }

  test('sweep: decisions from lists at the lowest threshold equal separate runs at each', async () => {
    const rows = plantedGroups(21, 12, 12, 9, 60, 0.3);
    const keys = rows.map((_, i) => `t${i % 97}`);
    const order = keepOrder(rows.length, 'first');
    const sweep = [0.7, 0.8, 0.85, 0.9, 0.95];
    for (const t of sweep) {
      const once = await run(rows, keys, order, t, Math.min(...sweep));
      const separate = await run(rows, keys, order, t);
      assert.deepEqual(once.decisions.counts, separate.decisions.counts, `threshold ${t}`);
      assert.deepEqual(Array.from(once.decisions.keptBy), Array.from(separate.decisions.keptBy), `threshold ${t}`);
      assertMatchesReference(once.decisions, naiveDedupe(rows, keys, Array.from(order), t), `threshold ${t}`);
    }
  });

  test('against: a representative matching a reference row goes; its exact twin names the reference row', () => {
    const keys = ['a', 'b', 'a', 'c'];
    const order = keepOrder(4, 'first');
    const inputs: DedupeInputs = {
      rows: 4,
      order,
      representative: exactRepresentatives(keys, order),
      against: {best: Int32Array.of(7, -1, -1, 2), scores: Float32Array.of(0.95, Number.NaN, Number.NaN, 0.5)},
    };
    const d = decide(inputs, 0.9);
    assert.deepEqual(Array.from(d.reason), [AGAINST, 0, EXACT, 0]);
    assert.deepEqual(Array.from(d.keptBy), [7, -1, 7, -1]);
    assert.deepEqual(Array.from(d.keptIsReference), [1, 0, 1, 0]);
    assert.deepEqual(d.counts, {kept: 2, exact: 1, semantic: 0, against: 1});
  });

  test('no duplicates keeps everything; all duplicates keep one', async () => {
    const distinct = [Float32Array.of(1, 0, 0), Float32Array.of(0, 1, 0), Float32Array.of(0, 0, 1)];
    const none = await run(distinct, ['x', 'y', 'z'], keepOrder(3, 'first'), 0.5);
    assert.deepEqual(none.decisions.counts, {kept: 3, exact: 0, semantic: 0, against: 0});
    const same = Array.from({length: 6}, (_, i) => Float32Array.of(1, 0.001 * i, 0));
    const all = await run(same, ['x', 'X', ' x', 'y', 'Y', 'z'].map(normalizeText), keepOrder(6, 'first'), 0.99);
    // Row 4 (Y) is y's twin: an exact drop, naming y's kept row (row 0) and y's score.
    assert.deepEqual(all.decisions.counts, {kept: 1, exact: 3, semantic: 2, against: 0});
    assert.equal(all.decisions.score[4], all.decisions.score[3]);
    // The twins of y (row 3, dropped for row 0) follow it to row 0.
    assert.deepEqual(Array.from(all.decisions.keptBy), [-1, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(all.decisions.reason, (c) => REASON_NAMES[c]), ['kept', 'exact', 'exact', 'semantic', 'exact', 'semantic']);
  });
});
