/**
 * Parquet and the Arrow IPC file format keep their index at the end of the file, so they cannot be
 * read front to back. To read them from stdin with bounded memory, stdin is first copied to a temp
 * file in os.tmpdir(), which is removed by the returned cleanup (or at process exit at the latest).
 */
import {createWriteStream, mkdtempSync} from 'node:fs';
import {rm} from 'node:fs/promises';
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

export async function spoolToTempFile(source: NodeJS.ReadableStream, suffix: string): Promise<SpooledInput> {
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
    throw new SbertkitError(`cannot buffer stdin: ${(error as Error).message}`, {file: STDIN_NAME, cause: error});
  }
  return {path, cleanup};
}
