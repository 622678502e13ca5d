/** Reader-side cases of vector files that the write/read round trips in write-vectors.test.ts do not reach. */
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {describe, it} from 'node:test';
import {SbertkitError} from '../../../src/errors.js';
import {openVectors} from '../../../src/io/vectors/read-vectors.js';
import {openVectorWriter} from '../../../src/io/vectors/write-vectors.js';
import {repoRoot} from '../../helpers/paths.js';
import {collect, tempDir, tempFile} from '../../helpers/tmp.js';

describe('openVectors: JSONL text encoding', () => {
  const latin1 = Buffer.from('{"id":"a","lang":"fr","embedding":[1,2]}\n{"id":"caf\xe9","lang":"fr","embedding":[3,4]}\n', 'latin1');

  it('fails on invalid UTF-8 with line and byte offset', async () => {
    const path = await tempFile('v.jsonl', latin1);
    const offset = latin1.indexOf(0xe9);
    await assert.rejects(async () => collect((await openVectors(path)).records), (error: unknown) => {
      assert.ok(error instanceof SbertkitError, String(error));
      assert.equal(error.toLine(), `${path}:2: invalid UTF-8 (byte 0xE9 at byte offset ${offset}); convert the file to UTF-8 (e.g. iconv -f latin1 -t UTF-8) or pass --on-invalid-utf8 replace`);
      return true;
    });
  });

  it("reads U+FFFD and counts the line with onInvalidUtf8: 'replace'", async () => {
    const path = await tempFile('v.jsonl', latin1);
    const source = await openVectors(path, {onInvalidUtf8: 'replace'});
    const records = await collect(source.records);
    assert.deepEqual(records.map((r) => r.id), ['a', 'caf\ufffd']);
    assert.deepEqual(Array.from(records[1]!.vector), [3, 4]);
    assert.equal(source.invalidUtf8Lines, 1);
  });
});

describe('openVectors: JSONL ids', () => {
  it('keeps integer ids beyond 2^53 exactly, as their digits', async () => {
    const path = await tempFile('ids.jsonl', '{"id":9007199254740993,"embedding":[1,2]}\n{"id":9007199254740992,"embedding":[3,4]}\n{"id":7,"embedding":[5,6]}\n');
    const records = await collect((await openVectors(path)).records);
    assert.deepEqual(records.map((r) => r.id), ['9007199254740993', '9007199254740992', 7]);
  });
});

/**
 * Damaged vector files the fuzzer (test/io/fuzz/vectors.test.ts) found, kept as fixtures. Each is read
 * in a child process with a small heap and a deadline, because what they did before the fix was to
 * loop for ever, fill the heap or kill the process from inside parquet-wasm.
 */
describe('openVectors: damaged files found by the fuzzer', () => {
  const readVectorsUrl = new URL('../../../src/io/vectors/read-vectors.js', import.meta.url).href;
  /** The one line a child process reports: 'ok N' or the error's toLine() (or its stack when not an SbertkitError). */
  async function readInChild(path: string, format: string, viaStdin: boolean): Promise<string> {
    const script = `
      const {openVectors} = await import(${JSON.stringify(readVectorsUrl)});
      const {createReadStream} = await import('node:fs');
      const path = ${JSON.stringify(path)};
      try {
        const source = await openVectors(${viaStdin} ? '-' : path, {format: ${JSON.stringify(format)}, stdin: ${viaStdin} ? createReadStream(path) : undefined});
        let n = 0;
        for await (const record of source.records) n++;
        console.log('ok ' + n);
      } catch (error) {
        console.log(error.constructor.name === 'SbertkitError' ? error.toLine() : 'NOT AN SbertkitError: ' + error.stack);
      }`;
    const {spawnSync} = await import('node:child_process');
    const scriptPath = join(await tempDir(), 'read.mjs');
    await writeFile(scriptPath, script);
    const child = spawnSync(process.execPath, ['--max-old-space-size=256', scriptPath], {encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL'});
    return child.error ? `child failed: ${child.error.message}` : (child.stdout.trim() || `no output; exit ${child.status ?? child.signal}: ${child.stderr.slice(0, 500)}`);
  }
  const fixture = (name: string): string => join(repoRoot(), 'test', 'io', 'vectors', 'fixtures', name);

  const cases = [
    {name: 'batch-block-loop.arrow', format: 'arrow', stdin: false, message: 'cannot read Arrow IPC: the file is damaged: reading it never ends'},
    {name: 'short-read-loop.arrow', format: 'arrow', stdin: true, message: 'cannot read Arrow IPC: the file is damaged: reading it never ends'},
    {name: 'huge-children.arrows', format: 'arrow-stream', stdin: true, message: 'cannot read Arrow IPC: damaged metadata: a list runs past the end of its message'},
    {name: 'decoder-panic.parquet', format: 'parquet', stdin: false, message: 'cannot read Parquet: the file is damaged (the Parquet decoder failed)'},
    {name: 'list-without-child.arrows', format: 'arrow-stream', stdin: false, message: "column 'embedding' is a damaged type, expected a list of floats (or of 8-bit integers)"},
  ];
  for (const c of cases) {
    it(`${c.name} (${c.stdin ? 'stdin' : 'file'}) fails as one line`, async () => {
      const path = fixture(c.name);
      assert.equal(await readInChild(path, c.format, c.stdin), `${c.stdin ? '<stdin>' : path}: ${c.message}`);
    });
  }

  it('a batch that declares more rows than its buffers hold', async () => {
    const dir = await tempDir();
    const path = join(dir, 'seven.arrows');
    const writer = await openVectorWriter(path, {format: 'arrow-stream', dimension: 3, idType: 'int'});
    await writer.write(Array.from({length: 7}, (_, i) => ({id: i, vector: new Float32Array([i, i, i]), fields: {}})));
    await writer.commit();
    const bytes = await readFile(path);
    // Stream framing: [FFFFFFFF][int32 length][metadata][body]; the second message is the batch, whose
    // metadata holds the row count (and the row count of each top-level column) as int64 7.
    const schemaEnd = 8 + bytes.readInt32LE(4);
    const batchMetadata = bytes.subarray(schemaEnd + 8, schemaEnd + 8 + bytes.readInt32LE(schemaEnd + 4));
    let patched = 0;
    for (let at = batchMetadata.indexOf(int64(7)); at !== -1; at = batchMetadata.indexOf(int64(7), at + 8)) {
      batchMetadata.writeBigInt64LE(7_000_000n, at);
      patched++;
    }
    assert.ok(patched >= 1);
    const source = await openVectors('-', {format: 'arrow-stream', stdin: Readable.from([bytes])});
    await assert.rejects(() => collect(source.records), (error: unknown) => {
      assert.ok(error instanceof SbertkitError, String(error));
      assert.equal(error.toLine(), "<stdin>: column 'embedding' declares 7000000 rows but holds data for 7; the file is damaged");
      return true;
    });
  });

  it('an empty Arrow input', async () => {
    for (const format of ['arrow', 'arrow-stream'] as const) {
      await assert.rejects(() => openVectors('-', {format, stdin: Readable.from([Buffer.alloc(0)])}), (error: unknown) => {
        assert.ok(error instanceof SbertkitError, String(error));
        assert.equal(error.toLine(), '<stdin>: not Arrow IPC: the input is empty or ends before its schema');
        return true;
      });
    }
  });
});

function int64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64LE(BigInt(value));
  return buffer;
}

describe('openVectors: pipes', () => {
  // A FIFO (like bash's <(zcat x.gz)) can be read once, front to back: Parquet and Arrow files are
  // copied to a temp file like stdin. Read in place, they looked like empty files.
  for (const [format, extension] of [['parquet', 'parquet'], ['arrow', 'arrow'], ['arrow-stream', 'arrows'], ['jsonl', 'jsonl']] as const) {
    it(`${format}: a FIFO fed by a writer process reads like the file`, async () => {
      const dir = await tempDir();
      const path = join(dir, `v.${extension}`);
      const records = Array.from({length: 5}, (_, i) => ({id: i * 10, vector: new Float32Array([i, -i, i / 4]), fields: {}}));
      const writer = await openVectorWriter(path, {format, dimension: 3, idType: 'int'});
      await writer.write(records);
      await writer.commit();
      const fifo = join(dir, 'fifo');
      const {execFileSync, spawn} = await import('node:child_process');
      execFileSync('mkfifo', [fifo]);
      const feeder = spawn('sh', ['-c', `cat '${path}' > '${fifo}'`], {stdio: 'ignore'});
      try {
        const source = await openVectors(fifo, {format});
        const read = await collect(source.records);
        assert.deepEqual(read.map((r) => [r.id, Array.from(r.vector)]), records.map((r) => [r.id, Array.from(r.vector)]));
      } finally {
        feeder.kill();
      }
    });
  }
});
