/**
 * Looks at the start of an input without consuming it, for readers that tell the format from the
 * content (the STS reader). Opening the path a second time would work for regular files only: a
 * pipe or FIFO (`<(zcat x.gz)`, /dev/fd/63) or stdin would give its bytes to the first reader and
 * nothing to the second. So the input is read once, and the bytes looked at are replayed.
 */
import {fileError, replayStream, type InputStream} from './open-input.js';

export interface PeekedInput {
  /** The same input, replaying the peeked bytes first. Closing it closes the original. */
  input: InputStream;
  /**
   * The first non-empty line (without its line break or a byte-order mark), decoded leniently: it
   * only guides format detection, and the reader that follows decodes the bytes strictly.
   * Undefined for an input with no non-empty line.
   */
  first: string | undefined;
}

export async function peekFirstLine(input: InputStream): Promise<PeekedInput> {
  const iterator = (input.stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const peeked: Buffer[] = [];
  let ended = false;
  let first: string | undefined;
  // The bytes of the line being read; each chunk is scanned once, so a long first line stays linear.
  let lineParts: Buffer[] = [];
  let lineNumber = 0;
  const lineText = (): string => {
    let text = Buffer.concat(lineParts).toString('utf8');
    lineParts = [];
    if (lineNumber++ === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  };
  try {
    while (first === undefined) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        const last = lineText();
        if (last !== '') first = last;
        break;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      peeked.push(chunk);
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1 && first === undefined; nl = chunk.indexOf(0x0a, start)) {
        lineParts.push(chunk.subarray(start, nl));
        const line = lineText();
        if (line !== '') first = line;
        start = nl + 1;
      }
      lineParts.push(chunk.subarray(start));
    }
  } catch (error) {
    await input.close();
    throw fileError(input.file, error);
  }

  const stream = replayStream(peeked, iterator, ended);
  return {
    input: {
      file: input.file,
      stream,
      close: async () => {
        stream.destroy();
        await input.close();
      },
    },
    first,
  };
}
