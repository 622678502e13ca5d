/** Flags of every `queue` command: where Redis is and which queue. */
import {Flags} from '@oclif/core';
import {DEFAULT_QUEUE} from '../queue/connection.js';

export const queueFlags = {
  redis: Flags.string({
    description: 'Redis URL, redis://[user:password@]host[:port][/db] or rediss:// for TLS. Prefer the environment variable for a password: command lines are visible to other users. Never printed unredacted.',
    env: 'SBERTKIT_REDIS_URL',
    required: true,
    helpGroup: 'QUEUE',
  }),
  queue: Flags.string({description: 'Queue name (one Redis can hold several).', default: DEFAULT_QUEUE, helpGroup: 'QUEUE'}),
};
