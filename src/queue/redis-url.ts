/**
 * `--redis URL` -> connection options for ioredis, and the redaction that keeps its password out of
 * every line sbertkit prints, every error it raises and every file it writes. No module here
 * imports ioredis or bullmq: parsing and redacting are needed before (and without) a connection.
 */
import {SbertkitError, EXIT} from '../errors.js';

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** The URL with its password replaced by ***: the only form that is ever printed. */
  redacted: string;
  /** Strings that must never be printed (the password, raw and URL-encoded, and the whole URL). */
  secrets: string[];
}

export function parseRedisUrl(url: string, flag = '--redis'): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text itself is not echoed: it may be a password pasted in the wrong place.
    throw new SbertkitError(`${flag} is not a URL (expected redis://[user:password@]host[:port][/db] or rediss://...)`, {field: flag, exitCode: EXIT.BAD_INPUT});
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new SbertkitError(`${flag} must start with redis:// or rediss:// (got ${parsed.protocol}//)`, {field: flag, exitCode: EXIT.BAD_INPUT});
  }
  const rawPassword = parsed.password;
  const password = rawPassword === '' ? undefined : decodeURIComponent(rawPassword);
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new SbertkitError(`${flag}: the database after the host must be a number (got '${dbText}')`, {field: flag, exitCode: EXIT.BAD_INPUT});
  const redactedUrl = new URL(url);
  if (password !== undefined) redactedUrl.password = '***';
  const secrets = password === undefined ? [] : [url, rawPassword, password, encodeURIComponent(password)].filter((s) => s.length > 0);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(username === undefined ? {} : {username}),
    ...(password === undefined ? {} : {password}),
    db,
    tls: parsed.protocol === 'rediss:',
    redacted: redactedUrl.toString(),
    secrets: [...new Set(secrets)].sort((a, b) => b.length - a.length),
  };
}

/** `text` with every secret of `target` replaced by ***. */
export function scrub(text: string, target: Pick<RedisTarget, 'secrets'>): string {
  let out = text;
  for (const secret of target.secrets) out = out.split(secret).join('***');
  return out;
}
