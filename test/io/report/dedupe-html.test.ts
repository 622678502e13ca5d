import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {histogram, renderDedupeReport, type DedupeReportData, type DedupeReportPair} from '../../../src/io/report/dedupe-html.js';
import {mulberry32} from '../../helpers/prng.js';

// Everything is checked against counts made here by plain comparison (from <= s < to), read back
// from the page's SVG attributes, never against a copy of the renderer's output.

/** Float32 cosines, mostly in [0.3, 1), a few exact bin edges (0.5, 0.9, 1.0) and some NaN. */
function scores(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.3 + 0.7 * Math.sqrt(rand());
  out.set([0.5, 0.9, 1, NaN, NaN], 0);
  return out;
}

function data(overrides: Partial<DedupeReportData> = {}): DedupeReportData {
  const bestScores = scores(5000, 7);
  return {
    input: 'questions.parquet',
    model: 'sentence-transformers/all-MiniLM-L6-v2',
    threshold: 0.85,
    rows: 5200,
    kept: 4100,
    exactDropped: 200,
    againstDropped: 0,
    semanticDropped: 900,
    bestScores,
    above: [{keptId: 12, keptText: 'How do I reset my password?', otherId: 99, otherText: 'How can I reset my password?', score: 0.8731}],
    below: [{keptId: 'q-7', keptText: 'What is the refund policy?', otherId: 'q-8', otherText: undefined, score: 0.8412}],
    generated: '2024-05-01T12:00:00.000Z',
    ...overrides,
  };
}

type Attrs = Record<string, string>;

/** Attributes of every `<name ...>` start tag in the page. */
function tags(html: string, name: string): Attrs[] {
  return [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'g'))].map((m) => Object.fromEntries([...m[1].matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
}

interface Bar {
  cls: string;
  x: number;
  width: number;
  height: number;
  from: number;
  to: number;
  count: number;
  title: string;
}

function bars(html: string): Bar[] {
  return [...html.matchAll(/<rect\b([^>]*)><title>([^<]*)<\/title><\/rect>/g)]
    .map((m) => ({attrs: Object.fromEntries([...m[1].matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])), title: m[2]}))
    .filter(({attrs}) => attrs.class?.split(' ').includes('bar'))
    .map(({attrs, title}) => ({
      cls: attrs.class.split(' ')[1],
      x: Number(attrs.x),
      width: Number(attrs.width),
      height: Number(attrs.height),
      from: Number(attrs['data-from']),
      to: Number(attrs['data-to']),
      count: Number(attrs['data-count']),
      title,
    }));
}

/** Every element closed in order (void HTML elements and self-closing SVG excepted); <style> skipped. */
function assertBalanced(html: string): void {
  const VOID = new Set(['meta', 'link', 'br', 'img', 'input', 'hr']);
  const stack: string[] = [];
  for (const m of html.replace(/<style>[\s\S]*?<\/style>/, '').matchAll(/<(\/?)([a-zA-Z][\w-]*)\b[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the innermost open element`);
    else if (!selfClose && !VOID.has(name)) stack.push(name);
  }
  assert.deepEqual(stack, [], 'all elements closed');
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.match(html, /<\/html>\n$/);
}

const naiveCount = (values: ArrayLike<number>, from: number, to: number, last: boolean) =>
  Array.from(values).filter((s) => Number.isFinite(s) && s >= from && (s < to || last)).length;

describe('histogram', () => {
  test('counts equal a naive count per bin, sum to the finite scores, span lowest bin edge to 1.0', () => {
    const values = Float64Array.from([...scores(20000, 3), 0.58, 0.14, -0.3, 1.0000001, Infinity, -Infinity]);
    const h = histogram(values, 0.02);
    const finite = Array.from(values).filter(Number.isFinite);
    const min = Math.min(...finite);
    assert.equal(h.edges.length, h.counts.length + 1);
    assert.equal(h.edges[h.edges.length - 1], 1);
    assert.ok(h.edges[0] <= min && min < h.edges[0] + 0.02, `first edge ${h.edges[0]} floors ${min}`);
    assert.ok(Math.abs(h.edges[0] * 50 - Math.round(h.edges[0] * 50)) < 1e-9, 'first edge is a multiple of 0.02');
    h.counts.forEach((c, i) => {
      const last = i === h.counts.length - 1;
      assert.equal(c, naiveCount(values, h.edges[i], h.edges[i + 1], last), `bin ${h.edges[i]}..${h.edges[i + 1]}`);
    });
    assert.equal(h.scored, finite.length);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), finite.length);
    assert.equal(h.unscored, 2 + 2);
    // Exact decimal edges land in the bin they start: 0.58 in [0.58, 0.60), 0.14 in [0.14, 0.16).
    assert.ok(h.edges.includes(0.58) && h.edges.includes(0.14), 'edges are the doubles of the printed decimals');
    assert.equal(h.counts[h.edges.indexOf(0.14)], 1);
    assert.equal(h.counts[h.edges.indexOf(0.12)], 0);
  });

  test('include reaches the span down to it; no scores give no bins unless included', () => {
    const h = histogram([0.95, 0.97], 0.02, 0.81);
    assert.equal(h.edges[0], 0.8);
    // [0.94, 0.96) and [0.96, 0.98) hold one score each; [0.98, 1.0] is empty but still spanned.
    assert.deepEqual(h.counts, [0, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
    assert.deepEqual(histogram([], 0.02), {binWidth: 0.02, edges: [], counts: [], scored: 0, unscored: 0});
    assert.deepEqual(histogram([NaN], 0.02), {binWidth: 0.02, edges: [], counts: [], scored: 0, unscored: 1});
    assert.equal(histogram([], 0.05, 0.5).counts.length, 10);
  });

  test('rejects a bin width that does not divide 1', () => {
    assert.throws(() => histogram([0.5], 0.03), RangeError);
    assert.throws(() => histogram([0.5], 0), RangeError);
  });
});

describe('renderDedupeReport', () => {
  test('bars read back from the SVG equal a naive count and sum to the finite scores', () => {
    const d = data();
    const page = renderDedupeReport(d);
    const bs = bars(page);
    assert.ok(bs.length > 10);
    const finite = Array.from(d.bestScores).filter(Number.isFinite).length;
    bs.forEach((b, i) => {
      const last = i === bs.length - 1;
      assert.equal(b.count, naiveCount(d.bestScores, b.from, b.to, last), `bar ${b.from}`);
      assert.equal(b.title, `${b.from.toFixed(2)}\u2013${b.to.toFixed(2)}: ${b.count.toLocaleString('en-US')} ${b.count === 1 ? 'row' : 'rows'}`);
      if (i > 0) {
        assert.equal(b.from, bs[i - 1].to, 'bins are contiguous');
        assert.ok(b.x > bs[i - 1].x, 'bars left to right');
      }
    });
    assert.equal(bs.reduce((s, b) => s + b.count, 0), finite);
    assert.equal(bs[bs.length - 1].to, 1);
    assert.match(page, new RegExp(`${finite.toLocaleString('en-US')} rows plotted`));
  });

  test('threshold line lies in the bar of the bin holding the threshold; bars at or above are marked', () => {
    for (const threshold of [0.85, 0.9, 0.731]) {
      const page = renderDedupeReport(data({threshold}));
      const bs = bars(page);
      const [line] = tags(page, 'line').filter((l) => l.class === 'threshold');
      const lineX = Number(line.x1);
      const at = bs.findIndex((b) => b.from <= threshold && threshold < b.to);
      assert.ok(at > 0, `a bin holds ${threshold}`);
      assert.ok(bs[at].x - 0.01 <= lineX && lineX <= bs[at].x + bs[at].width + 0.01, `line ${lineX} in bar ${bs[at].x}+${bs[at].width}`);
      assert.ok(lineX >= bs[at - 1].x + bs[at - 1].width - 0.01, 'right of the bin below');
      // Proportional inside the bin: 0.85 is half way through [0.84, 0.86).
      const expected = bs[at].x + ((threshold - bs[at].from) / (bs[at].to - bs[at].from)) * bs[at].width;
      assert.ok(Math.abs(lineX - expected) < 0.05, `line at ${lineX}, expected ${expected}`);
      for (const b of bs) assert.equal(b.cls, b.from >= threshold ? 'drop' : b.to <= threshold ? 'keep' : 'split', `bar ${b.from}`);
      assert.match(page, new RegExp(`>threshold ${threshold}</text>`));
    }
    // On an edge, no bar is split.
    assert.ok(!bars(renderDedupeReport(data({threshold: 0.9}))).some((b) => b.cls === 'split'));
  });

  test('bar heights grow with the count; a sparse tail next to a bulk goes on a log scale', () => {
    const check = (bestScores: Float32Array, log: boolean) => {
      const page = renderDedupeReport(data({bestScores}));
      const bs = bars(page);
      for (const a of bs) {
        assert.equal(a.height === 0, a.count === 0, `bar ${a.from}: empty iff 0 rows`);
        for (const b of bs) if (a.count < b.count) assert.ok(a.height < b.height, `${a.count} rows lower than ${b.count}`);
      }
      assert.equal(page.includes('>rows (log scale)</text>'), log);
    };
    // 10 000 rows near 0.5, 3 near 0.9: linear would draw the 3 at 0.06 px.
    check(Float32Array.from({length: 10_003}, (_, i) => (i < 10_000 ? 0.5 + (i % 7) * 0.001 : 0.9)), true);
    check(Float32Array.from({length: 40}, (_, i) => 0.6 + (i % 4) * 0.1), false);
  });

  test('a threshold below every score still gets its line on the chart', () => {
    const page = renderDedupeReport(data({bestScores: Float32Array.from([0.95, 0.96, 0.99]), threshold: 0.5}));
    const bs = bars(page);
    assert.equal(bs[0].from, 0.5);
    const lineX = Number(tags(page, 'line').find((l) => l.class === 'threshold')!.x1);
    assert.ok(Math.abs(lineX - bs[0].x) < 0.01);
  });

  test('texts, ids, file name and model are escaped and rendered as text', () => {
    const evil = ['</script><script>alert(1)</script>', '<img src=x onerror=alert(1)>', `Tom & "Jerry" 'x'`];
    const pair = (i: number): DedupeReportPair => ({keptId: evil[i], keptText: evil[(i + 1) % 3], otherId: i, otherText: evil[(i + 2) % 3], score: 0.9});
    const page = renderDedupeReport(data({input: evil[0], model: evil[1], above: [pair(0), pair(1)], below: [pair(2)]}));
    assert.doesNotMatch(page, /<script/i);
    assert.doesNotMatch(page, /<img/i);
    assert.doesNotMatch(page, /<[^>]*\s(src|onerror)=/i, 'no src or handler attribute on any tag');
    assert.ok(page.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(page.includes('Tom &amp; &quot;Jerry&quot; &#39;x&#39;'));
    assert.ok(page.includes('<title>sbertkit dedupe report: &lt;/script&gt;'));
    assertBalanced(page);
  });

  test('long texts are cut at 300 characters with an ellipsis, undefined texts show "(no text)"', () => {
    const long = 'a'.repeat(1000);
    const emoji = '\u{1F600}'.repeat(400);
    const page = renderDedupeReport(data({above: [{keptId: 1, keptText: long, otherId: 2, otherText: emoji, score: 0.9}], below: [{keptId: 3, keptText: undefined, otherId: 4, otherText: undefined, score: 0.8}]}));
    assert.ok(page.includes(`>${'a'.repeat(300)}\u2026<`));
    assert.ok(!page.includes('a'.repeat(301)));
    assert.ok(page.includes(`>${'\u{1F600}'.repeat(300)}\u2026<`), 'cut by code point');
    assert.doesNotMatch(page, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'no lone surrogate');
    assert.equal(page.match(/<span class="none">\(no text\)<\/span>/g)?.length, 2);
  });

  test('control characters are shown as visible symbols, an empty text as "(empty)"', () => {
    const page = renderDedupeReport(data({above: [{keptId: 1, keptText: 'a\u0000b\u001b[31mc\u007f', otherId: 2, otherText: '', score: 0.9}]}));
    assert.ok(page.includes('<span class="text">a\u2400b\u241b[31mc\u2421</span>'));
    assert.doesNotMatch(page, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
    assert.ok(page.includes('<span class="text"><span class="none">(empty)</span></span>'));
  });

  test('self-contained: no URL but the SVG namespace, no link, src, script or import', () => {
    const page = renderDedupeReport(data({sweep: [{threshold: 0.8, dropped: 1500}, {threshold: 0.85, dropped: 900}]}));
    assert.deepEqual(page.match(/https?:\/\/[^\s"']*/g), ['http://www.w3.org/2000/svg']);
    assert.ok(page.includes('<svg xmlns="http://www.w3.org/2000/svg"'));
    for (const bad of [/<link/i, /src=/i, /<script/i, /@import/i, /@font-face/i, /<iframe/i, /<object/i]) assert.doesNotMatch(page, bad);
    // url() only for the in-page gradient.
    assert.deepEqual([...new Set(page.match(/url\([^)]*\)/g))], ['url(#split)']);
    assert.ok(page.includes('id="split"'));
    assert.ok(page.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">'));
    assertBalanced(page);
  });

  test('header: input, model, threshold and the count per stage', () => {
    const page = renderDedupeReport(data({againstDropped: 30, kept: 4070}));
    const counts = Object.fromEntries([...page.matchAll(/<tr[^>]*><th scope="row">([^<]*)<\/th><td class="num">([\d,]+)<\/td>/g)].map((m) => [m[1], Number(m[2].replace(/,/g, ''))]));
    assert.deepEqual(counts, {
      'rows in': 5200,
      'exact duplicates dropped': 200,
      'near-duplicates of the reference file dropped (--against)': 30,
      'near-duplicates dropped (semantic)': 900,
      kept: 4070,
    });
    assert.match(page, /<th scope="row">input<\/th><td>questions\.parquet<\/td>/);
    assert.match(page, /<th scope="row">model<\/th><td>sentence-transformers\/all-MiniLM-L6-v2<\/td>/);
    assert.match(page, /<th scope="row">threshold<\/th><td>cosine &ge; 0\.85<\/td>/);
    assert.match(renderDedupeReport(data({model: undefined})), /<th scope="row">model<\/th><td><span class="none">\(not recorded\)<\/span>/);
  });

  test('NaN scores are counted as "no score" and not plotted', () => {
    const bestScores = Float32Array.from([0.91, NaN, 0.72, NaN, NaN, 0.88]);
    const page = renderDedupeReport(data({bestScores}));
    assert.match(page, /3 rows had no score/);
    assert.match(page, /3 rows plotted/);
    assert.equal(bars(page).reduce((s, b) => s + b.count, 0), 3);
    assert.match(renderDedupeReport(data({bestScores: Float32Array.from([0.9, 0.8])})), /Every row has a best-match score/);
    assert.match(renderDedupeReport(data({bestScores: Float32Array.from([0.9, NaN])})), /1 row had no score/);
  });

  test('empty input renders a valid page with zeros and no chart', () => {
    const page = renderDedupeReport(data({rows: 0, kept: 0, exactDropped: 0, againstDropped: 0, semanticDropped: 0, bestScores: new Float32Array(0), above: [], below: []}));
    assertBalanced(page);
    assert.equal(bars(page).length, 0);
    assert.doesNotMatch(page, /<svg/);
    assert.match(page, /No row has a best-match score/);
    assert.match(page, /No pairs at or above the threshold/);
    assert.match(page, /No pairs below the threshold/);
    assert.doesNotMatch(page, /NaN|Infinity|undefined/);
  });

  test('sweep table: sorted, the threshold used marked; absent without --sweep', () => {
    const page = renderDedupeReport(data({sweep: [{threshold: 0.9, dropped: 400}, {threshold: 0.8, dropped: 1500}, {threshold: 0.85, dropped: 900}]}));
    const rows = [...page.matchAll(/<tr( class="current")?><td class="num">([^<]*)<\/td><td class="num">([\d,]+)<\/td>/g)].map((m) => [m[2], m[3], Boolean(m[1])]);
    assert.deepEqual(rows, [
      ['0.8', '1,500', false],
      ['0.85 (used)', '900', true],
      ['0.9', '400', false],
    ]);
    assert.doesNotMatch(renderDedupeReport(data()), /Other thresholds/);
  });

  test('pairs tables: one row per pair, score and distance to the threshold, above and below side by side', () => {
    const above = [0.92, 0.9, 0.87].map((score, i) => ({keptId: i, keptText: `kept ${i}`, otherId: 100 + i, otherText: `dropped ${i}`, score}));
    const page = renderDedupeReport(data({above}));
    const section = (cls: string) => page.slice(page.indexOf(`<section class="pairs ${cls}">`), page.indexOf('</section>', page.indexOf(`<section class="pairs ${cls}">`)));
    const scoresIn = (s: string) => [...s.matchAll(/<td class="num score">([\d.]+)<span class="delta">([+\u2212][\d.]+)<\/span>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(scoresIn(section('above')), [
      ['0.9200', '+0.0700'],
      ['0.9000', '+0.0500'],
      ['0.8700', '+0.0200'],
    ]);
    assert.deepEqual(scoresIn(section('below')), [['0.8412', '\u22120.0088']]);
    assert.ok(section('above').includes('<span class="id">100</span><span class="text">dropped 0</span>'));
    assert.ok(page.indexOf('class="pairs above"') < page.indexOf('class="pairs below"'));
  });

  test('a million scores: bars still sum to the finite count, in well under a few seconds', () => {
    const big = scores(1_000_000, 11);
    const start = performance.now();
    const page = renderDedupeReport(data({bestScores: big, rows: 1_000_000}));
    const ms = performance.now() - start;
    // Generous bound for a shared machine; it catches quadratic work, not small regressions.
    assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
    assert.equal(bars(page).reduce((s, b) => s + b.count, 0), 1_000_000 - 2);
  });

  test('deterministic: same data, same page', () => {
    assert.equal(renderDedupeReport(data()), renderDedupeReport(data()));
  });
});
