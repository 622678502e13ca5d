/**
 * CI gates on an STS report. Thresholds are on the x100 scale users see (80.00, 0.50 points);
 * reports keep raw correlations, so scores are multiplied by 100 here.
 *
 * Decisions:
 * - The gated score is each dataset's cosine Spearman (main_score), not the average: a regression on
 *   one dataset should not hide behind an improvement on another.
 * - Boundaries pass: a score exactly at --min-spearman, or a drop exactly equal to --max-drop, is
 *   fine. Comparisons allow 1e-9 points of slack so float noise (0.57 * 100 = 56.99999999999999)
 *   does not fail a run that is "exactly" at the threshold.
 * - An undefined score (NaN: constant embeddings) always fails: nothing was measured.
 * - Baseline datasets are matched by name (names depend only on their own file: io/sts/dataset-names).
 *   A dataset of this run missing from the baseline is a note, not a failure: adding a dataset must
 *   not break CI. A baseline dataset missing from this run fails: otherwise dropping or renaming a
 *   file would silently stop checking it. If no dataset matches at all, that fails too.
 */
import type {StsReport} from './sts-report.js';

export interface GateFailure {
  gate: 'min-spearman' | 'max-drop';
  /** Dataset name, or undefined for a failure of the whole comparison. */
  dataset?: string;
  /** One line for the user, e.g. "sts-test: cosine Spearman 78.12 < 80.00 (--min-spearman)". */
  message: string;
}

const SLACK = 1e-9;

/** x100 with 2 decimals; more decimals when 2 would make different numbers look equal. */
function points(value: number, other?: number): string {
  const two = value.toFixed(2);
  if (other !== undefined && value !== other && two === other.toFixed(2)) return value.toFixed(4);
  return two;
}

/** Fails every dataset whose cosine Spearman x100 is below `min` (x100 scale, e.g. 80). */
export function checkMinSpearman(report: StsReport, min: number): GateFailure[] {
  const failures: GateFailure[] = [];
  for (const d of report.datasets) {
    const v = d.cosine_spearman * 100;
    if (Number.isNaN(v)) {
      failures.push({gate: 'min-spearman', dataset: d.name, message: `${d.name}: cosine Spearman is undefined (constant similarities) (--min-spearman)`});
    } else if (v < min - SLACK) {
      failures.push({gate: 'min-spearman', dataset: d.name, message: `${d.name}: cosine Spearman ${points(v, min)} < ${points(min, v)} (--min-spearman)`});
    }
  }
  return failures;
}

/**
 * Fails every dataset whose cosine Spearman dropped more than `maxDrop` points (x100 scale) below
 * the same-named dataset of `baseline`. Improvements never fail.
 */
export function checkBaseline(report: StsReport, baseline: StsReport, maxDrop: number): GateFailure[] {
  const base = new Map(baseline.datasets.map((d) => [d.name, d]));
  const failures: GateFailure[] = [];
  let matched = 0;
  for (const d of report.datasets) {
    const b = base.get(d.name);
    if (b === undefined) continue;
    matched++;
    const now = d.cosine_spearman * 100;
    const was = b.cosine_spearman * 100;
    if (Number.isNaN(now)) {
      failures.push({gate: 'max-drop', dataset: d.name, message: `${d.name}: cosine Spearman is undefined (constant similarities) (--max-drop)`});
      continue;
    }
    // A NaN baseline cannot be regressed from; nothing to compare.
    if (Number.isNaN(was)) continue;
    const drop = was - now;
    if (drop > maxDrop + SLACK) {
      failures.push({
        gate: 'max-drop',
        dataset: d.name,
        message: `${d.name}: cosine Spearman dropped ${points(drop, maxDrop)} points (${points(was)} -> ${points(now)}), more than --max-drop ${points(maxDrop, drop)}`,
      });
    }
  }
  const inRun = new Set(report.datasets.map((d) => d.name));
  for (const b of baseline.datasets) {
    if (!inRun.has(b.name)) {
      failures.push({gate: 'max-drop', dataset: b.name, message: `${b.name}: in the baseline but not in this run; nothing was compared (--baseline)`});
    }
  }
  if (matched === 0 && report.datasets.length > 0 && baseline.datasets.length === 0) {
    failures.push({
      gate: 'max-drop',
      message: `no dataset of this run is in the baseline (baseline has ${baseline.datasets.map((d) => d.name).join(', ') || 'none'}); --max-drop would check nothing`,
    });
  }
  return failures;
}

/** Informational lines about datasets of this run that the baseline does not have (the other way round fails the gate). */
export function baselineNotes(report: StsReport, baseline: StsReport): string[] {
  const inBase = new Set(baseline.datasets.map((d) => d.name));
  const notes: string[] = [];
  for (const d of report.datasets) if (!inBase.has(d.name)) notes.push(`${d.name}: not in the baseline; not compared`);
  return notes;
}
