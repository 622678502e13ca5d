/** Hand-made StsReports for gate, baseline and renderer tests (no encoder involved). */
import type {StsDatasetResult, StsReport, StsScores} from '../../src/eval/sts-report.js';

/** Scores where every metric is distinct and known, derived from a cosine Spearman by fixed offsets. */
export function scoresFrom(cosineSpearman: number): StsScores {
  return {
    main_score: cosineSpearman,
    cosine_spearman: cosineSpearman,
    cosine_pearson: cosineSpearman - 0.01,
    dot_spearman: cosineSpearman - 0.02,
    dot_pearson: cosineSpearman - 0.03,
    euclidean_spearman: cosineSpearman - 0.04,
    euclidean_pearson: cosineSpearman - 0.05,
    manhattan_spearman: cosineSpearman - 0.06,
    manhattan_pearson: cosineSpearman - 0.07,
  };
}

export function dataset(name: string, cosineSpearman: number, pairs = 100): StsDatasetResult {
  return {name, file: `data/${name}.tsv`, format: 'tsv', pairs, skipped: 0, ...scoresFrom(cosineSpearman)};
}

export function report(datasets: StsDatasetResult[], average: StsScores = scoresFrom(NaN)): StsReport {
  return {
    sbertkit_version: '0.1.0',
    model: {name: 'my-model', dimension: 384, pooling: 'mean', normalized: true},
    datasets,
    average,
    unique_sentences: 321,
    encode_seconds: 1.234,
  };
}
