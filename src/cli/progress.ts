/**
 * Progress on stderr, only for humans: shown when stderr is a TTY and --quiet is off, so pipelines and
 * CI logs never see bar redraws. cli-progress is loaded only when a bar is really drawn.
 *
 * A bar hides the cursor and turns line wrap off in the user's terminal. cli-progress turns them back
 * on in stop(), which a Ctrl-C or any process.exit() skipped, leaving the shell without a cursor; so
 * every bar still drawing is stopped from a process 'exit' hook (signal exits run it too, see
 * base-command.ts), and every stop ends by writing the restore sequences itself.
 *
 * A file whose rows are unknown gets a real bar from bytes read against its size (compressed bytes
 * for .gz). When the data itself goes to the same terminal (stdout and stderr one tty), no bar is
 * drawn: its redraws would overwrite the rows.
 */
import {fstatSync} from 'node:fs';
import {createRequire} from 'node:module';
import type {InputPosition} from '../io/input/open-input.js';
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

export interface CreateProgressOptions {
  label: string;
  unit: string;
  /** Units in all, when known: percentage and ETA from units done. */
  total?: number;
  /** Bytes of the input file read and its size: percentage and ETA when the units are unknown. */
  position?: () => InputPosition;
  quiet: boolean;
  /** The command's data goes to stdout: no bar when stdout is the terminal the bar would draw on. */
  dataOnStdout?: boolean;
  stream?: NodeJS.WriteStream;
}

export function createProgress(options: CreateProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY) return SILENT;
  // Rows printed on the terminal are the progress; a bar redrawn among them would overwrite them.
  if (options.dataOnStdout === true && sameTerminal(process.stdout, stream)) return SILENT;
  const require = createRequire(import.meta.url);
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  const {position, unit} = options;
  const known = options.total !== undefined;
  // ETA is computed here (cli-progress prints "NFs" for an infinite one, e.g. before the first units).
  const format =
    known ? `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_text}`
    : position !== undefined ? `${options.label} [{bar}] {percentage}% | {read}/{size} | {done} ${unit} | {rate} ${unit}/s | ETA {eta_text}`
    : `${options.label} {value} ${unit} | {rate} ${unit}/s | {duration_formatted}`;
  const bar = new cliProgress.SingleBar({stream, format, hideCursor: true, clearOnComplete: true}, cliProgress.Presets.shades_classic);
  const started = Date.now();
  let done = 0;
  const payload = (): Record<string, string> => {
    const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
    const common = {rate: (done / seconds).toFixed(0), done: String(done)};
    if (position !== undefined && !known) {
      const {read, size} = position();
      return {...common, read: formatBytes(read), size: formatBytes(size), eta_text: eta(read, size, seconds)};
    }
    return {...common, eta_text: known ? eta(done, options.total!, seconds) : ''};
  };
  const size = position?.().size;
  bar.start(known ? options.total! : size !== undefined ? Math.max(size, 1) : 0, 0, payload());
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
      done += units;
      if (position !== undefined && !known) bar.update(position().read, payload());
      else bar.increment(units, payload());
    },
    stop,
  };
}

/** Remaining time at the average rate so far: "4m 05s", "12s", or "--" before anything is done. */
export function eta(done: number, total: number, seconds: number): string {
  if (done <= 0 || seconds <= 0) return '--';
  const left = Math.max(0, Math.round(((total - done) * seconds) / done));
  return left >= 3600 ? `${Math.floor(left / 3600)}h ${pad(Math.floor((left % 3600) / 60))}m` : left >= 60 ? `${Math.floor(left / 60)}m ${pad(left % 60)}s` : `${left}s`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "12.3 MB" */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i]}`;
}

/** Whether two streams are the same terminal device (stdout and stderr both on the user's tty). */
function sameTerminal(a: NodeJS.WriteStream | NodeJS.WritableStream, b: NodeJS.WriteStream): boolean {
  if (!(a as NodeJS.WriteStream).isTTY || !b.isTTY) return false;
  const fdA = (a as {fd?: number}).fd;
  const fdB = (b as {fd?: number}).fd;
  if (fdA === undefined || fdB === undefined) return true;
  try {
    const [x, y] = [fstatSync(fdA), fstatSync(fdB)];
    return x.rdev === y.rdev && x.ino === y.ino;
  } catch {
    return true;
  }
}
