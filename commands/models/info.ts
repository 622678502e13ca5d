import {Args} from '@oclif/core';
import {SbertkitCommand} from '../../src/cli/base-command.js';
import {loadEncoderFromFlags, modelFlags} from '../../src/cli/encoder-flags.js';
import {describeEncoder} from '../../src/models/catalog.js';

export default class ModelsInfo extends SbertkitCommand {
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

  static override flags = {...modelFlags};

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ModelsInfo);
    const encoder = await loadEncoderFromFlags({...flags, model: args.model ?? flags.model});
    try {
      const info = describeEncoder(encoder);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const lines = Object.entries(info).map(([k, v]) => `${k.padEnd(16)} ${Array.isArray(v) ? v.join('\n' + ' '.repeat(17)) : String(v)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await encoder.close();
    }
  }
}
