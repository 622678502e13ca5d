/**
 * Strict, streaming UTF-8 decoding for every text input. StringDecoder and Buffer#toString turn
 * invalid bytes (a Latin-1 file, a binary file) into U+FFFD without a word, so texts were embedded
 * with holes in them. This decoder fails on the first invalid byte with its line and byte offset,
 * or, with policy 'replace', substitutes U+FFFD and counts the lines it touched so a summary can say
 * so. It also recognizes inputs that are not UTF-8 at all (UTF-16, gzip) from their first bytes.
 *
 * Chunks arrive at arbitrary byte boundaries: a multi-byte character cut in two by a chunk boundary
 * is carried over to the next chunk, so it is neither reported nor replaced.
 */
import {isUtf8} from 'node:buffer';
import {SbertkitError} from '../../errors.js';

/** What to do with bytes that are not valid UTF-8: fail (default) or substitute U+FFFD. */
export type InvalidUtf8Policy = 'error' | 'replace';
export const INVALID_UTF8_POLICIES: readonly InvalidUtf8Policy[] = ['error', 'replace'];

const NEWLINE = 0x0a;

export class Utf8Decoder {
  /** Lines (1-based physical) holding at least one replaced sequence; always 0 with policy 'error'. */
  invalidLines = 0;
  private head: Buffer | undefined = Buffer.alloc(0);
  /** The start of a character whose remaining bytes are in the next chunk. */
  private carry: Buffer = Buffer.alloc(0);
  /** Byte offset in the input of the next byte to decode (after `carry`). */
  private offset = 0;
  /** Newlines decoded so far: the line of the next byte is this + 1. */
  private newlines = 0;
  private lastInvalidLine = 0;

  constructor(
    private readonly file: string,
    private readonly policy: InvalidUtf8Policy = 'error',
  ) {}

  /** Decodes one chunk; the returned text ends at a character boundary. Throws SbertkitError. */
  write(chunk: Buffer | Uint8Array | string): string {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.head !== undefined) {
      this.head = Buffer.concat([this.head, bytes]);
      if (!headIsComplete(this.head)) return '';
      bytes = this.startWith(this.head);
    }
    const data = this.carry.length === 0 ? bytes : Buffer.concat([this.carry, bytes]);
    const cut = incompleteTail(data);
    this.carry = Buffer.from(data.subarray(cut));
    return this.decode(data.subarray(0, cut));
  }

  /** Decodes what is left; an incomplete character at the end of the input is invalid. */
  end(): string {
    let text = '';
    if (this.head !== undefined) text = this.decode(this.startWith(this.head));
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return text + this.decode(rest);
  }

  /** Checks the first bytes for encodings that are not UTF-8, and drops a UTF-8 byte-order mark. */
  private startWith(head: Buffer): Buffer {
    this.head = undefined;
    const notUtf8 = (what: string, convert: string): SbertkitError =>
      new SbertkitError(`${what}, not UTF-8; ${convert}`, {file: this.file, line: 1});
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
      throw notUtf8('looks like UTF-16 (it starts with a UTF-16 byte-order mark)', 'convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8');
    }
    // ASCII text in UTF-16 (or UTF-32) without a byte-order mark has a NUL next to every character;
    // no text file starts with one.
    if (head.length >= 2 && (head[0] === 0 || head[1] === 0)) {
      throw notUtf8('looks like UTF-16 (NUL bytes among its first characters)', 'convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8');
    }
    if (head[0] === 0x1f && head[1] === 0x8b) {
      throw notUtf8('is gzip-compressed data', 'name it with a .gz extension or decompress it first (gunzip)');
    }
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
      this.offset = 3;
      return head.subarray(3);
    }
    return head;
  }

  private decode(bytes: Buffer): string {
    if (bytes.length === 0) return '';
    const lineAtStart = this.newlines + 1;
    const valid = isUtf8(bytes);
    if (!valid) {
      if (this.policy === 'error') throw this.invalidError(bytes);
      this.countInvalidLines(bytes, lineAtStart);
    }
    this.newlines += countNewlines(bytes, 0, bytes.length);
    this.offset += bytes.length;
    // Buffer#toString substitutes U+FFFD for each maximal invalid subpart, as TextDecoder does.
    return bytes.toString('utf8');
  }

  private invalidError(bytes: Buffer): SbertkitError {
    const at = Math.min(firstInvalid(bytes), bytes.length - 1);
    const line = this.newlines + 1 + countNewlines(bytes, 0, at);
    const byte = bytes[at]!.toString(16).toUpperCase().padStart(2, '0');
    return new SbertkitError(
      `invalid UTF-8 (byte 0x${byte} at byte offset ${this.offset + at}); convert the file to UTF-8 (e.g. iconv -f latin1 -t UTF-8) or pass --on-invalid-utf8 replace`,
      {file: this.file, line},
    );
  }

  /** Counts the lines of `bytes` that are not valid on their own ('\n' never occurs inside a character). */
  private countInvalidLines(bytes: Buffer, lineAtStart: number): void {
    let line = lineAtStart;
    let start = 0;
    while (start <= bytes.length) {
      const nl = bytes.indexOf(NEWLINE, start);
      const end = nl === -1 ? bytes.length : nl;
      // A line cut by a chunk boundary is seen twice: count it once.
      if (end > start && !isUtf8(bytes.subarray(start, end)) && line !== this.lastInvalidLine) {
        this.invalidLines++;
        this.lastInvalidLine = line;
      }
      if (nl === -1) break;
      start = nl + 1;
      line++;
    }
  }
}

/**
 * True once the first bytes tell UTF-16, gzip or a UTF-8 byte-order mark apart: 2 bytes, 3 after
 * EF BB. Held back no longer, so a line typed on a terminal is not delayed.
 */
function headIsComplete(head: Buffer): boolean {
  if (head.length >= 3) return true;
  return head.length === 2 && !(head[0] === 0xef && head[1] === 0xbb);
}

function countNewlines(bytes: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE, start); i !== -1 && i < end; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** Length of a sequence from its lead byte; 0 for bytes that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Where a character that the chunk does not complete starts (bytes.length when none): a lead byte
 * in the last three bytes with fewer bytes after it than its sequence needs.
 */
function incompleteTail(bytes: Buffer): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 3; i--) {
    const b = bytes[i]!;
    if (b >= 0x80 && b < 0xc0) continue; // continuation byte: look further back for its lead
    const need = sequenceLength(b);
    return need > bytes.length - i ? i : bytes.length;
  }
  return bytes.length;
}

/** Index of the first byte of the first ill-formed sequence (Unicode table 3-7); bytes is known invalid. */
function firstInvalid(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = sequenceLength(b);
    if (need === 0) return i;
    if (need > 1) {
      // The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF).
      const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
      if (i + need > bytes.length) return i;
      const second = bytes[i + 1]!;
      if (second < lo || second > hi) return i;
      for (let k = 2; k < need; k++) {
        const c = bytes[i + k]!;
        if (c < 0x80 || c > 0xbf) return i;
      }
    }
    i += need;
  }
  return bytes.length;
}
