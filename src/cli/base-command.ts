/**
 * src/cli: the oclif glue, the only part of sbertkit that imports oclif (src/index.ts does not export it).
 *
 * SbertkitCommand<T> is the base of every command (after salesforcecli's SfCommand<T>): run() parses
 * flags, calls one pipeline and returns its typed result; this class renders that result as the
 * one-line human summary on stderr, or as the one JSON envelope (src/cli/envelope.ts) under --json,
 * and turns every failure into one "sbertkit <command>: file:line: message" line (or the error
 * envelope) with the error's exit code. It also builds the services a pipeline needs (model loader,
 * progress, status and warning lines) once per run.
 */
import {Command, Flags} from '@oclif/core';
import {EXIT, SbertkitError} from '../errors.js';
import {STDIN} from '../io/formats.js';
import {STDOUT_NAME} from '../io/output/atomic-output.js';
import {writeTextOutput} from '../io/output/write-text.js';
import {exitOnSignal, signalExitStarted} from '../signal-exit.js';
import type {PipelineServices} from '../pipelines/context.js';
import {errorOf, exitCodeOf, usageMessage, type JsonEnvelope} from './envelope.js';
import {encoderLoader, type ModelFlagValues} from './model-flags.js';
import {createProgress} from './progress.js';

/**
 * A signal's default action kills the process without running 'exit' handlers, which is where
 * uncommitted temp outputs are removed (src/io/output/exit-cleanup.ts) and the terminal is restored
 * (progress.ts). Exiting from a handler runs them, after the orderly stops of src/signal-exit.ts
 * (worker threads must not be torn down inside ONNX Runtime). Exit codes follow the shell convention
 * (128 + signal number). SIGHUP is what a closed terminal or ssh session sends, and it would otherwise
 * leave the temp file of a long encode behind. Installed once per process, however many commands run.
 */
let signalsHandled = false;
function removeTempsOnSignal(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [signal, code] of [['SIGHUP', 129], ['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(signal, () => exitOnSignal(code));
}

let stdoutErrorsTaken = false;

/**
 * oclif installs, when it is imported, a stdout 'error' listener that rethrows everything but EPIPE:
 * `sbertkit encode x.txt > /dev/full` died of an uncaught exception with a stack trace. Every write
 * sbertkit makes to stdout goes through an output sink (src/io/output/atomic-output.ts), which waits
 * for the write and reports a failure as one line with exit 74, so oclif's listener is replaced by
 * one that only keeps the event from crashing the process.
 */
function takeOverStdoutErrors(): void {
  if (stdoutErrorsTaken) return;
  stdoutErrorsTaken = true;
  for (const listener of process.stdout.listeners('error')) process.stdout.off('error', listener as (error: Error) => void);
  process.stdout.on('error', () => {});
}

export abstract class SbertkitCommand<T extends object> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', description: 'Print nothing on stderr except errors (no progress, no summary, no notes).', default: false}),
    json: Flags.boolean({
      description: 'Print one JSON envelope {command, status, result | error, warnings} instead of human lines: on stdout, or on stderr when stdout carries data.',
      default: false,
    }),
  };

  /** Set by run() when the command writes its data to stdout: the JSON envelope then goes to stderr. */
  protected dataOnStdout = false;
  private quiet = false;
  private readonly warnings: string[] = [];
  /** The --json envelope on its way to stdout (logJson cannot wait: oclif calls it synchronously). */
  private envelopeWrite: Promise<void> | undefined;

  abstract override run(): Promise<T>;

  /** The one-line human summary of a result (stderr, unless --quiet). */
  protected abstract summarize(result: T): string;

  /** Human rendering of a result that is itself the data (a listing); written to stdout. */
  protected render(_result: T): string | undefined {
    return undefined;
  }

  /** Failures that do not throw (CI gates): each becomes a line, and the exit code is 1. */
  protected failures(_result: T): string[] {
    return [];
  }

  override async init(): Promise<void> {
    await super.init();
    removeTempsOnSignal();
    takeOverStdoutErrors();
    // Parsed once here for the base flags, so services and errors know --quiet before run() starts.
    const {flags} = await this.parse(this.ctor as typeof SbertkitCommand);
    this.quiet = flags.quiet as boolean;
  }

  /** The services a pipeline needs, built from the model flags. */
  protected services(modelFlags?: Partial<ModelFlagValues>): PipelineServices {
    const human = !this.quiet && !this.jsonEnabled();
    const status = (message: string): void => {
      if (human) process.stderr.write(`${message}\n`);
    };
    const warn = (message: string): void => {
      this.warnings.push(message);
      if (human) process.stderr.write(`note: ${message}\n`);
    };
    return {
      loadEncoder: modelFlags === undefined ? () => Promise.reject(new Error('this command loads no model')) : encoderLoader(modelFlags, {status, warn, quiet: this.quiet}),
      // Read when the bar is made: run() has said by then whether the data goes to stdout.
      progress: (label, unit, total, options) => createProgress({label, unit, total, quiet: this.quiet, dataOnStdout: this.dataOnStdout, ...options}),
      status,
      warn,
    };
  }

  override async _run<R>(): Promise<R> {
    const result = (await super._run<R>()) as T | undefined;
    if (signalExitStarted()) return waitForSignalExit();
    if (result === undefined) return result as unknown as R;
    const failures = this.failures(result);
    try {
      // A full disk under `> out` must fail the run, not end it with exit 0 and half a listing.
      await this.envelopeWrite;
      if (!this.jsonEnabled()) {
        const data = this.render(result);
        if (data !== undefined) await writeTextOutput(STDIN, data);
      }
    } catch (error) {
      await this.catch(error as Error);
    }
    if (!this.jsonEnabled()) {
      if (!this.quiet) process.stderr.write(`${this.summarize(result)}\n`);
      for (const failure of failures) process.stderr.write(`${this.prefix()}: gate failed: ${failure}\n`);
    }
    if (failures.length > 0) this.exit(EXIT.GATE_FAILED);
    return result as unknown as R;
  }

  /** Called by oclif's _run with the result when --json is on. */
  protected override toSuccessJson(result: unknown): JsonEnvelope<T> {
    const failures = this.failures(result as T);
    return {
      command: this.commandName(),
      status: failures.length > 0 ? EXIT.GATE_FAILED : 0,
      result: result as T,
      ...(failures.length > 0 ? {error: {message: `gate failed: ${failures.join('; ')}`, exitCode: EXIT.GATE_FAILED}} : {}),
      warnings: this.warnings,
    };
  }

  protected override toErrorJson(error: unknown): JsonEnvelope<T> {
    return {command: this.commandName(), status: exitCodeOf(error), error: errorOf(error), warnings: this.warnings};
  }

  /** One line, so `jq` and line-based tools read it; stderr when stdout is the command's data. */
  override logJson(json: unknown): void {
    const line = `${JSON.stringify(json)}\n`;
    if (this.dataOnStdout) {
      process.stderr.write(line);
      return;
    }
    // Awaited by _run (success) or catch (failure); the no-op catch keeps an unawaited failure from crashing.
    this.envelopeWrite = writeTextOutput(STDIN, line);
    this.envelopeWrite.catch(() => {});
  }

  private prefix(): string {
    return this.id ? `sbertkit ${this.commandName()}` : 'sbertkit';
  }

  /** The command as users type it ("models info"); oclif's id uses ':' between topic and command. */
  private commandName(): string {
    return (this.id ?? '').replaceAll(':', ' ');
  }

  /** Uniform failure: "sbertkit <command>: file:line: message" on stderr (or the error envelope), then the error's exit code. */
  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<never> {
    // An exit request (this.exit) is not a failure.
    if (error.code === 'EEXIT') throw error;
    // Interrupted work fails in all sorts of ways (a closed worker pool...); the signal is the only
    // news, and exitOnSignal exits with its code once the workers have stopped.
    if (signalExitStarted()) return waitForSignalExit();
    // stdout itself failed (full disk, I/O error): the envelope can only go to stderr.
    if (error instanceof SbertkitError && error.file === STDOUT_NAME) this.dataOnStdout = true;
    if (this.jsonEnabled()) {
      this.envelopeWrite = undefined; // a success envelope that failed is replaced by this one
      this.logJson(this.toErrorJson(error));
      try {
        await this.envelopeWrite;
      } catch {
        process.stderr.write(`${JSON.stringify(this.toErrorJson(error))}\n`);
      }
      this.exit(exitCodeOf(error));
    }
    if (error instanceof SbertkitError) {
      process.stderr.write(`${this.prefix()}: ${error.toLine()}\n`);
      this.exit(error.exitCode);
    }
    // oclif's parse errors (unknown flag, bad value, missing argument): one line and where help is.
    if (error.oclif !== undefined) {
      process.stderr.write(`${this.prefix()}: ${usageMessage(error)} (see: ${this.prefix()} --help)\n`);
      this.exit(exitCodeOf(error));
    }
    process.stderr.write(`${this.prefix()}: internal error: ${error.stack ?? error.message}\n`);
    this.exit(70);
  }
}

/** Never settles: a signal exit is under way and will end the process (src/signal-exit.ts). */
function waitForSignalExit(): Promise<never> {
  return new Promise<never>(() => {});
}
