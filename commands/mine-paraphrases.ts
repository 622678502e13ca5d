import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {delimiterFlag, numberFlag, searchBackend, searchFlags} from '../src/cli/flags.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {STDIN, TEXT_FORMATS} from '../src/io/formats.js';
import {ROW_FORMATS} from '../src/io/rows/types.js';
import {METRICS} from '../src/vectors/metric.js';
import {mineSummary, runMineParaphrases, type MineResult} from '../src/pipelines/mine-paraphrases.js';

export default class MineParaphrases extends SbertkitCommand<MineResult> {
  static override summary = 'Find the most similar pairs of texts in one input (paraphrase mining), best first.';
  static override description = `Semantics of sentence-transformers' paraphrase_mining: each row's --top-k nearest rows, unordered
pairs without duplicates, best score first, exactly --max-pairs of them when that many exist (0 = all).
INPUT is texts to encode (csv, tsv, jsonl, txt) or a vector file written by encode (.parquet, .arrow,
.arrows, or --vectors), which is searched without re-encoding. The search is exact and blocked: memory
stays bounded by the blocks and top-k x rows, never rows squared. A binary vector file (encode
--precision binary|ubinary) is compared by Hamming distance, scored as the --metric of the +1/-1 vectors.`;

  static override examples = [
    {description: 'Top pairs of a CSV column', command: '<%= config.bin %> <%= command.id %> questions.csv --text-column question -o pairs.csv'},
    {description: 'From vectors encoded once, all pairs above 0.9', command: '<%= config.bin %> <%= command.id %> questions.parquet --threshold 0.9 --max-pairs 0 -o dupes.jsonl'},
    {description: 'Pipe text lines in, best 10 pairs out', command: 'cat lines.txt | <%= config.bin %> <%= command.id %> --max-pairs 10'},
  ];

  static override args = {
    input: Args.string({description: 'Texts (csv, tsv, jsonl, txt) or a vector file (.parquet, .arrow, .arrows), or - for stdin.', default: STDIN, ignoreStdin: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'Output file (.csv, .tsv, .jsonl, .parquet, .arrow) or - for stdout (JSONL).', default: STDIN}),
    format: Flags.option({description: 'Output format when the extension does not tell.', options: ROW_FORMATS})(),
    'top-k': Flags.integer({description: 'Nearest rows looked at per row.', default: 100, min: 1}),
    'max-pairs': Flags.integer({description: 'Pairs kept, best first (0 = all).', default: 500_000, min: 0}),
    threshold: numberFlag({description: 'Keep only pairs scoring at least this.'}),
    metric: Flags.option({description: 'Similarity (higher is closer; euclidean and manhattan are negated distances; manhattan is a slow scalar path).', options: METRICS, default: 'cosine' as const})(),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) holding the text, or the kept text column of a vector file.', default: 'text'}),
    'id-column': Flags.string({description: 'Column to use as id (default: 0-based row number; a vector file\'s id column).'}),
    'input-format': Flags.option({description: 'Text input format when the extension does not tell (stdin defaults to txt).', options: TEXT_FORMATS})(),
    delimiter: delimiterFlag,
    vectors: Flags.boolean({description: 'Read INPUT as a vector file whatever its extension (e.g. JSONL vectors from encode).', default: false}),
    'no-text': Flags.boolean({description: 'Leave the text1/text2 columns out.', default: false}),
    ...searchFlags,
    ...modelFlags,
  };

  async run(): Promise<MineResult> {
    const {args, flags} = await this.parse(MineParaphrases);
    this.dataOnStdout = flags.output === STDIN;
    return runMineParaphrases(
      {
        input: args.input,
        output: flags.output,
        format: flags.format,
        topK: flags['top-k'],
        maxPairs: flags['max-pairs'],
        threshold: flags.threshold,
        metric: flags.metric,
        textColumn: flags['text-column'],
        idColumn: flags['id-column'],
        inputFormat: flags['input-format'],
        delimiter: flags.delimiter,
        vectors: flags.vectors,
        noText: flags['no-text'],
        model: flags.model,
        backend: searchBackend(flags),
        index: flags.index,
        saveIndex: flags['save-index'],
      },
      this.services(flags),
    );
  }

  protected summarize = mineSummary;
}
