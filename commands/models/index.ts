import {SbertkitCommand} from '../../src/cli/base-command.js';
import {listModels, modelsSummary, modelsTable, type ModelsResult} from '../../src/pipelines/models.js';

export default class Models extends SbertkitCommand<ModelsResult> {
  static override summary = 'List the models usable without a download: built-in models and the Hugging Face cache.';
  static override description = `Reads the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub) that
huggingface-cli and sentence-transformers fill, plus sbertkit's built-in models. Never touches the network.`;

  static override examples = [
    {description: 'Table of cached models', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON for scripts', command: '<%= config.bin %> <%= command.id %> --json'},
    {description: 'Details of one model', command: '<%= config.bin %> models info sentence-transformers/all-MiniLM-L6-v2 --offline'},
  ];

  async run(): Promise<ModelsResult> {
    await this.parse(Models);
    return listModels(this.services());
  }

  protected summarize = modelsSummary;
  protected override render = modelsTable;
}
