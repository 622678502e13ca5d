/**
 * First-use conversion of the built-in model and its cache: converted once, written atomically, found
 * again without converting, repaired when damaged. Every test uses its own temp cache, never the user's.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdir, readdir, stat, unlink, writeFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {SbertkitError} from '../../src/errors.js';
import {sbertkitCacheDir} from '../../src/models/cache-dir.js';
import {BUILTIN_MODELS, DEFAULT_MODEL, ensureBuiltinModel, isBuiltinModelName} from '../../src/models/builtin/index.js';
import {useLiteSourcePackage} from '../../src/models/builtin/use-lite/source-package.js';
import {USE_LITE_FILES} from '../../src/models/builtin/use-lite/layout.js';
import {tempDir} from '../helpers/tmp.js';

/** A fresh sbertkit cache folder, removed when the file's tests end. */
const tempCache = tempDir;

/** Entries of <cache>/builtin/use-lite: must be exactly the finished revision folder, no temp or stale dirs. */
async function cacheEntries(cacheDir: string): Promise<string[]> {
  return (await readdir(join(cacheDir, 'builtin', 'use-lite'))).sort();
}

describe('ensureBuiltinModel', () => {
  const revision = `${useLiteSourcePackage().version}-c1`;

  test('a conversion killed outright leaves a folder the next conversion removes; a live one is kept', async () => {
    const cacheDir = await tempCache();
    const parent = join(cacheDir, 'builtin', 'use-lite');
    await mkdir(parent, {recursive: true});
    // A pid that is certainly gone: a child that has exited.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'});
    const deadPid = Number(child.stdout);
    assert.throws(() => process.kill(deadPid, 0), /ESRCH/);
    const dead = join(parent, `.${revision}.sbertkit-tmp-${deadPid}-0badf00d`);
    const live = join(parent, `.${revision}.sbertkit-tmp-${process.pid}-00c0ffee`);
    for (const folder of [dead, live]) {
      await mkdir(join(folder, 'onnx'), {recursive: true});
      await writeFile(join(folder, 'onnx', 'model.onnx'), 'half a model');
    }
    await ensureBuiltinModel('builtin:use-lite', {cacheDir});
    assert.deepEqual(await cacheEntries(cacheDir), [`.${revision}.sbertkit-tmp-${process.pid}-00c0ffee`, revision].sort());
  });

  test('converts on first use, then reuses the cached folder without converting', async () => {
    const cacheDir = await tempCache();
    const status: string[] = [];
    const onStatus = (m: string) => status.push(m);

    const first = await ensureBuiltinModel('builtin:use-lite', {cacheDir, onStatus});
    assert.deepEqual(first, {dir: join(cacheDir, 'builtin', 'use-lite', revision), name: 'builtin:use-lite', revision});
    assert.ok(status.length > 0, 'a conversion reports its progress');
    for (const f of USE_LITE_FILES) assert.ok((await stat(join(first.dir, f))).size > 0, f);
    assert.deepEqual(await cacheEntries(cacheDir), [revision]);
    const mtime = (await stat(join(first.dir, 'onnx', 'model.onnx'))).mtimeMs;

    const calls = status.length;
    const started = performance.now();
    const second = await ensureBuiltinModel('use-lite', {cacheDir, onStatus});
    assert.deepEqual(second, first);
    assert.equal(status.length, calls, 'no conversion the second time');
    assert.equal((await stat(join(first.dir, 'onnx', 'model.onnx'))).mtimeMs, mtime);
    assert.ok(performance.now() - started < 500, 'a cache hit is a few stats, not a conversion');
  });

  test('two concurrent first uses end with one complete folder and no temp dirs', async () => {
    const cacheDir = await tempCache();
    const status = [0, 0];
    const [a, b] = await Promise.all([0, 1].map((k) => ensureBuiltinModel('builtin:use-lite', {cacheDir, onStatus: () => status[k]!++})));
    // Both found no folder and converted, so one of them lost the rename race.
    assert.ok(status[0]! > 0 && status[1]! > 0, 'both converted');
    assert.equal(a!.dir, b!.dir);
    for (const f of USE_LITE_FILES) assert.ok((await stat(join(a!.dir, f))).size > 0, f);
    assert.deepEqual(await cacheEntries(cacheDir), [revision]);
  });

  test('a damaged cached folder is rebuilt', async () => {
    const cacheDir = await tempCache();
    const {dir} = await ensureBuiltinModel('builtin:use-lite', {cacheDir});
    await unlink(join(dir, 'tokenizer.json'));
    const status: string[] = [];
    await ensureBuiltinModel('builtin:use-lite', {cacheDir, onStatus: (m) => status.push(m)});
    assert.ok(status.length > 0, 'converted again');
    assert.ok((await stat(join(dir, 'tokenizer.json'))).size > 0);
    assert.deepEqual(await cacheEntries(cacheDir), [revision]);
  });

  test('names: builtin:use-lite is the default; unknown built-ins are a model error', async () => {
    assert.equal(DEFAULT_MODEL, 'builtin:use-lite');
    assert.deepEqual([...BUILTIN_MODELS], ['use-lite']);
    assert.equal(isBuiltinModelName('builtin:use-lite'), true);
    assert.equal(isBuiltinModelName('builtin:other'), true, 'claimed, so it gets a clear error');
    assert.equal(isBuiltinModelName('use-lite'), false, 'could be a local folder');
    assert.equal(isBuiltinModelName('sentence-transformers/all-MiniLM-L6-v2'), false);
    const cacheDir = await tempCache();
    await assert.rejects(ensureBuiltinModel('builtin:other', {cacheDir}), (e: unknown) => e instanceof SbertkitError && e.exitCode === 3 && /builtin:use-lite/.test(e.message));
  });
});

describe('sbertkitCacheDir', () => {
  test('SBERTKIT_CACHE, then XDG_CACHE_HOME/sbertkit, then ~/.cache/sbertkit', () => {
    assert.equal(sbertkitCacheDir({SBERTKIT_CACHE: '/x/cache', XDG_CACHE_HOME: '/xdg'}), '/x/cache');
    assert.equal(sbertkitCacheDir({XDG_CACHE_HOME: '/xdg'}), join('/xdg', 'sbertkit'));
    assert.equal(sbertkitCacheDir({SBERTKIT_CACHE: '', XDG_CACHE_HOME: ''}), join(homedir(), '.cache', 'sbertkit'));
    assert.equal(sbertkitCacheDir({XDG_CACHE_HOME: 'relative/dir'}), join(homedir(), '.cache', 'sbertkit'), 'a relative XDG path is invalid');
    assert.equal(sbertkitCacheDir({}), join(homedir(), '.cache', 'sbertkit'));
  });
});
