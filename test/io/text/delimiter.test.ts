/** CSV with another field separator (--delimiter): semicolon exports with quoted separators and decimal commas. */
import assert from 'node:assert/strict';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {csvDelimiter, openRows} from '../../../src/io/text/read-rows.js';
import {SbertkitError} from '../../../src/errors.js';
import {tempDir} from '../../helpers/tmp.js';

async function rowsOf(content: string, delimiter?: string): Promise<Record<string, string>[]> {
  const file = join(await tempDir(), 'in.csv');
  await writeFile(file, content);
  const source = await openRows(file, {delimiter});
  const out: Record<string, string>[] = [];
  for await (const row of source.rows) out.push(row.fields);
  return out;
}

describe('CSV --delimiter', () => {
  test('semicolons, a quoted semicolon, a decimal comma', async () => {
    const rows = await rowsOf('id;text;price\n1;"a; b";3,50\n2;plain, with comma;4\n', ';');
    assert.deepEqual(rows, [
      {id: '1', text: 'a; b', price: '3,50'},
      {id: '2', text: 'plain, with comma', price: '4'},
    ]);
  });

  test('pipes, and \\t or tab for a tab', async () => {
    assert.deepEqual(await rowsOf('a|b\n1|"x|y"\n', '|'), [{a: '1', b: 'x|y'}]);
    assert.deepEqual(await rowsOf('a\tb\n1\t"x\ty"\n', '\\t'), [{a: '1', b: 'x\ty'}]);
    assert.deepEqual(await rowsOf('a\tb\n1\t2\n', 'tab'), [{a: '1', b: '2'}]);
  });

  test('the default stays the comma', async () => {
    assert.deepEqual(await rowsOf('a,b\n1,2\n'), [{a: '1', b: '2'}]);
  });

  test('two characters, a quote or a newline: one line, exit 2', () => {
    for (const bad of [';;', '"', '\n', '']) {
      assert.throws(() => csvDelimiter(bad, 'x.csv'), (error: unknown) => error instanceof SbertkitError && error.exitCode === 2 && /--delimiter must be one character/.test(error.message), JSON.stringify(bad));
    }
  });
});
