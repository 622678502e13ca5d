/**
 * Where the repository is, for tests. Paths are found by walking up to the sbertkit package.json
 * rather than by a fixed number of "..", so they do not depend on where the compiled tests are.
 */
import {existsSync} from 'node:fs';
import {resolve} from 'node:path';
import {packageRoot} from '../../src/version.js';

/** Absolute path of the folder whose package.json is named "sbertkit". */
export const repoRoot = packageRoot;

/** Absolute path of `<repoRoot>/../shared` (shared data next to the checkout) when it exists. */
export function sharedDir(): string | undefined {
  const dir = resolve(repoRoot(), '..', 'shared');
  return existsSync(dir) ? dir : undefined;
}
