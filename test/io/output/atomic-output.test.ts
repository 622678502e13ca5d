import assert from 'node:assert/strict';
import {execFile, execFileSync, spawn} from 'node:child_process';
import {lstat, mkdir, readFile, readlink, stat, symlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {EXIT, SbertkitError} from '../../../src/errors.js';
import {checkOutputWritable, openOutput, removePendingOutputsSync} from '../../../src/io/output/atomic-output.js';
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

/** A child that has exited and been reaped: its pid names no live process. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('openOutput: temp files of killed runs', () => {
  it('removes temp files of the same target whose writer is dead, never a live writer\'s', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    assert.throws(() => process.kill(dead, 0), {code: 'ESRCH'});
    const sleeper = spawn('sleep', ['60']);
    try {
      const names = {
        dead: `.out.txt.sbertkit-tmp-${dead}-0badc0de`,
        live: `.out.txt.sbertkit-tmp-${sleeper.pid}-0000beef`,
        self: `.out.txt.sbertkit-tmp-${process.pid}-12345678`,
        otherTarget: `.other.txt.sbertkit-tmp-${dead}-0badc0de`,
        notATemp: '.out.txt.sbertkit-tmp-backup',
      };
      for (const name of Object.values(names)) await writeFile(join(dir, name), 'left over');
      const sink = await openOutput(join(dir, 'out.txt'));
      await sink.write('fresh\n');
      await sink.commit();
      const expected = [names.live, names.self, names.otherTarget, names.notATemp, 'out.txt'].sort();
      assert.deepEqual(await listDir(dir), expected);
      assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'fresh\n');
    } finally {
      sleeper.kill();
    }
  });
});

describe('openOutput: symlinks', () => {
  it('writes through a link to its target, atomically beside the target; the link stays a link', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'links'));
    await mkdir(join(dir, 'data'));
    const target = join(dir, 'data', 'real.jsonl');
    const linkPath = join(dir, 'links', 'out.jsonl');
    await writeFile(target, 'previous run\n');
    await symlink('../data/real.jsonl', linkPath); // relative, as `ln -s` users write them
    await checkOutputWritable(linkPath);
    const sink = await openOutput(linkPath);
    assert.equal(sink.target, linkPath, 'messages name the path the user gave');
    await sink.write('new run\n');
    const during = await listDir(join(dir, 'data'));
    assert.equal(during.length, 2);
    assert.match(during[0]!, /^\.real\.jsonl\.sbertkit-tmp-\d+-[0-9a-f]+$/, 'the temp file sits beside the target');
    assert.equal(await readFile(target, 'utf8'), 'previous run\n', 'the target changes only at commit');
    await sink.commit();
    assert.ok((await lstat(linkPath)).isSymbolicLink());
    assert.equal(await readlink(linkPath), '../data/real.jsonl');
    assert.equal(await readFile(target, 'utf8'), 'new run\n');
    assert.deepEqual(await listDir(join(dir, 'data')), ['real.jsonl']);
    assert.deepEqual(await listDir(join(dir, 'links')), ['out.jsonl']);
  });

  it('a link whose target does not exist yet creates the target', async () => {
    const dir = await tempDir();
    const linkPath = join(dir, 'out.jsonl');
    await symlink(join(dir, 'later.jsonl'), linkPath);
    const sink = await openOutput(linkPath);
    await sink.write('made\n');
    await sink.commit();
    assert.ok((await lstat(linkPath)).isSymbolicLink());
    assert.equal(await readFile(join(dir, 'later.jsonl'), 'utf8'), 'made\n');
    assert.deepEqual(await listDir(dir), ['later.jsonl', 'out.jsonl']);
  });
});

/**
 * A character device of our own (same major/minor as /dev/null or /dev/full) when running as root:
 * a stand-in checked before the real /dev node, so that a regression fails on the stand-in and never
 * replaces the machine's /dev/null with a regular file. Undefined when mknod is not allowed.
 */
function privateDevice(dir: string, name: string, minor: number): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const path = join(dir, name);
  try {
    execFileSync('mknod', [path, 'c', '1', String(minor)], {stdio: 'ignore'});
    return path;
  } catch {
    return undefined;
  }
}

describe('openOutput: devices and FIFOs are written in place', () => {
  it('a FIFO: the reader gets every byte, the FIFO stays a FIFO, no temp file', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // The timeout ends the reader if the data never arrives (a temp file renamed over the FIFO).
    const reader = spawn('cat', [fifo], {timeout: 20_000});
    const received: Buffer[] = [];
    reader.stdout.on('data', (chunk: Buffer) => received.push(chunk));
    const exited = new Promise<number | null>((resolve) => reader.on('close', resolve));

    await checkOutputWritable(fifo);
    const sink = await openOutput(fifo);
    // More than a pipe holds (64 KiB), so writes wait for the reader.
    const lines = Array.from({length: 20_000}, (_, i) => `line ${i}\n`);
    for (let i = 0; i < lines.length; i += 100) await sink.write(lines.slice(i, i + 100).join(''));
    await sink.commit();
    assert.equal(await exited, 0);
    assert.equal(Buffer.concat(received).toString(), lines.join(''));
    assert.ok((await lstat(fifo)).isFIFO());
    assert.deepEqual(await listDir(dir), ['pipe']);
  });

  it('a character device (/dev/null): written, still a character device, no temp file', async () => {
    const dir = await tempDir();
    const standIn = privateDevice(dir, 'null', 3);
    if (process.getuid?.() === 0 && standIn === undefined) return; // see privateDevice: never risk the real one as root
    for (const device of [...(standIn === undefined ? [] : [standIn]), '/dev/null']) {
      const before = await stat(device);
      await checkOutputWritable(device);
      const sink = await openOutput(device);
      await sink.write('gone\n'.repeat(1000));
      await sink.commit();
      const after = await lstat(device);
      assert.ok(after.isCharacterDevice(), `${device} is still a character device`);
      assert.equal(after.rdev, before.rdev);
      assert.equal(after.ino, before.ino, `${device} is the same node`);
    }
    assert.deepEqual(await listDir(dir), standIn === undefined ? [] : ['null']);
    assert.deepEqual((await listDir('/dev')).filter((name) => name.includes('sbertkit-tmp')), []);
  });
});

describe('openOutput: write failures are I/O errors (exit 74)', () => {
  it('a full device: one line, exit 74, the device untouched', async () => {
    const dir = await tempDir();
    const standIn = privateDevice(dir, 'full', 7);
    if (process.getuid?.() === 0 && standIn === undefined) return;
    const device = standIn ?? '/dev/full';
    const sink = await openOutput(device);
    const attempt = async (): Promise<void> => {
      for (let i = 0; i < 4; i++) await sink.write('x'.repeat(1 << 20));
      await sink.commit();
    };
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof SbertkitError);
      assert.equal(error.exitCode, EXIT.IO);
      assert.equal(error.toLine(), `${device}: cannot write: no space left on device`);
      return true;
    });
    await sink.abort();
    assert.ok((await lstat(device)).isCharacterDevice());
  });

  it('a FIFO whose reader goes away: broken pipe, exit 74 (only stdout\'s reader may leave quietly)', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('head', ['-c', '10', fifo], {timeout: 20_000});
    reader.stdout.resume();
    const sink = await openOutput(fifo);
    const attempt = async (): Promise<void> => {
      for (let i = 0; i < 64; i++) await sink.write('y'.repeat(64 * 1024));
      await sink.commit();
    };
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof SbertkitError);
      assert.equal(error.exitCode, EXIT.IO);
      assert.equal(error.toLine(), `${fifo}: cannot write: broken pipe (the reader went away)`);
      return true;
    });
    await sink.abort();
    reader.kill();
    assert.deepEqual(await listDir(dir), ['pipe']);
  });

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
  // The child is the compiled sibling fixture of this file.
  const child = fileURLToPath(new URL('./fixtures/epipe-child.js', import.meta.url));
  const node = [process.execPath, child].map((arg) => `'${arg}'`).join(' ');

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
