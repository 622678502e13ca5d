import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {EXIT, SbertkitError} from '../../../src/errors.js';
import {openOutput, removePendingOutputsSync} from '../../../src/io/output/atomic-output.js';
import {repoRoot} from '../../helpers/paths.js';
import {listDir, tempDir} from '../../helpers/tmp.js';

describe('openOutput: files', () => {
  it('writes to a hidden temp file and renames it onto the target on commit', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out.txt');
    const sink = await openOutput(target);
    await sink.write('hello ');
    await sink.write(new TextEncoder().encode('world\n'));
    const during = await listDir(dir);
    assert.equal(during.length, 1);
    assert.match(during[0]!, /^\.out\.txt\.sbertkit-tmp-\d+-[0-9a-f]+$/);
    await sink.commit();
    assert.deepEqual(await listDir(dir), ['out.txt']);
    assert.equal(await readFile(target, 'utf8'), 'hello world\n');
    await sink.abort(); // no-op after commit: safe in a finally
    assert.deepEqual(await listDir(dir), ['out.txt']);
  });

  it('abort leaves neither the target nor a temp file, and keeps an existing target intact', async () => {
    const dir = await tempDir();
    const fresh = await openOutput(join(dir, 'new.txt'));
    await fresh.write('partial');
    await fresh.abort();
    assert.deepEqual(await listDir(dir), []);

    const existing = join(dir, 'old.txt');
    await writeFile(existing, 'previous run\n');
    const sink = await openOutput(existing);
    await sink.write('half of a new run');
    await sink.abort();
    assert.deepEqual(await listDir(dir), ['old.txt']);
    assert.equal(await readFile(existing, 'utf8'), 'previous run\n');
  });

  it('removePendingOutputsSync (the exit hook) deletes uncommitted temp files', async () => {
    const dir = await tempDir();
    const sink = await openOutput(join(dir, 'x.bin'));
    await sink.write('data');
    removePendingOutputsSync();
    assert.deepEqual(await listDir(dir), []);
    await sink.abort();
  });

  it('reports a missing directory up front, as bad input (exit 2)', async () => {
    const dir = await tempDir();
    const target = join(dir, 'missing', 'out.txt');
    await assert.rejects(() => openOutput(target), (error: unknown) => {
      assert.ok(error instanceof SbertkitError);
      assert.equal(error.toLine(), `${target}: cannot write: directory ${join(dir, 'missing')} does not exist`);
      assert.equal(error.exitCode, EXIT.BAD_INPUT);
      return true;
    });
  });

  it('refuses to replace a directory', async () => {
    const dir = await tempDir();
    await assert.rejects(() => openOutput(dir), /cannot write: is a directory/);
  });
});

describe('openOutput: write failures are I/O errors (exit 74)', () => {
  it('stdout that fails with ENOSPC or EIO: exit 74 naming <stdout>', async () => {
    for (const [code, text] of [['ENOSPC', 'no space left on device'], ['EIO', 'input/output error']] as const) {
      const stdout = new Writable({
        write(_chunk, _encoding, callback) {
          callback(Object.assign(new Error(`write ${code}`), {code}));
        },
      });
      const sink = await openOutput('-', {stdout});
      await assert.rejects(async () => {
        await sink.write('data\n');
        await sink.commit();
      }, (error: unknown) => {
        assert.ok(error instanceof SbertkitError);
        assert.equal(error.exitCode, EXIT.IO);
        assert.equal(error.toLine(), `<stdout>: cannot write: ${text}`);
        return true;
      });
    }
  });
});

describe('openOutput: stdout', () => {
  it('turns EPIPE into closed=true instead of an error', async () => {
    const received: string[] = [];
    let calls = 0;
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        calls++;
        if (calls === 1) {
          received.push(chunk.toString());
          callback();
        } else callback(Object.assign(new Error('write EPIPE'), {code: 'EPIPE'}));
      },
    });
    const sink = await openOutput('-', {stdout});
    assert.equal(sink.isStdout, true);
    await sink.write('first\n');
    assert.equal(sink.closed, false);
    await sink.write('second\n');
    await sink.whenClosed;
    assert.equal(sink.closed, true);
    await sink.write('dropped\n'); // no throw once the reader is gone
    await sink.commit();
    assert.deepEqual(received, ['first\n']);
  });

  it('waits for drain instead of buffering without bound', async () => {
    const highWaterMark = 1024;
    let maxBuffered = 0;
    const stdout = new Writable({
      highWaterMark,
      write(_chunk, _encoding, callback) {
        setTimeout(callback, 1);
      },
    });
    const sink = await openOutput('-', {stdout});
    const chunk = 'x'.repeat(600);
    for (let i = 0; i < 50; i++) {
      await sink.write(chunk);
      maxBuffered = Math.max(maxBuffered, stdout.writableLength);
    }
    await sink.commit();
    assert.ok(maxBuffered <= highWaterMark + chunk.length, `buffered ${maxBuffered} bytes`);
    assert.equal(stdout.writableLength, 0);
  });
});

describe('stdout pipeline closed early (| head -1)', () => {
  // The child is the sibling fixture of this file: .ts under tsx, .js once compiled to dist/.
  const fromSource = import.meta.url.endsWith('.ts');
  const child = fileURLToPath(new URL(`./fixtures/epipe-child.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const node = [process.execPath, ...(fromSource ? ['--import', 'tsx'] : []), child].map((arg) => `'${arg}'`).join(' ');

  for (const kind of ['rows', 'vectors']) {
    it(`${kind}: the writer stops quietly and the process exits 0`, async () => {
      const script = `${node} ${kind} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`;
      const {stdout, stderr} = await new Promise<{stdout: string; stderr: string}>((resolve, reject) => {
        execFile('bash', ['-c', script], {cwd: repoRoot(), timeout: 60_000}, (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${err}`)) : resolve({stdout: out, stderr: err}),
        );
      });
      assert.equal(stdout.split('\n').length, 2, 'head printed exactly one line');
      assert.equal(JSON.parse(stdout).i ?? JSON.parse(stdout).id, 0);
      assert.match(stderr, /closed=true written=\d+/);
      const written = Number(/written=(\d+)/.exec(stderr)![1]);
      assert.ok(written < 5_000_000, 'the writer stopped early');
      assert.doesNotMatch(stderr, /EPIPE|Error/);
      assert.match(stderr, /status=0\n$/);
    });
  }
});
