/**
 * The one error type of sbertkit. It carries where the problem is (file, line, field) so that every
 * command prints the same single line on stderr and exits with the same code for the same kind of fault.
 */
export class SbertkitError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  /** Process exit code a command should use (see EXIT): 2 bad input/usage, 1 failed gate, 3 model, 74 output write failure. */
  readonly exitCode: number;

  constructor(message: string, options: {file?: string; line?: number; field?: string; exitCode?: number; cause?: unknown} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause});
    this.name = 'SbertkitError';
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
    this.exitCode = options.exitCode ?? 2;
  }

  /**
   * "file:line: message" — the single line shown to users. Messages quote input data (column names,
   * cell values, parser messages with a snippet of the line) that may hold line breaks, so control
   * characters are escaped here, once for every message.
   */
  toLine(): string {
    const where = this.file === undefined ? '' : this.line === undefined ? `${this.file}: ` : `${this.file}:${this.line}: `;
    return printable(`${where}${this.message}`);
  }
}

/** Line breaks and other control characters (all but tab) as escapes: "a\\nb" for a, newline, b. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export const EXIT = {
  /** A gate (e.g. --min-spearman) failed. */
  GATE_FAILED: 1,
  /** Bad input file, bad flag value, missing column. */
  BAD_INPUT: 2,
  /** Model could not be resolved, downloaded, converted or run. */
  MODEL: 3,
  /**
   * Writing an output failed after it was opened (no space left, I/O error, broken pipe on a file,
   * permission lost): EX_IOERR from sysexits.h, so scripts can tell a full disk from bad input.
   * A -o that cannot be opened at all (missing folder) is still bad input (2); so are read errors.
   */
  IO: 74,
  /** A service sbertkit needs cannot be reached or refused us (Redis for the queue commands): EX_UNAVAILABLE. */
  UNAVAILABLE: 69,
} as const;
