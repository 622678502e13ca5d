/** sbertkit's own package.json, found by walking up from this module (works from src/ and dist/src/). */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

let cached: string | undefined;

export function sbertkitVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as {name?: unknown; version?: unknown};
        if (json.name === 'sbertkit' && typeof json.version === 'string') return (cached = json.version);
      } catch {
        // Not ours or unreadable: keep walking.
      }
    }
    if (dirname(dir) === dir) return (cached = 'unknown');
  }
}
