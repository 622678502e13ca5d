import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../../../src/cli/base-command.js';
import {delimiterFlag, inferTypesFlag, textInputFlags} from '../../../src/cli/flags.js';
import {modelFlags, modelSourceFlags} from '../../../src/cli/model-flags.js';
import {queueFlags} from '../../../src/cli/queue-flags.js';
import {TEXT_FORMATS, VECTOR_FORMATS} from '../../../src/io/formats.js';
import {PRECISIONS} from '../../../src/vectors/quantize.js';
import {runSubmitEncode, submitEncodeSummary, type SubmitEncodeResult} from '../../../src/pipelines/queue/submit-encode.js';

export default class QueueSubmitEncode extends SbertkitCommand<SubmitEncodeResult> {
  static override summary = 'Queue an encode as N parts (BullMQ on Redis); `sbertkit queue worker` processes run them.';
  static override description = `Enqueues one job per part: job i is "encode INPUT --shard i/N -o OUT/part-i-of-N.FORMAT", with a manifest
beside each part. INPUT and OUT must be paths every worker can read and write (a shared folder).
The input and model are checked here, and their checksums go into the jobs: a worker refuses a changed
input or another graph. Submitting the same work again is a no-op (job ids are a hash of the work);
failed parts of an earlier submit are retried. --wait follows the parts and exits non-zero if any fails.`;

  static override examples = [
    {description: 'Queue 64 parts and wait for them', command: '<%= config.bin %> <%= command.id %> /shared/corpus.csv --id-column id --parts 64 --out /shared/vectors --wait'},
    {
      description: 'int8 parts with one calibration for all, the model\'s "passage" prompt, long texts chunked',
      command: '<%= config.bin %> <%= command.id %> /shared/docs.jsonl --parts 16 --out /shared/parts --precision int8 --calibration /shared/sample.parquet --prompt-name passage --on-overflow chunk',
    },
    {
      description: 'After the corpus changed: re-encode only new or changed texts, part by part, over the parts of the first run (made with --text-hash)',
      command: '<%= config.bin %> <%= command.id %> /shared/corpus.csv --id-column id --parts 64 --out /shared/vectors --reuse /shared/vectors --wait',
    },
    {description: 'Password in the environment, not on the command line', command: 'SBERTKIT_REDIS_URL=redis://:secret@redis:6379 <%= config.bin %> <%= command.id %> /shared/docs.jsonl --parts 8 --out /shared/parts'},
  ];

  static override args = {
    input: Args.string({description: 'Input file (csv, tsv, jsonl, txt) that every worker can read.', required: true}),
  };

  static override flags = {
    parts: Flags.integer({description: 'Number of parts (jobs).', required: true, min: 1}),
    out: Flags.string({description: 'Folder for the part files and their manifests (created if missing).', required: true}),
    wait: Flags.boolean({description: 'Show the parts done and exit when all are done (non-zero if any failed).', default: false}),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) holding the text.', default: 'text'}),
    'id-column': Flags.string({description: 'Column to use as id (default: 0-based row number); parts are cut by a hash of it.'}),
    'keep-columns': Flags.string({description: 'Comma-separated columns copied to the output.'}),
    'infer-types': inferTypesFlag,
    'input-format': Flags.option({description: 'Input format when the extension does not tell.', options: TEXT_FORMATS})(),
    format: Flags.option({description: 'Part file format.', options: VECTOR_FORMATS, default: 'parquet' as const})(),
    quote: Flags.boolean({description: 'Honour double quotes in TSV input.', default: false}),
    delimiter: delimiterFlag,
    precision: Flags.option({description: 'How vectors are stored (as encode --precision); int8/uint8 need --calibration.', options: PRECISIONS, default: 'float32' as const, helpGroup: 'PRECISION'})(),
    calibration: Flags.string({description: 'int8/uint8: a vector file every worker can read whose per dimension min/max are the ranges of every part.', helpGroup: 'PRECISION'}),
    'text-hash': Flags.boolean({description: 'Add a text_sha256 column to every part, so a later submit can --reuse them.', default: false}),
    reuse: Flags.string({
      description: 'Folder of an earlier submit\'s parts (same --parts and --format; made with --text-hash or --reuse): part i takes the vectors of unchanged texts from its part i and encodes only the rest. May be --out itself.',
    }),
    ...textInputFlags,
    ...modelSourceFlags,
    'max-seq-length': modelFlags['max-seq-length'],
    normalize: modelFlags.normalize,
    'truncate-dim': modelFlags['truncate-dim'],
    prompt: modelFlags.prompt,
    'prompt-name': modelFlags['prompt-name'],
    'on-overflow': modelFlags['on-overflow'],
    'chunk-overlap': modelFlags['chunk-overlap'],
    ...queueFlags,
  };

  async run(): Promise<SubmitEncodeResult> {
    const {args, flags} = await this.parse(QueueSubmitEncode);
    return runSubmitEncode(
      {
        input: args.input,
        outDir: flags.out,
        parts: flags.parts,
        redis: flags.redis,
        queue: flags.queue,
        wait: flags.wait,
        textColumn: flags['text-column'],
        idColumn: flags['id-column'],
        keepColumns: flags['keep-columns']?.split(',').map((c) => c.trim()).filter(Boolean),
        inferTypes: flags['infer-types'],
        inputFormat: flags['input-format'],
        format: flags.format,
        quote: flags.quote,
        onInvalidUtf8: flags['on-invalid-utf8'],
        model: flags.model,
        modelFile: flags['model-file'],
        offline: flags.offline,
        maxSeqLength: flags['max-seq-length'],
        normalize: flags.normalize,
        delimiter: flags.delimiter,
        precision: flags.precision,
        calibration: flags.calibration,
        textHash: flags['text-hash'],
        reuse: flags.reuse,
        truncateDim: flags['truncate-dim'],
        prompt: flags.prompt,
        promptName: flags['prompt-name'],
        onOverflow: flags['on-overflow'],
        chunkOverlap: flags['chunk-overlap'],
      },
      this.services(),
    );
  }

  protected summarize = submitEncodeSummary;
}
