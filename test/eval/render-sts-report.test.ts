import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {parseStsReport} from '../../src/eval/sts-report.js';
import {renderStsReport} from '../../src/eval/render-sts-report.js';
import {dataset, report, scoresFrom} from './report-fixtures.js';

// Scores chosen away from x.xx5 so 2-decimal rounding is unambiguous. Per fixture offsets
// (cosine pearson −.01, dot spearman −.02, euclidean spearman −.04, manhattan spearman −.06):
//   sts-test  .812345 -> 81.23 80.23 79.23 77.23 75.23
//   stsb/test .6549   -> 65.49 64.49 63.49 61.49 59.49
//   average   .733    -> 73.30 72.30 71.30 69.30 67.30, pairs 1379 + 200 = 1579
const REPORT = report([dataset('sts-test', 0.812345, 1379), dataset('stsb/test', 0.6549, 200)], scoresFrom(0.733));
const EXPECTED_ROWS = [
  ['sts-test', '1379', '81.23', '80.23', '79.23', '77.23', '75.23'],
  ['stsb/test', '200', '65.49', '64.49', '63.49', '61.49', '59.49'],
  ['average', '1579', '73.30', '72.30', '71.30', '69.30', '67.30'],
];

describe('renderStsReport', () => {
  test('json parses back to the same object and through the baseline validator', () => {
    const text = renderStsReport(REPORT, 'json');
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), REPORT);
    assert.deepEqual(parseStsReport(JSON.parse(text)), REPORT);
  });

  test('json: undefined correlations become null and come back as NaN', () => {
    const withNaN = report([dataset('flat', NaN), dataset('ok', 0.5)], scoresFrom(NaN));
    const parsed = JSON.parse(renderStsReport(withNaN, 'json')) as {datasets: {cosine_spearman: unknown}[]};
    assert.equal(parsed.datasets[0].cosine_spearman, null);
    assert.deepEqual(parseStsReport(parsed), withNaN);
  });

  test('table: aligned columns, one row per dataset, average row, x100 with 2 decimals', () => {
    const text = renderStsReport(REPORT, 'table');
    const lines = text.split('\n');
    assert.match(lines[0], /my-model \(dim 384, mean pooling, normalized\)/);
    const headerAt = lines.findIndex((l) => l.startsWith('dataset'));
    assert.ok(headerAt > 0);
    const cells = (l: string) => l.trim().split(/\s{2,}/);
    assert.deepEqual(cells(lines[headerAt]), ['dataset', 'pairs', 'cosine spearman', 'cosine pearson', 'dot spearman', 'euclidean spearman', 'manhattan spearman']);
    const rows = lines.slice(headerAt + 1).filter((l) => /^[a-z]/.test(l) && !l.startsWith('scores'));
    assert.deepEqual(rows.map(cells), EXPECTED_ROWS);
    // Alignment: the header, rules and rows all have the same width; numbers end in the same column.
    const block = lines.slice(headerAt, headerAt + 6);
    assert.equal(new Set(block.map((l) => l.length)).size, 1, block.join('\n'));
    assert.equal(new Set(rows.map((l) => l.indexOf('.'))).size, 1, 'first decimal point lines up');
  });

  test('markdown: GitHub table with the model name, bold average', () => {
    const text = renderStsReport(REPORT, 'markdown');
    assert.match(text, /^### STS evaluation: `my-model \(dim 384, mean pooling, normalized\)`/);
    const table = text.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(table[0], '| dataset | pairs | cosine spearman | cosine pearson | dot spearman | euclidean spearman | manhattan spearman |');
    assert.match(table[1], /^\| --- \|( ---: \|){6}$/);
    assert.deepEqual(table.slice(2), [
      `| ${EXPECTED_ROWS[0].join(' | ')} |`,
      `| ${EXPECTED_ROWS[1].join(' | ')} |`,
      `| ${EXPECTED_ROWS[2].map((c) => `**${c}**`).join(' | ')} |`,
    ]);
    assert.match(text, /321 unique sentences/);
  });

  test('markdown and table show n/a for undefined scores, and escape pipes', () => {
    const r = report([dataset('a|b', NaN), dataset('c', 0.5)], scoresFrom(NaN));
    const md = renderStsReport(r, 'markdown');
    assert.match(md, /^\| a\\\|b \| 100 \| n\/a \|/m);
    assert.match(renderStsReport(r, 'table'), /^average\s+200\s+n\/a/m);
  });

  test('csv: one row per dataset plus average, raw full-precision scores', () => {
    const lines = renderStsReport(REPORT, 'csv').trimEnd().split('\n');
    const header = lines[0].split(',');
    assert.deepEqual(header.slice(0, 6), ['dataset', 'file', 'format', 'pairs', 'skipped', 'main_score']);
    assert.equal(header.length, 5 + 9);
    assert.equal(lines.length, 4);
    const rowsByName = new Map(lines.slice(1).map((l) => [l.split(',')[0], Object.fromEntries(l.split(',').map((c, i) => [header[i], c]))]));
    assert.deepEqual([...rowsByName.keys()], ['sts-test', 'stsb/test', 'average']);
    const first = rowsByName.get('sts-test')!;
    assert.equal(first.file, 'data/sts-test.tsv');
    assert.equal(first.pairs, '1379');
    for (const key of header.slice(5)) assert.equal(Number(first[key]), REPORT.datasets[0][key as keyof (typeof REPORT.datasets)[0]], key);
    const avg = rowsByName.get('average')!;
    assert.equal(avg.pairs, '1579');
    for (const key of header.slice(5)) assert.equal(Number(avg[key]), REPORT.average[key as keyof typeof REPORT.average], key);
  });

  test('csv quotes fields that need it', () => {
    const r = report([dataset('x', 0.5), dataset('y', 0.6)], scoresFrom(0.55));
    r.datasets[0].file = 'dir, with comma/"q".tsv';
    const line = renderStsReport(r, 'csv').split('\n')[1];
    assert.ok(line.startsWith('x,"dir, with comma/""q"".tsv",tsv,100,0,'), line);
  });
});
