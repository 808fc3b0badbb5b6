// The login limit across bridges sharing a Redis: failed logins from an address are counted
// in Redis (one key per address, expiring with its window), so wrong tokens spread over the
// bridges count together; the bridge whose failure reaches the limit puts `login:blocked` on
// its bus, which the notices (notices.ts) carry to every bridge, and each bridge's limiter
// then refuses the address on its own, without asking Redis on each login.

import type { Redis } from 'ioredis';
import type { EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { LoginLimiter } from '../login-limit.ts';
import { closeRedis, openRedis } from './redis.ts';

/** Keys of the shared counts: one per address. */
export const LOGIN_KEY_PREFIX = 'hookwire:login-failures:';

/** Add one to the count and start its window with the first (atomically: a count never outlives its window). */
const COUNT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export interface SharedLoginsOptions {
  /** redis:// or rediss:// URL (HOOKWIRE_REDIS). */
  url: string;
  bus: EventBus;
  limiter: LoginLimiter;
  logger: Logger;
}

export interface SharedLogins {
  close(): Promise<void>;
}

/** Have `limiter` count with every bridge on the Redis at `url`, and refuse what any of them announces. */
export async function shareLogins({ url, bus, limiter, logger }: SharedLoginsOptions): Promise<SharedLogins> {
  const redis: Redis = await openRedis(url, 'logins', logger);
  const block = (address: string) => limiter.block(address);
  bus.on('login:blocked', block);
  limiter.share({
    async count(address, windowMs) {
      return Number(await redis.eval(COUNT_SCRIPT, 1, LOGIN_KEY_PREFIX + address, windowMs));
    },
    announce: (address) => bus.emit('login:blocked', address),
  });
  return {
    async close() {
      limiter.share(undefined);
      bus.off('login:blocked', block);
      await closeRedis(redis);
    },
  };
}
