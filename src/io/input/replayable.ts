/**
 * An input that can be read more than once. dedupe reads its input twice: once for the texts, then
 * again to copy the kept rows' bytes (text/copy-lines.ts). A regular file is simply opened again;
 * stdin and a pipe or FIFO (`<(zcat x.csv.gz)`) give their bytes only once, so they are first
 * copied to a temp file (spool-stdin.ts), which both passes then read.
 */
import {createReadStream} from 'node:fs';
import {detectTextFormat, isGzipPath, STDIN, STDIN_NAME} from '../formats.js';
import {isPipePath, spoolToTempFile} from './spool-stdin.js';

export interface ReplayableInput {
  /** A path to open as often as needed: the input itself, or its temp copy. */
  path: string;
  /** The input's name for messages (the `label` of openRows/openTexts): the path as given, or '<stdin>'. */
  file: string;
  /** Removes the temp copy, if there is one; safe to call more than once. */
  cleanup(): Promise<void>;
}

/** `input` is a path or '-' (read from `stdin`, default process.stdin). */
export async function replayableInput(input: string, stdin?: NodeJS.ReadableStream): Promise<ReplayableInput> {
  if (input === STDIN) {
    // No suffix: stdin has no name to tell its format from (the caller passes one), and it is not
    // un-gzipped when read directly either.
    const spool = await spoolToTempFile(stdin ?? process.stdin, '');
    return {path: spool.path, file: STDIN_NAME, cleanup: spool.cleanup};
  }
  if (await isPipePath(input)) {
    const spool = await spoolToTempFile(createReadStream(input), spoolSuffix(input), input);
    return {path: spool.path, file: input, cleanup: spool.cleanup};
  }
  // A regular file, or a path that cannot be looked at: its reader reports "no such file" and the like.
  return {path: input, file: input, cleanup: async () => {}};
}

/**
 * The temp copy's suffix: the text format the name implies and '.gz', so that reading the copy
 * detects the same format and un-gzips it as reading the original by name would ('a.tab.gz' ->
 * '.tsv.gz'; '/dev/fd/63' -> '').
 */
function spoolSuffix(input: string): string {
  const format = detectTextFormat(input);
  return (format === undefined ? '' : `.${format}`) + (isGzipPath(input) ? '.gz' : '');
}
