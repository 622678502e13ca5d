/** Temp folders for the io tests, removed after each test file. */
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {after} from 'node:test';

const created: string[] = [];
after(async () => {
  await Promise.all(created.map((dir) => rm(dir, {recursive: true, force: true})));
});

/** A fresh folder under os.tmpdir(), removed when the test file finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sbertkit-io-test-'));
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
