/**
 * Splits a byte stream into physical lines with their 1-based numbers, for the line-oriented formats
 * (txt, plain TSV, JSONL). Hand-rolled rather than node:readline because readline also breaks on a
 * lone '\r', which would shift every line number after a stray carriage return.
 */
import type {Readable} from 'node:stream';
import {fileError} from './open-input.js';
import {Utf8Decoder} from './utf8.js';

export interface Line {
  /** 1-based physical line number. */
  line: number;
  /** Line content without the '\n' / '\r\n' terminator (and without a leading BOM on line 1: the decoder drops it). */
  text: string;
}

/**
 * Yields every line; a final terminator does not produce an extra empty line.
 * Errors of the underlying stream (e.g. a corrupt .gz) and of decoding (invalid UTF-8, UTF-16) become
 * SbertkitErrors naming `file`. The caller passes its own decoder to choose the policy for invalid
 * UTF-8 and to read its count of replaced lines.
 */
export async function* readLines(stream: Readable, file: string, decoder = new Utf8Decoder(file)): AsyncGenerator<Line> {
  let pending = '';
  let line = 0;
  const split = function* (text: string): Generator<Line> {
    pending += text;
    let start = 0;
    for (let nl = pending.indexOf('\n', start); nl !== -1; nl = pending.indexOf('\n', start)) {
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield {line: ++line, text: pending.slice(start, end)};
      start = nl + 1;
    }
    pending = pending.slice(start);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) yield* split(decoder.write(chunk));
    yield* split(decoder.end());
  } catch (error) {
    throw fileError(file, error);
  }
  if (pending.length > 0) yield {line: ++line, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending};
}
