/**
 * The scan behind copyLines (copy-lines.ts), apart from any I/O so it can be tested at every chunking:
 * fed the input's bytes chunk by chunk, it gathers the bytes of the lines to copy - lines
 * 1..headerEndLine and each kept row's span - split on '\n' as the readers number lines.
 */
import {SbertkitError} from '../../errors.js';

export interface LineSpans {
  /** Lines 1..headerEndLine are copied first (RowSource.headerEndLine; 0 for none). */
  headerEndLine: number;
  /** First line of each kept row (1-based), increasing; rows do not overlap and come after the header. */
  starts: Int32Array;
  /** Last line of each kept row (Row.endLine), same length as `starts`. */
  ends: Int32Array;
}

const NEWLINE = 0x0a;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Spans out of order would silently copy the wrong lines: a caller's bug, so a plain Error. */
function checkSpans({headerEndLine, starts, ends}: LineSpans): void {
  if (!Number.isInteger(headerEndLine) || headerEndLine < 0) throw new RangeError(`LineSpans: headerEndLine must be an integer >= 0, got ${headerEndLine}`);
  if (starts.length !== ends.length) throw new RangeError(`LineSpans: ${starts.length} starts but ${ends.length} ends`);
  let previous = headerEndLine;
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k]!;
    const end = ends[k]!;
    if (start <= previous || end < start) {
      throw new RangeError(`LineSpans: span ${k} (lines ${start}-${end}) must start after line ${previous} and not end before it starts`);
    }
    previous = end;
  }
}

/**
 * The scan: which bytes of each chunk belong to lines to copy. Holds the pieces to write until
 * take(): a whole chunk as it is (a stream never reuses a chunk once pushed), parts of one as a copy,
 * since a view would keep all of its chunk alive (a few kept rows per MiB would hold on to the file).
 */
export class LinePicker {
  /** Lines copied so far. */
  lines = 0;
  pendingBytes = 0;
  private pieces: Buffer[] = [];
  /** 1-based line of the next byte to scan. */
  private line = 1;
  /** The current range of lines to copy, inclusive; start is Infinity when none is left. */
  private start = Infinity;
  private end = 0;
  private next = 0;
  /** The last byte scanned was not '\n': the input may end inside line `line`. */
  private midLine = false;
  /**
   * The file's first bytes, while they may still be a byte-order mark that has to be written though
   * line 1 is not copied; undefined once settled (or when line 1 is copied, BOM and all).
   */
  private head: Buffer | undefined;

  constructor(private readonly spans: LineSpans) {
    checkSpans(spans);
    if (spans.headerEndLine > 0) this.setRange(1, spans.headerEndLine);
    else this.advance();
    if (this.start !== 1) this.head = Buffer.alloc(0);
  }

  /** Nothing left to copy and nothing left to learn from the input. */
  get done(): boolean {
    return this.start === Infinity && this.head === undefined;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    const firstPiece = this.pieces.length;
    if (this.head !== undefined) this.checkBom(chunk);
    let pos = 0;
    while (pos < n && this.start !== Infinity) {
      if (this.line < this.start) {
        // Skipping: to the byte after the next '\n'.
        const nl = chunk.indexOf(NEWLINE, pos);
        if (nl === -1) pos = n;
        else {
          pos = nl + 1;
          this.line++;
        }
        continue;
      }
      // Copying: whole lines up to the end of the range, or to the end of the chunk.
      const from = pos;
      while (this.line <= this.end) {
        const nl = chunk.indexOf(NEWLINE, pos);
        if (nl === -1) {
          pos = n;
          break;
        }
        pos = nl + 1;
        this.line++;
        this.lines++;
      }
      this.pieces.push(chunk.subarray(from, pos));
      this.pendingBytes += pos - from;
      if (this.line > this.end) this.advance();
    }
    this.midLine = chunk[n - 1] !== NEWLINE;
    const added = this.pieces.length - firstPiece;
    if (added > 1 || (added === 1 && this.pieces[firstPiece]!.length !== n)) {
      this.pieces.push(Buffer.concat(this.pieces.splice(firstPiece)));
    }
  }

  /** At the end of the input: counts a last line without '\n', and fails if a span lies beyond it. */
  finish(file: string): void {
    if (this.head !== undefined) this.settleHead(false);
    const lastLine = this.midLine ? this.line : this.line - 1;
    if (this.midLine && this.line >= this.start) {
      // Its bytes are already among the pieces; only the count and the range move on.
      this.lines++;
      this.line++;
      if (this.line > this.end) this.advance();
    }
    if (this.start !== Infinity) {
      throw new SbertkitError(`has ${lastLine} lines, but line ${Math.max(this.start, lastLine + 1)} was to be copied; did it change while it was read?`, {file});
    }
  }

  /** The pieces gathered since the last take, as one buffer. */
  take(): Buffer {
    const chunk = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pendingBytes);
    this.pieces = [];
    this.pendingBytes = 0;
    return chunk;
  }

  /** The next range: the next span, merged with the spans right after it (fewer, longer pieces). */
  private advance(): void {
    const {starts, ends} = this.spans;
    if (this.next >= starts.length) {
      this.start = Infinity;
      this.end = 0;
      return;
    }
    this.setRange(starts[this.next]!, ends[this.next]!);
    this.next++;
  }

  private setRange(start: number, end: number): void {
    const {starts, ends} = this.spans;
    this.start = start;
    this.end = end;
    while (this.next < starts.length && starts[this.next] === this.end + 1) this.end = ends[this.next++]!;
  }

  /**
   * A UTF-8 byte-order mark belongs to the file, not to line 1: it is written even when line 1 is
   * not. Line 1 then holds at least its 3 bytes, so nothing has been gathered before it is known.
   */
  private checkBom(chunk: Buffer): void {
    this.head = Buffer.concat([this.head!, chunk.subarray(0, 3 - this.head!.length)]);
    if (this.head.length === 3) this.settleHead(this.head.equals(BOM));
  }

  private settleHead(isBom: boolean): void {
    this.head = undefined;
    if (!isBom) return;
    this.pieces.push(BOM);
    this.pendingBytes += BOM.length;
  }
}
