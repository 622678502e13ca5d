/**
 * Issue 13's format points through the real binary: gzip in by its magic bytes (stdin, a misnamed
 * file), gzip out for the text formats (checked by node's own zlib, not ours), Parquet/Arrow .gz
 * refused, and the hint when a table piped to stdin was read as txt.
 */
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {gunzipSync, gzipSync} from 'node:zlib';
import {runShell, runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';

describe('gzip', () => {
  test('gzipped stdin and a gzipped file without .gz are read by their magic bytes', async () => {
    const dir = await tempDir();
    const gz = join(dir, 'lines.gz');
    await writeFile(gz, gzipSync('b\na\nB\n'));
    const piped = await runShell(`$SBERTKIT dedupe --exact-only --quiet < ${gz}`);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'b\na\n');
    const misnamed = join(dir, 'table.csv');
    await writeFile(misnamed, gzipSync('id,text\n1,x\n2,X\n'));
    const r = await runCli(['dedupe', misnamed, '--exact-only', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'id,text\n1,x\n');
  });

  test('-o x.jsonl.gz and x.csv.gz write gzip that zlib reads back; the uncompressed bytes equal a plain run', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, 'id,text\n1,"a, b"\n2,"A,  B"\n3,c\n');
    const plain = await runCli(['dedupe', input, '--exact-only', '--quiet', '-o', join(dir, 'plain-kept.csv'), '--duplicates', join(dir, 'plain-map.jsonl')]);
    assert.equal(plain.code, 0, plain.stderr);
    const r = await runCli(['dedupe', input, '--exact-only', '--quiet', '-o', join(dir, 'kept.csv.gz'), '--duplicates', join(dir, 'map.jsonl.gz')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gunzipSync(readFileSync(join(dir, 'kept.csv.gz'))).toString(), readFileSync(join(dir, 'plain-kept.csv'), 'utf8'));
    assert.equal(gunzipSync(readFileSync(join(dir, 'map.jsonl.gz'))).toString(), readFileSync(join(dir, 'plain-map.jsonl'), 'utf8'));
    assert.equal(readFileSync(join(dir, 'plain-kept.csv'), 'utf8'), 'id,text\n1,"a, b"\n3,c\n');
  });

  test('Parquet with .gz is refused in one line, exit 2, no file', async () => {
    const dir = await tempDir();
    const out = join(dir, 'v.parquet.gz');
    const r = await runCli(['encode', 'examples/sentences.txt', '-o', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /compress their own columns; drop the \.gz/);
    assert.ok(!existsSync(out));
  });
});

describe('stdin read as txt', () => {
  test('a missing column says stdin was read as txt and how to change it', async () => {
    const r = await runCli(['encode', '--text-column', 'question', '-o', join(await tempDir(), 'v.parquet')], {stdin: 'id,question\n1,hi\n'});
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /<stdin>:1: column 'question' not found \(--text-column\); <stdin> was read as txt .*--input-format csv, tsv or jsonl/);
  });
});
