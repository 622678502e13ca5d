/**
 * The `dedupe --report FILE.html` page: one self-contained HTML file for tuning the near-duplicate
 * threshold by eye. Pure string builder; the pipeline writes the string through the atomic output.
 *
 * Self-contained means it works opened from disk, offline, in a mail attachment or a CI artifact
 * viewer: CSS and SVG are inline, there is no script, and nothing is fetched (no URL, web font,
 * image or stylesheet). The only "http" in the page is the SVG namespace, which is a name, not a
 * request.
 *
 * Every text from the data (file name, model, ids, row texts) goes through escapeHtml: row texts
 * are user data and routinely contain markup, and a report that runs it would be worse than none.
 */

export interface DedupeReportPair {
  keptId: string | number;
  /** undefined when the input had no text column (vectors only); shown as a dim "(no text)". */
  keptText: string | undefined;
  otherId: string | number;
  otherText: string | undefined;
  /** Cosine between the two rows. */
  score: number;
}

export interface DedupeReportData {
  /** Input file name as given on the command line. */
  input: string;
  /** Model name, undefined when the input was vectors with no recorded model. */
  model: string | undefined;
  /** The cosine threshold used, in [-1, 1] (the pipeline validates it): rows whose best match scores >= threshold are near-duplicates. */
  threshold: number;
  /** Rows in. */
  rows: number;
  kept: number;
  exactDropped: number;
  /** Rows dropped as near-duplicates of a reference file (--against); 0 when none. */
  againstDropped: number;
  semanticDropped: number;
  /**
   * Each row's best-match cosine to any other row (NaN when it has none, e.g. an exact duplicate or
   * a lone row). Usually a Float32Array; any array of numbers will do.
   */
  bestScores: ArrayLike<number>;
  /** Pairs just above the threshold (other = the row dropped as kept's near-duplicate), best first; shown in this order. */
  above: DedupeReportPair[];
  /** Pairs just below the threshold, nearest the threshold first; shown in this order. */
  below: DedupeReportPair[];
  /** Optional: rows that would be dropped at other thresholds (from --sweep). */
  sweep?: {threshold: number; dropped: number}[];
  /** ISO time, passed in so the output is deterministic. */
  generated: string;
}

export interface ScoreHistogram {
  binWidth: number;
  /**
   * Bin i holds the scores s with edges[i] <= s < edges[i + 1]; the last bin also holds 1 (and float
   * noise above it). counts.length + 1 edges, or none when there are no bins.
   */
  edges: number[];
  counts: number[];
  /** Finite scores, all of them in some bin. */
  scored: number;
  /** NaN and ±Infinity: rows with no best match. */
  unscored: number;
}

/** Bin width of the page's histogram: fine enough to see where a 0.01-ish threshold change lands. */
export const DEFAULT_BIN_WIDTH = 0.02;

/** Longer texts are cut for display: the page is for looking at pairs, not for reading documents. */
export const MAX_TEXT_CHARS = 300;

/**
 * Histogram of finite cosine scores in bins of `binWidth`, from the lowest score (floored to a bin
 * edge) up to 1.0. One pass, no sort: a million scores take milliseconds.
 *
 * Edges are k / binsPerUnit rather than k * binWidth so that they are the doubles nearest to the
 * decimals printed on the page (29 * 0.02 is 0.5800000000000001, 29 / 50 is 0.58), and each score's
 * bin is corrected against those edges, so "from <= s < to" holds exactly for every bin.
 * Cosines below -1 or above 1 (float rounding) land in the end bins.
 *
 * @param include a value the span must reach down to besides the scores (the threshold, so that its
 *   line is always on the chart); ignored when not finite.
 */
export function histogram(scores: ArrayLike<number>, binWidth = DEFAULT_BIN_WIDTH, include?: number): ScoreHistogram {
  const perUnit = Math.round(1 / binWidth);
  if (!(binWidth > 0 && binWidth <= 1) || Math.abs(perUnit * binWidth - 1) > 1e-9) {
    throw new RangeError(`histogram bin width must divide 1 (e.g. 0.01, 0.02, 0.05), got ${binWidth}`);
  }
  // Counted over the whole cosine range [-1, 1], then trimmed to the lowest occupied bin: that
  // needs no first pass for the minimum.
  const all = new Float64Array(2 * perUnit);
  let scored = 0;
  let unscored = 0;
  let lowest = 2 * perUnit;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) {
      unscored++;
      continue;
    }
    let k = Math.floor(s * perUnit);
    if (k / perUnit > s) k--;
    else if ((k + 1) / perUnit <= s) k++;
    const bin = Math.min(2 * perUnit - 1, Math.max(0, k + perUnit));
    all[bin]!++;
    if (bin < lowest) lowest = bin;
    scored++;
  }
  if (include !== undefined && Number.isFinite(include)) {
    lowest = Math.min(lowest, Math.min(2 * perUnit - 1, Math.max(0, Math.floor(include * perUnit) + perUnit)));
  }
  if (lowest === 2 * perUnit) return {binWidth, edges: [], counts: [], scored, unscored};
  const counts = Array.from(all.subarray(lowest));
  const edges = Array.from({length: counts.length + 1}, (_, i) => (lowest + i - perUnit) / perUnit);
  return {binWidth, edges, counts, scored, unscored};
}

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};

/** Safe in text and in quoted attribute values alike, so no call site has to know which it is in. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * A row text for display: C0 controls shown as their visible pictures (a NUL or an escape code is
 * otherwise invisible, and two texts differing only there would look identical), cut at
 * MAX_TEXT_CHARS code points with an ellipsis, then escaped.
 */
function displayText(text: string | undefined): string {
  if (text === undefined) return '<span class="none">(no text)</span>';
  const visible = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => (c === '\u007f' ? '\u2421' : String.fromCharCode(0x2400 + c.charCodeAt(0))));
  // By code point, so an emoji is not cut in half into a lone surrogate. (Fewer UTF-16 units than
  // the limit means fewer code points too: the common short text skips the split.)
  const chars = visible.length > MAX_TEXT_CHARS ? Array.from(visible) : [];
  const shown = chars.length > MAX_TEXT_CHARS ? `${chars.slice(0, MAX_TEXT_CHARS).join('')}\u2026` : visible;
  return shown === '' ? '<span class="none">(empty)</span>' : escapeHtml(shown);
}

/** 1234567 -> "1,234,567"; by hand, so the page does not depend on the ICU build. */
function grouped(n: number): string {
  return Number.isFinite(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : String(n);
}

const rowsWord = (n: number) => `${grouped(n)} ${n === 1 ? 'row' : 'rows'}`;

/** A share of the rows in, or "" when there are none (no 0/0). */
function share(n: number, of: number): string {
  return of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '';
}

/** A threshold as typed (0.85, not 0.8500000238 after a float32 round trip). */
function thresholdText(t: number): string {
  return String(Number(t.toFixed(6)));
}

/** Decimals needed to print multiples of `step` exactly (0.02 -> 2, 0.025 -> 3). */
function decimalsOf(step: number): number {
  for (let d = 0; d < 6; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 6;
}

/** SVG coordinate: two decimals are sub-pixel, and shorter numbers keep a 100-bar chart small. */
const px = (v: number) => String(Math.round(v * 100) / 100);

// Chart geometry in SVG user units; the SVG scales to the page width through its viewBox.
const W = 860;
const H = 300;
const M = {left: 64, right: 20, top: 30, bottom: 48};
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

/** Round tick step for 0..max with at most about five ticks (1, 2, 5 x 10^k). */
function niceStep(max: number): number {
  const raw = max / 5;
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw)!;
}

interface YScale {
  log: boolean;
  /** Bar height in user units for a count. */
  height: (count: number) => number;
  ticks: number[];
}

/**
 * Linear counts, unless the tallest bin is more than 50 times the smallest occupied one. Then a
 * linear axis flattens the sparse tail around a typical threshold (0.8-0.95) to a pixel or two,
 * which is exactly the part the page is for, so counts go on a log scale (log10(1 + count), so 0
 * stays 0) with ticks at powers of ten.
 */
function yScale(counts: readonly number[]): YScale {
  let max = 1;
  let minOccupied = Infinity;
  for (const c of counts) {
    if (c > max) max = c;
    if (c > 0 && c < minOccupied) minOccupied = c;
  }
  if (max / minOccupied > 50) {
    const top = 10 ** Math.ceil(Math.log10(max));
    // No 0 tick: on a tall log axis it would sit on top of the 1; the axis line is the 0.
    const ticks: number[] = [];
    for (let p = 1; p <= top; p *= 10) ticks.push(p);
    return {log: true, height: (c) => (Math.log10(1 + c) / Math.log10(1 + top)) * PLOT_H, ticks};
  }
  const step = Math.max(1, niceStep(max));
  const top = Math.ceil(max / step) * step;
  return {log: false, height: (c) => (c / top) * PLOT_H, ticks: Array.from({length: top / step + 1}, (_, i) => i * step)};
}

function histogramSvg(h: ScoreHistogram, threshold: number, decimals: number): string {
  const from = h.edges[0]!;
  const to = h.edges[h.edges.length - 1]!;
  const x = (v: number) => M.left + ((v - from) / (to - from)) * PLOT_W;
  const y = yScale(h.counts);
  const barW = PLOT_W / h.counts.length;
  const t = Math.min(to, Math.max(from, threshold));
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="hist-title">`,
    `<title id="hist-title">Best-match cosine per row, ${h.counts.length} bins ${thresholdText(h.binWidth)} wide, threshold ${thresholdText(threshold)}</title>`,
  );
  // The bin that the threshold cuts is filled keep-colour left of the line and drop-colour right of it.
  const splitAt = h.counts.findIndex((_, i) => h.edges[i]! < threshold && threshold < h.edges[i + 1]!);
  if (splitAt >= 0) {
    const f = px((threshold - h.edges[splitAt]!) / h.binWidth);
    out.push(`<defs><linearGradient id="split" x1="0" x2="1" y1="0" y2="0"><stop offset="${f}" class="keep-stop"/><stop offset="${f}" class="drop-stop"/></linearGradient></defs>`);
  }

  // Y grid and tick labels first, so the bars are drawn over the grid lines.
  for (const c of y.ticks) {
    const at = M.top + PLOT_H - y.height(c);
    out.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${px(at)}" y2="${px(at)}"/>`);
    out.push(`<text class="tick" x="${M.left - 6}" y="${px(at + 4)}" text-anchor="end">${grouped(c)}</text>`);
  }

  h.counts.forEach((count, i) => {
    const lo = h.edges[i]!;
    const hi = h.edges[i + 1]!;
    const kind = lo >= threshold ? 'drop' : hi <= threshold ? 'keep' : 'split';
    // Even on the log scale a bin of 1 next to a million is thin: at least 1 px, so no occupied bin is invisible.
    const barH = count === 0 ? 0 : Math.max(1, y.height(count));
    const label = `${lo.toFixed(decimals)}\u2013${hi.toFixed(decimals)}: ${rowsWord(count)}`;
    out.push(
      `<rect class="bar ${kind}" x="${px(M.left + i * barW)}" y="${px(M.top + PLOT_H - barH)}" width="${px(barW)}" height="${px(barH)}" ` +
        `data-from="${lo}" data-to="${hi}" data-count="${count}"${kind === 'split' ? ' fill="url(#split)"' : ''}><title>${label}</title></rect>`,
    );
  });

  // X axis with ticks on round values (0.1 apart, wider when the span is wide).
  out.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H}"/>`);
  out.push(`<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PLOT_H}"/>`);
  const tickStep = [0.05, 0.1, 0.2, 0.25, 0.5].find((s) => (to - from) / s <= 10)!;
  const tickDecimals = decimalsOf(tickStep);
  for (let k = Math.ceil(from / tickStep - 1e-9); k * tickStep <= to + 1e-9; k++) {
    const v = k * tickStep;
    out.push(`<line class="axis" x1="${px(x(v))}" x2="${px(x(v))}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H + 5}"/>`);
    out.push(`<text class="tick" x="${px(x(v))}" y="${M.top + PLOT_H + 18}" text-anchor="middle">${v.toFixed(tickDecimals)}</text>`);
  }
  out.push(`<text class="axis-title" x="${M.left + PLOT_W / 2}" y="${H - 8}" text-anchor="middle">best-match cosine</text>`);
  out.push(`<text class="axis-title" transform="translate(14 ${M.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${y.log ? 'rows (log scale)' : 'rows'}</text>`);

  // The threshold line last, over the bars; its label anchored so it stays inside the chart.
  const anchor = x(t) > W - M.right - 60 ? 'end' : x(t) < M.left + 60 ? 'start' : 'middle';
  out.push(`<line class="threshold" x1="${px(x(t))}" x2="${px(x(t))}" y1="${M.top - 6}" y2="${M.top + PLOT_H}"/>`);
  out.push(`<text class="threshold-label" x="${px(x(t))}" y="${M.top - 10}" text-anchor="${anchor}">threshold ${escapeHtml(thresholdText(threshold))}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function countsTable(d: DedupeReportData): string {
  const rows: [string, number][] = [
    ['rows in', d.rows],
    ['exact duplicates dropped', d.exactDropped],
    ['near-duplicates of the reference file dropped (--against)', d.againstDropped],
    ['near-duplicates dropped (semantic)', d.semanticDropped],
    ['kept', d.kept],
  ];
  const body = rows.map(([name, n], i) => `<tr${i === rows.length - 1 ? ' class="total"' : ''}><th scope="row">${name}</th><td class="num">${grouped(n)}</td><td class="num">${i === 0 ? '' : share(n, d.rows)}</td></tr>`);
  return `<table class="counts"><thead><tr><th>stage</th><th class="num">rows</th><th class="num">of rows in</th></tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

function sweepTable(d: DedupeReportData): string {
  if (d.sweep === undefined || d.sweep.length === 0) return '';
  const sorted = [...d.sweep].sort((a, b) => a.threshold - b.threshold);
  const body = sorted.map((s) => {
    // The threshold actually used is marked, so the sweep reads as "here, and around here".
    const current = Math.abs(s.threshold - d.threshold) < 1e-6;
    return `<tr${current ? ' class="current"' : ''}><td class="num">${escapeHtml(thresholdText(s.threshold))}${current ? ' (used)' : ''}</td><td class="num">${grouped(s.dropped)}</td><td class="num">${share(s.dropped, d.rows)}</td></tr>`;
  });
  return [
    '<section><h2>Other thresholds</h2>',
    '<p class="note">Rows that would be dropped as near-duplicates at each threshold (from <code>--sweep</code>).</p>',
    `<table class="sweep"><thead><tr><th class="num">threshold</th><th class="num">dropped</th><th class="num">of rows in</th></tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`,
    '</section>',
  ].join('\n');
}

function pairsTable(title: string, note: string, firstTitle: string, secondTitle: string, pairs: DedupeReportPair[], threshold: number, cls: string): string {
  const cell = (id: string | number, text: string | undefined) => `<td><span class="id">${escapeHtml(String(id))}</span><span class="text">${displayText(text)}</span></td>`;
  const body =
    pairs.length === 0
      ? [`<tr><td colspan="3" class="none">No pairs ${cls === 'above' ? 'at or above' : 'below'} the threshold.</td></tr>`]
      : pairs.map((p) => {
          // The distance to the threshold is what the user weighs when moving it.
          const delta = p.score - threshold;
          return `<tr><td class="num score">${p.score.toFixed(4)}<span class="delta">${delta >= 0 ? '+' : '\u2212'}${Math.abs(delta).toFixed(4)}</span></td>${cell(p.keptId, p.keptText)}${cell(p.otherId, p.otherText)}</tr>`;
        });
  return [
    `<section class="pairs ${cls}"><h2>${title}</h2>`,
    `<p class="note">${note}</p>`,
    `<table><thead><tr><th class="num">score</th><th>${firstTitle}</th><th>${secondTitle}</th></tr></thead><tbody>`,
    ...body,
    '</tbody></table></section>',
  ].join('\n');
}

// Light, readable, print-friendly; system fonts only (a web font would be a network request).
const CSS = `
:root { color-scheme: light; --keep: #8fb0d6; --drop: #d9654f; --ink: #1f2328; --dim: #6a737d; --rule: #d8dee4; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 28px 0 6px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 4px 10px; border-bottom: 1px solid var(--rule); }
thead th { border-bottom: 2px solid var(--rule); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.summary { display: flex; flex-wrap: wrap; gap: 16px 48px; align-items: flex-start; }
.meta th { color: var(--dim); font-weight: normal; padding-left: 0; }
.meta td { overflow-wrap: anywhere; }
.counts tbody th { font-weight: normal; }
.counts tr.total th, .counts tr.total td { font-weight: 600; border-top: 2px solid var(--rule); }
.note { color: var(--dim); margin: 4px 0 8px; }
.none { color: var(--dim); font-style: italic; }
figure { margin: 8px 0 0; }
svg { width: 100%; max-width: 1000px; height: auto; display: block; font-family: inherit; }
svg .bar { stroke: #fff; stroke-width: 0.5; }
svg .bar.keep { fill: var(--keep); }
svg .bar.drop { fill: var(--drop); }
svg .keep-stop { stop-color: var(--keep); }
svg .drop-stop { stop-color: var(--drop); }
svg .bar:hover { opacity: 0.75; }
svg .grid { stroke: #eef1f4; }
svg .axis { stroke: #57606a; }
svg .tick { font-size: 11px; fill: #57606a; }
svg .axis-title { font-size: 12px; fill: var(--ink); }
svg .threshold { stroke: var(--ink); stroke-width: 2; stroke-dasharray: 5 3; }
svg .threshold-label { font-size: 12px; font-weight: 600; fill: var(--ink); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 20px; color: var(--dim); margin: 6px 0 0; padding: 0; list-style: none; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
.swatch.keep { background: var(--keep); }
.swatch.drop { background: var(--drop); }
.swatch.line { width: 16px; height: 0; border-top: 2px dashed var(--ink); vertical-align: 3px; border-radius: 0; }
.sweep tr.current td { font-weight: 600; background: #f6f8fa; }
.pair-tables { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
.pairs { flex: 1 1 560px; min-width: 0; }
.pairs table { width: 100%; table-layout: fixed; }
.pairs th:first-child, .pairs td:first-child { width: 7.5em; }
.pairs .id { display: block; color: var(--dim); font-size: 12px; overflow-wrap: anywhere; }
.pairs .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.pairs .delta { display: block; color: var(--dim); font-size: 12px; }
.pairs.above h2 { border-left: 4px solid var(--drop); padding-left: 8px; }
.pairs.below h2 { border-left: 4px solid var(--keep); padding-left: 8px; }
footer { margin-top: 32px; color: var(--dim); font-size: 12px; }
`;

/** The report page; deterministic (same data, same bytes). */
export function renderDedupeReport(data: DedupeReportData): string {
  const h = histogram(data.bestScores, DEFAULT_BIN_WIDTH, data.threshold);
  const decimals = decimalsOf(h.binWidth);
  const t = thresholdText(data.threshold);
  let atOrAbove = 0;
  for (let i = 0; i < data.bestScores.length; i++) if (data.bestScores[i]! >= data.threshold) atOrAbove++;

  const meta = [
    ['input', escapeHtml(data.input)],
    ['model', data.model === undefined ? '<span class="none">(not recorded)</span>' : escapeHtml(data.model)],
    ['threshold', `cosine &ge; ${escapeHtml(t)}`],
    ['generated', escapeHtml(data.generated)],
  ]
    .map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`)
    .join('\n');

  const unscoredNote =
    h.unscored === 0
      ? 'Every row has a best-match score.'
      : `${rowsWord(h.unscored)} had no score (no other row to compare with, e.g. exact duplicates removed before scoring or a lone row) and ${h.unscored === 1 ? 'is' : 'are'} not plotted.`;

  const chart =
    h.scored === 0
      ? `<p class="none">No row has a best-match score, so there is nothing to plot.</p>`
      : [
          `<figure>`,
          histogramSvg(h, data.threshold, decimals),
          `<ul class="legend">`,
          `<li><span class="swatch keep"></span>below the threshold: kept</li>`,
          // Both rows of a near-duplicate pair have the same best score; one per group survives.
          `<li><span class="swatch drop"></span>at or above: near-duplicates, all but one of each group dropped (${rowsWord(atOrAbove)})</li>`,
          `<li><span class="swatch line"></span>threshold ${escapeHtml(t)}</li>`,
          `</ul>`,
          `</figure>`,
        ].join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sbertkit dedupe report: ${escapeHtml(data.input)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Near-duplicate report</h1>
<div class="summary">
<table class="meta"><tbody>
${meta}
</tbody></table>
${countsTable(data)}
</div>
</header>
<section>
<h2>Best-match score per row</h2>
<p class="note">Each row's cosine to its closest other row, ${rowsWord(h.scored)} plotted in bins ${thresholdText(h.binWidth)} wide; hover a bar for its count. ${unscoredNote}</p>
${chart}
</section>
${sweepTable(data)}
<div class="pair-tables">
${pairsTable('Just above the threshold', 'Treated as duplicates: the second row was dropped as a near-duplicate of the first.', 'kept', 'dropped', data.above, data.threshold, 'above')}
${pairsTable('Just below the threshold', 'Not treated as duplicates of each other at this threshold.', 'row', 'its best match', data.below, data.threshold, 'below')}
</div>
<footer>sbertkit dedupe &middot; ${escapeHtml(data.generated)}</footer>
</body>
</html>
`;
}
