/**
 * The strict UTF-8 decoder, checked against the WHATWG TextDecoder (an independent implementation):
 * the same text for valid input at any chunking, the same U+FFFD substitutions with 'replace', and
 * with 'error' the line and byte offset of the first ill-formed sequence that TextDecoder marks.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SbertkitError} from '../../../src/errors.js';
import {Utf8Decoder, type InvalidUtf8Policy} from '../../../src/io/input/utf8.js';
import {mulberry32} from '../../helpers/prng.js';

/** Feeds `bytes` to a decoder in chunks of the given sizes (cycled). */
function decodeChunked(bytes: Uint8Array, sizes: number[], policy: InvalidUtf8Policy = 'error'): {text: string; invalidLines: number} {
  const decoder = new Utf8Decoder('in.txt', policy);
  let text = '';
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const size = sizes[k % sizes.length]!;
    text += decoder.write(bytes.subarray(i, i + size));
    i += size;
  }
  text += decoder.end();
  return {text, invalidLines: decoder.invalidLines};
}

function decodeError(bytes: Uint8Array, sizes: number[]): SbertkitError | undefined {
  try {
    decodeChunked(bytes, sizes);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof SbertkitError, `expected SbertkitError, got ${String(error)}`);
    return error;
  }
}

const whatwg = new TextDecoder('utf-8');
const whatwgFatal = new TextDecoder('utf-8', {fatal: true});

/** Line and byte offset of the first U+FFFD TextDecoder substitutes (the input holds no literal U+FFFD). */
function referenceFirstInvalid(bytes: Uint8Array): {line: number; offset: number} | undefined {
  const text = whatwg.decode(bytes);
  const at = text.indexOf('\ufffd');
  if (at === -1) return undefined;
  const offset = Buffer.byteLength(text.slice(0, at), 'utf8');
  return {offset, line: bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1};
}

function referenceInvalidLines(bytes: Uint8Array): number {
  let count = 0;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        whatwgFatal.decode(bytes.subarray(start, i));
      } catch {
        count++;
      }
      start = i + 1;
    }
  }
  return count;
}

describe('Utf8Decoder', () => {
  it('keeps every multi-byte character whole at every chunk size', () => {
    const text = 'a é — 你好 😀\nçà\r\n𝄞x\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= 8; size++) assert.equal(decodeChunked(bytes, [size]).text, text, `chunk size ${size}`);
  });

  it('drops a UTF-8 byte-order mark, even split across chunks, and keeps offsets in file bytes', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('ab\nc\xe9', 'latin1')]);
    assert.equal(decodeChunked(bytes.subarray(0, 6), [1]).text, 'ab\n');
    const error = decodeError(bytes, [1]);
    assert.equal(error?.toLine(), 'in.txt:2: invalid UTF-8 (byte 0xE9 at byte offset 7); convert the file to UTF-8 (e.g. iconv -f latin1 -t UTF-8) or pass --on-invalid-utf8 replace');
  });

  it('reports an incomplete character at the end of the input', () => {
    const error = decodeError(Buffer.from([0x61, 0x0a, 0x62, 0xe4, 0xbd]), [2]);
    assert.equal(error?.line, 2);
    assert.match(error!.message, /byte 0xE4 at byte offset 3/);
  });

  it('agrees with TextDecoder on random bytes: same text with replace, same first error position', () => {
    const random = mulberry32(20240611);
    // Bytes weighted towards the interesting ranges: ASCII, newlines, continuation bytes, leads.
    const pick = (): number => {
      const r = random();
      if (r < 0.35) return 0x61 + Math.floor(random() * 26);
      if (r < 0.45) return 0x0a;
      if (r < 0.65) return 0x80 + Math.floor(random() * 0x40);
      if (r < 0.9) return 0xc0 + Math.floor(random() * 0x36);
      return Math.floor(random() * 256);
    };
    let invalidSeen = 0;
    for (let trial = 0; trial < 3000; trial++) {
      // A leading 'x' keeps the UTF-16/gzip/BOM checks of the first bytes out of this comparison.
      const bytes = Buffer.from([0x78, ...Array.from({length: 1 + Math.floor(random() * 40)}, pick)]);
      if (bytes.includes(Buffer.from('\ufffd'))) continue;
      const sizes = Array.from({length: 3}, () => 1 + Math.floor(random() * 6));
      const expected = referenceFirstInvalid(bytes);
      const error = decodeError(bytes, sizes);
      const where = `bytes ${bytes.toString('hex')} chunks ${sizes.join(',')}`;
      if (expected === undefined) {
        assert.equal(error, undefined, where);
      } else {
        invalidSeen++;
        assert.ok(error !== undefined, `no error for ${where}`);
        assert.equal(error.line, expected.line, where);
        assert.match(error.message, new RegExp(`at byte offset ${expected.offset}\\)`), where);
        assert.equal(error.toLine().split('\n').length, 1);
      }
      const replaced = decodeChunked(bytes, sizes, 'replace');
      assert.equal(replaced.text, whatwg.decode(bytes), where);
      assert.equal(replaced.invalidLines, referenceInvalidLines(bytes), where);
    }
    assert.ok(invalidSeen > 1000, `only ${invalidSeen} invalid inputs generated`);
  });

  it('refuses UTF-16 (with or without a byte-order mark) and gzip data, whatever the policy', () => {
    const utf16 = 'looks like UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8; convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8';
    const nul = 'looks like UTF-16 (NUL bytes among its first characters), not UTF-8; convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8';
    const cases: Array<[Buffer, string]> = [
      [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('text\n', 'utf16le')]), utf16],
      [Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('text\n', 'utf16le').swap16()]), utf16],
      [Buffer.from('text\nx\n', 'utf16le'), nul],
      [Buffer.from('text\nx\n', 'utf16le').swap16(), nul],
      [Buffer.from([0x1f, 0x8b, 0x08, 0x00]), 'is gzip-compressed data, not UTF-8; name it with a .gz extension or decompress it first (gunzip)'],
    ];
    for (const [bytes, message] of cases) {
      for (const policy of ['error', 'replace'] as const) {
        assert.throws(
          () => decodeChunked(bytes, [1], policy),
          (error: unknown) => error instanceof SbertkitError && error.toLine() === `in.txt:1: ${message}`,
          `${bytes.toString('hex')} ${policy}`,
        );
      }
    }
  });

  it('decodes tiny inputs that end before the first bytes could be checked', () => {
    assert.equal(decodeChunked(Buffer.from('a'), [1]).text, 'a');
    assert.equal(decodeChunked(Buffer.from([0xef, 0xbb]), [1], 'replace').text, whatwg.decode(Buffer.from([0xef, 0xbb])));
    assert.equal(decodeChunked(Buffer.alloc(0), [1]).text, '');
  });
});
