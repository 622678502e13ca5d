/**
 * Parquet and the Arrow IPC file format keep their index at the end of the file, so they cannot be
 * read front to back. To read them from stdin, or from a path that is a pipe (`<(zcat x.gz)`, a
 * FIFO), with bounded memory, the bytes are first copied to a temp file in os.tmpdir(), which is
 * removed by the returned cleanup (or at process exit at the latest).
 */
import {createWriteStream, mkdtempSync} from 'node:fs';
import {rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {SbertkitError} from '../../errors.js';
import {STDIN_NAME} from '../formats.js';
import {forgetOnExit, removeOnExit} from '../output/exit-cleanup.js';

export interface SpooledInput {
  path: string;
  /** Removes the temp copy; safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * True for a path that can be read only once, front to back: a FIFO, a pipe (/dev/fd/63), a device.
 * False for regular files and directories, and when the path cannot be looked at (the caller's open
 * reports that).
 */
export async function isPipePath(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return !info.isFile() && !info.isDirectory();
  } catch {
    return false;
  }
}

/** Copies `source` to a temp file; `file` names the source in messages (default '<stdin>'). */
export async function spoolToTempFile(source: NodeJS.ReadableStream, suffix: string, file: string = STDIN_NAME): Promise<SpooledInput> {
  const dir = mkdtempSync(join(tmpdir(), 'sbertkit-stdin-'));
  removeOnExit(dir);
  const cleanup = async (): Promise<void> => {
    forgetOnExit(dir);
    await rm(dir, {recursive: true, force: true});
  };
  const path = join(dir, `stdin${suffix}`);
  try {
    const readable = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Buffer>);
    await pipeline(readable, createWriteStream(path));
  } catch (error) {
    await cleanup();
    throw new SbertkitError(`cannot buffer the input: ${(error as Error).message}`, {file, cause: error});
  }
  return {path, cleanup};
}
