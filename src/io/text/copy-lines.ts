/**
 * Copies chosen lines of a text input verbatim: the header's lines, then the lines of each row a
 * command keeps (dedupe), from the spans the readers report (Row.line..Row.endLine). The output is
 * the input's own bytes - quoting, CRLF, extra columns, bytes that were not UTF-8 and were read as
 * U+FFFD - less the lines of the rows left out (and blank lines outside any kept row).
 *
 * Lines are split on '\n' in the raw bytes, which numbers them as the readers do: decoding never adds
 * or removes a '\n' (it is one byte in UTF-8 and never part of a longer sequence; U+FFFD replaces
 * only invalid sequences), and CSV's CRLF -> LF keeps one '\n' per line break. Nothing is decoded:
 * the pass is a scan for '\n' with Buffer#indexOf and writes of about 1 MiB, so memory stays bounded
 * and a multi-GB input costs little more than reading it.
 */
import {fileError, openInput} from '../input/open-input.js';
import {openOutput, type OpenOutputOptions, type OutputSink} from '../output/atomic-output.js';
import {LinePicker, type LineSpans} from './line-picker.js';

export type {LineSpans} from './line-picker.js';

export interface CopyLinesResult {
  /** Lines written; a last line without '\n' counts. */
  lines: number;
  /** Bytes written, a byte-order mark included. */
  bytes: number;
  /** True when stdout's reader went away before everything was written (not an error: `| head`). */
  stoppedEarly: boolean;
}

/** Written once this much is gathered: few awaits per MiB whatever the lines' length. */
const FLUSH_BYTES = 1 << 20;

/**
 * Copies lines 1..spans.headerEndLine and every span of `spans` from `path` (decompressed if it ends
 * in .gz) to `output` ('-' for stdout), atomically: a failure leaves no output file. `path` must be
 * readable again after the pass that produced the spans (input/replayable.ts); `file` names it in
 * messages. Fails (no output file; on stdout, what was written stays) when the input has fewer
 * lines than the spans need: it changed between the passes.
 */
export async function copyLines(path: string, file: string, spans: LineSpans, output: string, options: OpenOutputOptions = {}): Promise<CopyLinesResult> {
  // Checked before anything is opened: bad spans are a bug, and must not leave an output behind.
  const picker = new LinePicker(spans);
  const input = await openInput(path, undefined, file);
  let sink: OutputSink;
  try {
    sink = await openOutput(output, options);
  } catch (error) {
    await input.close();
    throw error;
  }
  let bytes = 0;
  const flush = async (): Promise<void> => {
    const chunk = picker.take();
    if (chunk.length === 0) return;
    await sink.write(chunk);
    bytes += chunk.length;
  };
  try {
    const chunks = (input.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let ended = false;
    // Reading stops as soon as nothing more is to be copied: kept rows near the top of a big file
    // do not cost a read of the rest.
    while (!picker.done && !sink.closed) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw fileError(file, error);
      }
      if (next.done) {
        ended = true;
        break;
      }
      picker.push(next.value);
      if (picker.pendingBytes >= FLUSH_BYTES) await flush();
    }
    if (ended) picker.finish(file);
    await flush();
    await sink.commit();
    return {lines: picker.lines, bytes, stoppedEarly: sink.closed};
  } catch (error) {
    await sink.abort();
    throw error;
  } finally {
    await input.close();
  }
}
