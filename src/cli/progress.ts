/**
 * Progress on stderr, only for humans: shown when stderr is a TTY and --quiet is off, so pipelines and
 * CI logs never see bar redraws. cli-progress is loaded only when a bar is really drawn.
 */
import {createRequire} from 'node:module';
import type {Progress} from '../pipelines/context.js';

const SILENT: Progress = {increment() {}, stop() {}};

export function createProgress(options: {label: string; unit: string; total?: number; quiet: boolean; stream?: NodeJS.WriteStream}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY) return SILENT;
  const require = createRequire(import.meta.url);
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  const known = options.total !== undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: known
        ? `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | {rate}/s | ETA {eta_formatted}`
        : `${options.label} {value} ${options.unit} | {rate}/s | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let value = 0;
  bar.start(options.total ?? 0, 0, {rate: '0'});
  return {
    increment(units) {
      value += units;
      const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
      bar.increment(units, {rate: (value / seconds).toFixed(0)});
    },
    stop() {
      bar.stop();
    },
  };
}
