/** dedupe's human output: the one-line summary, and the --sweep table. */
import {STDIN} from '../../io/formats.js';
import {textTable} from '../../io/report/table.js';
import type {DedupeResult, SweepRow} from './types.js';

export function dedupeSummary(r: DedupeResult): string {
  const truncated = r.truncated > 0 ? `, ${r.truncated} texts truncated` : '';
  const recall = r.neighbour_recall === undefined ? '' : `, ${r.backend} search recall ${(100 * r.neighbour_recall.recall).toFixed(1)}% on ${r.neighbour_recall.sampled} rows`;
  const against = r.against_dropped > 0 ? `, ${r.against_dropped} matched a reference` : '';
  if (r.sweep !== undefined) return `dedupe --sweep: ${r.rows} rows, ${r.sweep.length} thresholds counted (${r.exact_dropped} exact duplicates at any threshold)${recall}${truncated} in ${r.seconds.toFixed(1)} s`;
  const stopped = r.stopped_early ? ' (stopped early: the reader of stdout went away)' : '';
  return `dedupe: ${r.rows} rows in, ${r.kept} kept, ${r.exact_dropped} exact and ${r.semantic_dropped} near duplicates dropped (cosine >= ${r.threshold})${against}${recall}${truncated} in ${r.seconds.toFixed(1)} s -> ${r.output === STDIN ? 'stdout' : r.output}${stopped}`;
}


/** The --sweep table: per threshold, the rows each stage would drop. */
export function renderSweep(rows: readonly SweepRow[]): string {
  const columns = [
    {title: 'threshold', align: 'right' as const},
    {title: 'kept', align: 'right' as const},
    {title: 'dropped', align: 'right' as const},
    {title: 'exact', align: 'right' as const},
    {title: 'near', align: 'right' as const},
    {title: 'against', align: 'right' as const},
  ];
  const body = rows.map((r) => [String(r.threshold), String(r.kept), String(r.dropped), String(r.exact), String(r.semantic), String(r.against)]);
  return `${textTable(columns, body).join('\n')}\n`;
}
