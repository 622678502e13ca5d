/**
 * The progress bar gives the terminal back: cli-progress hides the cursor (ESC[?25l) and turns line
 * wrap off (ESC[?7l) while it draws. The real binary runs in a pseudo-terminal (util-linux `script`),
 * and the raw bytes it wrote must turn both back on (ESC[?25h, ESC[?7h) on every way out: Ctrl-C's
 * SIGINT mid-run, a failing input, and success.
 */
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {repoRoot} from '../helpers/paths.js';
import {tempDir} from '../helpers/tmp.js';

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const WRAP_OFF = '\x1b[?7l';
const WRAP_ON = '\x1b[?7h';

const noScript = spawnSync('script', ['--version']).status !== 0 ? 'util-linux `script` is not installed (needed for a pseudo-terminal)' : false;

let dir: string;
let model: string;

before(async () => {
  dir = await tempDir();
  model = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 20})).dir;
});

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface TtyRun {
  /** Exit code of sbertkit (`script -e` passes it on). */
  code: number | null;
  /** Everything sbertkit wrote to the terminal, as raw bytes (latin1). */
  raw: string;
}

/**
 * Runs sbertkit with stdout and stderr on a pseudo-terminal. `interrupt(raw)` is polled with the
 * output so far; once it returns true, sbertkit (not `script`) gets SIGINT, as from Ctrl-C.
 */
async function runInTerminal(args: string[], interrupt?: (raw: string) => boolean): Promise<TtyRun> {
  const pidFile = join(dir, `pid-${Date.now()}`);
  // `exec` keeps the shell's pid, so the pid written is sbertkit's.
  const command = `echo $$ > ${quote(pidFile)}; exec ${[process.execPath, join(repoRoot(), 'bin', 'run.js'), ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, SHELL: '/bin/sh', TERM: 'xterm'}});
  let raw = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (raw += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  if (interrupt) {
    const started = Date.now();
    while (!interrupt(raw) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(interrupt(raw), 'the bar was drawn');
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGINT');
  }
  return {code: await closed, raw};
}

/** Cursor and line wrap are on again after the last time the bar turned them off. */
function assertRestoredAfterBar(raw: string): void {
  assert.ok(raw.includes(HIDE_CURSOR) && raw.includes(WRAP_OFF), 'a bar was drawn');
  assert.ok(raw.lastIndexOf(SHOW_CURSOR) > raw.lastIndexOf(HIDE_CURSOR), 'cursor shown again');
  assert.ok(raw.lastIndexOf(WRAP_ON) > raw.lastIndexOf(WRAP_OFF), 'line wrap on again');
}

describe('progress bar in a terminal', {skip: noScript}, () => {
  // One thread: the process exits at once; two: the worker pool is stopped first while the pipeline unwinds.
  for (const threads of ['1', '2']) {
    test(`Ctrl-C mid-run (--threads ${threads}): the last bytes on the terminal show the cursor and turn line wrap on; exit 130, no temp file`, async () => {
      const input = join(dir, 'many.txt');
      await writeFile(input, Array.from({length: 200_000}, (_, i) => `row ${i} about the cat and the dog`).join('\n'));
      const outDir = join(dir, `sigint-out-${threads}`);
      await mkdir(outDir);
      // Interrupt once the bar has counted some texts, i.e. mid-run.
      const run = await runInTerminal(['encode', input, '-o', join(outDir, 'out.parquet'), '--model', model, '--threads', threads], (raw) => /encoding \[.*\| [1-9]\d{3,} texts \|/.test(raw));
      assert.equal(run.code, 130);
      assertRestoredAfterBar(run.raw);
      assert.ok(run.raw.endsWith(SHOW_CURSOR + WRAP_ON), JSON.stringify(run.raw.slice(-80)));
      assert.deepEqual(await readdir(outDir), []);
    });
  }

  test('a failing input mid-run: restored before the error line; exit 2', async () => {
    const input = join(dir, 'ragged.csv');
    const rows = Array.from({length: 30_000}, (_, i) => `${i},row ${i} about the cat`);
    rows[25_000] += ',one field too many';
    await writeFile(input, `id,text\n${rows.join('\n')}\n`);
    const run = await runInTerminal(['encode', input, '-o', join(dir, 'ragged.parquet'), '--model', model, '--threads', '1', '--window-size', '1000']);
    assert.equal(run.code, 2);
    assertRestoredAfterBar(run.raw);
    assert.match(run.raw.slice(run.raw.lastIndexOf(WRAP_ON) + WRAP_ON.length), /ragged\.csv:25002: /);
  });

  test('success: restored before the summary line; exit 0', async () => {
    const input = join(dir, 'few.txt');
    await writeFile(input, Array.from({length: 3000}, (_, i) => `row ${i}`).join('\n'));
    const run = await runInTerminal(['encode', input, '-o', join(dir, 'few.parquet'), '--model', model, '--threads', '1']);
    assert.equal(run.code, 0);
    assertRestoredAfterBar(run.raw);
    assert.match(run.raw.slice(run.raw.lastIndexOf(WRAP_ON) + WRAP_ON.length), /encoded 3000 texts/);
  });

  test('a file input: the bar has a percentage, bytes read of the file size, texts, a rate and an ETA (never NFs)', async () => {
    const input = join(dir, 'bar.txt');
    await writeFile(input, Array.from({length: 40_000}, (_, i) => `row ${i} about the cat and the dog`).join('\n'));
    const size = Buffer.byteLength(await readFile(input, 'utf8'));
    const run = await runInTerminal(['encode', input, '-o', join(dir, 'bar.parquet'), '--model', model, '--threads', '1']);
    assert.equal(run.code, 0);
    const frames = [...run.raw.matchAll(/encoding \[[^\]]*\] (\d+)% \| ([\d.]+ [kM]?B)\/([\d.]+ [kM]?B) \| (\d+) texts \| (\d+) texts\/s \| ETA ([^\r\n\x1b]*)/g)];
    assert.ok(frames.length > 0, JSON.stringify(run.raw.slice(0, 400)));
    // The total is the file's size (formatBytes: 1000-based, one decimal).
    assert.equal(frames[0]![3], `${(size / 1e6).toFixed(1)} MB`);
    const percents = frames.map((f) => Number(f[1]));
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'the percentage never goes back');
    for (const f of frames) assert.match(f[6]!.trim(), /^(--|\d+s|\d+m \d\ds|\d+h \d\dm)$/);
    assert.ok(!run.raw.includes('NFs') && !run.raw.includes('NULL'));
  });

  test('data on the same terminal: no bar draws over the rows, and the summary comes after the last row', async () => {
    const input = join(dir, 'tty.txt');
    await writeFile(input, Array.from({length: 500}, (_, i) => `row ${i}`).join('\n'));
    const run = await runInTerminal(['encode', input, '--model', model, '--threads', '1']);
    assert.equal(run.code, 0);
    assert.ok(!run.raw.includes(HIDE_CURSOR) && !run.raw.includes('encoding ['), 'no bar');
    const lines = run.raw.split(/\r?\n/).filter((l) => l.length > 0);
    assert.equal(lines.length, 501);
    lines.slice(0, 500).forEach((line, i) => assert.equal((JSON.parse(line) as {id: number}).id, i));
    assert.match(lines[500]!, /^encoded 500 texts/);
  });
});
