/** The fuzz loop shared by the CSV, TSV, JSONL and txt fuzzers: openRows over generated inputs. */
import assert from 'node:assert/strict';
import {openRows, type ReadRowsOptions} from '../../../src/io/text/read-rows.js';
import type {TextFormat} from '../../../src/io/formats.js';
import {tempDir} from '../../helpers/tmp.js';
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
        let last = 0;
        for await (const row of source.rows) {
          assert.ok(row.line > last, `${label}: row line ${row.line} after ${last}`);
          if (maxLine !== undefined) assert.ok(row.line <= maxLine, `${label}: row line ${row.line} > ${maxLine}`);
          last = row.line;
        }
        if (maxLine !== undefined) assert.ok(source.invalidUtf8Lines <= maxLine, `${label}: ${source.invalidUtf8Lines} invalid lines`);
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
