/**
 * Splits a byte stream into physical lines with their 1-based numbers, for the line-oriented formats
 * (txt, plain TSV, JSONL). Hand-rolled rather than node:readline because readline also breaks on a
 * lone '\r', which would shift every line number after a stray carriage return.
 */
import {StringDecoder} from 'node:string_decoder';
import type {Readable} from 'node:stream';
import {fileError} from './open-input.js';

export interface Line {
  /** 1-based physical line number. */
  line: number;
  /** Line content without the '\n' / '\r\n' terminator (and without a leading BOM on line 1). */
  text: string;
}

/**
 * Yields every line; a final terminator does not produce an extra empty line.
 * Errors of the underlying stream (e.g. a corrupt .gz) become SbertkitErrors naming `file`.
 */
export async function* readLines(stream: Readable, file: string): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (first && text.length > 0) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      pending += text;
      let start = 0;
      for (let nl = pending.indexOf('\n', start); nl !== -1; nl = pending.indexOf('\n', start)) {
        const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield {line: ++line, text: pending.slice(start, end)};
        start = nl + 1;
      }
      pending = pending.slice(start);
    }
  } catch (error) {
    throw fileError(file, error);
  }
  pending += decoder.end();
  if (first && pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
  if (pending.length > 0) yield {line: ++line, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending};
}
