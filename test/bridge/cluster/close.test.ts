// The shared broker's Redis connections close without leaving a rejected QUIT behind: when a
// connection ends before Redis answers QUIT (it hung up after a publish aedes made while its
// clients closed), the bridge still stops cleanly instead of dying of an unhandled rejection.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { openSharedBroker } from '../../../bridge/broker/shared.ts';
import { createLogger } from '../../../bridge/log.ts';
import { sleep } from '../../helpers/mqtt.ts';
import { INSTALL, redisAvailable, startRedis, type TestRedis } from '../../helpers/redis.ts';

const logger = createLogger({ level: 'silent', pretty: false });

if (!redisAvailable) {
  test(`redis-server not installed: skipped (${INSTALL})`, () => {});
} else {
  let redis: TestRedis;
  test.before(async () => { redis = await startRedis(); });
  test.after(async () => { await redis?.stop(); });

  test('connections cut while the emitter quits them leave no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const shared = await openSharedBroker(redis.url, logger);
      const { pubConn, subConn } = shared.mq as unknown as { pubConn: Redis; subConn: Redis };
      const closed = new Promise<void>((resolve) => shared.mq.close(() => resolve()));
      // Hung up before QUIT is answered.
      for (const conn of [pubConn, subConn]) conn.stream.destroy();
      await closed;
      await shared.close();
      await sleep(100);
      assert.equal(unhandled.map(String), []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
}

test.run();
