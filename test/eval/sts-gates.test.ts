import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {baselineNotes, checkBaseline, checkMinSpearman} from '../../src/eval/sts-gates.js';
import {dataset, report} from './report-fixtures.js';

describe('checkMinSpearman (x100 scale)', () => {
  test('below fails with a one-line message, at or above passes', () => {
    const r = report([dataset('sts-test', 0.7812), dataset('sts-dev', 0.8), dataset('sick', 0.9)]);
    assert.deepEqual(checkMinSpearman(r, 80), [
      {gate: 'min-spearman', dataset: 'sts-test', message: 'sts-test: cosine Spearman 78.12 < 80.00 (--min-spearman)'},
    ]);
    assert.deepEqual(checkMinSpearman(r, 78.12), [], '78.12 is exactly the threshold: passes');
    assert.deepEqual(
      checkMinSpearman(r, 85).map((f) => f.dataset),
      ['sts-test', 'sts-dev'],
    );
    assert.deepEqual(checkMinSpearman(r, 0), []);
  });

  test('float noise at the boundary does not fail, a real shortfall hidden by rounding shows more digits', () => {
    // 0.57 * 100 === 56.99999999999999 in binary floating point; still "at" 57.
    assert.equal(0.57 * 100 < 57, true);
    assert.deepEqual(checkMinSpearman(report([dataset('a', 0.57)]), 57), []);
    // 79.996 rounds to "80.00" with 2 decimals, which would print "80.00 < 80.00".
    assert.deepEqual(
      checkMinSpearman(report([dataset('a', 0.79996)]), 80).map((f) => f.message),
      ['a: cosine Spearman 79.9960 < 80.0000 (--min-spearman)'],
    );
  });

  test('an undefined (NaN) score fails', () => {
    assert.deepEqual(
      checkMinSpearman(report([dataset('flat', NaN)]), 10).map((f) => f.message),
      ['flat: cosine Spearman is undefined (constant similarities) (--min-spearman)'],
    );
  });
});

describe('checkBaseline (points x100)', () => {
  const base = report([dataset('sts-test', 0.812), dataset('sts-dev', 0.85)]);

  test('a drop larger than max-drop fails with both values; equal drop and improvements pass', () => {
    const now = report([dataset('sts-test', 0.8047), dataset('sts-dev', 0.86)]);
    assert.deepEqual(checkBaseline(now, base, 0.5), [
      {
        gate: 'max-drop',
        dataset: 'sts-test',
        message: 'sts-test: cosine Spearman dropped 0.73 points (81.20 -> 80.47), more than --max-drop 0.50',
      },
    ]);
    // 81.2 - 80.47 computes as 0.730000000000004 in floating point; still "exactly" 0.73, so it passes.
    assert.equal(0.812 * 100 - 0.8047 * 100 > 0.73, true);
    assert.deepEqual(checkBaseline(now, base, 0.73), [], 'drop exactly 0.73 = max-drop passes');
    assert.deepEqual(checkBaseline(now, base, 1), []);
    // 81.20 -> 80.70 is exactly 0.5 points: passes; 80.699 is over.
    assert.deepEqual(checkBaseline(report([dataset('sts-test', 0.807), dataset('sts-dev', 0.85)]), base, 0.5), []);
    assert.equal(checkBaseline(report([dataset('sts-test', 0.80699), dataset('sts-dev', 0.85)]), base, 0.5).length, 1);
    assert.deepEqual(checkBaseline(report([dataset('sts-test', 0.9), dataset('sts-dev', 0.85)]), base, 0), [], 'improvement with max-drop 0');
  });

  test('datasets match by name; one missing from the baseline is a note, one missing from the run fails', () => {
    const now = report([dataset('sts-test', 0.812), dataset('new-set', 0.1)]);
    assert.deepEqual(checkBaseline(now, base, 0.5).map((f) => f.message), ['sts-dev: in the baseline but not in this run; nothing was compared (--baseline)']);
    assert.deepEqual(baselineNotes(now, base), ['new-set: not in the baseline; not compared']);
    const both = report([dataset('sts-test', 0.812), dataset('sts-dev', 0.85), dataset('new-set', 0.1)]);
    assert.deepEqual(checkBaseline(both, base, 0.5), []);
    // A renamed dataset: the run's name is new (a note), and every baseline name fails, so CI cannot pass by accident.
    const renamed = report([dataset('test', 0.5)]);
    assert.deepEqual(
      checkBaseline(renamed, base, 0.5).map((f) => f.message),
      ['sts-test: in the baseline but not in this run; nothing was compared (--baseline)', 'sts-dev: in the baseline but not in this run; nothing was compared (--baseline)'],
    );
    const empty = report([]);
    empty.datasets = [];
    assert.deepEqual(checkBaseline(now, empty, 0.5).map((f) => f.message), ['no dataset of this run is in the baseline (baseline has none); --max-drop would check nothing']);
  });

  test('NaN now fails; NaN baseline cannot be regressed from', () => {
    assert.equal(checkBaseline(report([dataset('sts-test', NaN), dataset('sts-dev', 0.85)]), base, 5).length, 1);
    assert.deepEqual(checkBaseline(report([dataset('sts-test', 0.1)]), report([dataset('sts-test', NaN)]), 0.5), []);
  });
});
