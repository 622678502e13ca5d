/**
 * The names of uncommitted outputs: `.<name>.sbertkit-tmp-<pid>-<rand>` beside the target. The pid in
 * the name lets a later run recognize a temp file whose writer died without its exit hook (SIGKILL,
 * the out-of-memory killer, a power cut) and remove it, while never touching a live writer's.
 */
import {randomBytes} from 'node:crypto';
import {readdir, rm} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';

const MARK = '.sbertkit-tmp-';

/** A fresh temp path for `target` (an absolute or relative file path, links already followed). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The writer's pid when `name` is a temp file of an output named `base`; temps of other outputs do not match. */
export function tempOwner(name: string, base: string): number | undefined {
  const prefix = `.${base}${MARK}`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
  return match === null ? undefined : Number(match[1]);
}

/**
 * True unless the OS says no such process exists. EPERM means it exists under another user; any other
 * answer is taken as alive too, because removing a live writer's temp file would make its commit fail.
 */
export function isLiveProcess(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes temp files (or folders: a model conversion builds one) of `target` left by processes that no longer exist. */
export async function removeStaleTemps(target: string): Promise<void> {
  const folder = dirname(target);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return; // A missing or unreadable folder: opening the output reports it.
  }
  const base = basename(target);
  for (const name of names) {
    const pid = tempOwner(name, base);
    if (pid === undefined || isLiveProcess(pid)) continue;
    // Another run may be cleaning up the same file at the same moment.
    await rm(join(folder, name), {recursive: true, force: true}).catch(() => {});
  }
}
