/**
 * Flags shared by every command that loads a model, and the one function that turns their values
 * into an encoder loader, so all six commands name and treat --model, --threads, --batch-size... the
 * same way. The value types come from the flag definitions (InferredFlags), not a copied interface.
 */
import {availableParallelism} from 'node:os';
import {Flags, type Interfaces} from '@oclif/core';
import {Encoder, ENCODER_DEFAULTS} from '../encoder/encoder.js';
import {OVERFLOW_MODES, type SentenceEncoder} from '../encoder/types.js';
import {EXIT, SbertkitError} from '../errors.js';
import {resolveModel} from '../models/resolve.js';
import {DEVICES} from '../onnx/device.js';
import {createDownloadProgress} from './download-progress.js';

/** Which model: the flags that resolve --model to a folder (and all `models info` needs besides two encoder facts). */
export const modelSourceFlags = {
  model: Flags.string({
    char: 'm',
    description: 'Model: a sentence-transformers folder with an ONNX graph, a hub id (org/name[@revision]), or builtin:use-lite (the default).',
    helpGroup: 'MODEL',
  }),
  'model-file': Flags.string({description: 'ONNX file inside the model, e.g. onnx/model_qint8_avx512.onnx (default onnx/model.onnx or model.onnx).', helpGroup: 'MODEL'}),
  offline: Flags.boolean({description: 'Never use the network; only cached or local models (also HF_HUB_OFFLINE=1).', default: false, helpGroup: 'MODEL'}),
};

export const modelFlags = {
  ...modelSourceFlags,
  'batch-size': Flags.integer({description: 'Maximum texts per batch.', default: ENCODER_DEFAULTS.batchSize, min: 1, helpGroup: 'ENCODER'}),
  'max-tokens': Flags.integer({description: 'Token budget per batch (padded length x rows).', default: ENCODER_DEFAULTS.maxTokens, min: 1, helpGroup: 'ENCODER'}),
  'window-size': Flags.integer({description: 'Texts read ahead and sorted by length at once; bounds memory.', default: ENCODER_DEFAULTS.windowSize, min: 1, helpGroup: 'ENCODER'}),
  'max-seq-length': Flags.integer({description: "Truncate texts to this many tokens (default: the model's max_seq_length; never above it).", min: 1, helpGroup: 'ENCODER'}),
  normalize: Flags.boolean({description: "L2-normalize vectors (default: the model's Normalize module decides).", allowNo: true, helpGroup: 'ENCODER'}),
  device: Flags.option({description: "Where the model runs: cpu, or cuda (needs ONNX Runtime's CUDA provider installed; see README).", options: DEVICES, default: 'cpu' as const, helpGroup: 'ENCODER'})(),
  threads: Flags.integer({description: 'ONNX Runtime threads (default: all cores); above 1, batches run in parallel on one single-threaded session per thread.', min: 1, helpGroup: 'ENCODER'}),
  'truncate-dim': Flags.integer({
    description: 'Keep the first N dimensions of each vector (Matryoshka models), re-normalized when vectors are normalized.',
    min: 1,
    helpGroup: 'ENCODER',
  }),
  prompt: Flags.string({
    description: 'Text put in front of every text, e.g. "query: " (counts toward max_seq_length); --prompt "" turns off the model\'s default prompt.',
    exclusive: ['prompt-name'],
    helpGroup: 'ENCODER',
  }),
  'prompt-name': Flags.string({description: "A prompt of the model's config_sentence_transformers.json by name (default: its default_prompt_name, if any).", helpGroup: 'ENCODER'}),
  'on-overflow': Flags.option({
    description: 'Texts longer than max_seq_length: truncate (keep the first tokens), chunk (average the vectors of token windows), or error.',
    options: OVERFLOW_MODES,
    default: 'truncate' as const,
    helpGroup: 'ENCODER',
  })(),
  'chunk-overlap': Flags.integer({description: 'Tokens shared by consecutive windows with --on-overflow chunk (default 0).', min: 0, helpGroup: 'ENCODER'}),
};

export type ModelFlagValues = Interfaces.InferredFlags<typeof modelFlags>;

/**
 * A loader for the model the flags name. `status` receives conversion/download lines; `quiet`
 * hides the download bar.
 */
export function encoderLoader(flags: Partial<ModelFlagValues>, options: {status: (message: string) => void; warn: (message: string) => void; quiet: boolean}): () => Promise<SentenceEncoder> {
  return async () => {
    if (flags['chunk-overlap'] !== undefined && flags['on-overflow'] !== 'chunk') {
      throw new SbertkitError(`--chunk-overlap applies only with --on-overflow chunk (got --on-overflow ${flags['on-overflow']})`, {exitCode: EXIT.BAD_INPUT});
    }
    // Each thread above one is a worker with its own copy of the model: more than the cores only
    // multiplies memory and contention.
    const cores = availableParallelism();
    let threads = flags.threads;
    if (threads !== undefined && threads > cores) {
      options.warn(`--threads ${threads} is more than the ${cores} cores here; using ${cores}`);
      threads = cores;
    }
    const spec = await resolveModel(flags.model, {
      modelFile: flags['model-file'],
      // HF_HUB_OFFLINE is honoured by the hub settings themselves.
      offline: flags.offline,
      progress: createDownloadProgress(options.quiet),
      onStatus: options.status,
    });
    return Encoder.load(spec, {
      batchSize: flags['batch-size'],
      maxTokens: flags['max-tokens'],
      windowSize: flags['window-size'],
      maxSeqLength: flags['max-seq-length'],
      normalize: flags.normalize,
      threads,
      device: flags.device,
      truncateDim: flags['truncate-dim'],
      prompt: flags.prompt,
      promptName: flags['prompt-name'],
      onOverflow: flags['on-overflow'],
      chunkOverlap: flags['chunk-overlap'],
    });
  };
}
