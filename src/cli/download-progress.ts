/** Hub download progress drawn with the shared progress helper (TTY stderr only). */
import type {DownloadProgress} from '../models/hub/download.js';
import type {Progress} from '../pipelines/context.js';
import {createProgress} from './progress.js';

export function createDownloadProgress(quiet: boolean): DownloadProgress {
  let bar: Progress | undefined;
  return {
    start(file: string, total: number) {
      bar?.stop();
      bar = createProgress({label: `downloading ${file}`, unit: 'bytes', total, quiet});
    },
    advance(bytes: number) {
      bar?.increment(bytes);
    },
    finish() {
      bar?.stop();
      bar = undefined;
    },
  };
}
