/**
 * Progress on stderr, only for humans: shown when stderr is a TTY and --quiet is off, so pipelines and
 * CI logs never see bar redraws. cli-progress is loaded only when a bar is really drawn.
 *
 * A bar hides the cursor and turns line wrap off in the user's terminal. cli-progress turns them back
 * on in stop(), which a Ctrl-C or any process.exit() skipped, leaving the shell without a cursor; so
 * every bar still drawing is stopped from a process 'exit' hook (signal exits run it too, see
 * base-command.ts), and every stop ends by writing the restore sequences itself.
 */
import {createRequire} from 'node:module';
import type {Progress} from '../pipelines/context.js';

const SILENT: Progress = {increment() {}, stop() {}};

/** Show the cursor (DECTCEM) and enable line wrap (DECAWM): what cli-progress's start() turned off. */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h';

/** Stops of the bars still drawing, for the 'exit' hook. */
const drawing = new Set<() => void>();
let exitHookInstalled = false;

function stopAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously; writes to a TTY are synchronous on POSIX, so they get out.
  process.on('exit', () => {
    for (const stop of drawing) stop();
  });
}

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
  const stop = (): void => {
    if (!drawing.delete(stop)) return;
    try {
      bar.stop();
    } finally {
      stream.write(RESTORE_TERMINAL);
    }
  };
  drawing.add(stop);
  stopAllOnExit();
  return {
    increment(units) {
      value += units;
      const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
      bar.increment(units, {rate: (value / seconds).toFixed(0)});
    },
    stop,
  };
}
