import {Args, Errors, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {delimiterFlag, numberFlag, searchBackend, textInputFlags} from '../src/cli/flags.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {KEEP_POLICIES} from '../src/algorithms/dedupe/decide.js';
import {STDIN, TEXT_FORMATS} from '../src/io/formats.js';
import {dedupeSummary, renderSweep, runDedupe, type DedupeResult} from '../src/pipelines/dedupe/run.js';

/** "0.8,0.85,0.9": thresholds for --sweep. */
const thresholdList = Flags.custom<number[]>({
  async parse(value: string) {
    const parts = value.split(',').map((p) => p.trim());
    const numbers = parts.map(Number);
    if (parts.some((p) => p === '') || numbers.some((n) => !Number.isFinite(n))) {
      throw new Errors.CLIError(`expected comma-separated numbers (e.g. 0.8,0.85,0.9) but received: ${value}`, {exit: 2});
    }
    return numbers;
  },
});

export default class Dedupe extends SbertkitCommand<DedupeResult> {
  static override summary = 'Drop exact and near-duplicate rows, keeping the input format, and say which row each dropped row duplicates.';
  static override description = `Stage 1, exact: rows whose texts are equal after Unicode NFC, case folding and collapsing white
space; no model is needed (--exact-only stops here).
Stage 2, near duplicates: rows are visited in --keep order (first = input order, longest or
shortest text first); a row is dropped when its cosine with a row already kept is >= --threshold,
and that kept row is its kept_id. This never chains: every dropped row has a kept match at or above
the threshold. Texts equal to a dropped row's go with it.
--against drops the rows that match any row of the reference files (test-vs-train contamination).
The kept rows are written in input order in the input's own format: CSV/TSV/JSONL/txt rows are
copied byte for byte from the source, header included; a vector file keeps its columns and metadata.
Above ~141k rows the comparison is bucketed (k-means into ~sqrt(n) buckets, each row compared with
its --probes nearest buckets) and its recall against exact search is measured on a sample; --exact
forces all pairs, --ann uses an HNSW index.`;

  static override examples = [
    {description: 'Near-duplicate questions out of a CSV, with the map of what went where', command: '<%= config.bin %> <%= command.id %> questions.csv --text-column question -o unique.csv --duplicates dupes.csv'},
    {description: 'See how many rows each threshold would drop, then look at the page', command: '<%= config.bin %> <%= command.id %> corpus.parquet --sweep 0.8,0.85,0.9,0.95 --report dedupe.html'},
    {description: 'Drop test rows that leak from the training set', command: '<%= config.bin %> <%= command.id %> test.jsonl --against train.parquet -o test.clean.jsonl'},
    {description: 'Exact duplicates only, no model, in a pipeline', command: 'cat lines.txt | <%= config.bin %> <%= command.id %> --exact-only > unique.txt'},
  ];

  static override args = {
    input: Args.string({description: 'Texts (csv, tsv, jsonl, txt; .gz too) or a vector file (.parquet, .arrow, .arrows), or - for stdin (txt).', default: STDIN, ignoreStdin: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'The kept rows, in the input\'s format, or - for stdout.', default: STDIN}),
    threshold: numberFlag({description: 'Cosine at or above which a row is a near duplicate of a kept row.', default: 0.9}),
    keep: Flags.option({description: 'Which row of a group stays: the first in input order, or the longest or shortest text.', options: KEEP_POLICIES, default: 'first' as const})(),
    duplicates: Flags.string({description: 'Write removed_id, kept_id, score, reason (exact|semantic|against) for every dropped row (.csv, .tsv, .jsonl, .parquet, .arrow).'}),
    against: Flags.string({description: 'Reference file (texts or vectors); input rows matching any of its rows are dropped. Repeatable.', multiple: true}),
    'exact-only': Flags.boolean({description: 'Only exact duplicates (normalized text); loads no model.', default: false}),
    sweep: thresholdList({description: 'Count the rows each threshold would drop (one search at the lowest) and write no rows: a table, or JSON with --json.'}),
    report: Flags.string({description: 'Write a self-contained HTML page: best-match histogram with the threshold, counts per stage, pairs either side of the threshold.'}),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) holding the text, or a vector file\'s text column.', default: 'text'}),
    'id-column': Flags.string({description: 'Column to use as id (default: 0-based row number; a vector file\'s id column).'}),
    'input-format': Flags.option({description: 'Text input format when the extension does not tell (stdin defaults to txt).', options: TEXT_FORMATS})(),
    delimiter: delimiterFlag,
    vectors: Flags.boolean({description: 'Read INPUT and the --against files as vector files whatever their extension (e.g. JSONL vectors from encode).', default: false}),
    exact: Flags.boolean({description: 'Compare all pairs exactly, however large the input.', exclusive: ['ann'], helpGroup: 'SEARCH BACKEND'}),
    ann: Flags.boolean({description: 'Approximate neighbours from an HNSW index (usearch).', exclusive: ['exact'], helpGroup: 'SEARCH BACKEND'}),
    buckets: Flags.integer({description: 'Bucketed search: number of k-means buckets (default: about sqrt(rows)).', min: 1, helpGroup: 'SEARCH BACKEND'}),
    probes: Flags.integer({description: 'Bucketed search: nearest buckets compared per row.', default: 3, min: 1, helpGroup: 'SEARCH BACKEND'}),
    ...textInputFlags,
    ...modelFlags,
  };

  async run(): Promise<DedupeResult> {
    const {args, flags} = await this.parse(Dedupe);
    const sweeping = flags.sweep !== undefined;
    // Under --sweep no rows are written: stdout carries the table (unless --json) or a report sent there.
    this.dataOnStdout = sweeping ? !this.jsonEnabled() || flags.report === STDIN : flags.output === STDIN || flags.duplicates === STDIN || flags.report === STDIN;
    const backend = flags.exact || flags.ann ? searchBackend(flags) : flags.buckets !== undefined ? 'bucketed' : 'auto';
    return runDedupe(
      {
        input: args.input,
        output: flags.output,
        threshold: flags.threshold,
        keep: flags.keep,
        duplicates: flags.duplicates,
        against: flags.against,
        exactOnly: flags['exact-only'],
        sweep: flags.sweep,
        report: flags.report,
        textColumn: flags['text-column'],
        idColumn: flags['id-column'],
        inputFormat: flags['input-format'],
        delimiter: flags.delimiter,
        vectors: flags.vectors,
        onInvalidUtf8: flags['on-invalid-utf8'],
        model: flags.model,
        backend: backend as 'auto' | 'exact' | 'ann' | 'bucketed',
        buckets: flags.buckets,
        probes: flags.probes,
        threads: flags.threads,
      },
      this.services(flags),
    );
  }

  protected summarize = dedupeSummary;

  protected override render(result: DedupeResult): string | undefined {
    return result.sweep === undefined ? undefined : renderSweep(result.sweep);
  }
}
