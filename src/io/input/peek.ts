/**
 * Looks at the start of an input without consuming it, for readers that tell the format from the
 * content (the STS reader). Opening the path a second time would work for regular files only: a
 * pipe or FIFO (`<(zcat x.gz)`, /dev/fd/63) or stdin would give its bytes to the first reader and
 * nothing to the second. So the input is read once, and the bytes looked at are replayed.
 */
import {Readable} from 'node:stream';
import {fileError, type InputStream} from './open-input.js';

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
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        first = firstNonEmptyLine(Buffer.concat(peeked).toString('utf8'), true);
        break;
      }
      peeked.push(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
      first = firstNonEmptyLine(Buffer.concat(peeked).toString('utf8'), false);
      if (first !== undefined) break;
    }
  } catch (error) {
    await input.close();
    throw fileError(input.file, error);
  }

  async function* replay(): AsyncGenerator<Buffer> {
    yield* peeked;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  const stream = Readable.from(replay(), {objectMode: false});
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

/** The first non-empty line of `text`; a last line without a break counts only at the end of the input. */
function firstNonEmptyLine(text: string, atEnd: boolean): string | undefined {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const complete = atEnd ? lines : lines.slice(0, -1);
  for (const line of complete) {
    const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (bare !== '') return bare;
  }
  return undefined;
}
