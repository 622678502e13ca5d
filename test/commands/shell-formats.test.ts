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

describe('--delimiter', () => {
  test("a ';' CSV: encode reads its columns, dedupe copies its rows byte for byte", async () => {
    const dir = await tempDir();
    const csv = join(dir, 'export.csv');
    await writeFile(csv, 'id;text;price\n1;"Tea; green";3,50\n2;tea;  GREEN;4\n3;coffee;2\n');
    // Without --delimiter the header is one column named 'id;text;price'.
    const plain = await runCli(['dedupe', csv, '--exact-only', '--quiet']);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /column 'text' not found.*columns are id;text;price/);
    const r = await runCli(['dedupe', csv, '--delimiter', ';', '--exact-only', '--quiet', '--id-column', 'id', '--duplicates', join(dir, 'map.csv'), '-o', join(dir, 'kept.csv')]);
    // Row 2 is one field too many (an unquoted ';'): one line naming the line.
    assert.equal(r.code, 2);
    assert.match(r.stderr, /export\.csv:3: row has 4 fields, expected 3/);
    await writeFile(csv, 'id;text;price\n1;"Tea; green";3,50\n2;"tea;  GREEN";4\n3;coffee;2\n');
    const ok = await runCli(['dedupe', csv, '--delimiter', ';', '--exact-only', '--quiet', '--id-column', 'id', '--duplicates', join(dir, 'map.csv'), '-o', join(dir, 'kept.csv')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readFileSync(join(dir, 'kept.csv'), 'utf8'), 'id;text;price\n1;"Tea; green";3,50\n3;coffee;2\n');
    assert.equal(readFileSync(join(dir, 'map.csv'), 'utf8'), 'removed_id,kept_id,score,reason\n2,1,1,exact\n');
    const enc = await runCli(['encode', csv, '--delimiter', ';', '--id-column', 'id', '--keep-columns', 'price', '-o', join(dir, 'v.jsonl'), '--quiet']);
    assert.equal(enc.code, 0, enc.stderr);
    const rows = readFileSync(join(dir, 'v.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {id: string; price: string});
    assert.deepEqual(rows.map((row) => [row.id, row.price]), [['1', '3,50'], ['2', '4'], ['3', '2']]);
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
