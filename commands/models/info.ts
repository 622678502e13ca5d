import {Args} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {modelFlags, modelSourceFlags} from '../../src/cli/model-flags.js';
import {describeModel, modelInfoSummary, modelInfoText, type ModelInfo} from '../../src/pipelines/models.js';

export default class ModelsInfo extends SbertkitCommand<ModelInfo> {
  static override summary = 'Show what the encoder will use for a model: files, max_seq_length, pooling, normalization, output dimension.';
  static override description = `Resolves MODEL exactly as every command does (built-in, local folder, or hub id through the cache;
downloading missing files unless --offline), loads it, and prints the facts the encoder will act on.`;

  static override examples = [
    {description: 'The built-in default model', command: '<%= config.bin %> <%= command.id %> builtin:use-lite'},
    {description: 'A cached hub model, without network', command: '<%= config.bin %> <%= command.id %> sentence-transformers/all-MiniLM-L6-v2 --offline'},
    {description: 'As JSON', command: '<%= config.bin %> <%= command.id %> ./my-model --json'},
  ];

  static override args = {
    model: Args.string({description: 'Model: builtin:NAME, a folder, or org/name[@revision] (default: the built-in model).', ignoreStdin: true}),
  };

  // Only what changes the facts shown: where the model comes from, and the encoder overrides of them.
  static override flags = {
    ...modelSourceFlags,
    'max-seq-length': modelFlags['max-seq-length'],
    normalize: modelFlags.normalize,
    'truncate-dim': modelFlags['truncate-dim'],
  };

  async run(): Promise<ModelInfo> {
    const {args, flags} = await this.parse(ModelsInfo);
    return describeModel(this.services({...flags, model: args.model ?? flags.model}));
  }

  protected summarize = modelInfoSummary;
  protected override render = modelInfoText;
}
