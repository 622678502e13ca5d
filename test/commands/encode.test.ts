/**
 * `sbertkit encode` end to end: the real binary, real files and pipes. Vectors are checked against the
 * independent forward pass, files against independent readers (DuckDB, apache-arrow, JSON.parse).
 */
import assert from 'node:assert/strict';
import {existsSync, readdirSync} from 'node:fs';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
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
  test('SIGINT while writing: exit 130, no output and no temp file', async () => {
    const {spawn} = await import('node:child_process');
    const {repoRoot} = await import('../helpers/paths.js');
    const outDir = await mkdtemp(join(dir, 'sigint-'));
    const big = join(dir, 'sigint.txt');
    await writeFile(big, Array.from({length: 200_000}, (_, i) => `row ${i} about the cat and the dog`).join('\n'));
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'encode', big, '-o', join(outDir, 'out.parquet'), '--model', model.dir, '--quiet']);
    // Wait until the temp output exists, i.e. the run is really writing.
    const started = Date.now();
    while (!readdirSync(outDir).some((f) => f.includes('sbertkit-tmp')) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 50));
    assert.ok(readdirSync(outDir).length > 0, 'temp file appeared');
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGINT');
    });
    assert.equal(code, 130);
    assert.deepEqual(readdirSync(outDir), []);
  });
});
