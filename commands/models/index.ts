import {SbertkitCommand} from '../../src/cli/base-command.js';
import {BUILTIN_MODELS, BUILTIN_PREFIX, builtinModelFolder, isBuiltinModelConverted} from '../../src/models/builtin/index.js';
import {builtinEntry, listLocalModels, type CatalogEntry} from '../../src/models/catalog.js';

export default class Models extends SbertkitCommand {
  static override summary = 'List the models usable without a download: built-in models and the Hugging Face cache.';
  static override description = `Reads the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub) that
huggingface-cli and sentence-transformers fill, plus sbertkit's built-in models. Never touches the network.`;

  static override examples = [
    {description: 'Table of cached models', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON for scripts', command: '<%= config.bin %> <%= command.id %> --json'},
    {description: 'Details of one model', command: '<%= config.bin %> models info sentence-transformers/all-MiniLM-L6-v2 --offline'},
  ];

  async run(): Promise<void> {
    const {flags} = await this.parse(Models);
    const entries: CatalogEntry[] = [];
    for (const name of BUILTIN_MODELS) {
      const full = BUILTIN_PREFIX + name;
      entries.push(builtinEntry(builtinModelFolder(full), await isBuiltinModelConverted(full)));
    }
    entries.push(...(await listLocalModels()));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return;
    }
    const header = ['MODEL', 'SOURCE', 'REVISION', 'SIZE', 'DIM', 'POOLING', 'NORMALIZE', 'MAX LEN'];
    const rows = entries.map((e) => [
      e.model,
      e.source,
      e.revision?.slice(0, 12) ?? '',
      e.sizeBytes === undefined ? '' : `${(e.sizeBytes / 1e6).toFixed(1)} MB`,
      e.dimension?.toString() ?? '',
      e.pooling ?? '',
      e.normalize === undefined ? '' : String(e.normalize),
      e.maxSeqLength?.toString() ?? '',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
    for (const e of entries) if (e.problem && !flags.quiet) process.stderr.write(`note: ${e.model}: ${e.problem}\n`);
  }
}
