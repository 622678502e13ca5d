/** sbertkit's own package folder and version, found by walking up from this module (works from src/, dist/src/ and the test build's build/src/). */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

let cached: {root: string; version: string} | null | undefined;

function findPackage(): {root: string; version: string} | null {
  if (cached !== undefined) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as {name?: unknown; version?: unknown};
        if (json.name === 'sbertkit') return (cached = {root: dir, version: typeof json.version === 'string' ? json.version : 'unknown'});
      } catch {
        // Not ours or unreadable: keep walking.
      }
    }
    if (dirname(dir) === dir) return (cached = null);
  }
}

/** The folder holding sbertkit's package.json; throws if this module is not inside it. */
export function packageRoot(): string {
  const found = findPackage();
  if (found === null) throw new Error(`no package.json named "sbertkit" above ${fileURLToPath(import.meta.url)}`);
  return found.root;
}

export function sbertkitVersion(): string {
  return findPackage()?.version ?? 'unknown';
}
