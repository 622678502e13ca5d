/**
 * Hub ids, the shared HF cache and downloads, against a fake hub on 127.0.0.1 (test/helpers/hub-server.ts).
 * Expected blob names and bytes are computed here from what the server serves, independently of src/.
 * The file doubles as the child process of the cross-process test (SBERTKIT_HUB_CHILD set).
 */
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {lstat, mkdir, readdir, readFile, readlink, symlink, unlink, utimes, writeFile} from 'node:fs/promises';
import {homedir, hostname, tmpdir} from 'node:os';
import {dirname, isAbsolute, join, relative, resolve} from 'node:path';
import {describe, test, type TestContext} from 'node:test';
import {fileURLToPath} from 'node:url';
import {SbertkitError} from '../../src/errors.js';
import {
  type DownloadProgress,
  defaultHubCacheDir,
  listCachedModels,
  parseHubId,
  type ResolveHubOptions,
  resolveHubModel,
} from '../../src/models/hub/index.js';
import {type FakeCommit, FakeHub, type FakeRepoSpec, gitBlobSha1, isLfs, sampleModelFiles, sha256Hex} from '../helpers/hub-server.js';
import {tempDir} from '../helpers/tmp.js';

const FAST = {retryDelayMs: 5, lockPollMs: 10};
const CHILD_ENV = 'SBERTKIT_HUB_CHILD';

/** The blob name huggingface_hub would use, computed from the bytes: sha256 for LFS files, git blob sha1 otherwise. */
function expectedEtag(file: string, bytes: Buffer): string {
  return isLfs(file) ? sha256Hex(bytes) : gitBlobSha1(bytes);
}

async function setup(t: TestContext, repos: FakeRepoSpec[]) {
  const hub = await FakeHub.start();
  t.after(() => hub.stop());
  const cacheDir = await tempDir();
  const added = repos.map((r) => hub.addRepo(r));
  const options = (extra: ResolveHubOptions = {}): ResolveHubOptions => ({endpoint: hub.endpoint, cacheDir, env: {}, tuning: FAST, ...extra});
  return {hub, cacheDir, repos: added, options};
}

/** Every file of `commit` is in `dir`, byte-identical, as a relative symlink to blobs/{etag}. */
async function assertSnapshot(cacheDir: string, repoId: string, dir: string, commit: FakeCommit, except: string[] = []): Promise<void> {
  const blobs = join(cacheDir, `models--${repoId.replace('/', '--')}`, 'blobs');
  for (const [file, bytes] of commit.files) {
    if (except.includes(file)) continue;
    const path = join(dir, ...file.split('/'));
    assert.ok((await lstat(path)).isSymbolicLink(), `${file} is a symlink`);
    const target = await readlink(path);
    assert.ok(!isAbsolute(target), `${file} link is relative: ${target}`);
    assert.equal(resolve(dirname(path), target), join(blobs, expectedEtag(file, bytes)), `${file} points at its blob`);
    assert.ok((await readFile(path)).equals(bytes), `${file} is byte-identical`);
  }
}

async function listRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listRecursive(p)));
    else out.push(p);
  }
  return out;
}

function recordingProgress() {
  const files = new Map<string, {total: number; got: number}>();
  let current: string | undefined;
  const progress: DownloadProgress = {
    start: (file, total) => {
      current = file;
      files.set(file, {total, got: 0});
    },
    advance: (bytes) => {
      files.get(current!)!.got += bytes;
    },
    finish: () => {
      current = undefined;
    },
  };
  return {progress, files};
}

async function rejection(p: Promise<unknown>): Promise<SbertkitError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SbertkitError, `expected SbertkitError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

const lfsGets = (hub: FakeHub, sha: string) => hub.count((r) => r.server === 'cdn' && r.method === 'GET' && r.path === `/cdn/${sha}`);
/** GETs of a small (non-LFS) file on the resolve endpoint, at any revision. */
const getsOf = (hub: FakeHub, file: string) =>
  hub.count((r) => r.server === 'hub' && r.method === 'GET' && /^\/.+?\/resolve\/[^/]+\/(.+)$/.exec(r.path)?.[1] === file);

if (process.env[CHILD_ENV] !== undefined) {
  // Child mode for the cross-process test: resolve once and print the result.
  const args = JSON.parse(process.env[CHILD_ENV]) as {repoId: string; endpoint: string; cacheDir: string};
  const result = await resolveHubModel(args.repoId, 'main', {endpoint: args.endpoint, cacheDir: args.cacheDir, env: {}, tuning: FAST});
  process.stdout.write(JSON.stringify(result));
} else {
  describe('parseHubId', () => {
    test('hub ids with and without org and revision', () => {
      assert.deepEqual(parseHubId('sentence-transformers/all-MiniLM-L6-v2'), {repoId: 'sentence-transformers/all-MiniLM-L6-v2', revision: 'main'});
      assert.deepEqual(parseHubId('bert-base-uncased'), {repoId: 'bert-base-uncased', revision: 'main'});
      assert.deepEqual(parseHubId('org/name@v1.0'), {repoId: 'org/name', revision: 'v1.0'});
      const sha = 'a'.repeat(40);
      assert.deepEqual(parseHubId(`org/name@${sha}`), {repoId: 'org/name', revision: sha});
      assert.deepEqual(parseHubId('org/name@refs/pr/1'), {repoId: 'org/name', revision: 'refs/pr/1'});
    });
    test('local paths and malformed ids are not hub ids', () => {
      for (const s of ['./model', '../model', '/abs/model', '~/model', 'C:\\models\\x', 'a/b/c', 'org/name@', 'org/na--me', 'org/-name', 'org/name@../../x', 'builtin:use-lite', '', tmpdir()]) {
        assert.equal(parseHubId(s), undefined, s);
      }
    });
  });

  describe('defaultHubCacheDir', () => {
    test('HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME/huggingface/hub, then ~/.cache/huggingface/hub', () => {
      assert.equal(defaultHubCacheDir({HF_HUB_CACHE: '/c/hub', HF_HOME: '/h'}), resolve('/c/hub'));
      assert.equal(defaultHubCacheDir({HF_HOME: '/h', XDG_CACHE_HOME: '/x'}), resolve('/h/hub'));
      assert.equal(defaultHubCacheDir({XDG_CACHE_HOME: '/x'}), resolve('/x/huggingface/hub'));
      assert.equal(defaultHubCacheDir({}), join(homedir(), '.cache', 'huggingface', 'hub'));
      assert.equal(defaultHubCacheDir({HF_HOME: '~/hf'}), join(homedir(), 'hf', 'hub'));
    });
  });

  describe('resolveHubModel', () => {
    test('fresh download: byte-identical files, relative symlinks into blobs, refs/main, .no_exist, progress', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      const {progress, files: progressed} = recordingProgress();
      const result = await resolveHubModel('org/mini', 'main', options({progress}));

      const root = join(cacheDir, 'models--org--mini');
      assert.equal(result.commit, commit.sha);
      assert.equal(result.dir, join(root, 'snapshots', commit.sha));
      await assertSnapshot(cacheDir, 'org/mini', result.dir, commit);
      assert.equal(await readFile(join(root, 'refs', 'main'), 'utf8'), commit.sha); // exactly, no newline
      assert.deepEqual([...result.downloaded].sort(), [...commit.files.keys()].sort());
      // blobs/ holds exactly the expected blobs: no .incomplete or .lock left over.
      const expectedBlobs = [...commit.files].map(([f, b]) => expectedEtag(f, b)).sort();
      assert.deepEqual((await readdir(join(root, 'blobs'))).sort(), expectedBlobs);
      // Optional files the repo lacks are recorded like huggingface_hub does.
      for (const f of ['special_tokens_map.json', 'config_sentence_transformers.json', 'onnx/model.onnx_data', 'onnx/model.onnx.data']) {
        assert.ok((await lstat(join(root, '.no_exist', commit.sha, ...f.split('/')))).isFile(), f);
      }
      for (const [file, bytes] of commit.files) assert.deepEqual(progressed.get(file), {total: bytes.length, got: bytes.length}, file);
      // The LFS file came from the CDN origin, once; no token was configured, so none was sent.
      assert.equal(lfsGets(hub, sha256Hex(commit.files.get('onnx/model.onnx')!)), 1);
      assert.equal(hub.count((r) => r.authorization !== undefined), 0);
    });

    test('cache hit: resolves again with the server stopped and makes no request', async (t) => {
      const {hub, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const first = await resolveHubModel('org/mini', 'main', options());
      await hub.stop();
      let calls = 0;
      const counting: ResolveHubOptions['fetchImpl'] = (url, init) => {
        calls++;
        return fetch(url, init);
      };
      const again = await resolveHubModel('org/mini', 'main', options({fetchImpl: counting}));
      assert.deepEqual(again, {dir: first.dir, commit: repos[0]!.commits[0]!.sha, downloaded: []});
      assert.equal(calls, 0);
    });

    test('revision pinning: a tag or a commit hash picks the older commit; shared blobs are fetched once', async (t) => {
      const old = sampleModelFiles({tag: 'old'});
      const newer = {...sampleModelFiles({tag: 'new'}), 'tokenizer.json': old['tokenizer.json']!};
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/pinned', commits: [{files: old, tags: ['v1']}, {files: newer}]}]);
      const [c0, c1] = repos[0]!.commits as [FakeCommit, FakeCommit];
      const root = join(cacheDir, 'models--org--pinned');

      const v1 = await resolveHubModel('org/pinned', 'v1', options());
      assert.equal(v1.commit, c0.sha);
      await assertSnapshot(cacheDir, 'org/pinned', v1.dir, c0);
      assert.equal(await readFile(join(root, 'refs', 'v1'), 'utf8'), c0.sha);

      const before = hub.requests.length;
      const byHash = await resolveHubModel('org/pinned', c0.sha, options());
      assert.deepEqual(byHash, {dir: v1.dir, commit: c0.sha, downloaded: []});
      assert.equal(hub.requests.length, before, 'a cached commit hash needs no request');

      const main = await resolveHubModel('org/pinned', 'main', options());
      assert.equal(main.commit, c1.sha);
      await assertSnapshot(cacheDir, 'org/pinned', main.dir, c1);
      assert.ok(!main.downloaded.includes('tokenizer.json'), 'unchanged file reused from blobs/');
      assert.equal(getsOf(hub, 'tokenizer.json'), 1);
      assert.ok((await readFile(join(v1.dir, 'config.json'), 'utf8')).includes('"old"'));
      assert.ok((await readFile(join(main.dir, 'config.json'), 'utf8')).includes('"new"'));
      assert.deepEqual((await readdir(join(root, 'refs'))).sort(), ['main', 'v1']);
    });

    test('a commit hash not cached yet is fetched at that commit without writing a ref', async (t) => {
      const {cacheDir, repos, options} = await setup(t, [{id: 'org/pinned', commits: [{files: sampleModelFiles({tag: 'old'})}, {files: sampleModelFiles({tag: 'new'})}]}]);
      const c0 = repos[0]!.commits[0]!;
      const result = await resolveHubModel('org/pinned', c0.sha, options());
      assert.equal(result.commit, c0.sha);
      await assertSnapshot(cacheDir, 'org/pinned', result.dir, c0);
      assert.deepEqual(await readdir(join(cacheDir, 'models--org--pinned', 'refs')).catch(() => []), []);
    });

    test('resume after a dropped connection uses Range, on the CDN and on the hub', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      const onnx = commit.files.get('onnx/model.onnx')!;
      hub.dropNext('onnx/model.onnx');
      hub.dropNext('tokenizer.json');
      const {progress, files: progressed} = recordingProgress();
      const result = await resolveHubModel('org/mini', 'main', options({progress}));
      await assertSnapshot(cacheDir, 'org/mini', result.dir, commit);

      const onnxGets = hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
      assert.equal(onnxGets.length, 2);
      assert.equal(onnxGets[0]!.range, undefined);
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(onnxGets[1]!.range ?? '')?.[1]);
      assert.ok(resumedAt > 0 && resumedAt <= onnx.length >> 1, `resumed at ${resumedAt}`);
      assert.equal(onnxGets[1]!.status, 206);
      const tokGets = hub.requests.filter((r) => r.server === 'hub' && r.method === 'GET' && r.path.endsWith('/tokenizer.json'));
      assert.equal(tokGets.length, 2);
      assert.match(tokGets[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
      assert.deepEqual(progressed.get('onnx/model.onnx'), {total: onnx.length, got: onnx.length});
    });

    test('resume across processes: a leftover .incomplete is continued, not restarted', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      const onnx = commit.files.get('onnx/model.onnx')!;
      const blobs = join(cacheDir, 'models--org--mini', 'blobs');
      await mkdir(blobs, {recursive: true});
      await writeFile(join(blobs, `${sha256Hex(onnx)}.incomplete`), onnx.subarray(0, 100_000));
      const result = await resolveHubModel('org/mini', 'main', options());
      await assertSnapshot(cacheDir, 'org/mini', result.dir, commit);
      const gets = hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
      assert.deepEqual(gets.map((r) => r.range), ['bytes=100000-']);
    });

    test('a connection that keeps dropping but progresses is resumed beyond the attempt limit', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      hub.dropNext('onnx/model.onnx', Array<number>(6).fill(0.5));
      const result = await resolveHubModel('org/mini', 'main', options({tuning: {...FAST, attempts: 3}}));
      await assertSnapshot(cacheDir, 'org/mini', result.dir, repos[0]!.commits[0]!);
      const gets = hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
      assert.equal(gets.length, 7);
      const offsets = gets.map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? 'bytes=0-')![1]));
      assert.deepEqual([...offsets].sort((a, b) => a - b), offsets, 'each retry starts further on');
    });

    test('a connection that drops without progress gives up after `attempts` and keeps the partial file', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const onnx = repos[0]!.commits[0]!.files.get('onnx/model.onnx')!;
      hub.dropNext('onnx/model.onnx', [0.25, 0, 0, 0, 0]); // a quarter, then nothing at all
      const failing = resolveHubModel('org/mini', 'main', options({tuning: {...FAST, attempts: 3}}));
      const err = await rejection(failing);
      assert.match(err.message, /^downloading onnx\/model\.onnx failed after 3 attempts \(.*\); run again to resume/);
      assert.equal(hub.count((r) => r.server === 'cdn' && r.method === 'GET'), 3);
      const partial = await readFile(join(cacheDir, 'models--org--mini', 'blobs', `${sha256Hex(onnx)}.incomplete`));
      assert.ok(partial.equals(onnx.subarray(0, partial.length)) && partial.length === Math.floor(onnx.length * 0.25));

      hub.drops.clear();
      const result = await resolveHubModel('org/mini', 'main', options());
      assert.deepEqual(result.downloaded, ['onnx/model.onnx']);
      assert.equal(hub.requests.filter((r) => r.server === 'cdn').at(-1)!.range, `bytes=${partial.length}-`);
      await assertSnapshot(cacheDir, 'org/mini', result.dir, repos[0]!.commits[0]!);
    });

    test('HEAD answers 503 are retried; endless 503s end in one clear error', async (t) => {
      const {cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      let heads = 0;
      const flaky: ResolveHubOptions['fetchImpl'] = async (url, init) =>
        init.method === 'HEAD' && ++heads <= 2 ? new Response(null, {status: 503}) : fetch(url, init);
      const result = await resolveHubModel('org/mini', 'main', options({fetchImpl: flaky}));
      await assertSnapshot(cacheDir, 'org/mini', result.dir, repos[0]!.commits[0]!);
      // 11 files asked about (3 required, 6 optional, 2 external-data names) + the 2 refused HEADs of config.json, asked again.
      assert.equal(heads, 11 + 2);

      const down: ResolveHubOptions['fetchImpl'] = async () => new Response(null, {status: 503});
      const err = await rejection(resolveHubModel('org/other', 'main', options({fetchImpl: down, tuning: {...FAST, attempts: 2}})));
      assert.match(err.message, /^asking http:\/\/127\.0\.0\.1:\d+ about org\/other\/config\.json failed after 2 attempts \(HTTP 503/);
    });

    test('an abandoned blob lock (dead pid, or foreign and stale) is taken over', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      const blobs = join(cacheDir, 'models--org--mini', 'blobs');
      await mkdir(blobs, {recursive: true});
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
      await writeFile(join(blobs, `${sha256Hex(commit.files.get('onnx/model.onnx')!)}.lock`), `${deadPid}\n${hostname()}\n`);
      const old = new Date(Date.now() - 3_600_000);
      const tokLock = join(blobs, `${gitBlobSha1(commit.files.get('tokenizer.json')!)}.lock`);
      await writeFile(tokLock, '1\nsome-other-host\n');
      await utimes(tokLock, old, old);
      const result = await resolveHubModel('org/mini', 'main', options());
      await assertSnapshot(cacheDir, 'org/mini', result.dir, commit);
      assert.ok(result.downloaded.includes('onnx/model.onnx') && result.downloaded.includes('tokenizer.json'));
      assert.deepEqual((await readdir(blobs)).filter((f) => f.endsWith('.lock')), []);
      assert.equal(hub.count((r) => r.server === 'cdn'), 1);
    });

    test('a live blob lock makes others wait, and they reuse the blob its holder wrote', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      const onnx = commit.files.get('onnx/model.onnx')!;
      const blobs = join(cacheDir, 'models--org--mini', 'blobs');
      await mkdir(blobs, {recursive: true});
      const lock = join(blobs, `${sha256Hex(onnx)}.lock`);
      await writeFile(lock, `${process.pid}\n${hostname()}\n`); // a holder that is alive: this process
      let settled = false;
      const pending = resolveHubModel('org/mini', 'main', options()).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(settled, false, 'still waiting for the lock');
      await writeFile(join(blobs, sha256Hex(onnx)), onnx); // the "holder" finishes the blob...
      await unlink(lock); // ...and lets go
      const result = await pending;
      assert.ok(!result.downloaded.includes('onnx/model.onnx'));
      assert.equal(hub.count((r) => r.server === 'cdn'), 0, 'the waiter never fetched the blob itself');
      await assertSnapshot(cacheDir, 'org/mini', result.dir, commit);
    });

    test('checksum mismatch is rejected and nothing of that file is kept; a later run recovers', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      const sha = sha256Hex(commit.files.get('onnx/model.onnx')!);
      const root = join(cacheDir, 'models--org--mini');
      hub.corrupt.add('onnx/model.onnx');
      const err = await rejection(resolveHubModel('org/mini', 'main', options()));
      assert.match(err.message, /onnx\/model\.onnx is corrupt \(checksum [0-9a-f]{64} does not match/);
      assert.equal(err.exitCode, 3);
      const blobFiles = (await readdir(join(root, 'blobs'))).filter((f) => f.startsWith(sha));
      assert.deepEqual(blobFiles, [], 'no blob, .incomplete or .lock for the bad file');
      await assert.rejects(lstat(join(root, 'snapshots', commit.sha, 'onnx', 'model.onnx')), {code: 'ENOENT'});
      await assert.rejects(lstat(join(root, 'refs', 'main')), {code: 'ENOENT'});

      hub.corrupt.clear();
      const result = await resolveHubModel('org/mini', 'main', options());
      assert.deepEqual(result.downloaded, ['onnx/model.onnx']);
      await assertSnapshot(cacheDir, 'org/mini', result.dir, commit);
    });

    test('a corrupted small file fails its git blob sha1 check', async (t) => {
      const {hub, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      hub.corrupt.add('tokenizer.json');
      const err = await rejection(resolveHubModel('org/mini', 'main', options()));
      assert.match(err.message, /tokenizer\.json is corrupt \(checksum [0-9a-f]{40} does not match/);
    });

    test('offline: no request at all; a missing file names repo, file and cache folder', async (t) => {
      const {hub, cacheDir, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const root = join(cacheDir, 'models--org--mini');
      const empty = await rejection(resolveHubModel('org/mini', 'main', options({offline: true})));
      assert.equal(empty.message.split('\n').length, 1);
      assert.ok(empty.message.includes('org/mini@main') && empty.message.includes('refs/main') && empty.message.includes(root), empty.message);
      // HF_HUB_OFFLINE=1 wins even over an explicit offline:false (an absent CLI flag).
      await rejection(resolveHubModel('org/mini', 'main', options({offline: false, env: {HF_HUB_OFFLINE: '1'}})));
      assert.equal(hub.requests.length, 0);

      const online = await resolveHubModel('org/mini', 'main', options());
      const seen = hub.requests.length;
      assert.deepEqual(await resolveHubModel('org/mini', 'main', options({offline: true})), {...online, downloaded: []});
      await unlink(join(online.dir, 'onnx', 'model.onnx'));
      const partial = await rejection(resolveHubModel('org/mini', 'main', options({env: {HF_HUB_OFFLINE: 'true'}})));
      assert.ok(partial.message.includes('org/mini') && partial.message.includes('onnx/model.onnx') && partial.message.includes(online.dir), partial.message);
      assert.equal(hub.requests.length, seen);
    });

    test('concurrent resolves in one process: each blob fetched once, no corruption', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const commit = repos[0]!.commits[0]!;
      hub.throttle = {chunkBytes: 32 * 1024, delayMs: 5};
      hub.holdHeads('config.json', 2);
      const [a, b] = await Promise.all([resolveHubModel('org/mini', 'main', options()), resolveHubModel('org/mini', 'main', options())]);
      assert.equal(hub.headsReleasedBy, 'count');
      assert.equal(a.dir, b.dir);
      await assertSnapshot(cacheDir, 'org/mini', a.dir, commit);
      for (const [file, bytes] of commit.files) {
        const gets = isLfs(file) ? lfsGets(hub, sha256Hex(bytes)) : getsOf(hub, file);
        assert.equal(gets, 1, `${file} fetched once`);
      }
      assert.deepEqual([...a.downloaded, ...b.downloaded].sort(), [...commit.files.keys()].sort());
      const leftovers = (await listRecursive(join(cacheDir, 'models--org--mini'))).filter((p) => /\.(lock|incomplete|tmp)$/.test(p));
      assert.deepEqual(leftovers, []);
    });

    test('concurrent resolves in two processes: one writer per blob, identical result', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles({onnxBytes: 600 * 1024})}]}]);
      const commit = repos[0]!.commits[0]!;
      hub.throttle = {chunkBytes: 32 * 1024, delayMs: 10};
      hub.holdHeads('config.json', 2, 30_000); // both processes are past the cache check before either downloads
      const execArgv = process.execArgv.filter((a) => !a.startsWith('--test'));
      const child = spawn(process.execPath, [...execArgv, fileURLToPath(import.meta.url)], {
        env: {...process.env, [CHILD_ENV]: JSON.stringify({repoId: 'org/mini', endpoint: hub.endpoint, cacheDir})},
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let errText = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (errText += d));
      const exited = new Promise<number | null>((res) => child.on('close', res));
      const timer = setTimeout(() => child.kill(), 60_000);
      t.after(() => clearTimeout(timer));

      const mine = await resolveHubModel('org/mini', 'main', options());
      assert.equal(await exited, 0, errText);
      assert.equal(hub.headsReleasedBy, 'count', 'both processes were resolving at the same time');
      const theirs = JSON.parse(out) as {dir: string; commit: string; downloaded: string[]};
      assert.equal(theirs.dir, mine.dir);
      assert.equal(theirs.commit, commit.sha);
      await assertSnapshot(cacheDir, 'org/mini', mine.dir, commit);
      assert.equal(lfsGets(hub, sha256Hex(commit.files.get('onnx/model.onnx')!)), 1, 'the big blob was written by one process');
      assert.deepEqual([...mine.downloaded, ...theirs.downloaded].sort(), [...commit.files.keys()].sort());
      const leftovers = (await listRecursive(join(cacheDir, 'models--org--mini'))).filter((p) => /\.(lock|incomplete|tmp)$/.test(p));
      assert.deepEqual(leftovers, []);
    });

    test('404 for an unknown repo or revision names model, revision and endpoint', async (t) => {
      const {hub, cacheDir, options} = await setup(t, [{id: 'org/mini', commits: [{files: sampleModelFiles()}]}]);
      const repo = await rejection(resolveHubModel('org/nope', 'main', options()));
      assert.equal(repo.message, `model org/nope not found at revision main on ${hub.endpoint}`);
      assert.equal(repo.exitCode, 3);
      const rev = await rejection(resolveHubModel('org/mini', 'nope', options()));
      assert.equal(rev.message, `model org/mini not found at revision nope on ${hub.endpoint}`);
      assert.deepEqual(await readdir(cacheDir), []);
    });

    test('gated repo: 401 without token, 403 with a wrong one; the right token reaches the hub but not the CDN', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/gated', token: 'hf_right', commits: [{files: sampleModelFiles()}]}]);
      const none = await rejection(resolveHubModel('org/gated', 'main', options()));
      assert.match(none.message, /^repo org\/gated is gated or private: set HF_TOKEN/);
      const wrong = await rejection(resolveHubModel('org/gated', 'main', options({token: 'hf_wrong'})));
      assert.match(wrong.message, /gated or private: set HF_TOKEN.*refused/);

      hub.requests.length = 0;
      const result = await resolveHubModel('org/gated', 'main', options({env: {HF_TOKEN: 'hf_right'}}));
      await assertSnapshot(cacheDir, 'org/gated', result.dir, repos[0]!.commits[0]!);
      const hubReqs = hub.requests.filter((r) => r.server === 'hub');
      const cdnReqs = hub.requests.filter((r) => r.server === 'cdn');
      assert.ok(hubReqs.length > 0 && cdnReqs.length > 0);
      assert.ok(hubReqs.every((r) => r.authorization === 'Bearer hf_right'));
      assert.ok(cdnReqs.every((r) => r.authorization === undefined), 'token never sent to another origin');
    });

    test('no ONNX export: one explanatory error before any download, naming the ONNX files that exist', async (t) => {
      const files = {
        ...sampleModelFiles({withOnnx: false}),
        'onnx/model_qint8_avx512.onnx': Buffer.from('quantized graph bytes'),
        'onnx/model_qint8_avx512.onnx_data': Buffer.from('external weights'),
      };
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'org/noonnx', commits: [{files}]}]);
      const err = await rejection(resolveHubModel('org/noonnx', 'main', options()));
      assert.equal(err.message.split('\n').length, 1);
      for (const part of ['model org/noonnx@main has no ONNX export at onnx/model.onnx', 'onnx/model_qint8_avx512.onnx', '--model-file', 'backend="onnx"', 'save_pretrained', 'export_optimized_onnx_model', 'optimum-cli export onnx']) {
        assert.ok(err.message.includes(part), `message mentions ${part}: ${err.message}`);
      }
      assert.equal(hub.count((r) => r.method === 'GET' && r.path.includes('/resolve/')), 0, 'nothing downloaded');

      // --model-file picks the other graph, and its external data file comes along.
      const result = await resolveHubModel('org/noonnx', 'main', options({files: {onnxFile: 'onnx/model_qint8_avx512.onnx'}}));
      await assertSnapshot(cacheDir, 'org/noonnx', result.dir, repos[0]!.commits[0]!);
      assert.ok(result.downloaded.includes('onnx/model_qint8_avx512.onnx_data'));
      assert.equal(result.downloaded.at(-1), 'onnx/model_qint8_avx512.onnx', 'the graph is linked last');
    });

    test('connection refused: one line naming the endpoint and suggesting --offline or a local folder', async (t) => {
      const {hub, options} = await setup(t, []);
      await hub.stop();
      const err = await rejection(resolveHubModel('org/mini', 'main', options()));
      assert.match(err.message, new RegExp(`^cannot reach the model hub at ${hub.endpoint.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
      assert.match(err.message, /--offline.*local model folder/);
      assert.equal(err.exitCode, 3);
    });

    test('a renamed repo (relative 307) is followed', async (t) => {
      const {hub, cacheDir, repos, options} = await setup(t, [{id: 'neworg/mini', alias: 'oldorg/mini', commits: [{files: sampleModelFiles()}]}]);
      const result = await resolveHubModel('oldorg/mini', 'main', options());
      assert.equal(result.dir, join(cacheDir, 'models--oldorg--mini', 'snapshots', repos[0]!.commits[0]!.sha));
      await assertSnapshot(cacheDir, 'oldorg/mini', result.dir, repos[0]!.commits[0]!);
      assert.ok(hub.count((r) => r.path.startsWith('/oldorg/mini/resolve/')) > 0);
    });

    test('a cache written by hand the way Python writes it is used as is, without network', async (t) => {
      const cacheDir = await tempDir();
      const commit = 'c0ffee'.padEnd(40, '0');
      const root = join(cacheDir, 'models--pyorg--pymodel');
      const files = sampleModelFiles({onnxBytes: 4096});
      for (const [file, content] of Object.entries(files)) {
        const bytes = Buffer.from(content);
        const etag = expectedEtag(file, bytes);
        await mkdir(join(root, 'blobs'), {recursive: true});
        await writeFile(join(root, 'blobs', etag), bytes);
        const link = join(root, 'snapshots', commit, ...file.split('/'));
        await mkdir(dirname(link), {recursive: true});
        await symlink(relative(dirname(link), join(root, 'blobs', etag)), link);
      }
      await mkdir(join(root, 'refs'), {recursive: true});
      await writeFile(join(root, 'refs', 'main'), commit);
      let calls = 0;
      const result = await resolveHubModel('pyorg/pymodel', 'main', {
        cacheDir,
        env: {HF_ENDPOINT: 'http://127.0.0.1:9'},
        fetchImpl: () => {
          calls++;
          throw new Error('no network in this test');
        },
      });
      assert.deepEqual(result, {dir: join(root, 'snapshots', commit), commit, downloaded: []});
      assert.equal(calls, 0);
      assert.equal(await readFile(join(result.dir, 'tokenizer.json'), 'utf8'), files['tokenizer.json']);
      // The cache root also comes from HF_HUB_CACHE when not passed.
      assert.equal((await resolveHubModel('pyorg/pymodel', 'main', {env: {HF_HUB_CACHE: cacheDir, HF_HUB_OFFLINE: '1'}})).dir, result.dir);
    });
  });

  describe('listCachedModels', () => {
    test('lists repos, revisions with their refs, and blob sizes', async (t) => {
      const old = sampleModelFiles({tag: 'old'});
      const newer = {...sampleModelFiles({tag: 'new'}), 'tokenizer.json': old['tokenizer.json']!};
      const {cacheDir, repos, options} = await setup(t, [
        {id: 'org/pinned', commits: [{files: old, tags: ['v1']}, {files: newer}]},
        {id: 'solo', commits: [{files: sampleModelFiles({onnxBytes: 1000})}]},
      ]);
      await resolveHubModel('org/pinned', 'v1', options());
      await resolveHubModel('org/pinned', 'main', options());
      await resolveHubModel('solo', 'main', options());
      await mkdir(join(cacheDir, 'datasets--org--data'), {recursive: true}); // not a model: ignored

      const size = (c: FakeCommit) => [...c.files.values()].reduce((n, b) => n + b.length, 0);
      const [c0, c1] = repos[0]!.commits as [FakeCommit, FakeCommit];
      const listed = await listCachedModels(cacheDir);
      assert.deepEqual(
        listed.map((m) => ({repoId: m.repoId, revisions: m.revisions.map(({ref, refs, commit, sizeBytes}) => ({ref, refs, commit, sizeBytes}))})),
        [
          {
            repoId: 'org/pinned',
            revisions: [
              {ref: 'main', refs: ['main'], commit: c1.sha, sizeBytes: size(c1)},
              {ref: 'v1', refs: ['v1'], commit: c0.sha, sizeBytes: size(c0)},
            ],
          },
          {repoId: 'solo', revisions: [{ref: 'main', refs: ['main'], commit: repos[1]!.commits[0]!.sha, sizeBytes: size(repos[1]!.commits[0]!)}]},
        ],
      );
      assert.equal(listed[0]!.revisions[0]!.dir, join(cacheDir, 'models--org--pinned', 'snapshots', c1.sha));
      assert.deepEqual(await listCachedModels(join(cacheDir, 'does-not-exist')), []);
    });
  });
}
