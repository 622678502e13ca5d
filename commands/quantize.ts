import {Args, Flags} from '@oclif/core';
import {SbertkitCommand} from '../src/cli/base-command.js';
import {createDownloadProgress} from '../src/cli/download-progress.js';
import {modelFlags} from '../src/cli/model-flags.js';
import {TEXT_FORMATS} from '../src/io/formats.js';
import {MIN_WEIGHT_ELEMENTS} from '../src/onnx/quantize.js';
import {quantizeSummary, runQuantize, type QuantizeResult} from '../src/pipelines/quantize/run.js';

export default class Quantize extends SbertkitCommand<QuantizeResult> {
  static override summary = 'Quantize a model to int8 (dynamic quantization of its MatMul/Gemm weights) into a new model folder.';
  static override description = `What onnxruntime's quantize_dynamic does, in standard ONNX ops: every MatMul or Gemm whose
weight is a constant float32 matrix of at least ${MIN_WEIGHT_ELEMENTS} values gets int8 weights (symmetric, zero
point 0, one scale per matrix or per output column with --per-channel), its input is quantized to uint8
at run time (DynamicQuantizeLinear), and the product runs in integers (MatMulInteger) before it is
scaled back to float. ONNX Runtime fuses these into its integer kernels; embeddings (Gather), attention
products and normalization stay float32.
OUT_DIR becomes a complete model folder (the source's configs and tokenizer, the graph at
onnx/model.onnx or model.onnx, and quantize_config.json) that every command loads with --model OUT_DIR.
The cosine between the fp32 and int8 embeddings of each sample sentence (--sample, or ~50 built-in
sentences) is reported: min and mean.`;

  static override examples = [
    {description: 'Quantize a hub model from the cache', command: '<%= config.bin %> <%= command.id %> sentence-transformers/all-MiniLM-L6-v2 -o minilm-int8'},
    {description: 'Per-channel scales, checked on your own sentences, then used', command: '<%= config.bin %> <%= command.id %> ./my-model -o ./my-model-int8 --per-channel --sample queries.txt\n<%= config.bin %> encode docs.csv --model ./my-model-int8 -o docs.parquet'},
  ];

  static override args = {
    model: Args.string({description: 'Model to quantize: a sentence-transformers folder, a hub id (org/name[@revision]) or builtin:use-lite (the default).'}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'Output model folder (created; must not exist or be empty unless --force).', required: true}),
    'per-channel': Flags.boolean({description: 'One weight scale per output column instead of one per matrix.', default: false}),
    sample: Flags.string({description: 'Sentences to compare fp32 and int8 embeddings on (txt, csv, tsv, jsonl, or - for stdin; default: built-in sentences).'}),
    'text-column': Flags.string({description: 'Column (CSV/TSV) or field (JSONL) of --sample holding the text.', default: 'text'}),
    'input-format': Flags.option({description: 'Format of --sample when the extension does not tell (stdin defaults to txt).', options: TEXT_FORMATS})(),
    force: Flags.boolean({description: 'Replace an output folder that is not empty.', default: false}),
    'model-file': modelFlags['model-file'],
    offline: modelFlags.offline,
    threads: modelFlags.threads,
  };

  async run(): Promise<QuantizeResult> {
    const {args, flags} = await this.parse(Quantize);
    return runQuantize(
      {
        model: args.model,
        modelFile: flags['model-file'],
        offline: flags.offline,
        output: flags.output,
        perChannel: flags['per-channel'],
        force: flags.force,
        sample: flags.sample,
        textColumn: flags['text-column'],
        inputFormat: flags['input-format'],
        threads: flags.threads,
        downloadProgress: createDownloadProgress(flags.quiet),
      },
      this.services(),
    );
  }

  protected summarize = quantizeSummary;
}
