/**
 * The one place that loads bullmq and ioredis, lazily, so no other command pays for them (and
 * `--help` stays instant). Connections are made here from a parsed RedisTarget, and every error
 * that leaves is scrubbed of the password.
 *
 * Two connection policies: a client (submit, status) gives up after a few seconds so an unreachable
 * Redis is one line and exit 69; a worker reconnects for ever, since Redis restarts and failovers
 * are routine for a long-running consumer.
 */
import type {Queue, Worker, Processor, WorkerOptions} from 'bullmq';
import type {Redis, RedisOptions} from 'ioredis';
import {SbertkitError, EXIT} from '../errors.js';
import {scrub, type RedisTarget} from './redis-url.js';

export const DEFAULT_QUEUE = 'sbertkit';

type Bullmq = typeof import('bullmq');

let bullmq: Promise<Bullmq> | undefined;
export function loadBullmq(): Promise<Bullmq> {
  bullmq ??= import('bullmq');
  return bullmq;
}

/** How long a client waits for Redis before it reports it unreachable. */
const CLIENT_CONNECT_MS = 5_000;

async function connect(target: RedisTarget, policy: 'client' | 'worker', onError: (message: string) => void): Promise<Redis> {
  const {Redis: RedisClient} = await import('ioredis');
  const options: RedisOptions = {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username === undefined ? {} : {username: target.username}),
    ...(target.password === undefined ? {} : {password: target.password}),
    ...(target.tls ? {tls: {}} : {}),
    // BullMQ's blocking commands need it; it also keeps commands waiting through a reconnect.
    maxRetriesPerRequest: null,
    connectTimeout: CLIENT_CONNECT_MS,
    retryStrategy: policy === 'client' ? (times) => (times > 3 ? null : 250 * times) : (times) => Math.min(1000 * times, 10_000),
    lazyConnect: true,
  };
  const client = new RedisClient(options);
  // Without a listener ioredis prints "[ioredis] Unhandled error event" with the raw error.
  client.on('error', (error: Error) => onError(scrub(error.message, target)));
  return client;
}

/**
 * Connects, or fails with one line naming the redacted URL and exit 69 (EX_UNAVAILABLE). The
 * connection's own last error (ECONNREFUSED, WRONGPASS...) says more than the "Connection is
 * closed" that connect() rejects with once the retries are spent.
 */
async function ready(client: Redis, target: RedisTarget, lastError: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CLIENT_CONNECT_MS / 1000} s`)), CLIENT_CONNECT_MS * 2);
      }),
    ]);
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw unreachable(lastError() === '' ? error : new Error(lastError()), target);
  } finally {
    clearTimeout(timer);
  }
}

export function unreachable(error: unknown, target: RedisTarget): SbertkitError {
  const message = error instanceof Error ? error.message : String(error);
  return new SbertkitError(`cannot use Redis at ${target.redacted}: ${scrub(message, target)}`, {field: '--redis', exitCode: EXIT.UNAVAILABLE});
}

export interface QueueHandle {
  queue: Queue;
  close(): Promise<void>;
}

/** A producer/inspector handle on queue `name` (submit, status). */
export async function openQueue(target: RedisTarget, name: string): Promise<QueueHandle> {
  let lastError = '';
  const client = await connect(target, 'client', (message) => (lastError = message));
  await ready(client, target, () => lastError);
  const {Queue: QueueClass} = await loadBullmq();
  const queue = new QueueClass(name, {connection: client});
  queue.on('error', () => {});
  return {
    queue,
    close: async () => {
      await queue.close().catch(() => {});
      client.disconnect();
    },
  };
}

export interface WorkerHandle {
  worker: Worker;
  close(force?: boolean): Promise<void>;
}

/**
 * A consumer on queue `name`. Redis is checked once with the client policy (a wrong URL fails at
 * start), then the worker gets a connection that reconnects for ever; its errors go to `onError`.
 */
export async function openWorker(
  target: RedisTarget,
  name: string,
  processor: Processor,
  options: Omit<WorkerOptions, 'connection'>,
  onError: (message: string) => void,
): Promise<WorkerHandle> {
  let lastError = '';
  const probe = await connect(target, 'client', (message) => (lastError = message));
  await ready(probe, target, () => lastError);
  probe.disconnect();
  const client = await connect(target, 'worker', onError);
  await client.connect().catch((error: unknown) => {
    throw unreachable(error, target);
  });
  const {Worker: WorkerClass} = await loadBullmq();
  const worker = new WorkerClass(name, processor, {...options, connection: client});
  worker.on('error', (error: Error) => onError(scrub(error.message, target)));
  return {
    worker,
    close: async (force = false) => {
      await worker.close(force).catch(() => {});
      client.disconnect();
    },
  };
}
