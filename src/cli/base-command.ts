/**
 * The oclif glue every sbertkit command shares: --quiet/--json, one-line error reporting with the
 * error's own exit code, and the summary line. Lives in src/cli (not src/ proper) because it is the only
 * part of the library that depends on oclif; src/index.ts does not export it.
 */
import {Command, Flags} from '@oclif/core';
import {SbertkitError} from '../errors.js';

/**
 * A signal's default action kills the process without running 'exit' handlers, which is where
 * uncommitted temp outputs are removed (src/io/atomic-output.ts). Exiting from a handler runs them.
 * Exit codes follow the shell convention (128 + signal number).
 */
function removeTempsOnSignal(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));
}

export abstract class SbertkitCommand extends Command {
  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', description: 'Print nothing on stderr except errors (no progress, no summary).', default: false}),
    json: Flags.boolean({description: 'Print the summary as one JSON object (on stdout, or on stderr when stdout carries data).', default: false}),
  };

  override async init(): Promise<void> {
    await super.init();
    removeTempsOnSignal();
  }

  /** Uniform failure: "sbertkit <command>: file:line: message" on stderr, then the error's exit code. */
  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<never> {
    const prefix = this.id ? `sbertkit ${this.id}` : 'sbertkit';
    if (error instanceof SbertkitError) {
      process.stderr.write(`${prefix}: ${error.toLine()}\n`);
      this.exit(error.exitCode);
    }
    // oclif's own errors (bad flags, exit requests) keep oclif's handling.
    if (error.oclif !== undefined || (error as {code?: string}).code === 'EEXIT') throw error;
    process.stderr.write(`${prefix}: internal error: ${error.stack ?? error.message}\n`);
    this.exit(70);
  }
}
