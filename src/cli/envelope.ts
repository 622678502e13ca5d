/**
 * The one JSON shape every command prints under --json, for success and failure alike, so a script
 * reads `status` and `result` (or `error`) and never parses a human line:
 *
 *   {"command":"encode","status":0,"result":{...},"warnings":[]}
 *   {"command":"encode","status":2,"error":{"message":"column 'body' not found ...","exitCode":2,
 *    "file":"in.csv","line":1,"field":"body"},"warnings":[]}
 *
 * `status` is the process exit code. A run whose CI gate fails has both `result` and `error`.
 */
import {SbertkitError} from '../errors.js';

export interface EnvelopeError {
  message: string;
  exitCode: number;
  file?: string;
  line?: number;
  field?: string;
}

export interface JsonEnvelope<T> {
  command: string;
  status: number;
  result?: T;
  error?: EnvelopeError;
  warnings: string[];
}

/** Exit code for anything thrown: ours carry one, oclif's parse errors say 2, the rest is an internal error (70, EX_SOFTWARE). */
export function exitCodeOf(error: unknown): number {
  if (error instanceof SbertkitError) return error.exitCode;
  const oclif = (error as {oclif?: {exit?: number}}).oclif;
  if (oclif !== undefined) return oclif.exit ?? 2;
  return 70;
}

export function errorOf(error: unknown): EnvelopeError {
  const exitCode = exitCodeOf(error);
  const isUsage = (error as {oclif?: unknown}).oclif !== undefined && error instanceof Error;
  const message = isUsage ? usageMessage(error) : error instanceof Error ? error.message : String(error);
  if (!(error instanceof SbertkitError)) return {message, exitCode};
  return {
    message,
    exitCode,
    ...(error.file === undefined ? {} : {file: error.file}),
    ...(error.line === undefined ? {} : {line: error.line}),
    ...(error.field === undefined ? {} : {field: error.field}),
  };
}

/**
 * oclif's parse errors span several lines ("Error: Parsing --batch-size", a tab-indented reason,
 * "See more help with --help", sometimes the whole help text). One line that says what is wrong:
 * "--batch-size: expected an integer but received: abc".
 */
export function usageMessage(error: Error): string {
  return error.message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^See more help with/i.test(line) && !/^The following errors? occurred:?$/i.test(line))
    .join(' ')
    .replace(/^Parsing (--[\w-]+)\s*/, '$1: ')
    .replace(/\s+/g, ' ')
    .trim();
}
