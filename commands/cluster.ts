import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {delimiterFlag, numberFlag} from '../src/cli/flags.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {STDIN, TEXT_FORMATS} from '../src/io/formats.js';
import {ROW_FORMATS} from '../src/io/rows/types.js';
import {CLUSTER_ALGORITHMS, clusterSummary, runCluster, type ClusterResult} from '../src/pipelines/cluster.js';

export default class Cluster extends SbertkitCommand<ClusterResult> {
  static override summary = 'Group similar texts: community detection (fast clustering) or spherical k-means.';
  static override description = `community (default): the semantics of sentence-transformers' community_detection. A row with at
least --min-size rows (itself included) at cosine >= --threshold is a candidate centre; candidates are
taken by that count, largest first, each keeping its rows not already taken if at least --min-size are
left. Work is bounded (at most ~2.5 rows x rows products, blocked) whatever the threshold.
kmeans: spherical k-means (cosine) with k-means++ initialization from --seed and Lloyd iterations until
no row changes cluster or --max-iter; the same seed and input give the same clusters on any thread count.
Every input row is written with its cluster (-1 for none; ids from 0, largest cluster first) and its
cosine to the centre (the centre row, or the centroid). INPUT is texts to encode or a vector file
written by encode (.parquet, .arrow, .arrows, or --vectors).`;

  static override examples = [
    {description: 'Communities of near-duplicate questions', command: '<%= config.bin %> <%= command.id %> questions.csv --text-column question --threshold 0.8 --min-size 5 -o clusters.csv --summary summary.csv'},
    {description: 'k-means over vectors encoded once', command: '<%= config.bin %> <%= command.id %> corpus.parquet --algorithm kmeans --k 50 -o clusters.parquet'},
  ];

  static override args = {
    input: Args.string({description: 'Texts (csv, tsv, jsonl, txt) or a vector file (.parquet, .arrow, .arrows), or - for stdin.', default: STDIN, ignoreStdin: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'Output file (.csv, .tsv, .jsonl, .parquet, .arrow) or - for stdout (JSONL).', default: STDIN}),
    format: Flags.option({description: 'Output format when the extension does not tell.', options: ROW_FORMATS})(),
    algorithm: Flags.option({description: 'community (threshold + min size) or kmeans (--k clusters).', options: CLUSTER_ALGORITHMS, default: 'community' as const})(),
    threshold: numberFlag({description: 'community: minimum cosine to the centre.', default: 0.75}),
    'min-size': Flags.integer({description: 'community: minimum members of a community.', default: 10, min: 1}),
    k: Flags.integer({description: 'kmeans: number of clusters (required for kmeans).', min: 1}),
    seed: Flags.integer({description: 'kmeans: seed of the k-means++ initialization.', default: 42}),
    'max-iter': Flags.integer({description: 'kmeans: maximum Lloyd iterations.', default: 100, min: 1}),
    summary: Flags.string({description: 'Also write one row per cluster (cluster, size, centre_id, text_1..3) to this file.'}),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) holding the text, or the kept text column of a vector file.', default: 'text'}),
    'id-column': Flags.string({description: 'Column to use as id (default: 0-based row number; a vector file\'s id column).'}),
    'input-format': Flags.option({description: 'Text input format when the extension does not tell (stdin defaults to txt).', options: TEXT_FORMATS})(),
    delimiter: delimiterFlag,
    vectors: Flags.boolean({description: 'Read INPUT as a vector file whatever its extension (e.g. JSONL vectors from encode).', default: false}),
    ...modelFlags,
  };

  async run(): Promise<ClusterResult> {
    const {args, flags} = await this.parse(Cluster);
    this.dataOnStdout = flags.output === STDIN || flags.summary === STDIN;
    return runCluster(
      {
        input: args.input,
        output: flags.output,
        format: flags.format,
        algorithm: flags.algorithm,
        threshold: flags.threshold,
        minSize: flags['min-size'],
        k: flags.k,
        seed: flags.seed,
        maxIter: flags['max-iter'],
        summary: flags.summary,
        textColumn: flags['text-column'],
        idColumn: flags['id-column'],
        inputFormat: flags['input-format'],
        delimiter: flags.delimiter,
        vectors: flags.vectors,
        model: flags.model,
        threads: flags.threads,
      },
      this.services(flags),
    );
  }

  protected summarize = clusterSummary;
}
