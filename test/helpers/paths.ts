/**
 * Where the repository is, for tests. Tests run both from source (tsx, test/...) and compiled
 * (dist/test/...), so paths are found by walking up to the sbertkit package.json rather than by a
 * fixed number of "..".
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

let cachedRoot: string | undefined;

/** Absolute path of the folder whose package.json is named "sbertkit". */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name = (JSON.parse(readFileSync(pkg, 'utf8')) as {name?: unknown}).name;
        if (name === 'sbertkit') return (cachedRoot = dir);
      } catch {
        // An unreadable or non-JSON package.json is not ours; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named "sbertkit" above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Absolute path of `<repoRoot>/../shared` (shared data next to the checkout) when it exists. */
export function sharedDir(): string | undefined {
  const dir = resolve(repoRoot(), '..', 'shared');
  return existsSync(dir) ? dir : undefined;
}
