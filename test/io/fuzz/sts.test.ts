/**
 * Fuzzes readStsDataset on the original STS Benchmark layout and on headered TSV/CSV/JSONL files:
 * generated datasets (valid, with bad scores, short rows, quotes, blank lines), damaged byte by byte,
 * read from files and from chunked stdin with the format sniffed or given. See harness.ts.
 */
import assert from 'node:assert/strict';
import {it} from 'node:test';
import {readStsDataset, type ReadStsOptions} from '../../../src/io/sts/read-sts.js';
import {tempDir} from '../../helpers/tmp.js';
import {fuzzCase, fuzzSettings, leftovers, openFileCount, lineCount, privateTmpdir, Rng} from './harness.js';
import {deliver, field} from './text-inputs.js';

const SCORES = ['0', '5.000', '2.5', '-1', '1e1', '.5', 'x', '', ' 3 ', 'NaN', '4,5'];

function sentence(rng: Rng): string {
  return rng.chance(0.7) ? rng.pick(['a cat sits', 'the dog "runs', 'two, three', 'ünïcödé 你好', '  padded  ']) : field(rng);
}

/** One generated dataset and the name (extension) it is given. */
function generateSts(rng: Rng): {text: string; name: string} {
  const rows = rng.int(10);
  const lines: string[] = [];
  const kind = rng.int(4);
  const score = (): string => (rng.chance(0.8) ? String(rng.int(6)) : rng.pick(SCORES));
  if (kind === 0) {
    for (let r = 0; r < rows; r++) {
      const extra = rng.chance(0.3) ? ['src1', 'src2'] : [];
      const fields = ['main-captions', 'MSRvid', '2012test', String(r).padStart(4, '0'), score(), sentence(rng), sentence(rng), ...extra];
      if (rng.chance(0.1)) fields.splice(rng.int(fields.length), 1);
      lines.push(fields.join('\t'));
      if (rng.chance(0.1)) lines.push('');
    }
    return {text: lines.join('\n') + '\n', name: rng.pick(['sts-test.csv', 'sts-dev.txt', 'noext'])};
  }
  const names = ['sentence1', 'sentence2', 'score'];
  if (rng.chance(0.2)) names.splice(rng.int(3), 1, field(rng));
  if (kind === 3) {
    for (let r = 0; r < rows; r++) {
      const object: Record<string, unknown> = {};
      for (const name of names) if (rng.chance(0.95)) object[name] = name === 'score' && rng.chance(0.7) ? rng.int(6) : rng.chance(0.9) ? sentence(rng) : rng.int(3);
      lines.push(JSON.stringify(object));
    }
    return {text: lines.join('\n') + '\n', name: rng.pick(['pairs.jsonl', 'pairs'])};
  }
  const delimiter = kind === 1 ? '\t' : ',';
  const quote = (value: string): string => (delimiter === ',' && /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  lines.push(names.join(delimiter));
  for (let r = 0; r < rows; r++) lines.push([sentence(rng), sentence(rng), score()].map(quote).join(delimiter));
  return {text: lines.join(rng.chance(0.2) ? '\r\n' : '\n') + '\n', name: rng.pick(kind === 1 ? ['pairs.tsv', 'pairs'] : ['pairs.csv', 'pairs'])};
}

it('readStsDataset: every generated input parses or fails as one SbertkitError line', async () => {
  const dir = await tempDir();
  const tmp = await privateTmpdir();
  const {seed, cases} = fuzzSettings(0x5757, 600);
  const rng = new Rng(seed);
  const filesBefore = openFileCount();
  let parsed = 0;
  for (let i = 0; i < cases; i++) {
    const {text, name} = generateSts(rng);
    const delivered = await deliver(rng, text, dir, `${i}-${name}`);
    const options: ReadStsOptions = {
      skipInvalid: rng.chance(0.5),
      onInvalidUtf8: rng.chance(0.5) ? 'replace' : 'error',
      format: rng.chance(0.1) ? rng.pick(['original', 'tsv', 'csv', 'jsonl', 'txt'] as const) : undefined,
      quote: rng.chance(0.2) ? rng.chance(0.5) : undefined,
    };
    const label = `sts case ${i} (seed ${seed}), options ${JSON.stringify(options)}, ${delivered.description}`;
    options.stdin = delivered.stdin;
    const maxLine = delivered.bytes === undefined ? undefined : lineCount(delivered.bytes);
    const outcome = await fuzzCase(
      label,
      async () => {
        const dataset = await readStsDataset(delivered.input, options);
        assert.ok(dataset.pairs.length >= 2, label);
        for (const pair of dataset.pairs) assert.ok(Number.isFinite(pair.score) && pair.s1.trim() !== '' && pair.s2.trim() !== '', label);
      },
      {maxLine},
    );
    if (outcome.ok) parsed++;
    assert.deepEqual(await leftovers(tmp), [], `${label}: temp files left`);
  }
  const filesAfter = openFileCount();
  if (filesBefore !== undefined) assert.ok(filesAfter! <= filesBefore + 2, `open files went from ${filesBefore} to ${filesAfter}`);
  assert.ok(parsed > cases / 10 && cases - parsed > cases / 10, `parsed ${parsed} of ${cases}`);
});
