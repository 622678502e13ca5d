import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {loadEncoderFromFlags, modelFlags} from '../src/cli/encoder-flags.js';
import {createProgress} from '../src/cli/progress.js';
import {rate, reportSummary} from '../src/cli/summary.js';
import {encodeToVectorFile, openEncodeSource, type EncodeFileOptions} from '../src/pipelines/encode-file.js';

export default class Encode extends SbertkitCommand {
  static override summary = 'Embed texts from CSV/TSV/JSONL/txt into a Parquet, Arrow or JSONL vector file.';
  static override description = `Streams INPUT (a file or - for stdin) through the shared encoder and writes one vector per row.
Texts are read in windows, sorted by token length and batched under a token budget; output keeps input order.
Output format comes from the OUTPUT extension (.parquet, .arrow, .arrows, .jsonl), else --format; stdout defaults to JSONL.
Texts longer than the model's max_seq_length are truncated and counted in the summary.`;

  static override examples = [
    {description: 'Embed a CSV column into Parquet with the built-in model', command: '<%= config.bin %> <%= command.id %> reviews.csv --text-column body -o reviews.parquet'},
    {description: 'Pipe plain text lines in, JSONL vectors out', command: 'cat sentences.txt | <%= config.bin %> <%= command.id %> - --input-format txt > vectors.jsonl'},
    {description: 'Keep an id and extra columns, with a hub model', command: '<%= config.bin %> <%= command.id %> docs.jsonl --id-column doc_id --keep-columns title,lang --model sentence-transformers/all-MiniLM-L6-v2 -o docs.arrow'},
    {description: 'Machine-readable summary for scripts', command: '<%= config.bin %> <%= command.id %> texts.tsv -o out.parquet --json --quiet'},
  ];

  static override args = {
    input: Args.string({description: 'Input file (csv, tsv, jsonl, txt) or - for stdin.', default: '-', ignoreStdin: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'Output file (.parquet, .arrow, .arrows, .jsonl) or - for stdout.', default: '-'}),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) holding the text.', default: 'text'}),
    'id-column': Flags.string({description: 'Column to use as id (default: 0-based row number).'}),
    'keep-columns': Flags.string({description: 'Comma-separated columns copied to the output.'}),
    'input-format': Flags.string({description: 'Input format when the extension does not tell (stdin defaults to txt).', options: ['csv', 'tsv', 'jsonl', 'txt']}),
    format: Flags.string({description: 'Output format when the extension does not tell.', options: ['parquet', 'arrow', 'arrow-stream', 'jsonl']}),
    quote: Flags.boolean({description: 'Honour double quotes in TSV input (off by default: TSV sentences often contain ").', default: false}),
    ...modelFlags,
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Encode);
    const started = performance.now();
    const options: EncodeFileOptions = {
      input: args.input,
      output: flags.output,
      inputFormat: flags['input-format'] as 'csv' | 'tsv' | 'jsonl' | 'txt' | undefined,
      format: flags.format as 'parquet' | 'arrow' | 'arrow-stream' | 'jsonl' | undefined,
      textColumn: flags['text-column'],
      idColumn: flags['id-column'],
      keepColumns: flags['keep-columns']?.split(',').map((c) => c.trim()).filter(Boolean),
      quote: flags.quote,
    };
    if (args.input === '-' && process.stdin.isTTY && !flags.quiet) process.stderr.write('reading texts from the terminal (one per line; Ctrl-D to end)\n');
    // Input and columns are checked before the model loads, so bad input fails fast.
    const source = await openEncodeSource(options);
    const encoder = await loadEncoderFromFlags(flags).catch(async (error: unknown) => {
      await source.close();
      throw error;
    });
    // Created after the model loads so conversion/download messages do not collide with the bar.
    const progress = createProgress({label: 'encoding', unit: 'texts', quiet: flags.quiet});
    try {
      const result = await encodeToVectorFile(encoder, source, {...options, onBatch: (rows) => progress.increment(rows)});
      progress.stop();
      const seconds = (performance.now() - started) / 1000;
      const {rows, tokens, truncated} = encoder.stats;
      const summary = {
        input: args.input,
        output: result.output,
        format: result.format,
        model: encoder.spec.name,
        dimension: encoder.dimension,
        rows,
        tokens,
        truncated,
        max_seq_length: encoder.maxSeqLength,
        seconds: Number(seconds.toFixed(3)),
        rows_per_second: Number(rate(rows, seconds).toFixed(1)),
        stopped_early: result.stoppedEarly,
      };
      const truncatedNote = truncated > 0 ? `, ${truncated} truncated to ${encoder.maxSeqLength} tokens` : ', 0 truncated';
      reportSummary(
        'encode',
        summary,
        `encoded ${rows} texts (${tokens} tokens${truncatedNote}) with ${encoder.spec.name} [dim ${encoder.dimension}] in ${seconds.toFixed(1)} s (${summary.rows_per_second} texts/s) -> ${result.output === '-' ? 'stdout' : result.output}`,
        {quiet: flags.quiet, json: flags.json, dataOnStdout: result.output === '-'},
      );
    } finally {
      progress.stop();
      await encoder.close();
    }
  }
}
