/**
 * An encoder's TextOverflowError (--on-overflow error) names a record; the pipeline that read the
 * record knows its file and line, and the user needs the flag that lets the text through.
 */
import {TextOverflowError} from '../encoder/overflow-error.js';

export const OVERFLOW_HINT = '(--on-overflow truncate|chunk)';

/**
 * `error` located at `file` and the record's line (its `line`, or what `lineOf` finds for it) with the
 * flag hint; anything else unchanged. For `catch (error) { throw locateOverflow(error, file); }`.
 */
export function locateOverflow(error: unknown, file?: string, lineOf: (record: unknown) => number | undefined = recordLine): unknown {
  if (!(error instanceof TextOverflowError) || error.message.endsWith(OVERFLOW_HINT)) return error;
  return new TextOverflowError(error.tokens, error.maxSeqLength, error.index, error.record, {
    file: file ?? error.file,
    line: lineOf(error.record),
    hint: OVERFLOW_HINT,
  });
}

function recordLine(record: unknown): number | undefined {
  const line = (record as {line?: unknown} | undefined)?.line;
  return typeof line === 'number' ? line : undefined;
}
