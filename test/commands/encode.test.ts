/**
 * `sbertkit encode` end to end: the real binary, real files and pipes. Vectors are checked against the
 * independent forward pass, files against independent readers (DuckDB, apache-arrow, JSON.parse).
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, lstatSync, readdirSync} from 'node:fs';
import {link, mkdtemp, readFile, symlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {DuckDBInstance} from '@duckdb/node-api';
import {tableFromIPC} from 'apache-arrow';
import {TINY_BERT, writeBertModelFolder, type BertFolder} from '../helpers/bert-fixture.js';
import {runCli, runShell} from '../helpers/cli.js';
import {cosine} from '../helpers/vector-math.js';
import {l2Normalize, referencePool, referenceTokenEmbeddings, referenceWordPiece} from '../helpers/reference-bert.js';
import {tempDir} from '../helpers/tmp.js';

const MAX_SEQ = 20;
let dir: string;
let model: BertFolder;

const ROWS = [
  {id: 'r1', text: 'The cat sat on the mat.', lang: 'en'},
  {id: 'r2', text: 'A dog, "quoted", runs in the park', lang: 'en'},
  {id: 'r3', text: 'this is a long line that goes on and on past the limit of twenty tokens for sure, yes it does indeed', lang: 'en'},
  {id: 'r4', text: 'Where is the station?', lang: 'fr'},
];

function reference(text: string): Float64Array {
  const ids = referenceWordPiece(model.vocab, text, MAX_SEQ);
  return l2Normalize(referencePool(referenceTokenEmbeddings(TINY_BERT, model.weights, ids, ids.map(() => 0)), 'mean'));
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

before(async () => {
  dir = await tempDir();
  model = await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: MAX_SEQ});
  await writeFile(join(dir, 'in.csv'), '\uFEFFid,text,lang\r\n' + ROWS.map((r) => [r.id, r.text, r.lang].map(csvCell).join(',')).join('\r\n') + '\r\n');
});
describe('sbertkit encode', () => {
  test('CSV -> Parquet with id and kept columns, metadata, vectors equal to the reference', async () => {
    const out = join(dir, 'out.parquet');
    const r = await runCli(['encode', join(dir, 'in.csv'), '-o', out, '--model', model.dir, '--id-column', 'id', '--keep-columns', 'lang', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const envelope = JSON.parse(r.stdout) as {command: string; status: number; result: Record<string, unknown>; warnings: string[]};
    assert.deepEqual([envelope.command, envelope.status, envelope.warnings], ['encode', 0, []]);
    const summary = envelope.result;
    assert.equal(summary.rows, ROWS.length);
    const expectedTruncated = ROWS.filter((row) => referenceWordPiece(model.vocab, row.text, 1e9).length > MAX_SEQ).length;
    assert.ok(expectedTruncated >= 1);
    assert.equal(summary.truncated, expectedTruncated);
    assert.equal(summary.dimension, TINY_BERT.hidden);

    const duck = await DuckDBInstance.create();
    const db = await duck.connect();
    try {
      const rows = (await db.runAndReadAll(`SELECT id, lang, embedding FROM read_parquet('${out}')`)).getRowObjectsJS() as Array<{id: string; lang: string; embedding: number[]}>;
      assert.deepEqual(rows.map((row) => row.id), ROWS.map((row) => row.id));
      assert.deepEqual(rows.map((row) => row.lang), ROWS.map((row) => row.lang));
      rows.forEach((row, i) => assert.ok(cosine(row.embedding, reference(ROWS[i]!.text)) >= 0.99999, ROWS[i]!.text));
      const kv = (await db.runAndReadAll(`SELECT key::VARCHAR AS k, value::VARCHAR AS v FROM parquet_kv_metadata('${out}')`)).getRowObjectsJS() as Array<{k: string; v: string}>;
      const meta = Object.fromEntries(kv.map(({k, v}) => [k, v]));
      assert.equal(meta['sbertkit.model'], model.dir);
      assert.equal(meta['sbertkit.dimension'], String(TINY_BERT.hidden));
      assert.equal(meta['sbertkit.pooling'], 'mean');
      assert.equal(meta['sbertkit.normalized'], 'true');
    } finally {
      db.closeSync();
      duck.closeSync();
    }
  });

  test('stdin txt -> stdout JSONL, row numbers as ids, one summary line on stderr', async () => {
    const r = await runCli(['encode', '--model', model.dir], {stdin: ROWS.map((row) => row.text).join('\n') + '\n'});
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as {id: number; embedding: number[]});
    assert.deepEqual(lines.map((l) => l.id), [0, 1, 2, 3]);
    lines.forEach((l, i) => assert.ok(cosine(l.embedding, reference(ROWS[i]!.text)) >= 0.99999));
    const stderrLines = r.stderr.trim().split('\n');
    assert.equal(stderrLines.length, 1);
    assert.match(stderrLines[0]!, /encoded 4 texts .* 1 truncated to 20 tokens/);
  });

  test('Arrow file and Arrow stream outputs read back with apache-arrow', async () => {
    for (const [name, extra] of [['out.arrow', []], ['out.bin', ['--format', 'arrow-stream']]] as const) {
      const out = join(dir, name);
      const r = await runCli(['encode', join(dir, 'in.csv'), '-o', out, '--model', model.dir, '--quiet', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const table = tableFromIPC(await readFile(out));
      assert.equal(table.numRows, ROWS.length);
      const emb = table.getChild('embedding')!;
      for (let i = 0; i < ROWS.length; i++) {
        const v = Array.from(emb.get(i) as Iterable<number>);
        assert.equal(v.length, TINY_BERT.hidden);
        assert.ok(cosine(v, reference(ROWS[i]!.text)) >= 0.99999);
      }
      assert.equal(table.schema.metadata.get('sbertkit.pooling'), 'mean');
      assert.equal(table.schema.metadata.get('sbertkit.max_seq_length'), String(MAX_SEQ));
    }
  });

  test('--max-seq-length is what the metadata and the summary report', async () => {
    const out = join(dir, 'short.arrow');
    const r = await runCli(['encode', join(dir, 'in.csv'), '-o', out, '--model', model.dir, '--max-seq-length', '6', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = (JSON.parse(r.stdout) as {result: {truncated: number; max_seq_length: number}}).result;
    assert.equal(summary.max_seq_length, 6);
    assert.equal(summary.truncated, ROWS.filter((row) => referenceWordPiece(model.vocab, row.text, 1e9).length > 6).length);
    assert.equal(tableFromIPC(await readFile(out)).schema.metadata.get('sbertkit.max_seq_length'), '6');
  });

  test('batch size and thread count do not change the output file beyond 1e-5', async () => {
    const outs: number[][][] = [];
    for (const flags of [['--batch-size', '1', '--threads', '1'], ['--batch-size', '3', '--threads', '2', '--window-size', '2']]) {
      const r = await runCli(['encode', join(dir, 'in.csv'), '--model', model.dir, '--quiet', ...flags]);
      assert.equal(r.code, 0, r.stderr);
      outs.push(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {embedding: number[]}).embedding));
    }
    outs[0]!.forEach((v, i) => v.forEach((x, j) => assert.ok(Math.abs(x - outs[1]![i]![j]!) <= 1e-5)));
  });

  test('JSONL integer ids beyond 2^53 stay distinct and exact in the output', async () => {
    const input = join(dir, 'big-ids.jsonl');
    await writeFile(input, '{"id": 9007199254740993, "text": "a cat"}\n{"id": 9007199254740992, "text": "a dog"}\n');
    const r = await runCli(['encode', input, '--id-column', 'id', '--model', model.dir, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    // The ids are read from the raw output text: JSON.parse here would round them again.
    assert.deepEqual([...r.stdout.matchAll(/"id":("?)(-?\d+)\1/g)].map((m) => m[2]), ['9007199254740993', '9007199254740992']);
  });

  test('| head -1 ends quietly with exit 0', async () => {
    const big = join(dir, 'big.txt');
    await writeFile(big, Array.from({length: 20000}, (_, i) => `line number ${i} about the cat`).join('\n'));
    const r = await runShell(`$SBERTKIT encode ${big} --model ${model.dir} --quiet | head -1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trim().split('\n').length, 1);
    // Without --quiet the summary says the output stopped early, so a short output is not mistaken for the whole.
    const told = await runShell(`$SBERTKIT encode ${big} --model ${model.dir} | head -1`);
    assert.equal(told.code, 0, told.stderr);
    assert.match(told.stderr.trim(), /^encoded \d+ texts .* -> stdout \(stopped early: the reader of stdout went away\)$/);
  });
});

describe('sbertkit encode: bad input is one line, non-zero exit, no output file', () => {
  const cases: Array<{name: string; file: string; content: string | Buffer; args: string[]; pattern: RegExp}> = [
    {name: 'missing text column lists the columns', file: 'cols.csv', content: 'id,body\n1,hello\n', args: [], pattern: /cols\.csv:1: .*'text'.*columns are id, body/},
    {name: 'ragged CSV row names its line', file: 'ragged.csv', content: 'id,text\n1,hello\n2,world,extra\n', args: [], pattern: /ragged\.csv:3:/},
    {name: 'invalid JSONL names its line', file: 'bad.jsonl', content: '{"text":"ok"}\n{"text": nope}\n', args: [], pattern: /bad\.jsonl:2: .*JSON/},
    {name: 'JSONL row without the text field names line and field', file: 'missing.jsonl', content: '{"text":"ok"}\n{"body":"x"}\n', args: [], pattern: /missing\.jsonl:2: .*'text'/},
    {name: 'missing input file', file: 'nope.csv', content: '', args: ['--no-create'], pattern: /nope\.csv/},
    {name: 'Latin-1 CSV names line and byte offset', file: 'latin1.csv', content: Buffer.from('id,text\n1,ok\n2,caf\xe9\n', 'latin1'), args: [], pattern: /latin1\.csv:3: invalid UTF-8 \(byte 0xE9 at byte offset 18\)/},
    {name: 'UTF-16 CSV says so', file: 'utf16.csv', content: Buffer.from('\ufeffid,text\n1,hello\n', 'utf16le'), args: [], pattern: /utf16\.csv:1: looks like UTF-16 .*iconv -f UTF-16 -t UTF-8/},
    {name: 'unclosed CSV quote names the line where it opened', file: 'unclosed.csv', content: 'id,text\n1,"open\n2,more\n3,and more\n', args: [], pattern: /unclosed\.csv:2: invalid CSV: a quoted field opened here is never closed/},
    {name: 'a .txt.gz that is not gzip', file: 'plain.txt.gz', content: 'hello\nworld\n', args: [], pattern: /plain\.txt\.gz: not valid gzip \(incorrect header check\)/},
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const input = join(dir, c.file);
      const create = !c.args.includes('--no-create');
      if (create) await writeFile(input, c.content);
      const outDir = await mkdtemp(join(dir, 'out-'));
      const out = join(outDir, 'vectors.parquet');
      const r = await runCli(['encode', input, '-o', out, '--model', model.dir, '--window-size', '1', '--batch-size', '1']);
      assert.notEqual(r.code, 0);
      assert.equal(r.code, 2);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, c.pattern);
      assert.equal(existsSync(out), false);
      assert.deepEqual(readdirSync(outDir), [], 'no temp file left behind');
    });
  }

  test('unknown model folder exits 3 with one line', async () => {
    const r = await runCli(['encode', join(dir, 'in.csv'), '--model', join(dir, 'no-such-model'), '-o', join(dir, 'x.parquet')]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /no-such-model/);
  });

  test('bad flags and unknown flags: one line that says what is wrong and where help is, exit 2', async () => {
    for (const [args, pattern] of [
      [['--bogus'], /^sbertkit encode: Nonexistent flag: --bogus \(see: sbertkit encode --help\)$/],
      [['--batch-size', 'abc'], /^sbertkit encode: --batch-size: Expected an integer but received: abc \(see: sbertkit encode --help\)$/],
      [['--threads', '0'], /^sbertkit encode: --threads: Expected an integer greater than or equal to 1 but received: 0 /],
      [['--format', 'xml'], /^sbertkit encode: Expected --format=xml to be one of: parquet, arrow, arrow-stream, jsonl /],
    ] as const) {
      const r = await runCli(['encode', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
    }
    const gate = await runCli(['eval-sts', 'x.tsv', '--min-spearman', 'abc']);
    assert.equal(gate.code, 2);
    assert.equal(gate.stderr.trim(), 'sbertkit eval-sts: --min-spearman: expected a number but received: abc (see: sbertkit eval-sts --help)');
  });

  test('invalid UTF-8: one line naming file, line and byte by default; --on-invalid-utf8 replace encodes and counts', async () => {
    const latin1 = join(dir, 'latin1.txt');
    await writeFile(latin1, Buffer.concat([Buffer.from('plain line\ncaf'), Buffer.from([0xe9]), Buffer.from(' au lait\nanother\n')]));
    const strict = await runCli(['encode', latin1, '--model', model.dir, '-o', join(dir, 'latin1.jsonl')]);
    assert.equal(strict.code, 2);
    assert.equal(strict.stderr.trim().split('\n').length, 1, strict.stderr);
    assert.match(strict.stderr, /latin1\.txt:2: .*UTF-8.*byte/i);
    assert.equal(existsSync(join(dir, 'latin1.jsonl')), false);
    const replaced = await runCli(['encode', latin1, '--model', model.dir, '-o', join(dir, 'latin1.jsonl'), '--on-invalid-utf8', 'replace', '--json']);
    assert.equal(replaced.code, 0, replaced.stderr);
    const result = (JSON.parse(replaced.stdout) as {result: {rows: number; invalid_utf8_lines: number}}).result;
    assert.deepEqual([result.rows, result.invalid_utf8_lines], [3, 1]);
    const human = await runCli(['encode', latin1, '--model', model.dir, '-o', join(dir, 'latin1.jsonl'), '--on-invalid-utf8', 'replace']);
    assert.match(human.stderr, /1 lines with invalid UTF-8 replaced/);
  });

  test('--help lists examples', async () => {
    const r = await runCli(['encode', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /EXAMPLES/);
    assert.match(r.stdout, /--text-column/);
  });
});

describe('sbertkit encode: a bad output path fails before the model loads', () => {
  test('missing output directory: exit 2, one line, no model conversion message', async () => {
    const r = await runCli(['encode', join(dir, 'in.csv'), '-o', join(dir, 'no-such-dir', 'out.parquet')], {env: {SBERTKIT_CACHE: join(dir, 'never-created-cache')}});
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no-such-dir/);
    assert.equal(existsSync(join(dir, 'never-created-cache')), false, 'the built-in model was not converted');
  });
});

describe('sbertkit encode: interrupted runs leave nothing behind', () => {
  // SIGHUP is what a closed terminal or ssh session sends.
  for (const [signal, expected] of [['SIGINT', 130], ['SIGHUP', 129]] as const) {
    test(`${signal} while writing: exit ${expected}, no output and no temp file`, async () => {
      const {spawn} = await import('node:child_process');
      const {repoRoot} = await import('../helpers/paths.js');
      const outDir = await mkdtemp(join(dir, `${signal.toLowerCase()}-`));
      const big = join(dir, `${signal}.txt`);
      await writeFile(big, Array.from({length: 200_000}, (_, i) => `row ${i} about the cat and the dog`).join('\n'));
      const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'encode', big, '-o', join(outDir, 'out.parquet'), '--model', model.dir, '--quiet']);
      // Wait until the temp output exists, i.e. the run is really writing.
      const started = Date.now();
      while (!readdirSync(outDir).some((f) => f.includes('sbertkit-tmp')) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 50));
      assert.ok(readdirSync(outDir).length > 0, 'temp file appeared');
      const code = await new Promise<number | null>((resolve) => {
        child.on('close', resolve);
        child.kill(signal);
      });
      assert.equal(code, expected);
      assert.deepEqual(readdirSync(outDir), []);
    });
  }
});

describe('sbertkit encode: outputs that are not a plain new file', () => {
  test('-o naming the input (same path, another spelling, hard link, symlink): refused before reading, exit 2, input intact', async () => {
    const work = await mkdtemp(join(dir, 'same-'));
    const input = join(work, 'texts.jsonl');
    const content = '{"text":"keep me"}\n{"text":"and me"}\n';
    await writeFile(input, content);
    await link(input, join(work, 'hard.jsonl'));
    await symlink(input, join(work, 'soft.jsonl'));
    for (const [output, cwd] of [[input, undefined], [`${work}/./texts.jsonl`, undefined], ['texts.jsonl', work], [join(work, 'hard.jsonl'), undefined], [join(work, 'soft.jsonl'), undefined]] as const) {
      const r = await runCli(['encode', input, '-o', output, '--model', model.dir], {cwd});
      assert.equal(r.code, 2, `${output}: ${r.stderr}`);
      assert.deepEqual(r.stderr.trim().split('\n'), [`sbertkit encode: ${output}: refusing to write over the input ${input}; choose another output`]);
      assert.equal(await readFile(input, 'utf8'), content);
    }
    assert.deepEqual(readdirSync(work).sort(), ['hard.jsonl', 'soft.jsonl', 'texts.jsonl']);
    assert.ok(lstatSync(join(work, 'soft.jsonl')).isSymbolicLink());

    // An input that is not even valid: the refusal comes first, so nothing was read.
    const broken = join(work, 'broken.jsonl');
    await writeFile(broken, '{"text": nope}\n');
    const r = await runCli(['encode', broken, '-o', broken, '--model', model.dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refusing to write over the input/);
  });

  test('-o a symlink writes the vectors to its target; the link stays a link', async () => {
    const work = await mkdtemp(join(dir, 'link-'));
    await symlink('real.jsonl', join(work, 'out.jsonl'));
    const r = await runCli(['encode', join(dir, 'in.csv'), '-o', join(work, 'out.jsonl'), '--model', model.dir, '--quiet', '--id-column', 'id']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(join(work, 'out.jsonl')).isSymbolicLink());
    const lines = (await readFile(join(work, 'real.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {id: string});
    assert.deepEqual(lines.map((l) => l.id), ROWS.map((row) => row.id));
    assert.deepEqual(readdirSync(work).sort(), ['out.jsonl', 'real.jsonl']);
  });

  test('-o >(process substitution) (/dev/fd/N): the vectors reach the process', async () => {
    const out = join(await mkdtemp(join(dir, 'procsub-')), 'vectors.jsonl');
    // `wait $!` waits for the process substitution (bash >= 5.1), so its file is complete.
    const r = await runShell(`$SBERTKIT encode ${join(dir, 'in.csv')} --model ${model.dir} --quiet --format jsonl -o >(cat > ${out}); status=$?; wait $!; exit $status`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {embedding: number[]});
    assert.equal(lines.length, ROWS.length);
    lines.forEach((l, i) => assert.ok(cosine(l.embedding, reference(ROWS[i]!.text)) >= 0.99999));
  });
});

describe('sbertkit encode: a full disk is an I/O error (exit 74), one line', () => {
  test('stdout redirected to /dev/full', async () => {
    const r = await runShell(`$SBERTKIT encode ${join(dir, 'in.csv')} --model ${model.dir} > /dev/full`);
    assert.equal(r.code, 74);
    assert.deepEqual(r.stderr.trim().split('\n'), ['sbertkit encode: <stdout>: cannot write: no space left on device']);
  });

  test('stdout redirected to /dev/full with --json: the error envelope on stderr says 74', async () => {
    const r = await runShell(`$SBERTKIT encode ${join(dir, 'in.csv')} --model ${model.dir} --json > /dev/full`);
    assert.equal(r.code, 74);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.deepEqual(JSON.parse(lines[0]!), {
      command: 'encode',
      status: 74,
      error: {message: 'cannot write: no space left on device', exitCode: 74, file: '<stdout>'},
      warnings: [],
    });
  });

  test('-o /dev/full: exit 74, one line, /dev/full still a character device', async () => {
    // As root, first a private node with the same numbers (see privateDevice in the output tests):
    // a regression then fails there instead of replacing the machine's /dev/full.
    const targets: string[] = [];
    if (process.getuid?.() === 0) {
      const standIn = join(await mkdtemp(join(dir, 'full-')), 'full');
      try {
        execFileSync('mknod', [standIn, 'c', '1', '7'], {stdio: 'ignore'});
        targets.push(standIn);
      } catch {
        return; // cannot make the stand-in: do not risk the real /dev/full as root
      }
    }
    targets.push('/dev/full');
    for (const target of targets) {
      const r = await runCli(['encode', join(dir, 'in.csv'), '--model', model.dir, '--format', 'jsonl', '-o', target]);
      assert.equal(r.code, 74, r.stderr);
      assert.deepEqual(r.stderr.trim().split('\n'), [`sbertkit encode: ${target}: cannot write: no space left on device`]);
      assert.ok(lstatSync(target).isCharacterDevice(), `${target} is still a character device`);
    }
  });
});
