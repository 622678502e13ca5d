/**
 * replayableInput: an input read twice gives the same rows both times, from a file, stdin or a FIFO,
 * and every message names the input the user gave (the `label` of openRows), never a temp copy.
 */
import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import {SbertkitError} from '../../../src/errors.js';
import {replayableInput} from '../../../src/io/input/replayable.js';
import {openRows} from '../../../src/io/text/read-rows.js';
import {openTexts} from '../../../src/io/text/read-texts.js';
import {collect, fakeStdin, tempDir, tempFile} from '../../helpers/tmp.js';

const CSV = 'id,text\n1,"two\nlines"\n2,b,c\n';

/** The one-line message of a failing action. */
async function messageOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof SbertkitError, `expected SbertkitError, got ${String(error)}`);
    return error.toLine();
  }
  assert.fail('expected a failure');
}

/** Spools go to os.tmpdir(): a folder of our own shows what is left behind. */
async function privateTmpdir(): Promise<string> {
  const dir = join(await tempDir(), 'tmp');
  await mkdir(dir);
  process.env.TMPDIR = dir;
  return dir;
}

describe('replayableInput', () => {
  it('is the file itself for a regular file', async () => {
    const path = await tempFile('a.txt', 'x\ny\n');
    const input = await replayableInput(path);
    assert.equal(input.path, path);
    assert.equal(input.file, path);
    for (let pass = 0; pass < 2; pass++) {
      assert.deepEqual((await collect((await openTexts(input.path, {label: input.file})).records)).map((r) => r.text), ['x', 'y']);
    }
    await input.cleanup();
    assert.equal(await readFile(path, 'utf8'), 'x\ny\n');
  });

  it('copies stdin to a temp file read as often as needed, named <stdin> in messages, removed by cleanup', async () => {
    const tmp = await privateTmpdir();
    const bytes = Buffer.from('\ufeff' + CSV, 'utf8');
    const input = await replayableInput('-', fakeStdin(bytes, 5));
    assert.equal(input.file, '<stdin>');
    assert.notEqual(input.path, '-');
    assert.deepEqual(await readFile(input.path), bytes);
    for (let pass = 0; pass < 2; pass++) {
      const source = await openRows(input.path, {format: 'csv', label: input.file});
      assert.equal(source.file, '<stdin>');
      assert.equal(await messageOf(() => collect(source.rows)), '<stdin>:4: row has 3 fields, expected 2');
    }
    // The copy has no suffix: like stdin itself, it needs a format.
    assert.equal(
      await messageOf(() => openRows(input.path, {label: input.file})),
      '<stdin>: cannot tell the text format from the name; pass --input-format (csv, tsv, jsonl, txt)',
    );
    await input.cleanup();
    await input.cleanup();
    assert.equal(existsSync(input.path), false);
    assert.deepEqual(await readdir(tmp), []);
  });

  it('fails as one line naming <stdin> when stdin fails, and leaves no temp file', async () => {
    const tmp = await privateTmpdir();
    const failing = new Readable({
      read() {
        this.destroy(new Error('read EIO'));
      },
    });
    assert.equal(await messageOf(() => replayableInput('-', failing)), '<stdin>: cannot buffer the input: read EIO');
    assert.deepEqual(await readdir(tmp), []);
  });

  it('copies a FIFO, keeping its name for messages and its suffix for format and gzip detection', async () => {
    const dir = await tempDir();
    const source = join(dir, 'source.gz');
    const fifo = join(dir, 'data.csv.gz');
    await writeFile(source, gzipSync(CSV));
    execFileSync('mkfifo', [fifo]);
    const feeder = spawn('sh', ['-c', `cat '${source}' > '${fifo}'`], {stdio: 'ignore'});
    try {
      const input = await replayableInput(fifo);
      assert.equal(input.file, fifo);
      assert.notEqual(input.path, fifo);
      for (let pass = 0; pass < 2; pass++) {
        const texts = await openTexts(input.path, {label: input.file});
        assert.equal(texts.file, fifo);
        assert.equal(texts.format, 'csv');
        const records = texts.records[Symbol.asyncIterator]();
        assert.deepEqual((await records.next()).value, {id: 0, text: 'two\nlines', fields: {}, line: 2, endLine: 3});
        assert.equal(await messageOf(() => records.next()), `${fifo}:4: row has 3 fields, expected 2`);
      }
      await input.cleanup();
      assert.equal(existsSync(input.path), false);
    } finally {
      feeder.kill();
    }
  });
});

describe('openRows/openTexts: label', () => {
  it('names the input by its label in open, format and parse errors', async () => {
    assert.equal(await messageOf(() => openRows('/nonexistent/dir/copy.csv', {label: 'orig.csv'})), 'orig.csv: no such file');
    const unnamed = await tempFile('copy', 'x');
    assert.equal(await messageOf(() => openTexts(unnamed, {label: 'orig'})), 'orig: cannot tell the text format from the name; pass --input-format (csv, tsv, jsonl, txt)');
    const path = await tempFile('copy.csv', CSV);
    assert.equal(await messageOf(() => openTexts(path, {label: 'orig.csv', textColumn: 'body'})), "orig.csv:1: column 'body' not found (--text-column); columns are id, text");
    const invalid = await tempFile('copy.txt', Buffer.from('ok\ncaf\xe9\n', 'latin1'));
    assert.match(await messageOf(async () => collect((await openRows(invalid, {label: 'orig.txt'})).rows)), /^orig\.txt:2: invalid UTF-8 \(byte 0xE9 at byte offset 6\)/);
  });
});
