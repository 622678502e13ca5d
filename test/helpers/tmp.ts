/** The one way tests make temp folders: each is removed when its test file finishes. */
import {rmSync} from 'node:fs';
import {mkdtemp, readdir, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable} from 'node:stream';

/**
 * Removed when the process exits rather than in a node:test hook: the test runner gives each file
 * its own process, and a module that registers a hook at import would turn a test file started as
 * a plain child script (hub.test.ts does that) into a test run printing TAP on stdout.
 */
const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, {recursive: true, force: true});
});

/** A fresh folder under os.tmpdir(), removed when the test file finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sbertkit-test-'));
  created.push(dir);
  return dir;
}

/** Writes `content` to `name` in a fresh temp folder and returns the path. */
export async function tempFile(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}

/** Everything in `dir`, hidden files included (to catch leftover temp files). */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** A stdin stand-in that delivers `content` in small chunks, so chunk boundaries get exercised. */
export function fakeStdin(content: string | Uint8Array, chunkSize = 7): Readable {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
