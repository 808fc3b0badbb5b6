// Connections to the Redis that several bridges share (HOOKWIRE_REDIS): each one named, its
// outages logged once (not at every reconnect attempt), the first connect checked so a wrong
// URL stops the start with a message naming the setting.

import { Redis, type RedisOptions } from 'ioredis';
import { HookwireError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** How long the first connection may take before the bridge refuses to start, ms. */
const FIRST_CONNECT_MS = 5_000;

/** The URL without its credentials, for logs and messages. */
export function redisLabel(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * A connection to `url`, ready. ioredis reconnects by itself after an outage (subscriptions
 * included) and queues commands meanwhile; a command waiting through 20 attempts fails.
 */
export async function openRedis(url: string, name: string, logger: Logger, options: RedisOptions = {}): Promise<Redis> {
  const log = logger.child({ component: 'redis', connection: name });
  const redis = new Redis(url, { ...options, connectionName: `hookwire-${name}`, lazyConnect: true });
  let down = false;
  redis.on('error', (err: Error & { code?: string }) => {
    if (down) return;
    down = true;
    log.warn({ code: err.code, reason: err.message, redis: redisLabel(url) }, 'Redis unreachable: reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis: redisLabel(url) }, 'Redis reachable again');
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${FIRST_CONNECT_MS / 1000} s`)), FIRST_CONNECT_MS); }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new HookwireError('CONFIG_INVALID', `cannot reach Redis at ${redisLabel(url)} (redisUrl, HOOKWIRE_REDIS): ${(err as Error).message}`, { field: 'redisUrl', cause: err });
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/** Close a connection: QUIT when it is up, drop it when it is not (an outage must not hold a stop). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') return redis.disconnect();
  await redis.quit().catch(() => redis.disconnect());
}
