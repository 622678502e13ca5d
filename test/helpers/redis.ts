/**
 * The Redis the queue tests use: .ci/run starts a redis-server on loopback and exports its URL as
 * SBERTKIT_TEST_REDIS_URL. Without it (a clone with no redis-server) those tests skip with a message.
 * `redisCommand` speaks just enough RESP over a socket to set up an ACL user, without a client library.
 */
import {connect} from 'node:net';

export const TEST_REDIS_URL = process.env.SBERTKIT_TEST_REDIS_URL;

export const REDIS_SKIP = TEST_REDIS_URL ? false : 'SBERTKIT_TEST_REDIS_URL is not set: run .ci/run, or start redis-server and export its URL, to run the queue tests';

/** Sends one command and resolves with the first line of the reply ("+OK", "-ERR ..."). */
export function redisCommand(url: string, args: string[]): Promise<string> {
  const {hostname, port} = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port || 6379), hostname, () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}
