/**
 * A stand-in for the Hugging Face hub's resolve endpoint on 127.0.0.1, for tests: in-memory repos with
 * commits, branches and tags; ETag (git blob sha1) for small files; 302 to a separate "CDN" origin with
 * X-Linked-Etag (sha256) / X-Linked-Size for LFS files; Range on both; X-Error-Code on 401/403/404; a
 * renamed repo answering with a relative 307. Switches: drop the connection partway through a file (n times),
 * serve corrupted bytes, throttle bodies, and hold the first HEADs until several clients are waiting.
 */
import {createHash, randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

export interface FakeCommitSpec {
  files: Record<string, string | Buffer>;
  /** Tags pointing at this commit. */
  tags?: string[];
}

export interface FakeRepoSpec {
  id: string;
  /** Oldest first; "main" is the last one. */
  commits: FakeCommitSpec[];
  /** Gated/private: needs "Authorization: Bearer <token>" (401 without, 403 with another). */
  token?: string;
  /** An old name that answers 307 with a relative Location to this repo. */
  alias?: string;
}

export interface FakeCommit {
  sha: string;
  files: Map<string, Buffer>;
}

export interface FakeRepo {
  id: string;
  commits: FakeCommit[];
  refs: Map<string, string>;
  token?: string;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status?: number;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The id git gives a file's contents, which the hub sends as ETag for non-LFS files. */
export function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** Files stored with git LFS on the fake hub (the real one decides by .gitattributes). */
export function isLfs(path: string): boolean {
  return /\.onnx$|\.onnx_data$|\.onnx\.data$/.test(path);
}

/** A small but plausible sentence-transformers repo; `onnxBytes` random bytes stand in for the graph. */
export function sampleModelFiles(options: {onnxBytes?: number; withOnnx?: boolean; tag?: string} = {}): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {
    'config.json': JSON.stringify({model_type: 'bert', hidden_size: 32, max_position_embeddings: 128, note: options.tag ?? ''}),
    'tokenizer.json': JSON.stringify({
      version: '1.0',
      model: {type: 'WordPiece', unk_token: '[UNK]', vocab: Object.fromEntries(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello', 'world'].map((t, i) => [t, i]))},
    }),
    'tokenizer_config.json': JSON.stringify({do_lower_case: true, model_max_length: 128}),
    'modules.json': JSON.stringify([
      {idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer'},
      {idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling'},
      {idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize'},
    ]),
    'sentence_bert_config.json': JSON.stringify({max_seq_length: 64, do_lower_case: false}),
    '1_Pooling/config.json': JSON.stringify({word_embedding_dimension: 32, pooling_mode_mean_tokens: true}),
  };
  if (options.withOnnx !== false) files['onnx/model.onnx'] = randomBytes(options.onnxBytes ?? 300 * 1024);
  return files;
}

function randomSha(): string {
  return randomBytes(20).toString('hex');
}

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  readonly repos = new Map<string, FakeRepo>();
  readonly aliases = new Map<string, string>();
  /** Repo path -> for each of its next GETs, the fraction of the body sent before the connection is cut. */
  readonly drops = new Map<string, number[]>();
  /** How the last holdHeads() ended: 'count' when enough clients arrived, 'timeout' otherwise. */
  headsReleasedBy: 'count' | 'timeout' | undefined;
  /** Repo paths served with one byte flipped (same length). */
  readonly corrupt = new Set<string>();
  /** Slow bodies: chunkBytes at a time with delayMs between them. */
  throttle: {chunkBytes: number; delayMs: number} | undefined;
  private heldHeads: {file: string; count: number; waiting: Array<() => void>; timer?: NodeJS.Timeout} | undefined;

  private constructor(
    private readonly hubServer: Server,
    private readonly cdnServer: Server,
  ) {}

  static async start(): Promise<FakeHub> {
    const hub = new FakeHub(createServer(), createServer());
    hub.hubServer.on('request', (req, res) => void hub.onHub(req, res).catch((err) => hub.fail(res, err)));
    hub.cdnServer.on('request', (req, res) => void hub.onCdn(req, res).catch((err) => hub.fail(res, err)));
    await Promise.all([listen(hub.hubServer), listen(hub.cdnServer)]);
    hub.endpoint = `http://127.0.0.1:${(hub.hubServer.address() as AddressInfo).port}`;
    hub.cdnOrigin = `http://127.0.0.1:${(hub.cdnServer.address() as AddressInfo).port}`;
    return hub;
  }

  /** Set once listening; still valid after stop(), so tests can aim at a port nobody listens on. */
  endpoint = '';
  /** A different origin (other port), as the real CDN is another host: tokens must not reach it. */
  cdnOrigin = '';

  addRepo(spec: FakeRepoSpec): FakeRepo {
    const repo: FakeRepo = {id: spec.id, commits: [], refs: new Map(), token: spec.token};
    for (const c of spec.commits) {
      const commit: FakeCommit = {sha: randomSha(), files: new Map(Object.entries(c.files).map(([k, v]) => [k, Buffer.from(v)]))};
      repo.commits.push(commit);
      for (const tag of c.tags ?? []) repo.refs.set(tag, commit.sha);
    }
    repo.refs.set('main', repo.commits[repo.commits.length - 1]!.sha);
    this.repos.set(spec.id, repo);
    if (spec.alias !== undefined) this.aliases.set(spec.alias, spec.id);
    return repo;
  }

  /** Cut the next GETs of `file`, one per entry, after that fraction of the body (default: once, halfway). */
  dropNext(file: string, fractions: number[] = [0.5]): void {
    this.drops.set(file, [...fractions]);
  }

  /** HEADs for `file` wait until `count` of them arrived (or timeoutMs passed), so clients overlap for sure. */
  holdHeads(file: string, count: number, timeoutMs = 5000): void {
    const held = {file, count, waiting: [] as Array<() => void>, timer: undefined as NodeJS.Timeout | undefined};
    held.timer = setTimeout(() => this.releaseHeads('timeout'), timeoutMs);
    this.heldHeads = held;
  }

  count(filter: (r: LoggedRequest) => boolean = () => true): number {
    return this.requests.filter(filter).length;
  }

  async stop(): Promise<void> {
    this.releaseHeads('timeout');
    for (const server of [this.hubServer, this.cdnServer]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private releaseHeads(by: 'count' | 'timeout'): void {
    const held = this.heldHeads;
    if (held === undefined) return;
    this.heldHeads = undefined;
    this.headsReleasedBy = by;
    clearTimeout(held.timer);
    for (const go of held.waiting) go();
  }

  private log(server: 'hub' | 'cdn', req: IncomingMessage): LoggedRequest {
    const entry: LoggedRequest = {
      server,
      method: req.method ?? '',
      path: decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname),
      range: req.headers.range,
      authorization: req.headers.authorization,
    };
    this.requests.push(entry);
    return entry;
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'});
    res.end(String(err));
  }

  private async onHub(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = this.log('hub', req);
    const reply = (status: number, headers: Record<string, string | number> = {}, body?: Buffer | string): void => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const rawPath = new URL(req.url ?? '/', 'http://x').pathname;

    const api = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(rawPath);
    if (api !== null) {
      const repo = this.repos.get(api[1]!);
      const commit = repo && this.findCommit(repo, decodeURIComponent(api[2]!));
      if (commit === undefined) return reply(404, {'x-error-code': 'RepoNotFound'});
      return reply(200, {'content-type': 'application/json'}, JSON.stringify({sha: commit.sha, siblings: [...commit.files.keys()].map((rfilename) => ({rfilename}))}));
    }

    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(rawPath);
    if (m === null) return reply(404, {'x-error-code': 'RepoNotFound'});
    const [, repoId, encodedRev, encodedFile] = m as unknown as [string, string, string, string];
    const revision = decodeURIComponent(encodedRev);
    const file = encodedFile.split('/').map(decodeURIComponent).join('/');

    const renamed = this.aliases.get(repoId);
    if (renamed !== undefined) return reply(307, {location: `/${renamed}/resolve/${encodedRev}/${encodedFile}`});
    const repo = this.repos.get(repoId);
    if (repo === undefined) return reply(404, {'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found'});
    if (repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) {
      return reply(req.headers.authorization === undefined ? 401 : 403, {'x-error-code': 'GatedRepo', 'x-error-message': 'Access restricted'});
    }
    const commit = this.findCommit(repo, revision);
    if (commit === undefined) return reply(404, {'x-error-code': 'RevisionNotFound'});
    const bytes = commit.files.get(file);
    if (bytes === undefined) return reply(404, {'x-error-code': 'EntryNotFound', 'x-repo-commit': commit.sha});

    if (req.method === 'HEAD' && this.heldHeads?.file === file) {
      const held = this.heldHeads;
      await new Promise<void>((go) => {
        held.waiting.push(go);
        if (held.waiting.length >= held.count) this.releaseHeads('count');
      });
    }

    if (isLfs(file)) {
      const sha = sha256Hex(bytes);
      return reply(302, {
        location: `${this.cdnOrigin}/cdn/${sha}`,
        'x-repo-commit': commit.sha,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': bytes.length,
        etag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\n`))}"`,
        'content-length': 0,
      });
    }
    // Weak and strong ETags both occur in the wild; alternate so the client must strip either.
    const etag = file.endsWith('config.json') ? `W/"${gitBlobSha1(bytes)}"` : `"${gitBlobSha1(bytes)}"`;
    await this.sendBody(req, res, entry, file, bytes, {'x-repo-commit': commit.sha, etag});
  }

  private async onCdn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = this.log('cdn', req);
    const sha = /^\/cdn\/([0-9a-f]{64})$/.exec(entry.path)?.[1];
    for (const repo of this.repos.values()) {
      for (const commit of repo.commits) {
        for (const [file, bytes] of commit.files) {
          if (sha !== undefined && sha256Hex(bytes) === sha) return this.sendBody(req, res, entry, file, bytes, {etag: `"${sha}"`});
        }
      }
    }
    entry.status = 404;
    res.writeHead(404).end();
  }

  private findCommit(repo: FakeRepo, revision: string): FakeCommit | undefined {
    const sha = repo.refs.get(revision) ?? revision;
    return repo.commits.find((c) => c.sha === sha);
  }

  /** 200 or 206 (Range: bytes=N- or N-M) with the switches applied. */
  private async sendBody(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest, file: string, stored: Buffer, headers: Record<string, string>): Promise<void> {
    let bytes = stored;
    if (this.corrupt.has(file) && bytes.length > 0) {
      bytes = Buffer.from(stored);
      bytes[bytes.length >> 1]! ^= 0xff;
    }
    let start = 0;
    let end = bytes.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range !== null) {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(end, Number(range[2]));
      if (start >= bytes.length) {
        entry.status = 416;
        res.writeHead(416, {'content-range': `bytes */${bytes.length}`}).end();
        return;
      }
    }
    const body = bytes.subarray(start, end + 1);
    entry.status = range === null ? 200 : 206;
    res.writeHead(entry.status, {
      ...headers,
      'content-length': body.length,
      'accept-ranges': 'bytes',
      ...(range === null ? {} : {'content-range': `bytes ${start}-${end}/${bytes.length}`}),
    });
    if (req.method === 'HEAD') return void res.end();
    const fraction = this.drops.get(file)?.shift();
    if (fraction !== undefined && body.length > 1) {
      const cut = Math.floor(body.length * fraction);
      if (cut === 0) res.destroy();
      // Cut a little later: a client's stream drops bytes it has received but not yet read when it errors.
      else res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 30));
      return;
    }
    if (this.throttle === undefined) return void res.end(body);
    const {chunkBytes, delayMs} = this.throttle;
    for (let at = 0; at < body.length; at += chunkBytes) {
      if (res.destroyed) return;
      res.write(body.subarray(at, at + chunkBytes));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    res.end();
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}
