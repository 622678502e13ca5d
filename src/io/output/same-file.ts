/**
 * `sbertkit encode a.jsonl -o a.jsonl` would read the input, then atomically replace it with the
 * vectors: the texts are gone without a word. Every pipeline asks this before it reads anything.
 * Files are compared by device and inode, so another spelling of the path, a symlink or a hard link
 * to the input is caught as well.
 */
import {stat} from 'node:fs/promises';
import {EXIT, SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';

export async function refuseOutputOverInput(output: string, inputs: readonly string[]): Promise<void> {
  if (output === STDIN) return;
  const out = await stat(output).catch(() => undefined);
  // Nothing there yet, or a device/FIFO (written in place, not replaced: `-o /dev/null` with input /dev/null is fine).
  if (out === undefined || !out.isFile()) return;
  for (const input of inputs) {
    if (input === STDIN) continue;
    const info = await stat(input).catch(() => undefined); // a missing input is reported by its reader
    if (info !== undefined && info.dev === out.dev && info.ino === out.ino) {
      throw new SbertkitError(`refusing to write over the input ${input}; choose another output`, {file: output, exitCode: EXIT.BAD_INPUT});
    }
  }
}
