/**
 * Where an output path really leads, decided once before anything is written:
 *
 * - a regular file, or nothing yet: written atomically (temp file + rename). A symlink is followed to
 *   its target first, so the temp file sits beside the target and the rename replaces the target,
 *   not the link (which would turn the link into a copy and leave the target stale).
 * - anything else that exists (a character device like /dev/null, a FIFO, a process substitution
 *   `>(gzip)` which is /dev/fd/N, a socket or block device): written in place like a shell redirect,
 *   since renaming a regular file over a device node or FIFO would destroy it (as root) and the reader
 *   on the other end would never see the data.
 */
import {lstat, readlink, realpath, stat} from 'node:fs/promises';
import {dirname, resolve} from 'node:path';
import {SbertkitError} from '../../errors.js';

export interface OutputTarget {
  kind: 'file' | 'stream';
  /** The path to open: links followed for files; as given for streams (/dev/fd/N only opens by that name). */
  path: string;
}

/** Linux gives up after 40 links (ELOOP); so do we for links whose target does not exist yet. */
const MAX_LINKS = 40;

export async function resolveOutputTarget(output: string): Promise<OutputTarget> {
  const info = await stat(output).catch(() => undefined);
  if (info?.isDirectory()) throw new SbertkitError('cannot write: is a directory', {file: output});
  if (info !== undefined && !info.isFile()) return {kind: 'stream', path: output};
  if (info !== undefined) return {kind: 'file', path: await realpath(output)};
  return {kind: 'file', path: await followDanglingLinks(output)};
}

/** A path that does not resolve yet: a new file, or a link whose target is still to be created. */
async function followDanglingLinks(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    const info = await lstat(current).catch(() => undefined);
    if (!info?.isSymbolicLink()) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  throw new SbertkitError('cannot write: too many levels of symbolic links', {file: path});
}
