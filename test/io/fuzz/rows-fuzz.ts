/**
 * The fuzz loop shared by the CSV, TSV, JSONL and txt fuzzers: openRows over generated inputs. Of an
 * input that parses, the rows' line spans must also be what copyLines needs: copying a random subset
 * of rows (with LinePicker, in memory) and reading the copy gives exactly those rows.
 */
import assert from 'node:assert/strict';
import {openRows, type ReadRowsOptions} from '../../../src/io/text/read-rows.js';
import {LinePicker} from '../../../src/io/text/line-picker.js';
import type {Row} from '../../../src/io/text/types.js';
import type {TextFormat} from '../../../src/io/formats.js';
import {collect, fakeStdin, tempDir} from '../../helpers/tmp.js';
import {fuzzCase, leftovers, lineCount, openFileCount, privateTmpdir, Rng} from './harness.js';
import {deliver, generateText} from './text-inputs.js';

/** Runs `cases` generated inputs through openRows; returns how many parsed and how many failed. */
export async function fuzzRows(format: TextFormat, seed: number, cases: number): Promise<{parsed: number; failed: number}> {
  const dir = await tempDir();
  const tmp = await privateTmpdir();
  const rng = new Rng(seed);
  const filesBefore = openFileCount();
  let parsed = 0;
  for (let i = 0; i < cases; i++) {
    const delivered = await deliver(rng, generateText(rng, format), dir, `case${i}.${format}`);
    const options: ReadRowsOptions = {
      format: delivered.input === '-' || rng.chance(0.2) ? format : undefined,
      header: rng.chance(0.8),
      quote: format === 'tsv' ? rng.chance(0.5) : undefined,
      onInvalidUtf8: rng.chance(0.5) ? 'replace' : 'error',
    };
    const label = `${format} case ${i} (seed ${seed}), options ${JSON.stringify(options)}, ${delivered.description}`;
    options.stdin = delivered.stdin;
    const maxLine = delivered.bytes === undefined ? undefined : lineCount(delivered.bytes);
    const outcome = await fuzzCase(
      label,
      async () => {
        const source = await openRows(delivered.input, options);
        // Rows come after the header and each other, each spanning line..endLine.
        let last = source.headerEndLine;
        const rows: Row[] = [];
        for await (const row of source.rows) {
          assert.ok(row.line > last, `${label}: row line ${row.line} after ${last}`);
          assert.ok(row.endLine >= row.line, `${label}: row lines ${row.line}-${row.endLine}`);
          if (maxLine !== undefined) assert.ok(row.endLine <= maxLine, `${label}: row end line ${row.endLine} > ${maxLine}`);
          last = row.endLine;
          rows.push(row);
        }
        if (maxLine !== undefined) assert.ok(source.invalidUtf8Lines <= maxLine, `${label}: ${source.invalidUtf8Lines} invalid lines`);
        if (delivered.bytes !== undefined) await checkCopy(delivered.bytes, source.headerEndLine, rows, {...options, format, stdin: undefined}, new Rng(seed * 31 + i), label);
      },
      {maxLine},
    );
    if (outcome.ok) parsed++;
    assert.deepEqual(await leftovers(tmp), [], `${label}: temp files left`);
  }
  const filesAfter = openFileCount();
  if (filesBefore !== undefined) assert.ok(filesAfter! <= filesBefore + 2, `open files went from ${filesBefore} to ${filesAfter}`);
  return {parsed, failed: cases - parsed};
}

/**
 * Copies the header and a random subset of `rows` from `bytes` by their line spans and reads the copy
 * back: it must give exactly the kept rows' fields. The subset has its own Rng so that the inputs of
 * a seed stay what they were before this check existed.
 */
async function checkCopy(bytes: Buffer, headerEndLine: number, rows: Row[], options: ReadRowsOptions, rng: Rng, label: string): Promise<void> {
  const kept = rows.filter(() => rng.chance(0.5));
  const picker = new LinePicker({headerEndLine, starts: Int32Array.from(kept, (row) => row.line), ends: Int32Array.from(kept, (row) => row.endLine)});
  picker.push(bytes);
  picker.finish(label);
  const copy = picker.take();
  // The first bytes of an input say what it is (a byte-order mark, UTF-16, gzip): a copy that starts
  // with a later row's bytes may read differently though every byte is the original's.
  if (!copy.subarray(0, 3).equals(bytes.subarray(0, 3)) && looksLikeAnotherEncoding(copy)) return;
  const again = await openRows('-', {...options, stdin: fakeStdin(copy, 1 + rng.int(16))});
  const fields = (await collect(again.rows)).map((row) => row.fields);
  assert.deepEqual(fields, kept.map((row) => row.fields), `${label}: the copy of rows ${kept.map((row) => `${row.line}-${row.endLine}`).join(', ')} reads differently: ${JSON.stringify(copy.toString('latin1'))}`);
}

/** What Utf8Decoder reads from the first bytes: a UTF-8 BOM (dropped), UTF-16, gzip. */
function looksLikeAnotherEncoding(bytes: Buffer): boolean {
  const [a, b, c] = bytes;
  return (a === 0xef && b === 0xbb && c === 0xbf) || (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff) || a === 0 || b === 0 || (a === 0x1f && b === 0x8b);
}
