/**
 * The error of onOverflow 'error'. The encoder knows records, not files: it names the record and its
 * position in the stream, and the pipeline that read it turns that into file:line.
 */
import {EXIT, SbertkitError} from '../errors.js';

export class TextOverflowError extends SbertkitError {
  constructor(
    /** The text's tokens, special tokens and prompt included. */
    readonly tokens: number,
    readonly maxSeqLength: number,
    /** 0-based position of the record in what the encoder was given. */
    readonly index: number,
    /** The record itself (e.g. a TextRecord with its line). */
    readonly record: unknown,
    where: {file?: string; line?: number; hint?: string} = {},
  ) {
    super(`text has ${tokens} tokens, more than max_seq_length ${maxSeqLength}${where.hint ? ` ${where.hint}` : ''}`, {
      file: where.file,
      line: where.line,
      exitCode: EXIT.BAD_INPUT,
    });
    this.name = 'TextOverflowError';
  }
}
