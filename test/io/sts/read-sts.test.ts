import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {SbertkitError} from '../../../src/errors.js';
import {datasetBaseName, namedDatasetInputs} from '../../../src/io/sts/dataset-names.js';
import {isOriginalStsLine, readStsDataset, readStsDatasets} from '../../../src/io/sts/read-sts.js';
import {sharedDir} from '../../helpers/paths.js';
import {tempDir} from '../../helpers/tmp.js';

let dir: string;
before(async () => {
  dir = await tempDir();
});
async function fixture(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), {recursive: true});
  await writeFile(path, content, 'utf8');
  return path;
}

/** Asserts an SbertkitError whose toLine() matches `pattern` (file:line: message). */
async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<SbertkitError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SbertkitError, `expected SbertkitError, got ${String(error)}`);
    assert.match(error.toLine(), pattern);
    assert.equal(error.exitCode, 2);
    return error;
  }
  assert.fail(`expected rejection matching ${pattern}`);
}

const T = '\t';
const orig = (score: string, s1: string, s2: string, extra: string[] = []) => ['main-test', 'mine', '2024', '0001', score, s1, s2, ...extra].join(T);

describe('original STS Benchmark layout', () => {
  test('7 and 9 fields, unbalanced quotes, CRLF, detected despite the .csv name', async () => {
    const file = await fixture(
      'orig/bench-test.csv',
      [
        orig('4.750', 'The cat sat on the "mat.', 'A cat is sitting on a mat.'),
        orig('1', 'He said "no, thanks" twice.', 'Rain is expected, tomorrow.', ['Source: somewhere', 'Author: someone']) + '\r',
        '', // blank line: no pair
        orig('0.2', '  Leading spaces stay.', 'Trailing spaces stay too.  '),
      ].join('\n') + '\n',
    );
    const ds = await readStsDataset(file);
    assert.equal(ds.format, 'original');
    assert.equal(ds.name, 'bench-test');
    assert.equal(ds.file, file);
    assert.equal(ds.skipped, 0);
    assert.deepEqual(ds.pairs, [
      {s1: 'The cat sat on the "mat.', s2: 'A cat is sitting on a mat.', score: 4.75, line: 1},
      {s1: 'He said "no, thanks" twice.', s2: 'Rain is expected, tomorrow.', score: 1, line: 2},
      {s1: '  Leading spaces stay.', s2: 'Trailing spaces stay too.  ', score: 0.2, line: 4},
    ]);
  });

  test('wrong field count, empty sentence and bad score: errors with line, or skipped', async () => {
    const lines = [
      orig('3', 'Good one.', 'Fine one.'),
      ['main-test', 'mine', '2024', '0002', '2', 'only six fields'].join(T),
      orig('2', '   ', 'Blank first sentence.'),
      orig('n/a', 'Score is text.', 'So it fails.'),
      orig('5', 'Another good one.', 'Also fine.'),
    ];
    const file = await fixture('orig/bad.csv', lines.join('\n'));
    await rejectsWith(readStsDataset(file), /bad\.csv:2: expected 7 or 9 tab-separated fields .* found 6/);
    await rejectsWith(readStsDataset(await fixture('orig/bad3.csv', [lines[0], lines[2]].join('\n'))), /bad3\.csv:2: empty sentence1/);
    await rejectsWith(readStsDataset(await fixture('orig/bad4.csv', [lines[0], lines[3]].join('\n'))), /bad4\.csv:2: score 'n\/a' is not a number/);
    const ds = await readStsDataset(file, {skipInvalid: true});
    assert.equal(ds.skipped, 3);
    assert.deepEqual(
      ds.pairs.map((p) => [p.line, p.score]),
      [
        [1, 3],
        [5, 5],
      ],
    );
  });

  test('format can be forced, and a headered file is not mistaken for it', async () => {
    assert.equal(isOriginalStsLine(orig('3.2', 'a', 'b')), true);
    assert.equal(isOriginalStsLine(orig('3.2', 'a', 'b', ['x', 'y'])), true);
    assert.equal(isOriginalStsLine(orig('high', 'a', 'b')), false);
    assert.equal(isOriginalStsLine(['g', 'f', 'y', 'id', '1', 'a'].join(T)), false);
    assert.equal(isOriginalStsLine(['sentence1', 'sentence2', 'score'].join(T)), false);
    // First line malformed (6 fields): detection says "not original", forcing says original and reports the line.
    const file = await fixture('orig/forced.txt', [['g', 'f', 'y', 'id', '1', 'a'].join(T), orig('3', 'x', 'y'), orig('4', 'z', 'w')].join('\n'));
    const ds = await readStsDataset(file, {format: 'original', skipInvalid: true});
    assert.equal(ds.skipped, 1);
    assert.equal(ds.pairs.length, 2);
  });
});

describe('headered files', () => {
  test('TSV: bare and unbalanced quotes are literal text', async () => {
    const file = await fixture(
      'h/pairs.tsv',
      ['sentence1\tsentence2\tscore', 'She wrote "hello.\tShe wrote a greeting.\t3.8', '"Quoted" start\tplain\t0'].join('\n') + '\n',
    );
    const ds = await readStsDataset(file);
    assert.equal(ds.format, 'tsv');
    assert.equal(ds.name, 'pairs');
    assert.deepEqual(ds.pairs, [
      {s1: 'She wrote "hello.', s2: 'She wrote a greeting.', score: 3.8, line: 2},
      {s1: '"Quoted" start', s2: 'plain', score: 0, line: 3},
    ]);
  });

  test('CSV: quoted fields with commas, doubled quotes and a newline', async () => {
    const file = await fixture(
      'h/pairs.csv',
      'score,sentence2,sentence1\n' + '2.5,"Apples, pears and plums.","She said ""fruit""."\n' + '4,"Two\nlines","One line"\n',
    );
    const ds = await readStsDataset(file);
    assert.equal(ds.format, 'csv');
    assert.deepEqual(ds.pairs, [
      {s1: 'She said "fruit".', s2: 'Apples, pears and plums.', score: 2.5, line: 2},
      {s1: 'One line', s2: 'Two\nlines', score: 4, line: 3},
    ]);
  });

  test('JSONL: numeric and string scores, custom column names', async () => {
    const file = await fixture(
      'h/pairs.jsonl',
      ['{"a": "First \\"one\\".", "b": "Second.", "gold": 1.5}', '', '{"a": "Third.", "b": "Fourth.", "gold": "4.25"}'].join('\n'),
    );
    const ds = await readStsDataset(file, {sentence1Column: 'a', sentence2Column: 'b', scoreColumn: 'gold'});
    assert.equal(ds.format, 'jsonl');
    assert.deepEqual(ds.pairs, [
      {s1: 'First "one".', s2: 'Second.', score: 1.5, line: 1},
      {s1: 'Third.', s2: 'Fourth.', score: 4.25, line: 3},
    ]);
  });

  test('missing column names the flag and lists the columns', async () => {
    const file = await fixture('h/cols.tsv', 'text_a\ttext_b\tscore\nx\ty\t1\nz\tw\t2\n');
    await rejectsWith(readStsDataset(file), /cols\.tsv:1: column 'sentence1' not found \(--sentence1-column\); columns are text_a, text_b, score/);
    const ds = await readStsDataset(file, {sentence1Column: 'text_a', sentence2Column: 'text_b'});
    assert.deepEqual(
      ds.pairs.map((p) => [p.s1, p.s2, p.score]),
      [
        ['x', 'y', 1],
        ['z', 'w', 2],
      ],
    );
  });

  test('bad rows fail with file:line, or are counted with skipInvalid', async () => {
    const body = [
      'sentence1\tsentence2\tscore',
      'Fine.\tAlso fine.\t1',
      '\tEmpty first.\t2', // line 3: empty sentence1
      'Bad score.\tHere.\tabout four', // line 4
      'Empty score.\tHere.\t', // line 5: '' is not 0
      'Good.\tGood too.\t5',
    ].join('\n');
    const file = await fixture('h/bad.tsv', body);
    const err = await rejectsWith(readStsDataset(file), /bad\.tsv:3: empty sentence1/);
    assert.equal(err.line, 3);
    assert.equal(err.field, 'sentence1');
    await rejectsWith(readStsDataset(await fixture('h/bad4.tsv', [body.split('\n')[0], ...body.split('\n').slice(3)].join('\n'))), /bad4\.tsv:2: score 'about four' is not a number/);
    const ds = await readStsDataset(file, {skipInvalid: true});
    assert.equal(ds.skipped, 3);
    assert.deepEqual(
      ds.pairs.map((p) => p.line),
      [2, 6],
    );
    // JSONL row lacking a field
    const jl = await fixture('h/missing.jsonl', '{"sentence1":"a","sentence2":"b","score":1}\n{"sentence1":"c","score":2}\n');
    await rejectsWith(readStsDataset(jl), /missing\.jsonl:2: missing sentence2/);
  });

  test('fewer than 2 valid pairs, or constant gold scores, is an error', async () => {
    const one = await fixture('h/one.tsv', 'sentence1\tsentence2\tscore\nOnly.\tOne.\t3\n');
    await rejectsWith(readStsDataset(one), /one\.tsv: needs at least 2 valid sentence pairs .* found 1/);
    const skipped = await fixture('h/skipped.tsv', 'sentence1\tsentence2\tscore\nOnly.\tOne.\t3\nx\t\t1\n');
    await rejectsWith(readStsDataset(skipped, {skipInvalid: true}), /found 1 \(1 invalid skipped\)/);
    await rejectsWith(readStsDataset(await fixture('h/empty.tsv', 'sentence1\tsentence2\tscore\n')), /found 0/);
    const flat = await fixture('h/flat.tsv', 'sentence1\tsentence2\tscore\na\tb\t2\nc\td\t2.0\n');
    await rejectsWith(readStsDataset(flat), /flat\.tsv: all 2 gold scores are 2; a correlation is undefined/);
  });

  test('missing file and plain text are clear errors', async () => {
    await rejectsWith(readStsDataset(join(dir, 'nope.tsv')), /nope\.tsv: no such file/);
    const txt = await fixture('h/plain.txt', 'one\ntwo\n');
    await rejectsWith(readStsDataset(txt), /plain\.txt: an STS dataset needs .* columns/);
  });
});

describe('stdin', () => {
  test('original layout is sniffed from stdin; an explicit format is honoured', async () => {
    const text = [orig('1', 'a "b', 'c'), orig('2', 'd', 'e', ['s1', 's2'])].join('\n');
    const ds = await readStsDataset('-', {stdin: Readable.from([Buffer.from(text)])});
    assert.equal(ds.format, 'original');
    assert.equal(ds.name, 'stdin');
    assert.equal(ds.file, '<stdin>');
    assert.deepEqual(
      ds.pairs.map((p) => [p.s1, p.score]),
      [
        ['a "b', 1],
        ['d', 2],
      ],
    );
    const tsv = 'sentence1\tsentence2\tscore\nx\ty\t1\nz\tw\t0\n';
    const ds2 = await readStsDataset('-', {format: 'tsv', stdin: Readable.from([Buffer.from(tsv)])});
    assert.deepEqual(
      ds2.pairs.map((p) => p.s2),
      ['y', 'w'],
    );
  });
});

describe('dataset names', () => {
  test('basename without extension; NAME=FILE names a dataset explicitly', () => {
    assert.equal(datasetBaseName('/x/y/sts-test.csv'), 'sts-test');
    assert.equal(datasetBaseName('data/test.tsv.gz'), 'test');
    assert.equal(datasetBaseName('noext'), 'noext');
    assert.equal(datasetBaseName('-'), 'stdin');
    assert.deepEqual(namedDatasetInputs(['/d/stsb/test.tsv', 'sick=/d/sick/test.tsv', '-']), [
      {name: 'test', file: '/d/stsb/test.tsv'},
      {name: 'sick', file: '/d/sick/test.tsv'},
      {name: 'stdin', file: '-'},
    ]);
  });

  test('a name does not depend on which other files are given (a baseline keeps matching)', async () => {
    const body = 'sentence1\tsentence2\tscore\na\tb\t1\nc\td\t2\n';
    const test1 = await fixture('m1/test.tsv', body);
    const other = await fixture('m2/other.tsv', body);
    assert.deepEqual((await readStsDatasets([test1])).map((d) => d.name), ['test']);
    assert.deepEqual((await readStsDatasets([test1, other])).map((d) => d.name), ['test', 'other']);
    assert.deepEqual((await readStsDatasets([other, test1])).map((d) => d.name), ['other', 'test']);
  });

  test('two files with one name are refused, with the NAME=FILE way out; an existing file with = in its name is a file', async () => {
    const body = 'sentence1\tsentence2\tscore\na\tb\t1\nc\td\t2\n';
    const a = await fixture('n1/dev.tsv', body);
    const b = await fixture('n2/dev.tsv', body);
    await rejectsWith(readStsDatasets([a, b]), /two datasets are named 'dev' \(.*n1\/dev\.tsv and .*n2\/dev\.tsv\); name them apart with NAME=FILE, e\.g\. n2-dev=/);
    assert.deepEqual((await readStsDatasets([a, `dev2=${b}`])).map((d) => d.name), ['dev', 'dev2']);
    const odd = await fixture('x=y.tsv', body);
    assert.deepEqual((await readStsDatasets([odd])).map((d) => [d.name, d.file]), [['x=y', odd]]);
    await rejectsWith(readStsDatasets(['-', '-']), /stdin \('-'\) can be given only once/);
  });
});

describe('shared STS Benchmark', () => {
  const shared = sharedDir();
  const origPath = shared === undefined ? '' : join(shared, 'data/stsb/original/sts-test.csv');
  const tsvPath = shared === undefined ? '' : join(shared, 'data/stsb/test.tsv');
  const present = shared !== undefined && existsSync(origPath) && existsSync(tsvPath);

  test('original/sts-test.csv and test.tsv give the same pairs', {skip: present ? false : 'shared STS-B data not present'}, async () => {
    const [o, t] = await Promise.all([readStsDataset(origPath), readStsDataset(tsvPath)]);
    assert.equal(o.format, 'original');
    assert.equal(t.format, 'tsv');
    assert.equal(o.name, 'sts-test');
    assert.equal(t.name, 'test');
    assert.equal(o.pairs.length, 1379); // SOURCES.md: test has 1379 pairs
    assert.equal(t.pairs.length, o.pairs.length);
    assert.equal(o.skipped + t.skipped, 0);
    for (let i = 0; i < o.pairs.length; i++) {
      const [a, b] = [o.pairs[i], t.pairs[i]];
      assert.deepEqual([a.s1, a.s2, a.score], [b.s1, b.s2, b.score], `pair ${i}`);
      assert.equal(b.line, a.line + 1, 'the TSV has a header line');
    }
    // Some rows carry source notes (9 fields) and some sentences quotes; both read as plain text.
    assert.ok(o.pairs.some((p) => p.s1.includes('"') || p.s2.includes('"')));
  });
});

describe('headered datasets on stdin', () => {
  for (const [format, text] of [
    ['tsv', 'sentence1\tsentence2\tscore\na "quoted" cat\ta dog\t1.5\nthe sun\tthe moon\t3\n'],
    ['csv', 'sentence1,sentence2,score\n"a cat, sleeping",a dog,1.5\nthe sun,the moon,3\n'],
    ['jsonl', '{"sentence1":"a cat","sentence2":"a dog","score":1.5}\n{"sentence1":"the sun","sentence2":"the moon","score":3}\n'],
  ] as const) {
    test(`${format} is recognised from its header line`, async () => {
      const d = await readStsDataset('-', {stdin: Readable.from([text])});
      assert.equal(d.format, format);
      assert.equal(d.pairs.length, 2);
      assert.equal(d.pairs[1]!.s2, 'the moon');
      assert.equal(d.pairs[0]!.score, 1.5);
    });
  }
});

describe('encodings', () => {
  // Latin-1 'é' (0xE9) in the sentence of the second pair: byte offsets counted here from the bytes.
  const cases = [
    {name: 'enc/orig-test.csv', text: [orig('1', 'a cat', 'a dog'), orig('3', 'caf\xe9 noir', 'coffee')].join('\n') + '\n', format: 'original'},
    {name: 'enc/pairs.tsv', text: 'sentence1\tsentence2\tscore\na cat\ta dog\t1\ncaf\xe9 noir\tcoffee\t3\n', format: 'tsv'},
    {name: 'enc/pairs.csv', text: 'sentence1,sentence2,score\na cat,a dog,1\ncaf\xe9 noir,coffee,3\n', format: 'csv'},
    {name: 'enc/pairs.jsonl', text: '{"sentence1":"a cat","sentence2":"a dog","score":1}\n{"sentence1":"caf\xe9 noir","sentence2":"coffee","score":3}\n', format: 'jsonl'},
  ];
  for (const c of cases) {
    test(`${c.format}: invalid UTF-8 names file, line and byte offset; 'replace' reads U+FFFD and counts the line`, async () => {
      const bytes = Buffer.from(c.text, 'latin1');
      const path = join(dir, c.name);
      await mkdir(join(path, '..'), {recursive: true});
      await writeFile(path, bytes);
      const offset = bytes.indexOf(0xe9);
      const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
      const error = await rejectsWith(readStsDataset(path), /invalid UTF-8/);
      assert.equal(error.toLine(), `${path}:${line}: invalid UTF-8 (byte 0xE9 at byte offset ${offset}); convert the file to UTF-8 (e.g. iconv -f latin1 -t UTF-8) or pass --on-invalid-utf8 replace`);

      const ds = await readStsDataset(path, {onInvalidUtf8: 'replace'});
      assert.equal(ds.format, c.format);
      assert.deepEqual(ds.pairs.map((p) => p.s1), ['a cat', 'caf\ufffd noir']);
      assert.equal(ds.invalidUtf8Lines, 1);
      const [viaList] = await readStsDatasets([path], {onInvalidUtf8: 'replace'});
      assert.equal(viaList!.invalidUtf8Lines, 1);
    });
  }

  test('UTF-16 is one line saying so, on a file and on stdin', async () => {
    const utf16 = Buffer.from('\ufeffsentence1\tsentence2\tscore\na\tb\t1\nc\td\t2\n', 'utf16le');
    const path = join(dir, 'enc/utf16.tsv');
    await writeFile(path, utf16);
    const message = 'looks like UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8; convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8';
    assert.equal((await rejectsWith(readStsDataset(path), /UTF-16/)).toLine(), `${path}:1: ${message}`);
    assert.equal((await rejectsWith(readStsDataset('-', {stdin: Readable.from([utf16])}), /UTF-16/)).toLine(), `<stdin>:1: ${message}`);
  });
});
