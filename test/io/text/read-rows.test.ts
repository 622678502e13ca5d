import assert from 'node:assert/strict';
import {gzipSync} from 'node:zlib';
import {describe, it} from 'node:test';
import {SbertkitError} from '../../../src/errors.js';
import {openRows, requireColumn} from '../../../src/io/text/read-rows.js';
import type {Row} from '../../../src/io/text/types.js';
import {collect, fakeStdin, tempFile} from '../../helpers/tmp.js';

/** Asserts one SbertkitError whose single output line is exactly `line`. */
async function rejectsWithLine(action: () => Promise<unknown>, line: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof SbertkitError, `expected SbertkitError, got ${String(error)}`);
    assert.equal(error.toLine(), line);
    assert.equal(error.exitCode, 2);
    return true;
  });
}

async function readAll(path: string, options?: Parameters<typeof openRows>[1]): Promise<{columns: string[]; rows: Row[]}> {
  const source = await openRows(path, options);
  return {columns: source.columns, rows: await collect(source.rows)};
}

describe('openRows: CSV', () => {
  it('parses RFC 4180 quoting, embedded newlines and commas, BOM and CRLF, with start lines', async () => {
    const csv = '\ufeffid,text\r\n1,"hello, world"\r\n2,"two\r\nlines"\r\n3,"say ""hi"""\r\n\r\n4,plain\r\n';
    const path = await tempFile('a.csv', csv);
    const {columns, rows} = await readAll(path);
    assert.deepEqual(columns, ['id', 'text']);
    assert.deepEqual(rows, [
      {line: 2, endLine: 2, fields: {id: '1', text: 'hello, world'}},
      {line: 3, endLine: 4, fields: {id: '2', text: 'two\nlines'}},
      {line: 5, endLine: 5, fields: {id: '3', text: 'say "hi"'}},
      {line: 7, endLine: 7, fields: {id: '4', text: 'plain'}},
    ]);
  });

  it('takes a quote inside an unquoted field literally', async () => {
    const {rows} = await readAll('-', {format: 'csv', stdin: fakeStdin('id,text\n1,He said "hi" twice\n')});
    assert.deepEqual(rows, [{line: 2, endLine: 2, fields: {id: '1', text: 'He said "hi" twice'}}]);
  });

  it('keeps multibyte text split across chunks and a last row without newline', async () => {
    const {columns, rows} = await readAll('-', {format: 'csv', stdin: fakeStdin('text,n\r\nçà—ü 你好,1\r\n"é\r\nü",2', 3)});
    assert.deepEqual(columns, ['text', 'n']);
    assert.deepEqual(rows, [
      {line: 2, endLine: 2, fields: {text: 'çà—ü 你好', n: '1'}},
      {line: 3, endLine: 4, fields: {text: 'é\nü', n: '2'}},
    ]);
  });

  // Found by the fuzzer: csv-parse took the first line break it saw for the record delimiter, so a
  // stray '\r' in the header made '\n' plain text and the whole file one record; and it counted a
  // lone '\r' as a line, which shifted the line of every later row.
  it('treats a lone carriage return as text, like the line-oriented readers, and numbers lines by LF', async () => {
    const {columns, rows} = await readAll('-', {format: 'csv', stdin: fakeStdin('a\rb,text\n1,"x\ry"\n\n2,z\r\n3,w\n', 3)});
    assert.deepEqual(columns, ['a\rb', 'text']);
    assert.deepEqual(rows, [
      {line: 2, endLine: 2, fields: {'a\rb': '1', text: 'x\ry'}},
      {line: 4, endLine: 4, fields: {'a\rb': '2', text: 'z'}},
      {line: 5, endLine: 5, fields: {'a\rb': '3', text: 'w'}},
    ]);
  });

  it('names columns 1..n with header: false', async () => {
    const path = await tempFile('b.csv', 'a,b\nc,d\n');
    const {columns, rows} = await readAll(path, {header: false});
    assert.deepEqual(columns, ['1', '2']);
    assert.deepEqual(rows, [
      {line: 1, endLine: 1, fields: {'1': 'a', '2': 'b'}},
      {line: 2, endLine: 2, fields: {'1': 'c', '2': 'd'}},
    ]);
  });

  it('reports a ragged row with its physical line', async () => {
    const path = await tempFile('ragged.csv', 'a,b\n1,"x\ny"\n1,2,3\n');
    const source = await openRows(path);
    await rejectsWithLine(() => collect(source.rows), `${path}:4: row has 3 fields, expected 2`);
  });

  // csv-parse says where the input ends; the user needs where the quote opened.
  const unclosed: Array<{name: string; csv: string; line: number; options?: Parameters<typeof openRows>[1]}> = [
    {name: 'in the first row', csv: 'a,"b\nc,d\n', line: 1, options: {header: false}},
    {name: 'after blank lines', csv: 'x,y\n1,2\n\n\n3,"open\nmore\n', line: 5},
    {name: 'after a closed multi-line field of the same record', csv: 'x,y,z\n1,"a\nb","open\nz\n', line: 3},
    {name: 'with CRLF line ends', csv: 'x,y\r\n1,2\r\n3,"open\r\nmore\r\nand more\r\n', line: 3},
    {name: 'with no final newline', csv: 'x,y\n1,"open', line: 2},
    {name: 'after a doubled quote', csv: 'x,y\n1,"say ""hi""\n2,3\n', line: 2},
    {name: 'in quoted TSV', csv: 'x\ty\n1\t2\n3\t"open\n4\t5\n', line: 3, options: {format: 'tsv', quote: true}},
  ];
  for (const c of unclosed) {
    it(`reports an unclosed quote at the line where it opened: ${c.name}`, async () => {
      const path = await tempFile(c.options?.format === 'tsv' ? 'q.tsv' : 'q.csv', c.csv);
      const label = c.options?.format === 'tsv' ? 'TSV' : 'CSV';
      await rejectsWithLine(async () => collect((await openRows(path, c.options)).rows), `${path}:${c.line}: invalid ${label}: a quoted field opened here is never closed (a stray " ?)`);
    });
  }

  it('reports an unclosed quote deep in a long input read in small chunks', async () => {
    // 2000 quoted two-line rows, the bad one, then 1000 rows without quotes to close it.
    const rows = Array.from({length: 2000}, (_, i) => `${i},"text ${i}, with ""quotes""\nand a second line"`);
    rows.push('2000,"never closed', ...Array.from({length: 1000}, (_, i) => `${2001 + i},plain text`));
    // Header on line 1, then two lines per row: the bad row starts on line 2 + 2 * 2000.
    const csv = 'id,text\n' + rows.join('\n') + '\n';
    const expected = `<stdin>:${2 + 2 * 2000}: invalid CSV: a quoted field opened here is never closed (a stray " ?)`;
    await rejectsWithLine(async () => collect((await openRows('-', {format: 'csv', stdin: fakeStdin(csv, 4093)})).rows), expected);
  });

  it('reports a duplicate header name', async () => {
    const path = await tempFile('dup.csv', 'a,a\n1,2\n');
    await rejectsWithLine(() => openRows(path), `${path}:1: duplicate column 'a' in the header`);
  });

  it('reads .csv.gz transparently', async () => {
    const path = await tempFile('c.csv.gz', gzipSync('text\nzipped\n'));
    const {rows} = await readAll(path);
    assert.deepEqual(rows, [{line: 2, endLine: 2, fields: {text: 'zipped'}}]);
  });
});

describe('openRows: TSV', () => {
  it('splits on tabs only, leaving double quotes alone (STS-B style)', async () => {
    const tsv = '\ufeffscore\tsentence1\tsentence2\r\n5.0\tHe said "yes".\t"Yes," he said\r\n\r\n0.5\ta\t\r\n';
    const path = await tempFile('sts.tsv', tsv);
    const {columns, rows} = await readAll(path);
    assert.deepEqual(columns, ['score', 'sentence1', 'sentence2']);
    assert.deepEqual(rows, [
      {line: 2, endLine: 2, fields: {score: '5.0', sentence1: 'He said "yes".', sentence2: '"Yes," he said'}},
      {line: 4, endLine: 4, fields: {score: '0.5', sentence1: 'a', sentence2: ''}},
    ]);
  });

  it('honours quotes with quote: true', async () => {
    const path = await tempFile('q.tab', 'a\tb\n"x\ty"\t"two\nlines"\n');
    const {rows} = await readAll(path, {quote: true});
    assert.deepEqual(rows, [{line: 2, endLine: 3, fields: {a: 'x\ty', b: 'two\nlines'}}]);
  });

  it('reports a wrong field count with line and count', async () => {
    const path = await tempFile('bad.tsv', 'a\tb\n1\t2\n3\n');
    const source = await openRows(path);
    await rejectsWithLine(() => collect(source.rows), `${path}:3: row has 1 fields, expected 2 (tab-separated)`);
  });

  it('names columns by position with header: false', async () => {
    const {columns, rows} = await readAll('-', {format: 'tsv', header: false, stdin: fakeStdin('x\ty\n')});
    assert.deepEqual(columns, ['1', '2']);
    assert.deepEqual(rows, [{line: 1, endLine: 1, fields: {'1': 'x', '2': 'y'}}]);
  });
});

describe('openRows: JSONL', () => {
  it('reads objects, skips blank lines, takes columns from the first object', async () => {
    const path = await tempFile('a.jsonl', '{"id":7,"text":"a","ok":true}\n\n  \n{"text":"b","extra":null}\n');
    const source = await openRows(path);
    assert.equal(source.format, 'jsonl');
    assert.deepEqual(source.columns, ['id', 'text', 'ok']);
    const rows = await collect(source.rows);
    assert.deepEqual(rows, [
      {line: 1, endLine: 1, fields: {id: '7', text: 'a', ok: 'true'}, values: {id: 7, text: 'a', ok: true}, source: '{"id":7,"text":"a","ok":true}'},
      {line: 4, endLine: 4, fields: {text: 'b', extra: 'null'}, values: {text: 'b', extra: null}, source: '{"text":"b","extra":null}'},
    ]);
  });

  it('reports invalid JSON with its line', async () => {
    const path = await tempFile('bad.ndjson', '{"text":"a"}\n{"text": oops}\n');
    const source = await openRows(path);
    await assert.rejects(() => collect(source.rows), (error: unknown) => {
      assert.ok(error instanceof SbertkitError);
      assert.match(error.toLine(), new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON: `));
      return true;
    });
  });

  it('rejects a line that is not an object', async () => {
    const path = await tempFile('arr.jsonl', '[1,2]\n');
    await rejectsWithLine(() => openRows(path), `${path}:1: expected a JSON object, got array`);
  });
});

describe('openRows: txt', () => {
  it('is one text per line; empty lines are empty texts; the final newline adds no row', async () => {
    const path = await tempFile('a.txt', '\ufefffirst\r\n\r\nthird "quoted", with comma\n');
    const {columns, rows} = await readAll(path);
    assert.deepEqual(columns, ['text']);
    assert.deepEqual(rows, [
      {line: 1, endLine: 1, fields: {text: 'first'}},
      {line: 2, endLine: 2, fields: {text: ''}},
      {line: 3, endLine: 3, fields: {text: 'third "quoted", with comma'}},
    ]);
  });

  it('reads stdin', async () => {
    const source = await openRows('-', {format: 'txt', stdin: fakeStdin('α\nβ')});
    assert.equal(source.file, '<stdin>');
    assert.deepEqual(await collect(source.rows), [
      {line: 1, endLine: 1, fields: {text: 'α'}},
      {line: 2, endLine: 2, fields: {text: 'β'}},
    ]);
  });

  it('yields nothing for an empty file', async () => {
    const path = await tempFile('empty.txt', '');
    assert.deepEqual((await readAll(path)).rows, []);
  });
});

describe('openRows: row spans (endLine, headerEndLine)', () => {
  /** [line, endLine] of every row and the header's last line, read from a file and from stdin in tiny chunks. */
  async function spans(name: string, text: string, options: Parameters<typeof openRows>[1] = {}): Promise<{header: number; rows: Array<[number, number]>}> {
    const results = [];
    for (const chunk of [1, 2, 3, 64]) {
      const format = options.format ?? (name.split('.').pop() as 'csv' | 'tsv' | 'jsonl' | 'txt');
      const source = await openRows('-', {...options, format, stdin: fakeStdin(text, chunk)});
      const rows = await collect(source.rows);
      results.push({header: source.headerEndLine, rows: rows.map((row): [number, number] => [row.line, row.endLine])});
    }
    const source = await openRows(await tempFile(name, text), options);
    const rows = await collect(source.rows);
    const fromFile = {header: source.headerEndLine, rows: rows.map((row): [number, number] => [row.line, row.endLine])};
    for (const result of results) assert.deepEqual(result, fromFile);
    return fromFile;
  }

  it('CSV: quoted line breaks (LF and CRLF) widen a row; blank lines before the header belong to it', async () => {
    const csv = [
      '', // 1: blank
      '\r', // 2: blank (CRLF)
      'id,"multi', // 3: header starts
      'line header"\r', // 4: header ends
      '1,"a\r', // 5
      'b\r', // 6
      'c"', // 7: row 1 ends
      '', // 8: blank between rows
      '2,plain', // 9
      '3,"x', // 10
      '"', // 11: a field that ends with a line break
      '4,"last', // 12
      'row"', // 13: no final newline
    ].join('\n');
    assert.deepEqual(await spans('a.csv', csv), {header: 4, rows: [[5, 7], [9, 9], [10, 11], [12, 13]]});
  });

  it('CSV: trailing blank lines and a final newline do not widen the last row', async () => {
    assert.deepEqual(await spans('b.csv', 'a,b\n1,"x\ny"\n\n\n'), {header: 1, rows: [[2, 3]]});
    assert.deepEqual(await spans('b.csv', 'a,b\r\n1,2\r\n'), {header: 1, rows: [[2, 2]]});
  });

  it('CSV: header only, no header, empty', async () => {
    assert.deepEqual(await spans('h.csv', 'a,b\n'), {header: 1, rows: []});
    assert.deepEqual(await spans('h.csv', '\n\na,b'), {header: 3, rows: []});
    assert.deepEqual(await spans('h.csv', '\n1,"2\n3"\n4,5\n', {header: false}), {header: 0, rows: [[2, 3], [4, 4]]});
    assert.deepEqual(await spans('h.csv', ''), {header: 0, rows: []});
    assert.deepEqual(await spans('h.csv', '\n\n'), {header: 0, rows: []});
  });

  it('TSV: one line per row; quote: true widens rows like CSV', async () => {
    assert.deepEqual(await spans('a.tsv', '\n\nh1\th2\r\n\nx\t"y\nz\t1\n'), {header: 3, rows: [[5, 5], [6, 6]]});
    assert.deepEqual(await spans('a.tsv', 'x\ty\n\nz\tw', {header: false}), {header: 0, rows: [[1, 1], [3, 3]]});
    assert.deepEqual(await spans('q.tsv', '\na\tb\n"x\ny"\tz\n', {quote: true}), {header: 2, rows: [[3, 4]]});
  });

  it('JSONL and txt have no header; every row is one line', async () => {
    assert.deepEqual(await spans('a.jsonl', '\n  \n{"text":"a"}\r\n\t\n{"text":"b\\nc"}'), {header: 0, rows: [[3, 3], [5, 5]]});
    assert.deepEqual(await spans('a.txt', '\ufeffa\n\n\r\nb'), {header: 0, rows: [[1, 1], [2, 2], [3, 3], [4, 4]]});
  });
});

describe('openRows: bad inputs', () => {
  it('reports a missing file', async () => {
    await rejectsWithLine(() => openRows('/nonexistent/dir/x.csv'), '/nonexistent/dir/x.csv: no such file');
  });

  it('needs a format for stdin and unknown extensions', async () => {
    await assert.rejects(() => openRows('-', {stdin: fakeStdin('x')}), /pass --input-format/);
    const path = await tempFile('data.xyz', 'x');
    await assert.rejects(() => openRows(path), /pass --input-format/);
  });

  it('requireColumn keeps a header name with a line break on one line (found by the fuzzer)', async () => {
    const source = await openRows('-', {format: 'csv', stdin: fakeStdin('"\r\u4f60",sentence2\n1,2\n')});
    try {
      assert.throws(
        () => requireColumn(source, 'sentence1', '--sentence1-column'),
        (error: unknown) => error instanceof SbertkitError && error.toLine() === "<stdin>:1: column 'sentence1' not found (--sentence1-column); columns are \\r\u4f60, sentence2",
      );
    } finally {
      await source.close();
    }
  });

  it('requireColumn lists the available columns', async () => {
    const path = await tempFile('h.csv', 'id,sentence\n1,a\n');
    const source = await openRows(path);
    try {
      assert.throws(
        () => requireColumn(source, 'text', '--text-column'),
        (error: unknown) => error instanceof SbertkitError && error.toLine() === `${path}:1: column 'text' not found (--text-column); columns are id, sentence`,
      );
      requireColumn(source, 'sentence');
    } finally {
      await source.close();
    }
  });

  // Each format reads its first bytes at a different time (txt only once rows are iterated, after
  // the model has loaded), so every one gets a pause before reading, as encode has while loading.
  for (const name of ['a.txt.gz', 'a.jsonl.gz', 'a.tsv.gz', 'a.csv.gz']) {
    it(`reports ${name}, not gzip inside, as one line even when read after a pause`, async () => {
      const path = await tempFile(name, 'text\nplain, not compressed\n');
      await rejectsWithLine(async () => {
        const source = await openRows(path);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await collect(source.rows);
      }, `${path}: not valid gzip (incorrect header check); a .gz input must be gzip-compressed`);
    });
  }

  it('reports a truncated .gz', async () => {
    const whole = gzipSync(Array.from({length: 500}, (_, i) => `line ${i}`).join('\n'));
    const path = await tempFile('cut.txt.gz', whole.subarray(0, whole.length - 40));
    const source = await openRows(path);
    await rejectsWithLine(() => collect(source.rows), `${path}: not valid gzip (unexpected end of file); a .gz input must be gzip-compressed`);
  });

  it('stops reading when the consumer breaks early', async () => {
    const path = await tempFile('many.txt', Array.from({length: 1000}, (_, i) => `line ${i}`).join('\n'));
    const source = await openRows(path);
    const seen: Row[] = [];
    for await (const row of source.rows) {
      seen.push(row);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen.map((row) => row.fields.text), ['line 0', 'line 1']);
  });
});

describe('openRows: encodings', () => {
  /** file:line: message for the first 0xE9 in `bytes`, its line and offset counted here. */
  const latin1Line = (path: string, bytes: Buffer): string => {
    const offset = bytes.indexOf(0xe9);
    const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
    return `${path}:${line}: invalid UTF-8 (byte 0xE9 at byte offset ${offset}); convert the file to UTF-8 (e.g. iconv -f latin1 -t UTF-8) or pass --on-invalid-utf8 replace`;
  };
  // Latin-1 'é' (0xE9) on line 4, after a multi-byte UTF-8 character that must not shift the offset.
  const inputs: Array<{name: string; options?: Parameters<typeof openRows>[1]; text: string; expected: string[]}> = [
    {name: 'a.csv', text: 'text,n\n"two\nlines",1\nç,2\ncaf\xe9 au lait,3\n', expected: ['two\nlines', 'ç', 'caf\ufffd au lait']},
    {name: 'a.tsv', text: 'text\tn\nx\t1\nç\t2\ncaf\xe9 au lait\t3\n', expected: ['x', 'ç', 'caf\ufffd au lait']},
    {name: 'q.tsv', options: {quote: true}, text: 'text\tn\nx\t1\nç\t2\ncaf\xe9 au lait\t3\n', expected: ['x', 'ç', 'caf\ufffd au lait']},
    {name: 'a.jsonl', text: '{"text":"x"}\n{"text":"y"}\n{"text":"ç"}\n{"text":"caf\xe9 au lait"}\n', expected: ['x', 'y', 'ç', 'caf\ufffd au lait']},
    {name: 'a.txt', text: 'x\ny\nç\ncaf\xe9 au lait\n', expected: ['x', 'y', 'ç', 'caf\ufffd au lait']},
  ];
  // 'ç' is written as UTF-8, 'é' as Latin-1: the file mixes both, as hand-edited files do.
  const bytesOf = (text: string): Buffer => Buffer.concat(text.split('ç').flatMap((part, i) => (i === 0 ? [] : [Buffer.from('ç', 'utf8')]).concat(Buffer.from(part, 'latin1'))));

  for (const input of inputs) {
    it(`${input.name}: invalid UTF-8 fails with line and byte offset, from a file and from stdin in small chunks`, async () => {
      const bytes = bytesOf(input.text);
      const path = await tempFile(input.name, bytes);
      await rejectsWithLine(async () => collect((await openRows(path, input.options)).rows), latin1Line(path, bytes));
      const format = input.name.endsWith('.csv') ? 'csv' : input.name.endsWith('.tsv') ? 'tsv' : input.name.endsWith('.jsonl') ? 'jsonl' : 'txt';
      await rejectsWithLine(async () => collect((await openRows('-', {...input.options, format, stdin: fakeStdin(bytes, 2)})).rows), latin1Line('<stdin>', bytes));
    });

    it(`${input.name}: onInvalidUtf8 'replace' reads U+FFFD and counts the line`, async () => {
      const path = await tempFile(input.name, bytesOf(input.text));
      const source = await openRows(path, {...input.options, onInvalidUtf8: 'replace'});
      const rows = await collect(source.rows);
      assert.deepEqual(rows.map((row) => row.fields.text), input.expected);
      assert.equal(source.invalidUtf8Lines, 1);
    });
  }

  it("counts lines, not bytes, with 'replace'", async () => {
    const source = await openRows('-', {format: 'txt', onInvalidUtf8: 'replace', stdin: fakeStdin(Buffer.from('\xe9\xe8\nok\n\xff\n\xe0', 'latin1'), 1)});
    assert.deepEqual((await collect(source.rows)).map((row) => row.fields.text), ['\ufffd\ufffd', 'ok', '\ufffd', '\ufffd']);
    assert.equal(source.invalidUtf8Lines, 3);
  });

  for (const [name, bom] of [['le.csv', 'utf16le'], ['be.txt', 'utf16be']] as const) {
    it(`${name}: UTF-16 (${bom}) is one line saying so, not 'column not found' with NUL bytes`, async () => {
      const le = Buffer.from('\ufefftext\nhello\n', 'utf16le');
      const path = await tempFile(name, bom === 'utf16le' ? le : Buffer.from(le).swap16());
      await rejectsWithLine(
        async () => collect((await openRows(path)).rows),
        `${path}:1: looks like UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8; convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8`,
      );
    });
  }

  it('UTF-16 without a byte-order mark is told by its NUL bytes', async () => {
    const path = await tempFile('nobom.tsv', Buffer.from('text\tid\nhello\t1\n', 'utf16le'));
    await rejectsWithLine(
      () => openRows(path),
      `${path}:1: looks like UTF-16 (NUL bytes among its first characters), not UTF-8; convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8`,
    );
  });
});
