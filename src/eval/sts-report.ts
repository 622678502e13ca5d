/**
 * The STS evaluation report: its types, the mapping from sentence-transformers metric names, and
 * validation of a report read back from JSON (for --baseline).
 *
 * Keys follow MTEB's STS result entries (`cosine_spearman`, `main_score`, ...) so a report can be
 * compared with an MTEB result side by side. sentence-transformers' EmbeddingSimilarityEvaluator
 * names the same numbers the other way round (`spearman_cosine`); SCORE_KEYS below is the mapping.
 * Scores are raw correlations in [-1, 1] (as in MTEB); human renderings show them x100.
 * An undefined correlation (see sts-metrics) is NaN in memory and `null` in JSON.
 */
import {SbertkitError, EXIT} from '../errors.js';
import type {StsMetrics} from '../algorithms/sts-metrics.js';
import type {StsFormat} from '../io/sts/read-sts.js';

/** Report (MTEB-style) key -> sentence-transformers key. */
export const SCORE_KEYS = {
  cosine_spearman: 'spearman_cosine',
  cosine_pearson: 'pearson_cosine',
  dot_spearman: 'spearman_dot',
  dot_pearson: 'pearson_dot',
  euclidean_spearman: 'spearman_euclidean',
  euclidean_pearson: 'pearson_euclidean',
  manhattan_spearman: 'spearman_manhattan',
  manhattan_pearson: 'pearson_manhattan',
} as const satisfies Record<string, keyof StsMetrics>;

export type ScoreKey = keyof typeof SCORE_KEYS;

/** main_score is cosine Spearman, as in MTEB's STS tasks and sentence-transformers' primary metric. */
export type StsScores = {main_score: number} & Record<ScoreKey, number>;

export const SCORE_FIELDS: readonly (keyof StsScores)[] = ['main_score', ...(Object.keys(SCORE_KEYS) as ScoreKey[])];

export interface StsDatasetResult extends StsScores {
  name: string;
  file: string;
  format: StsFormat;
  pairs: number;
  skipped: number;
}

export interface StsReportModel {
  name: string;
  revision?: string;
  /** sha256 of the ONNX graph that ran: tells a quantized copy or a re-export apart when names match. */
  onnx_sha256?: string;
  dimension: number;
  pooling: string;
  normalized: boolean;
}

export interface StsReport {
  sbertkit_version: string;
  model: StsReportModel;
  /**
   * ISO time of the run. Optional and absent by default: the report is meant to be committed and
   * diffed by CI, and a timestamp would make every run differ. encode_seconds is optional for the same reason.
   */
  created_at?: string;
  datasets: StsDatasetResult[];
  /** Unweighted mean over datasets of each score (like MTEB averages tasks); NaN if any dataset's is. */
  average: StsScores;
  /** Distinct sentences embedded across all datasets (each encoded once). */
  unique_sentences: number;
  /** Only with includeTiming: wall time of the encoding, which differs on every run. */
  encode_seconds?: number;
}

/** Maps sentence-transformers names to report names; main_score = cosine Spearman. */
export function toReportScores(m: StsMetrics): StsScores {
  const out = {main_score: m.spearman_cosine} as StsScores;
  for (const [key, stKey] of Object.entries(SCORE_KEYS) as [ScoreKey, keyof StsMetrics][]) out[key] = m[stKey];
  return out;
}

/** Unweighted mean of each score over the given results. */
export function averageScores(results: readonly StsScores[]): StsScores {
  const out = {} as StsScores;
  for (const key of SCORE_FIELDS) {
    out[key] = results.length === 0 ? NaN : results.reduce((s, r) => s + r[key], 0) / results.length;
  }
  return out;
}

// ---- validation of a report read from JSON ----

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class ShapeError extends Error {}

function need<T>(ok: boolean, value: unknown, path: string, expected: string): T {
  if (!ok) throw new ShapeError(`${path}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 40)}`);
  return value as T;
}

const str = (o: Json, k: string, path: string) => need<string>(typeof o[k] === 'string', o[k], `${path}.${k}`, 'a string');
const num = (o: Json, k: string, path: string) => need<number>(typeof o[k] === 'number', o[k], `${path}.${k}`, 'a number');
/** A score: a number, or null for an undefined correlation (JSON has no NaN). */
const score = (o: Json, k: string, path: string): number =>
  o[k] === null ? NaN : need<number>(typeof o[k] === 'number' && Math.abs(o[k] as number) <= 1 + 1e-9, o[k], `${path}.${k}`, 'a correlation in [-1, 1] or null');

function scores(o: Json, path: string): StsScores {
  const out = {} as StsScores;
  for (const key of SCORE_FIELDS) out[key] = score(o, key, path);
  return out;
}

/**
 * Checks that a parsed JSON value is an StsReport (as written by renderStsReport(..., 'json')) and
 * returns it with nulls turned back into NaN. Extra keys are ignored so newer reports stay readable.
 * Throws SbertkitError naming the first wrong field.
 */
export function parseStsReport(value: unknown, file?: string): StsReport {
  try {
    const o = need<Json>(isObject(value), value, 'report', 'a JSON object');
    const m = need<Json>(isObject(o.model), o.model, 'model', 'an object');
    const model: StsReportModel = {
      name: str(m, 'name', 'model'),
      dimension: num(m, 'dimension', 'model'),
      pooling: str(m, 'pooling', 'model'),
      normalized: need<boolean>(typeof m.normalized === 'boolean', m.normalized, 'model.normalized', 'a boolean'),
    };
    if (m.revision !== undefined) model.revision = str(m, 'revision', 'model');
    if (m.onnx_sha256 !== undefined) model.onnx_sha256 = str(m, 'onnx_sha256', 'model');
    const ds = need<unknown[]>(Array.isArray(o.datasets), o.datasets, 'datasets', 'an array');
    const datasets = ds.map((d, i): StsDatasetResult => {
      const path = `datasets[${i}]`;
      const r = need<Json>(isObject(d), d, path, 'an object');
      return {
        name: str(r, 'name', path),
        file: str(r, 'file', path),
        format: str(r, 'format', path) as StsFormat,
        pairs: num(r, 'pairs', path),
        skipped: num(r, 'skipped', path),
        ...scores(r, path),
      };
    });
    const report: StsReport = {
      sbertkit_version: str(o, 'sbertkit_version', 'report'),
      model,
      datasets,
      average: scores(need<Json>(isObject(o.average), o.average, 'average', 'an object'), 'average'),
      unique_sentences: num(o, 'unique_sentences', 'report'),
      ...(o.encode_seconds === undefined ? {} : {encode_seconds: num(o, 'encode_seconds', 'report')}),
    };
    if (o.created_at !== undefined) report.created_at = str(o, 'created_at', 'report');
    return report;
  } catch (error) {
    if (error instanceof ShapeError) {
      throw new SbertkitError(`not an sbertkit STS report: ${error.message}`, {file, exitCode: EXIT.BAD_INPUT});
    }
    throw error;
  }
}
