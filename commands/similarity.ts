import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {delimiterFlag, inferTypesFlag, numberFlag, searchBackend, searchFlags} from '../src/cli/flags.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {EXIT, SbertkitError} from '../src/errors.js';
import {STDIN, TEXT_FORMATS} from '../src/io/formats.js';
import {ROW_FORMATS} from '../src/io/rows/types.js';
import {METRICS} from '../src/vectors/metric.js';
import {runSimilarity, similaritySummary, type SimilarityResult} from '../src/pipelines/similarity.js';

export default class Similarity extends SbertkitCommand<SimilarityResult> {
  static override summary = 'Score text pairs row by row, or search a corpus for the top-k rows of each query.';
  static override description = `Pairs mode (--column1/--column2): every row of INPUT comes out with a score column, its columns
kept in order; rows stream, so memory stays constant.
Search mode (--corpus with --query or --queries): for each query its --top-k corpus rows, like
sentence-transformers' semantic_search: query_id, rank, corpus_id, score and the texts when known.
Corpus and queries are texts to encode or vector files written by encode (.parquet, .arrow, .arrows,
or --vectors), which are searched without re-encoding. Scores are similarities for every --metric
(euclidean and manhattan are negated distances; manhattan runs a slower scalar path).
A binary corpus (encode --precision binary|ubinary) is searched by Hamming distance against the
queries' signs, scored as the --metric of the +1/-1 vectors; --rescore N rescores each query's N
nearest rows with the float query.`;

  static override examples = [
    {description: 'Score each row of a TSV of pairs', command: '<%= config.bin %> <%= command.id %> pairs.tsv --column1 sentence1 --column2 sentence2 -o scored.tsv'},
    {description: 'Top 5 FAQ answers for one question, from vectors encoded once', command: '<%= config.bin %> <%= command.id %> --corpus faq.parquet --query "how do I reset my password" --top-k 5'},
    {description: 'Many queries from a file, hits above 0.6 as CSV', command: '<%= config.bin %> <%= command.id %> --corpus docs.csv --text-column body --queries questions.txt --threshold 0.6 -o hits.csv'},
  ];

  static override args = {
    input: Args.string({description: 'Pairs mode: the table of text pairs (csv, tsv, jsonl), or - for stdin (TSV).', ignoreStdin: true}),
  };

  static override flags = {
    column1: Flags.string({description: 'Pairs mode: the first text column.', helpGroup: 'PAIRS'}),
    column2: Flags.string({description: 'Pairs mode: the second text column.', helpGroup: 'PAIRS'}),
    corpus: Flags.string({description: 'Search mode: the corpus, texts (csv, tsv, jsonl, txt) or a vector file.', helpGroup: 'SEARCH'}),
    query: Flags.string({description: 'Search mode: a query text (repeatable).', multiple: true, helpGroup: 'SEARCH'}),
    queries: Flags.string({description: 'Search mode: a file of queries, texts or a vector file.', helpGroup: 'SEARCH'}),
    'top-k': Flags.integer({description: 'Search mode: corpus rows per query.', default: 10, min: 1, helpGroup: 'SEARCH'}),
    'text-column': Flags.string({description: 'Search mode: the text column of the corpus and query files (or their kept text column).', default: 'text', helpGroup: 'SEARCH'}),
    'id-column': Flags.string({description: 'Search mode: the id column of the corpus and query files (default: row numbers).', helpGroup: 'SEARCH'}),
    vectors: Flags.boolean({description: 'Search mode: read --corpus and --queries as vector files whatever their extension.', default: false, helpGroup: 'SEARCH'}),
    'no-text': Flags.boolean({description: 'Search mode: leave the query_text/corpus_text columns out.', default: false, helpGroup: 'SEARCH'}),
    rescore: Flags.integer({description: 'Search mode, binary corpus: rescore each query\'s N nearest rows by Hamming distance with the float query (N below --top-k counts as --top-k).', min: 1, helpGroup: 'SEARCH'}),
    output: Flags.string({char: 'o', description: 'Output file (.csv, .tsv, .jsonl, .parquet, .arrow) or - for stdout (JSONL).', default: STDIN}),
    format: Flags.option({description: 'Output format when the extension does not tell.', options: ROW_FORMATS})(),
    metric: Flags.option({description: 'Similarity (higher is closer).', options: METRICS, default: 'cosine' as const})(),
    threshold: numberFlag({description: 'Drop rows (pairs) or hits (search) scoring below this.'}),
    'input-format': Flags.option({description: 'Text input format when the extension does not tell.', options: TEXT_FORMATS})(),
    delimiter: delimiterFlag,
    'infer-types': inferTypesFlag,
    ...searchFlags,
    ...modelFlags,
  };

  async run(): Promise<SimilarityResult> {
    const {args, flags} = await this.parse(Similarity);
    this.dataOnStdout = flags.output === STDIN;
    const common = {output: flags.output, format: flags.format, metric: flags.metric, threshold: flags.threshold};
    if (flags.corpus === undefined) {
      if (flags.column1 === undefined || flags.column2 === undefined) {
        throw new SbertkitError('give --column1 and --column2 (pairs mode), or --corpus with --query/--queries (search mode)', {exitCode: EXIT.BAD_INPUT});
      }
      return runSimilarity({mode: 'pairs', ...common, input: args.input ?? STDIN, column1: flags.column1, column2: flags.column2, inputFormat: flags['input-format'], delimiter: flags.delimiter, inferTypes: flags['infer-types']}, this.services(flags));
    }
    if ((flags.query === undefined) === (flags.queries === undefined)) throw new SbertkitError('search mode needs either --query or --queries (not both)', {exitCode: EXIT.BAD_INPUT});
    const file = (input: string) => ({input, vectors: flags.vectors, textColumn: flags['text-column'], idColumn: flags['id-column'], inputFormat: flags['input-format'], delimiter: flags.delimiter});
    return runSimilarity(
      {mode: 'search', ...common, corpus: file(flags.corpus), queries: flags.query !== undefined ? {texts: flags.query} : file(flags.queries!), topK: flags['top-k'], model: flags.model, noText: flags['no-text'], backend: searchBackend(flags), index: flags.index, saveIndex: flags['save-index'], rescore: flags.rescore},
      this.services(flags),
    );
  }

  protected summarize = similaritySummary;
}
