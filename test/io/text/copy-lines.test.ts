/**
 * copyLines end to end, as dedupe will use it: read an input with openTexts, keep some rows, copy
 * their lines. Each input is built here from pieces whose source lines the test knows, so the
 * expected output (header pieces + kept rows' pieces) and the rows' line spans are computed from the
 * pieces, not by the code under test; reading the output back must give exactly the kept rows.
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import {SbertkitError} from '../../../src/errors.js';
import type {TextFormat} from '../../../src/io/formats.js';
import {replayableInput} from '../../../src/io/input/replayable.js';
import {copyLines, type LineSpans} from '../../../src/io/text/copy-lines.js';
import {openRows, type ReadRowsOptions} from '../../../src/io/text/read-rows.js';
import {openTexts} from '../../../src/io/text/read-texts.js';
import {collect, fakeStdin, listDir, tempDir} from '../../helpers/tmp.js';

/**
 * A run of whole source lines: the header (with any blank lines before it), a row with the fields
 * a reader must find in it, or lines that hold no row (blank lines).
 */
type Piece = {header: string | Buffer} | {row: string | Buffer; fields: Record<string, string>} | {blank: string};

interface Built {
  bytes: Buffer;
  headerBytes: Buffer;
  headerEndLine: number;
  rows: Array<{bytes: Buffer; line: number; endLine: number; fields: Record<string, string>}>;
}

const bytesOf = (text: string | Buffer): Buffer => (typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
const newlines = (bytes: Buffer): number => bytes.filter((b) => b === 0x0a).length;
/** Lines of an input: its newlines, and one more when it ends without one. */
const lineCount = (bytes: Buffer): number => newlines(bytes) + (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? 1 : 0);

/** Concatenates the pieces, numbering each one's lines by the newlines before it. */
function build(pieces: Piece[]): Built {
  const built: Built = {bytes: Buffer.alloc(0), headerBytes: Buffer.alloc(0), headerEndLine: 0, rows: []};
  const parts: Buffer[] = [];
  let line = 1;
  for (const piece of pieces) {
    const bytes = bytesOf('header' in piece ? piece.header : 'row' in piece ? piece.row : piece.blank);
    // A piece that does not end with '\n' is the end of the input, and its last line still counts.
    const endLine = line + newlines(bytes) - (bytes[bytes.length - 1] === 0x0a ? 1 : 0);
    if ('header' in piece) {
      built.headerBytes = Buffer.concat([...parts, bytes]);
      built.headerEndLine = endLine;
    } else if ('row' in piece) built.rows.push({bytes, line, endLine, fields: piece.fields});
    parts.push(bytes);
    line += newlines(bytes);
  }
  built.bytes = Buffer.concat(parts);
  return built;
}

/** What copying the header and the rows at `kept` (indexes) must write: their pieces, in order. */
function expected(built: Built, kept: number[], bom: boolean): Buffer {
  const rows = kept.map((i) => built.rows[i]!.bytes);
  // Without a header, a kept first row carries the BOM in its piece; otherwise it is written alone.
  const firstRowIsLine1 = built.headerEndLine === 0 && kept[0] === 0 && built.rows[0]!.line === 1;
  const lead = bom && built.headerEndLine === 0 && !firstRowIsLine1 ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0);
  return Buffer.concat([lead, built.headerBytes, ...rows]);
}

const spansOf = (headerEndLine: number, rows: Array<{line: number; endLine: number}>): LineSpans => ({
  headerEndLine,
  starts: Int32Array.from(rows.map((row) => row.line)),
  ends: Int32Array.from(rows.map((row) => row.endLine)),
});

/** Every subset of n rows, as index lists (n is small). */
function subsets(n: number): number[][] {
  return Array.from({length: 1 << n}, (_, mask) => Array.from({length: n}, (_, i) => i).filter((i) => mask & (1 << i)));
}

interface Case {
  name: string;
  format: TextFormat;
  pieces: Piece[];
  textColumn?: string;
  options?: ReadRowsOptions;
  /** The input starts with a UTF-8 byte-order mark. */
  bom?: boolean;
}

/**
 * For every subset of rows: the texts pass (openTexts) must report the rows where the test put them,
 * the copy must be the expected bytes, and reading the copy must give the kept rows' fields.
 */
async function checkCase(test: Case, gzip = false): Promise<void> {
  const built = build(test.pieces);
  const dir = await tempDir();
  const input = join(dir, `in.${test.format}${gzip ? '.gz' : ''}`);
  await writeFile(input, gzip ? gzipSync(built.bytes) : built.bytes);
  const source = await openTexts(input, {...test.options, textColumn: test.textColumn ?? 'text'});
  const records = await collect(source.records);
  assert.equal(source.headerEndLine, built.headerEndLine, 'headerEndLine');
  assert.deepEqual(records.map((r) => [r.line, r.endLine]), built.rows.map((r) => [r.line, r.endLine]), 'row spans');

  const output = join(dir, `out.${test.format}`);
  for (const kept of subsets(built.rows.length)) {
    const spans = spansOf(source.headerEndLine, kept.map((i) => records[i]!));
    const result = await copyLines(input, input, spans, output);
    const want = expected(built, kept, test.bom ?? false);
    const got = await readFile(output);
    assert.deepEqual(got, want, `kept ${String(kept)}: ${JSON.stringify(got.toString('latin1'))}`);
    const lines = built.headerEndLine + kept.reduce((n, i) => n + built.rows[i]!.endLine - built.rows[i]!.line + 1, 0);
    assert.deepEqual(result, {lines, bytes: want.length, stoppedEarly: false});
    const reread = await openRows(output, test.options);
    assert.deepEqual((await collect(reread.rows)).map((row) => row.fields), kept.map((i) => built.rows[i]!.fields), `kept ${String(kept)}: fields`);
  }
  assert.deepEqual(await listDir(dir), [`in.${test.format}${gzip ? '.gz' : ''}`, `out.${test.format}`]);
}

const CSV: Case = {
  name: 'CSV with a BOM, quoted fields, LF and CRLF inside quotes, blank lines, extra columns, no final newline',
  format: 'csv',
  bom: true,
  pieces: [
    {header: '\ufeff\r\n\nid,text,lang,score\r\n'},
    {row: '1,"hello, world",en,0.5\r\n', fields: {id: '1', text: 'hello, world', lang: 'en', score: '0.5'}},
    {blank: '\n\r\n'},
    {row: '2,"two\r\nlines with ""quotes""",fr,\r\n', fields: {id: '2', text: 'two\nlines with "quotes"', lang: 'fr', score: ''}},
    {row: '3,"lf\nonly\n\nand a blank line inside",de,1e3\n', fields: {id: '3', text: 'lf\nonly\n\nand a blank line inside', lang: 'de', score: '1e3'}},
    {row: '4,He said "hi",,\n', fields: {id: '4', text: 'He said "hi"', lang: '', score: ''}},
    {row: '5,"last\nrow",x\ry,9', fields: {id: '5', text: 'last\nrow', lang: 'x\ry', score: '9'}},
  ],
};

const CASES: Case[] = [
  CSV,
  {
    name: 'JSONL with a BOM on line 1, blank and whitespace lines, CRLF',
    format: 'jsonl',
    bom: true,
    pieces: [
      {row: '\ufeff{"text":"a","n":1}\n', fields: {text: 'a', n: '1'}},
      {blank: '\n  \t\r\n'},
      {row: '{"text":"b\\nc", "n": 2, "extra": [1, 2]}\r\n', fields: {text: 'b\nc', n: '2', extra: '[1,2]'}},
      {row: '{"text":"\\u00e9t\u00e9"}\n', fields: {text: 'été'}},
      {blank: ' \n'},
      {row: '{"text":"last"}', fields: {text: 'last'}},
    ],
  },
  {
    name: 'plain TSV: bare quotes, empty fields, blank lines before the header and between rows',
    format: 'tsv',
    textColumn: 'sentence1',
    pieces: [
      {header: '\nscore\tsentence1\tsentence2\r\n'},
      {row: '5.0\tHe said "yes".\t"Yes," he said\r\n', fields: {score: '5.0', sentence1: 'He said "yes".', sentence2: '"Yes," he said'}},
      {blank: '\n'},
      {row: '0.5\ta\t\n', fields: {score: '0.5', sentence1: 'a', sentence2: ''}},
      {row: '1\t\t"\n', fields: {score: '1', sentence1: '', sentence2: '"'}},
    ],
  },
  {
    name: 'quoted TSV (quote: true): a field spanning lines',
    format: 'tsv',
    options: {quote: true},
    textColumn: 'b',
    pieces: [
      {header: 'a\tb\n'},
      {row: '"x\ty"\t"two\r\nlines"\n', fields: {a: 'x\ty', b: 'two\nlines'}},
      {row: 'z\tw\n', fields: {a: 'z', b: 'w'}},
    ],
  },
  {
    name: 'txt: empty lines are rows, CRLF kept, no final newline',
    format: 'txt',
    bom: true,
    pieces: [
      {row: '\ufefffirst\r\n', fields: {text: 'first'}},
      {row: '\n', fields: {text: ''}},
      {row: '\r\n', fields: {text: ''}},
      {row: 'third "quoted", with comma\n', fields: {text: 'third "quoted", with comma'}},
      {row: 'last', fields: {text: 'last'}},
    ],
  },
  {
    name: "invalid UTF-8 read with 'replace' is copied as the original bytes",
    format: 'csv',
    options: {onInvalidUtf8: 'replace'},
    pieces: [
      {header: 'id,text\n'},
      {row: Buffer.from('1,caf\xe9\n', 'latin1'), fields: {id: '1', text: 'caf\ufffd'}},
      {row: Buffer.from('2,"na\xefve\nline"\n', 'latin1'), fields: {id: '2', text: 'na\ufffdve\nline'}},
      {row: Buffer.from('3,ok\xff', 'latin1'), fields: {id: '3', text: 'ok\ufffd'}},
    ],
  },
];

describe('copyLines: kept rows, byte for byte', () => {
  for (const test of CASES) {
    it(`${test.name}, every subset of rows`, async () => checkCase(test));
  }

  it('CSV from a .gz input: the copy is the decompressed lines', async () => checkCase(CSV, true));

  it('copies from a spooled stdin, naming <stdin> in messages', async () => {
    const built = build(CSV.pieces);
    const input = await replayableInput('-', fakeStdin(built.bytes, 3));
    try {
      const source = await openTexts(input.path, {format: 'csv', label: input.file});
      const records = await collect(source.records);
      const kept = [1, 4];
      const dir = await tempDir();
      const output = join(dir, 'out.csv');
      await copyLines(input.path, input.file, spansOf(source.headerEndLine, kept.map((i) => records[i]!)), output);
      assert.deepEqual(await readFile(output), expected(built, kept, true));
      // A span beyond the end names stdin, not the temp copy.
      await assert.rejects(
        () => copyLines(input.path, input.file, spansOf(0, [{line: 40, endLine: 40}]), join(dir, 'late.csv')),
        (error: unknown) => error instanceof SbertkitError && error.toLine() === `<stdin>: has ${lineCount(built.bytes)} lines, but line 40 was to be copied; did it change while it was read?`,
      );
      assert.deepEqual(await listDir(dir), ['out.csv']);
    } finally {
      await input.cleanup();
    }
  });

  it('writes to stdout', async () => {
    const built = build(CSV.pieces);
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, built.bytes);
    const records = await collect((await openTexts(input)).records);
    const received: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(Buffer.from(chunk));
        callback();
      },
    });
    const result = await copyLines(input, input, spansOf(built.headerEndLine, [records[2]!]), '-', {stdout});
    assert.deepEqual(Buffer.concat(received), expected(built, [2], true));
    assert.equal(result.stoppedEarly, false);
  });
});

describe('copyLines: large inputs and failures', () => {
  /** A CSV of `rows` rows, every third one with a quoted line break; its rows' spans, counted here. */
  function bigCsv(rows: number): {bytes: Buffer; spans: Array<{line: number; endLine: number}>} {
    const parts = ['id,text\n'];
    const spans: Array<{line: number; endLine: number}> = [];
    let line = 2;
    for (let i = 0; i < rows; i++) {
      const multi = i % 3 === 0;
      parts.push(multi ? `${i},"row ${i} of a big file,\nwith a second line"\n` : `${i},row ${i} of a big file with one line only\n`);
      spans.push({line, endLine: line + (multi ? 1 : 0)});
      line += multi ? 2 : 1;
    }
    return {bytes: Buffer.from(parts.join('')), spans};
  }

  it('copies a few MiB, gzip-compressed, read in many chunks, keeping every other row', async () => {
    const {bytes, spans} = bigCsv(120_000);
    const dir = await tempDir();
    const input = join(dir, 'big.csv.gz');
    await writeFile(input, gzipSync(bytes));
    const kept = spans.filter((_, i) => i % 2 === 0);
    const output = join(dir, 'out.csv');
    const result = await copyLines(input, input, spansOf(1, kept), output);
    const lines = bytes.toString('latin1').split(/(?<=\n)/);
    const want = Buffer.from(['id,text\n', ...kept.flatMap((span) => lines.slice(span.line - 1, span.endLine))].join(''), 'latin1');
    const got = await readFile(output);
    assert.ok(got.equals(want), 'output differs from the expected rows');
    assert.deepEqual(result, {lines: 1 + kept.reduce((n, span) => n + span.endLine - span.line + 1, 0), bytes: want.length, stoppedEarly: false});
  });

  it('a read failure mid-copy (truncated .gz) leaves no output file, and an existing one intact', async () => {
    const {bytes, spans} = bigCsv(150_000);
    const compressed = gzipSync(bytes);
    const dir = await tempDir();
    const input = join(dir, 'cut.csv.gz');
    await writeFile(input, compressed.subarray(0, compressed.length - 100));
    const output = join(dir, 'out.csv');
    await writeFile(output, 'previous\n');
    await assert.rejects(
      () => copyLines(input, input, spansOf(1, spans), output),
      (error: unknown) => error instanceof SbertkitError && error.toLine() === `${input}: not valid gzip (unexpected end of file); a .gz input must be gzip-compressed`,
    );
    assert.deepEqual(await listDir(dir), ['cut.csv.gz', 'out.csv']);
    assert.equal(await readFile(output, 'utf8'), 'previous\n');
    await assert.rejects(() => copyLines(input, input, spansOf(1, spans), join(dir, 'new.csv')), SbertkitError);
    assert.deepEqual(await listDir(dir), ['cut.csv.gz', 'out.csv']);
  });

  it('an input shorter than the spans (changed between the passes) leaves no output file', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, 'id,text\n1,a\n2,"b\nc"\n');
    await assert.rejects(
      () => copyLines(input, input, spansOf(1, [{line: 2, endLine: 2}, {line: 3, endLine: 5}]), join(dir, 'out.csv')),
      (error: unknown) => error instanceof SbertkitError && error.toLine() === `${input}: has 4 lines, but line 5 was to be copied; did it change while it was read?`,
    );
    assert.deepEqual(await listDir(dir), ['in.csv']);
  });

  it('refuses bad spans before opening anything', async () => {
    const dir = await tempDir();
    await assert.rejects(() => copyLines(join(dir, 'missing.csv'), 'missing.csv', spansOf(0, [{line: 2, endLine: 2}, {line: 1, endLine: 1}]), join(dir, 'out.csv')), RangeError);
    assert.deepEqual(await listDir(dir), []);
  });

  it('a missing input is one line naming it, and creates no output', async () => {
    const dir = await tempDir();
    await assert.rejects(
      () => copyLines(join(dir, 'copy.csv'), 'orig.csv', spansOf(1, []), join(dir, 'out.csv')),
      (error: unknown) => error instanceof SbertkitError && error.toLine() === 'orig.csv: no such file',
    );
    assert.deepEqual(await listDir(dir), []);
  });

  it('stops early, without an error, when stdout goes away (EPIPE)', async () => {
    const {bytes, spans} = bigCsv(100_000);
    const dir = await tempDir();
    const input = join(dir, 'big.csv');
    await writeFile(input, bytes);
    let writes = 0;
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        if (++writes === 1) callback();
        else callback(Object.assign(new Error('write EPIPE'), {code: 'EPIPE'}));
      },
    });
    const result = await copyLines(input, input, spansOf(1, spans), '-', {stdout});
    assert.equal(result.stoppedEarly, true);
    assert.ok(result.bytes < bytes.length, `wrote ${result.bytes} of ${bytes.length} bytes`);
  });
});
