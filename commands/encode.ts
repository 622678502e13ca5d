import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {delimiterFlag, inferTypesFlag, textInputFlags} from '../src/cli/flags.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {STDIN, TEXT_FORMATS, VECTOR_FORMATS} from '../src/io/formats.js';
import {DEFAULT_CALIBRATION_ROWS, type EncodeResult} from '../src/pipelines/encode.js';
import {PRECISIONS} from '../src/vectors/quantize.js';
import {encodeTaskSummary, runEncodeTask} from '../src/pipelines/encode-shard.js';
import {parseShard} from '../src/io/shard/partition.js';

export default class Encode extends SbertkitCommand<EncodeResult> {
  static override summary = 'Embed texts from CSV/TSV/JSONL/txt into a Parquet, Arrow or JSONL vector file.';
  static override description = `Streams INPUT (a file or - for stdin) through the shared encoder and writes one vector per row.
Texts are read in windows, sorted by token length and batched under a token budget; output keeps input order.
Output format comes from the OUTPUT extension (.parquet, .arrow, .arrows, .jsonl), else --format; stdout defaults to JSONL.
Texts longer than the model's max_seq_length are truncated and counted in the summary (--on-overflow chunk or error to do otherwise).
--precision stores compact vectors as sentence-transformers' quantize_embeddings does: float16 (2x
smaller), int8/uint8 (4x; per dimension ranges from --calibration FILE, else from the first
--calibration-rows rows, kept in the file's metadata), binary/ubinary (32x; sign bits, 8 per byte).
Readers turn them back into floats; similarity and mine-paraphrases search binary files by Hamming distance.
--reuse OLD takes the vector of each text OLD has (same sha256 of the text, from OLD's text_sha256 column or its kept
text column; same model, settings and precision, else the run stops naming what differs) and encodes only the rest.`;

  static override examples = [
    {description: 'Embed a CSV column into Parquet with the built-in model', command: '<%= config.bin %> <%= command.id %> reviews.csv --text-column body -o reviews.parquet'},
    {description: 'Pipe plain text lines in, JSONL vectors out', command: 'cat sentences.txt | <%= config.bin %> <%= command.id %> - --input-format txt > vectors.jsonl'},
    {description: 'Keep an id and extra columns, with a hub model', command: '<%= config.bin %> <%= command.id %> docs.jsonl --id-column doc_id --keep-columns title,lang --model sentence-transformers/all-MiniLM-L6-v2 -o docs.arrow'},
    {description: 'Keep CSV columns as numbers and booleans where they read as such (Int64, Float64, Bool in Parquet)', command: '<%= config.bin %> <%= command.id %> products.csv --keep-columns sku,price,in_stock --infer-types -o products.parquet'},
    {description: 'Machine-readable result for scripts', command: '<%= config.bin %> <%= command.id %> texts.tsv -o out.parquet --json'},
    {description: 'int8 vectors, 4x smaller, with ranges from a calibration sample', command: '<%= config.bin %> <%= command.id %> corpus.csv --precision int8 --calibration sample.parquet -o corpus.parquet'},
    {description: 'Binary vectors, 32x smaller, for Hamming search', command: '<%= config.bin %> <%= command.id %> corpus.csv --precision binary -o corpus.parquet'},
    {
      description: 'Long documents averaged over max_seq_length windows (32 tokens shared), with the model\'s "passage" prompt, first 256 dimensions',
      command: '<%= config.bin %> <%= command.id %> docs.jsonl -o docs.parquet --model ./my-model --on-overflow chunk --chunk-overlap 32 --prompt-name passage --truncate-dim 256',
    },
    {description: 'After the corpus changed: reuse the vectors of unchanged texts, encode only new or changed ones', command: '<%= config.bin %> <%= command.id %> corpus.csv --reuse corpus.parquet -o corpus.parquet'},
    {description: 'Part 3 of 8 (one task of an array job); rerunning a complete part does nothing', command: '<%= config.bin %> <%= command.id %> big.csv --id-column id --shard 3/8 -o parts/part-3.parquet'},
  ];

  static override args = {
    input: Args.string({description: 'Input file (csv, tsv, jsonl, txt) or - for stdin.', default: STDIN, ignoreStdin: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'Output file (.parquet, .arrow, .arrows, .jsonl) or - for stdout.', default: STDIN}),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) holding the text.', default: 'text'}),
    'id-column': Flags.string({description: 'Column to use as id (default: 0-based row number).'}),
    'keep-columns': Flags.string({description: 'Comma-separated columns copied to the output (JSONL values keep their types; CSV/TSV cells stay strings unless --infer-types).'}),
    'infer-types': inferTypesFlag,
    'input-format': Flags.option({description: 'Input format when the extension does not tell (stdin defaults to txt).', options: TEXT_FORMATS})(),
    delimiter: delimiterFlag,
    format: Flags.option({description: 'Output format when the extension does not tell.', options: VECTOR_FORMATS})(),
    quote: Flags.boolean({description: 'Honour double quotes in TSV input (off by default: TSV sentences often contain ").', default: false}),
    precision: Flags.option({description: 'How vectors are stored: float32, float16 (2x smaller), int8/uint8 (4x), binary/ubinary (32x, sign bits).', options: PRECISIONS, default: 'float32' as const, helpGroup: 'PRECISION'})(),
    calibration: Flags.string({description: 'int8/uint8: a vector file (float vectors of the same model) whose per dimension min/max are the ranges.', exclusive: ['calibration-rows'], helpGroup: 'PRECISION'}),
    'calibration-rows': Flags.integer({description: `int8/uint8 without --calibration: take the ranges from this many first rows, held in memory until encoded [default: ${DEFAULT_CALIBRATION_ROWS}].`, min: 1, helpGroup: 'PRECISION'}),
    reuse: Flags.string({description: 'A previous output (Parquet or Arrow): texts it has, made with the same model and settings, take its vector; only new or changed texts are encoded. int8/uint8 runs quantize with its ranges. Implies --text-hash. May be the output itself.'}),
    'text-hash': Flags.boolean({description: 'Add a text_sha256 column (sha256 of each text as read) and the model graph checksum, so a later --reuse can match rows without keeping the texts.', default: false}),
    shard: Flags.string({description: 'Encode only part i of N (i/N, counting from 0; rows cut by a hash of the id) and write PART.manifest.json; a rerun of a complete part does nothing.'}),
    ...textInputFlags,
    ...modelFlags,
  };

  async run(): Promise<EncodeResult> {
    const {args, flags} = await this.parse(Encode);
    this.dataOnStdout = flags.output === STDIN;
    return runEncodeTask(
      {
        input: args.input,
        output: flags.output,
        shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
        inputFormat: flags['input-format'],
        delimiter: flags.delimiter,
        format: flags.format,
        textColumn: flags['text-column'],
        idColumn: flags['id-column'],
        keepColumns: flags['keep-columns']?.split(',').map((c) => c.trim()).filter(Boolean),
        inferTypes: flags['infer-types'],
        quote: flags.quote,
        onInvalidUtf8: flags['on-invalid-utf8'],
        precision: flags.precision,
        calibration: flags.calibration,
        calibrationRows: flags['calibration-rows'],
        reuse: flags.reuse,
        textHash: flags['text-hash'],
      },
      this.services(flags),
    );
  }

  protected summarize = encodeTaskSummary;
}
