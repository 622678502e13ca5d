/**
 * The one-line run summary every command prints, in human or JSON form. With --json the object goes to
 * stdout unless stdout is carrying the command's data, in which case it goes to stderr so the data
 * stream stays parseable.
 */
export interface SummaryOptions {
  quiet: boolean;
  json: boolean;
  /** True when the command wrote its data to stdout. */
  dataOnStdout: boolean;
}

export function reportSummary(command: string, summary: Record<string, unknown>, human: string, options: SummaryOptions): void {
  if (options.json) {
    const line = JSON.stringify({command, ...summary}) + '\n';
    (options.dataOnStdout ? process.stderr : process.stdout).write(line);
    return;
  }
  if (!options.quiet) process.stderr.write(`${human}\n`);
}

/** "12.3 s" style, and rows/s that never divides by zero. */
export function rate(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}
