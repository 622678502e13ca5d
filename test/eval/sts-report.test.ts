import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {SbertkitError} from '../../src/errors.js';
import {averageScores, parseStsReport, toReportScores} from '../../src/eval/sts-report.js';
import {readBaselineReport} from '../../src/pipelines/eval-sts.js';
import {dataset, report, scoresFrom} from './report-fixtures.js';
import {tempDir} from '../helpers/tmp.js';

let dir: string;
before(async () => {
  dir = await tempDir();
});
describe('score names', () => {
  test('sentence-transformers names map to MTEB-style keys; main_score is cosine Spearman', () => {
    const st = {
      pearson_cosine: 0.1,
      spearman_cosine: 0.2,
      pearson_dot: 0.3,
      spearman_dot: 0.4,
      pearson_euclidean: 0.5,
      spearman_euclidean: 0.6,
      pearson_manhattan: 0.7,
      spearman_manhattan: 0.8,
    };
    assert.deepEqual(toReportScores(st), {
      main_score: 0.2,
      cosine_spearman: 0.2,
      cosine_pearson: 0.1,
      dot_spearman: 0.4,
      dot_pearson: 0.3,
      euclidean_spearman: 0.6,
      euclidean_pearson: 0.5,
      manhattan_spearman: 0.8,
      manhattan_pearson: 0.7,
    });
  });

  test('averageScores is the unweighted per-key mean', () => {
    const avg = averageScores([scoresFrom(0.5), scoresFrom(0.9), scoresFrom(0.4)]);
    // cosine spearman (0.5 + 0.9 + 0.4) / 3 = 0.6; manhattan pearson: each −0.07 -> 0.53
    assert.ok(Math.abs(avg.cosine_spearman - 0.6) < 1e-15);
    assert.ok(Math.abs(avg.manhattan_pearson - 0.53) < 1e-15);
    assert.ok(Number.isNaN(averageScores([scoresFrom(0.5), scoresFrom(NaN)]).main_score));
  });
});

describe('parseStsReport / readBaselineReport', () => {
  const good = () => JSON.parse(JSON.stringify(report([dataset('a', 0.8), dataset('b', 0.7)], scoresFrom(0.75)))) as Record<string, any>;

  test('accepts a valid report, keeps optional fields, ignores unknown keys', () => {
    const v = good();
    v.model.revision = 'abc';
    v.created_at = '2024-01-01T00:00:00.000Z';
    v.extra = {future: true};
    const r = parseStsReport(v);
    assert.equal(r.model.revision, 'abc');
    assert.equal(r.created_at, '2024-01-01T00:00:00.000Z');
    assert.equal('extra' in r, false);
    assert.equal(r.datasets[1].cosine_spearman, 0.7);
  });

  test('names the first wrong field', () => {
    const cases: [(v: Record<string, any>) => unknown, RegExp][] = [
      [() => [1, 2], /report: expected a JSON object/],
      [(v) => ({...v, model: undefined}), /model: expected an object, got nothing/],
      [(v) => ({...v, model: {...v.model, dimension: '384'}}), /model\.dimension: expected a number, got "384"/],
      [(v) => ({...v, datasets: {}}), /datasets: expected an array/],
      [(v) => ((v.datasets[1].cosine_spearman = 81.2), v), /datasets\[1\]\.cosine_spearman: expected a correlation in \[-1, 1\] or null, got 81\.2/],
      [(v) => (delete v.average.main_score, v), /average\.main_score: expected a correlation/],
      [(v) => ({...v, unique_sentences: null}), /report\.unique_sentences: expected a number/],
    ];
    for (const [mutate, pattern] of cases) {
      assert.throws(
        () => parseStsReport(mutate(good()), 'base.json'),
        (e: unknown) => e instanceof SbertkitError && e.exitCode === 2 && /^base\.json: not an sbertkit STS report: /.test(e.toLine()) && pattern.test(e.message),
        String(pattern),
      );
    }
  });

  test('reads a file; missing file and bad JSON are clear errors', async () => {
    const path = join(dir, 'baseline.json');
    await writeFile(path, JSON.stringify(good()));
    const r = await readBaselineReport(path);
    assert.deepEqual(
      r.datasets.map((d) => [d.name, d.cosine_spearman]),
      [
        ['a', 0.8],
        ['b', 0.7],
      ],
    );
    await assert.rejects(readBaselineReport(join(dir, 'none.json')), (e: unknown) => e instanceof SbertkitError && /none\.json: baseline report not found/.test(e.toLine()));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"sbertkit_version": ');
    await assert.rejects(readBaselineReport(bad), (e: unknown) => e instanceof SbertkitError && /bad\.json: baseline report is not valid JSON/.test(e.toLine()));
  });
});
