/**
 * Opens a path or '-' as a byte stream. The file is opened eagerly so that "no such file" is reported
 * when the command starts, not after a model has loaded. ".gz" inputs are decompressed on the fly, and
 * so is any other input, stdin included, that starts with gzip's magic bytes (1f 8b: no UTF-8 text
 * starts that way), so `zcat`-less pipelines and misnamed files just work.
 */
import {open, type FileHandle} from 'node:fs/promises';
import {pipeline, Readable} from 'node:stream';
import {createGunzip} from 'node:zlib';
import {SbertkitError} from '../../errors.js';
import {isGzipPath, STDIN, STDIN_NAME} from '../formats.js';

export interface InputStream {
  /** Path as given, or '<stdin>'. */
  file: string;
  stream: Readable;
  /** Releases the file; safe to call more than once. Never closes stdin. */
  close(): Promise<void>;
  /**
   * Files only: bytes read from the file so far and its size (compressed bytes for .gz), for a
   * progress bar when the number of rows is unknown. Reads run ahead of the parser by one buffer.
   */
  position?: () => InputPosition;
}

export interface InputPosition {
  read: number;
  size: number;
}

/** Turns fs errors into the one-line messages users see ("path: no such file"). */
export function fileError(file: string, error: unknown): SbertkitError {
  if (error instanceof SbertkitError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT' ? 'no such file'
    : isZlibError(code) ? `not valid gzip (${(error as Error).message}); a .gz input must be gzip-compressed`
    : code === 'EISDIR' ? 'is a directory'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : `cannot read: ${(error as Error | undefined)?.message ?? String(error)}`;
  return new SbertkitError(reason, {file, cause: error});
}

/** zlib's data errors ("incorrect header check", "unexpected end of file"). */
function isZlibError(code: string | undefined): boolean {
  return code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'Z_NEED_DICT';
}

/**
 * Fails with the one-line message when `path` cannot be read as a file. For readers that open files
 * through APIs whose errors carry no errno (fs.openAsBlob says only "Unable to open file as blob").
 */
export async function checkReadableFile(path: string, file: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    const isDirectory = (await handle.stat()).isDirectory();
    await handle.close();
    if (isDirectory) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'});
  } catch (error) {
    throw fileError(file, error);
  }
}

/**
 * Opens a file (or '-' for `stdin`, default process.stdin) as a byte stream. `file` names it in
 * messages (default: the path, or '<stdin>'): a reader of a temp copy (input/replayable.ts) passes
 * the name of the original, which is all the user knows about.
 */
export async function openInput(input: string, stdin?: NodeJS.ReadableStream, file: string = input === STDIN ? STDIN_NAME : input): Promise<InputStream> {
  if (input === STDIN) {
    const source = stdin ?? process.stdin;
    const stream = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Buffer>);
    // A terminal never sends gzip, and waiting for its first line here would delay status lines.
    return {file, stream: (source as {isTTY?: boolean}).isTTY ? stream : await gunzipIfGzip(stream), close: async () => {}};
  }
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(input, 'r');
    const stat = await handle.stat();
    size = stat.size;
    // open() succeeds on directories on Linux; reading them fails later with a less clear error.
    if (stat.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), {code: 'EISDIR'});
    }
  } catch (error) {
    throw fileError(file, error);
  }
  const raw = handle.createReadStream({highWaterMark: 1 << 20});
  let stream: Readable = raw;
  if (isGzipPath(input)) {
    // pipeline() listens for 'error' on both streams from now on. raw.pipe(gunzip) did not: a file
    // that is not gzip failed gunzip's first write while nothing read it yet (txt rows are read only
    // after the model loads), and the unhandled 'error' event killed the process with a stack trace.
    // The error stays on gunzip (destroyed with it), so the first read rethrows it.
    const gunzip = createGunzip();
    pipeline(raw, gunzip, () => {});
    stream = gunzip;
  } else {
    try {
      stream = await gunzipIfGzip(raw);
    } catch (error) {
      raw.destroy();
      throw fileError(file, error);
    }
  }
  let closed = false;
  return {
    file,
    stream,
    // What is still buffered in the read stream has not reached the parser yet.
    position: () => ({read: Math.min(size, Math.max(0, raw.bytesRead - raw.readableLength)), size}),
    close: async () => {
      if (closed) return;
      closed = true;
      stream.destroy();
      raw.destroy();
      await new Promise<void>((resolve) => (raw.closed ? resolve() : raw.once('close', () => resolve())));
    },
  };
}

/** gzip's first two bytes. */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * Reads the first bytes of `source` and returns a stream of the same bytes, decompressed when they
 * start with gzip's magic. The bytes read to decide are replayed, so nothing is lost.
 */
export async function gunzipIfGzip(source: Readable): Promise<Readable> {
  const iterator = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < GZIP_MAGIC.length) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    length += chunk.length;
  }
  const replayed = replayStream(head, iterator, ended);
  const first = Buffer.concat(head);
  if (first[0] !== GZIP_MAGIC[0] || first[1] !== GZIP_MAGIC[1]) return replayed;
  const gunzip = createGunzip();
  pipeline(replayed, gunzip, () => {});
  return gunzip;
}

/**
 * A byte stream of `head` (chunks already read from `iterator`) followed by the rest of `iterator`,
 * for readers that look at the start of an input before handing it on: nothing read is lost.
 */
export function replayStream(head: readonly Buffer[], iterator: AsyncIterator<Buffer | string>, ended: boolean): Readable {
  async function* replay(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return Readable.from(replay(), {objectMode: false});
}
