/**
 * LinePicker, the scan behind copyLines, at every chunking: random inputs (CR, CRLF, invalid UTF-8, a
 * byte-order mark, a last line without '\n') and random spans, checked against the lines picked here
 * from a plain split of the whole input.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SbertkitError} from '../../../src/errors.js';
import {LinePicker, type LineSpans} from '../../../src/io/text/line-picker.js';
import {mulberry32} from '../../helpers/prng.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The input's lines with their '\n' (the last one may lack it). */
function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

/** Lines 1..header and each span's lines, in order, and the BOM first when line 1 is left out. */
function expectedCopy(bytes: Buffer, spans: LineSpans): {bytes: Buffer; lines: number} {
  const wanted = new Set<number>();
  for (let line = 1; line <= spans.headerEndLine; line++) wanted.add(line);
  spans.starts.forEach((start, k) => {
    for (let line = start; line <= spans.ends[k]!; line++) wanted.add(line);
  });
  const picked = splitLines(bytes).filter((_, i) => wanted.has(i + 1));
  const bom = bytes.subarray(0, 3).equals(BOM) && !wanted.has(1);
  return {bytes: Buffer.concat([bom ? BOM : Buffer.alloc(0), ...picked]), lines: picked.length};
}

/** Feeds `bytes` in chunks of the given sizes (cycled), taking the output at random moments. */
function pick(bytes: Buffer, spans: LineSpans, chunkSizes: number[], random: () => number): {bytes: Buffer; lines: number} {
  const picker = new LinePicker(spans);
  const out: Buffer[] = [];
  let k = 0;
  for (let pos = 0; pos < bytes.length && !picker.done; ) {
    const size = chunkSizes[k++ % chunkSizes.length]!;
    // A copy, so a view of the caller's buffer could not hide a bug that keeps stale bytes.
    picker.push(Buffer.from(bytes.subarray(pos, pos + size)));
    pos += size;
    if (random() < 0.3) out.push(picker.take());
  }
  if (!picker.done) picker.finish('in.txt');
  out.push(picker.take());
  return {bytes: Buffer.concat(out), lines: picker.lines};
}

const spansOf = (headerEndLine: number, spans: Array<[number, number]>): LineSpans => ({
  headerEndLine,
  starts: Int32Array.from(spans.map(([start]) => start)),
  ends: Int32Array.from(spans.map(([, end]) => end)),
});

describe('LinePicker', () => {
  it('picks the header lines and the spans, bytes untouched, at every chunking', () => {
    const random = mulberry32(20240611);
    const pieces = ['', 'a', 'id,text', '"q""x"', '\r', 'é', '你好', '\t', ' '];
    const invalid = [Buffer.from([0xff]), Buffer.from([0xe9]), Buffer.from([0xe4, 0xbd])];
    for (let trial = 0; trial < 400; trial++) {
      const lineCount = Math.floor(random() * 9);
      const parts: Buffer[] = [];
      if (random() < 0.3) parts.push(BOM);
      for (let i = 0; i < lineCount; i++) {
        for (let j = Math.floor(random() * 3); j > 0; j--) {
          parts.push(random() < 0.15 ? invalid[Math.floor(random() * invalid.length)]! : Buffer.from(pieces[Math.floor(random() * pieces.length)]!));
        }
        const last = i === lineCount - 1;
        parts.push(Buffer.from(last && random() < 0.4 ? '' : random() < 0.3 ? '\r\n' : '\n'));
      }
      const bytes = Buffer.concat(parts);
      const lines = splitLines(bytes).length;
      // Random spans within the input's lines: a header, then runs of kept and skipped lines.
      const headerEndLine = Math.min(lines, Math.floor(random() * 3));
      const spans: Array<[number, number]> = [];
      for (let line = headerEndLine + 1; line <= lines; ) {
        const length = 1 + Math.floor(random() * 3);
        if (random() < 0.5) spans.push([line, Math.min(lines, line + length - 1)]);
        line += length;
      }
      const lineSpans = spansOf(headerEndLine, spans);
      const expected = expectedCopy(bytes, lineSpans);
      for (const chunks of [[bytes.length || 1], [1], [2], [3], [1 + Math.floor(random() * 7), 1 + Math.floor(random() * 7)]]) {
        const got = pick(bytes, lineSpans, chunks, random);
        const what = `${JSON.stringify(bytes.toString('latin1'))} header ${headerEndLine} spans ${JSON.stringify(spans)} chunks ${String(chunks)}`;
        assert.deepEqual(got.bytes, expected.bytes, what);
        assert.equal(got.lines, expected.lines, what);
      }
    }
  });

  it('writes the byte-order mark alone when nothing else is kept', () => {
    const bytes = Buffer.concat([BOM, Buffer.from('a\nb\n')]);
    assert.deepEqual(pick(bytes, spansOf(0, []), [1], () => 0).bytes, BOM);
    assert.deepEqual(pick(bytes, spansOf(0, [[2, 2]]), [2], () => 0).bytes, Buffer.concat([BOM, Buffer.from('b\n')]));
    assert.deepEqual(pick(Buffer.from([0xef, 0xbb]), spansOf(0, []), [1], () => 0).bytes, Buffer.alloc(0));
  });

  it('fails when the input has fewer lines than the spans need', () => {
    for (const [text, spans, message] of [
      ['a\nb\n', spansOf(0, [[2, 3]]), 'in.txt: has 2 lines, but line 3 was to be copied; did it change while it was read?'],
      ['a\nb', spansOf(0, [[4, 4]]), 'in.txt: has 2 lines, but line 4 was to be copied; did it change while it was read?'],
      ['', spansOf(1, []), 'in.txt: has 0 lines, but line 1 was to be copied; did it change while it was read?'],
    ] as const) {
      assert.throws(
        () => pick(Buffer.from(text), spans, [1], () => 0),
        (error: unknown) => error instanceof SbertkitError && error.toLine() === message,
      );
    }
  });

  it('refuses spans out of order, overlapping, inside the header, or inverted', () => {
    for (const spans of [spansOf(0, [[3, 3], [2, 2]]), spansOf(0, [[2, 4], [4, 5]]), spansOf(2, [[2, 3]]), spansOf(0, [[3, 2]]), spansOf(0, [[0, 1]]), spansOf(-1, [])]) {
      assert.throws(() => new LinePicker(spans), RangeError);
    }
    assert.throws(() => new LinePicker({headerEndLine: 0, starts: Int32Array.of(1), ends: new Int32Array(0)}), RangeError);
  });
});
