/**
 * Fuzzes openVectors on JSONL, Parquet, Arrow IPC file and Arrow stream inputs: valid files written by
 * openVectorWriter (random sizes, id types, kept columns, row groups), then damaged byte by byte, read
 * from files and from stdin (which Parquet and Arrow files spool to a temp file). See harness.ts.
 */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {it} from 'node:test';
import type {VectorFormat} from '../../../src/io/formats.js';
import {openVectors} from '../../../src/io/vectors/read-vectors.js';
import type {VectorRecord} from '../../../src/io/vectors/types.js';
import {openVectorWriter} from '../../../src/io/vectors/write-vectors.js';
import {collect, fakeStdin, tempDir} from '../../helpers/tmp.js';
import {fuzzCase, fuzzSettings, leftovers, openFileCount, mutate, privateTmpdir, Rng} from './harness.js';

const FORMATS: readonly VectorFormat[] = ['jsonl', 'parquet', 'arrow', 'arrow-stream'];
const EXTENSION: Record<VectorFormat, string> = {jsonl: 'jsonl', parquet: 'parquet', arrow: 'arrow', 'arrow-stream': 'arrows'};

/** A valid vector file of `format` with random shape, written by the writer under test elsewhere. */
async function baseFile(rng: Rng, format: VectorFormat, path: string): Promise<{bytes: Buffer; rows: number}> {
  const dimension = 1 + rng.int(6);
  const stringIds = rng.chance(0.5);
  const fieldNames = rng.chance(0.5) ? ['text'] : rng.chance(0.5) ? ['text', 'lang'] : [];
  const rows = rng.int(12);
  const records: VectorRecord[] = Array.from({length: rows}, (_, i) => ({
    id: stringIds ? `doc-${i}-${'é'.repeat(rng.int(3))}` : i * 7,
    vector: Float32Array.from({length: dimension}, () => rng.float() * 2 - 1),
    fields: Object.fromEntries(fieldNames.filter(() => rng.chance(0.8)).map((name) => [name, `${name} ${i} "q",\n`])),
  }));
  const writer = await openVectorWriter(path, {format, dimension, idType: stringIds ? 'string' : 'int', fieldNames, rowGroupSize: 1 + rng.int(5), metadata: {model: 'm'}});
  await writer.write(records);
  await writer.commit();
  return {bytes: await readFile(path), rows};
}

it('openVectors: every damaged vector file parses or fails as one SbertkitError line', async () => {
  const dir = await tempDir();
  const tmp = await privateTmpdir();
  const {seed, cases} = fuzzSettings(0x7ec5, 400);
  const rng = new Rng(seed);
  // A few valid files per format; each case damages one of them.
  const bases = new Map<VectorFormat, Array<{bytes: Buffer; rows: number}>>();
  for (const format of FORMATS) {
    const files: Array<{bytes: Buffer; rows: number}> = [];
    for (let k = 0; k < 4; k++) files.push(await baseFile(rng, format, join(dir, `base-${k}.${EXTENSION[format]}`)));
    bases.set(format, files);
  }
  // Every base reads back whole (this also starts the Parquet worker, which stays for the process,
  // before the open files are counted).
  for (const [format, files] of bases) {
    for (const [k, {bytes, rows}] of files.entries()) {
      const source = await openVectors('-', {format, stdin: fakeStdin(bytes, 4096)});
      assert.equal((await collect(source.records)).length, rows, `base ${k} of ${format}`);
    }
  }
  const filesBefore = openFileCount();
  let parsed = 0;
  for (let i = 0; i < cases; i++) {
    const format = rng.pick(FORMATS);
    const base = rng.pick(bases.get(format)!).bytes;
    const bytes = rng.chance(0.9) ? mutate(rng, base, format === 'jsonl' ? [0x22, 0x2c, 0x5b, 0x5d, 0x0a, 0xe9, 0x2d, 0x39] : []) : base;
    const viaStdin = rng.chance(0.4);
    const chunk = 1 + rng.int(512);
    const label = `${format} case ${i} (seed ${seed}), ${viaStdin ? `stdin in ${chunk}-byte chunks` : 'file'}, bytes (hex) ${bytes.toString('hex').slice(0, 2000)}`;
    let input = '-';
    if (!viaStdin) {
      input = join(dir, `case-${i}.${EXTENSION[format]}`);
      await writeFile(input, bytes);
    }
    const options = {format: viaStdin || rng.chance(0.2) ? format : undefined, stdin: viaStdin ? fakeStdin(bytes, chunk) : undefined, onInvalidUtf8: rng.chance(0.5) ? ('replace' as const) : undefined};
    const outcome = await fuzzCase(label, async () => {
      const source = await openVectors(input, options);
      for await (const record of source.records) {
        assert.equal(record.vector.length, source.dimension, `${label}: vector of ${record.vector.length} in a file of dimension ${source.dimension}`);
        assert.ok(typeof record.id === 'string' || typeof record.id === 'number', label);
      }
    });
    if (outcome.ok) parsed++;
    assert.deepEqual(await leftovers(tmp), [], `${label}: temp files left`);
  }
  const filesAfter = openFileCount();
  if (filesBefore !== undefined) assert.ok(filesAfter! <= filesBefore + 2, `open files went from ${filesBefore} to ${filesAfter}`);
  assert.ok(parsed > cases / 20 && cases - parsed > cases / 10, `parsed ${parsed} of ${cases}`);
});
