/**
 * The one place that implements "never leave a partial file".
 *
 * A file output is written to `<dir>/.<name>.sbertkit-tmp-<pid>-<rand>` (same directory, so the final
 * rename is atomic on one filesystem) and renamed onto the target only by commit(); abort() and a
 * process exit before commit remove the temp file, and a later run removes those left by a killed
 * process (temp-files.ts). A symlink is followed to its target; a device, FIFO or /dev/fd/N is
 * written in place (output-target.ts). '-' writes to stdout, where nothing can be undone, but a
 * reader that goes away (`sbertkit encode big.csv | head -1`) is not an error: EPIPE is swallowed,
 * `closed` turns true and `whenClosed` resolves, so the pipeline can stop early and exit 0. Any other
 * write failure, on stdout or a file, is one line with exit 74 (output-errors.ts).
 */
import {type WriteStream} from 'node:fs';
import {access, constants, open, rename, unlink, type FileHandle} from 'node:fs/promises';
import {dirname} from 'node:path';
import {createGzip} from 'node:zlib';
import {SbertkitError} from '../../errors.js';
import {isGzipPath, STDIN} from '../formats.js';
import {forgetOnExit, removeOnExit, removePendingSync} from './exit-cleanup.js';
import {openError, writeError} from './output-errors.js';
import {resolveOutputTarget} from './output-target.js';
import {removeStaleTemps, tempPathFor} from './temp-files.js';

export const STDOUT_NAME = '<stdout>';

export interface OutputSink {
  /** Path as given, or '<stdout>'. */
  readonly target: string;
  readonly isStdout: boolean;
  /** True once stdout's reader went away; later writes are dropped. Always false for files. */
  readonly closed: boolean;
  /** Resolves when stdout's reader goes away; never resolves for files. */
  readonly whenClosed: Promise<void>;
  /** Resolves when the chunk is accepted; waits for 'drain' when the OS buffer is full. */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Flushes, fsyncs and renames the temp file onto the target (a device or FIFO: flushes and closes). */
  commit(): Promise<void>;
  /** Deletes the temp file. A no-op after commit, so it is safe in a `finally`. */
  abort(): Promise<void>;
}

export interface OpenOutputOptions {
  /** Stream for '-' (default process.stdout); tests pass their own. */
  stdout?: NodeJS.WritableStream;
}

export async function openOutput(output: string, options: OpenOutputOptions = {}): Promise<OutputSink> {
  if (output === STDIN) return stdoutSink(options.stdout ?? process.stdout);
  const where = await resolveOutputTarget(output);
  const sink = where.kind === 'stream' ? await streamSink(output, where.path) : await fileSink(output, where.path);
  return isGzipPath(output) ? gzipSink(sink) : sink;
}

/**
 * "out.jsonl.gz": the bytes go through gzip on their way to the sink (its temp file and rename, or
 * its device), so a .gz output is as atomic as any other.
 */
function gzipSink(inner: OutputSink): OutputSink {
  const gzip = createGzip();
  let failure: unknown;
  // Compressed chunks are written in order; a failure is kept for the next write or the commit.
  let written: Promise<void> = Promise.resolve();
  gzip.on('data', (chunk: Buffer) => {
    written = written.then(() => inner.write(chunk)).catch((error: unknown) => {
      failure ??= error;
    });
  });
  gzip.on('error', (error) => (failure ??= error));
  const check = (): void => {
    if (failure !== undefined) throw failure instanceof SbertkitError ? failure : writeError(inner.target, failure);
  };
  return {
    target: inner.target,
    isStdout: inner.isStdout,
    get closed() {
      return inner.closed;
    },
    whenClosed: inner.whenClosed,
    async write(chunk) {
      check();
      if (!gzip.write(chunk)) await new Promise<void>((resolve) => gzip.once('drain', () => resolve()));
      await written;
      check();
    },
    async commit() {
      check();
      await new Promise<void>((resolve, reject) => gzip.end((error?: Error | null) => (error ? reject(error) : resolve())));
      await new Promise<void>((resolve) => (gzip.readableEnded ? resolve() : gzip.once('end', () => resolve())));
      await written;
      if (failure !== undefined) {
        await inner.abort();
        check();
      }
      await inner.commit();
    },
    async abort() {
      gzip.destroy();
      await inner.abort();
    },
  };
}

/**
 * Removes every uncommitted temp file (and any other exit-cleanup path). Runs on process 'exit';
 * exported for tests and for callers that end the process another way.
 */
export const removePendingOutputsSync = removePendingSync;

/**
 * Fails now, with the same message openOutput would give later, when `output` cannot be written: lets
 * a command refuse a bad -o before it spends time loading a model or downloading one.
 */
export async function checkOutputWritable(output: string): Promise<void> {
  if (output === STDIN) return;
  const where = await resolveOutputTarget(output);
  // A device or FIFO is opened itself; a file is created (as its temp file) in the target's folder.
  const needed = where.kind === 'stream' ? where.path : dirname(where.path);
  try {
    await access(needed, constants.W_OK);
  } catch (error) {
    throw openError(output, error, dirname(where.path));
  }
}

// ---------------------------------------------------------------------------------------------
// Files, devices and FIFOs

/** `target` as given (for messages); `path` is the regular file it leads to, links followed. */
async function fileSink(target: string, path: string): Promise<OutputSink> {
  await removeStaleTemps(path);
  const temp = tempPathFor(path);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    throw openError(target, error, dirname(path));
  }
  removeOnExit(temp);
  return handleSink(target, handle, {
    // fsync before the stream closes the file, so the rename never publishes unflushed data.
    flush: true,
    publish: async () => {
      await rename(temp, path);
      forgetOnExit(temp);
    },
    discard: async () => {
      await unlink(temp).catch(() => {});
      forgetOnExit(temp);
    },
  });
}

/**
 * A device, FIFO or /dev/fd/N, written in place: there is no temp file to rename and nothing to
 * take back on abort. Opening a FIFO waits until a reader opens it, as a shell redirect does.
 */
async function streamSink(target: string, path: string): Promise<OutputSink> {
  let handle: FileHandle;
  try {
    // No O_CREAT: the node exists (resolveOutputTarget saw it), and no regular file should appear in its place.
    handle = await open(path, constants.O_WRONLY);
  } catch (error) {
    throw openError(target, error);
  }
  // No fsync: pipes and character devices refuse it (EINVAL), and their reader sees the data anyway.
  return handleSink(target, handle, {flush: false, publish: async () => {}, discard: async () => {}});
}

interface Finish {
  /** fsync before close (regular files only). */
  flush: boolean;
  /** After a clean close: make the output visible (rename the temp file). */
  publish(): Promise<void>;
  /** After abort or a failure: remove whatever is not to be kept. */
  discard(): Promise<void>;
}

function handleSink(target: string, handle: FileHandle, finish: Finish): OutputSink {
  // (FileHandle.close() cannot be used to close: it never settles while a stream holds the handle.)
  const stream: WriteStream = handle.createWriteStream({flush: finish.flush, highWaterMark: 1 << 20});
  let failure: unknown;
  stream.on('error', (error) => (failure ??= error));
  let state: 'open' | 'committed' | 'aborted' = 'open';

  const waitFor = (event: 'drain' | 'close'): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (error: unknown): void => {
        stream.off(event, onEvent);
        reject(error);
      };
      const onEvent = (): void => {
        stream.off('error', onError);
        resolve();
      };
      stream.once(event, onEvent);
      stream.once('error', onError);
    });

  const discard = async (): Promise<void> => {
    if (!stream.closed) {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.destroy();
      await closed;
    }
    await finish.discard();
  };

  const sink: OutputSink = {
    target,
    isStdout: false,
    closed: false,
    whenClosed: new Promise<void>(() => {}),
    async write(chunk) {
      if (state !== 'open') throw new Error(`output ${target} is already ${state}`);
      if (failure !== undefined) throw writeError(target, failure);
      if (!stream.write(chunk)) {
        try {
          await waitFor('drain');
        } catch (error) {
          throw writeError(target, error);
        }
      }
    },
    async commit() {
      if (state !== 'open') throw new Error(`output ${target} is already ${state}`);
      try {
        if (failure !== undefined) throw failure;
        const closed = waitFor('close');
        stream.end();
        await closed;
        if (failure !== undefined) throw failure;
        await finish.publish();
        state = 'committed';
      } catch (error) {
        state = 'aborted';
        await discard();
        throw writeError(target, error);
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await discard();
    },
  };
  return sink;
}

// ---------------------------------------------------------------------------------------------
// stdout

interface StdoutWatch {
  closed: boolean;
  whenClosed: Promise<void>;
  failure?: unknown;
  /** Resolves on close or on failure: whatever ends a wait for 'drain'. */
  ended: Promise<void>;
}

/**
 * One watcher per stream, installed once and never removed: an EPIPE can arrive after a writer has
 * committed (e.g. while a summary is printed), and an 'error' event without a listener would crash.
 */
const watches = new WeakMap<NodeJS.WritableStream, StdoutWatch>();

function watchStdout(stream: NodeJS.WritableStream): StdoutWatch {
  let watch = watches.get(stream);
  if (watch !== undefined) return watch;
  let markClosed!: () => void;
  let markEnded!: () => void;
  const created: StdoutWatch = {
    closed: false,
    whenClosed: new Promise<void>((resolve) => (markClosed = resolve)),
    ended: new Promise<void>((resolve) => (markEnded = resolve)),
  };
  const close = (): void => {
    created.closed = true;
    markClosed();
    markEnded();
  };
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') close();
    else {
      created.failure ??= error;
      markEnded();
    }
  });
  stream.on('close', close);
  watches.set(stream, created);
  watch = created;
  return watch;
}

function stdoutSink(stream: NodeJS.WritableStream): OutputSink {
  const watch = watchStdout(stream);
  const check = (): void => {
    if (watch.failure !== undefined) throw writeError(STDOUT_NAME, watch.failure);
  };
  // Resolves when the stream can take more, or when the reader is gone or the stream failed.
  const settle = (wait: (done: () => void) => void): Promise<void> =>
    Promise.race([new Promise<void>(wait), watch.ended]);

  return {
    target: STDOUT_NAME,
    isStdout: true,
    get closed() {
      return watch.closed;
    },
    whenClosed: watch.whenClosed,
    async write(chunk) {
      check();
      if (watch.closed) return;
      if (!stream.write(chunk)) await settle((done) => stream.once('drain', done));
      check();
    },
    async commit() {
      check();
      if (watch.closed) return;
      // An empty write's callback runs once everything queued before it is flushed.
      await settle((done) => stream.write('', () => done()));
      check();
    },
    async abort() {
      // Bytes already on stdout cannot be taken back; the caller reports the error on stderr.
    },
  };
}
