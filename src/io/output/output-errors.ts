/**
 * The one-line messages for outputs and their exit codes. A -o that cannot be opened (missing folder,
 * no permission) is a bad argument, like a missing input: exit 2. A write that fails once the output
 * is open (full disk, I/O error, a FIFO whose reader went away) is an I/O failure: exit 74
 * (EX_IOERR), so a script can tell "retry on another disk" from "fix the command line".
 */
import {dirname} from 'node:path';
import {EXIT, SbertkitError} from '../../errors.js';

function reason(folder: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `directory ${folder} does not exist`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EIO':
      return 'input/output error';
    case 'EPIPE':
      return 'broken pipe (the reader went away)';
    case 'EROFS':
      return 'read-only file system';
    case 'EFBIG':
      return 'file too large';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return (error as Error | undefined)?.message ?? String(error);
  }
}

/** `file` could not be opened for writing (exit 2). `folder` is where the file would be created. */
export function openError(file: string, error: unknown, folder = dirname(file)): SbertkitError {
  if (error instanceof SbertkitError) return error;
  return new SbertkitError(`cannot write: ${reason(folder, error)}`, {file, cause: error, exitCode: EXIT.BAD_INPUT});
}

/** Writing, flushing or publishing `file` failed after it was opened (exit 74). */
export function writeError(file: string, error: unknown, folder = dirname(file)): SbertkitError {
  if (error instanceof SbertkitError) return error;
  return new SbertkitError(`cannot write: ${reason(folder, error)}`, {file, cause: error, exitCode: EXIT.IO});
}
