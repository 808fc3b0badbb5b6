// Notices between bridges (bridge/cluster/notices.ts): a revoked token or an ended session on
// one bridge's bus reaches every other bridge's bus, once, and never comes back to the sender.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Redis } from 'ioredis';
import { NOTICE_CHANNEL, parseNotice, startNotices, type Notices } from '../../../bridge/cluster/index.ts';
import { EventBus } from '../../../bridge/events/index.ts';
import { HookwireError } from '../../../bridge/errors.ts';
import { createLogger } from '../../../bridge/log.ts';
import { until } from '../../helpers/bridge.ts';
import { sleep } from '../../helpers/mqtt.ts';
import { freePort } from '../../helpers/net.ts';
import { INSTALL, redisAvailable, startRedis, type TestRedis } from '../../helpers/redis.ts';

const logger = createLogger({ level: 'silent', pretty: false });

test('parseNotice takes only notices of the shared kinds, with an ID of sane length', () => {
  assert.equal(parseNotice('{"from":"b1","kind":"token:revoked","id":"t1"}'), { from: 'b1', kind: 'token:revoked', id: 't1' });
  assert.equal(parseNotice('{"from":"b1","kind":"session:ended","id":"abc"}')?.kind, 'session:ended');
  assert.equal(parseNotice('{"from":"b1","kind":"integration:changed","id":"i1"}')?.kind, 'integration:changed');
  assert.equal(parseNotice('{"from":"b1","kind":"login:blocked","id":"2001:db8::1"}')?.kind, 'login:blocked');
  assert.equal(parseNotice(`{"from":"b1","kind":"host:asleep","id":"${'h'.repeat(255)}"}`)?.kind, 'host:asleep');
  for (const bad of ['', 'not json', 'null', '[]', '{"from":"b1","kind":"event","id":"x"}', '{"from":"b1","kind":"token:revoked"}',
    '{"kind":"token:revoked","id":"x"}', `{"from":"b1","kind":"token:revoked","id":"${'x'.repeat(256)}"}`, '{"from":"b1","kind":"token:revoked","id":""}']) {
    assert.is(parseNotice(bad), undefined, bad);
  }
});

if (!redisAvailable) {
  test(`redis-server not installed: skipped (${INSTALL})`, () => {});
} else {
  let redis: TestRedis;
  const started: Notices[] = [];
  const join = async (bus: EventBus) => {
    const n = await startNotices({ url: redis.url, bus, logger });
    started.push(n);
    return n;
  };
  test.before(async () => { redis = await startRedis(); });
  test.after(async () => {
    for (const n of started) await n.close();
    await redis?.stop();
  });

  test('a revoked token and an ended session reach the other bridges once, and are not echoed to the sender', async () => {
    const buses = [new EventBus(), new EventBus(), new EventBus()];
    for (const bus of buses) await join(bus);
    const seen = buses.map(() => [] as string[]);
    buses.forEach((bus, i) => {
      bus.on('token:revoked', (id) => seen[i]!.push(`token ${id}`));
      bus.on('session:ended', (id) => seen[i]!.push(`session ${id}`));
    });
    buses[0]!.emit('token:revoked', 'tok-1');
    buses[2]!.emit('session:ended', 'sess-1');
    await until(() => seen[1]!.length === 2 && seen[0]!.length === 2 && seen[2]!.length === 2, 2000, 'every notice everywhere');
    await sleep(100); // an echo would come in now
    assert.equal(seen.map((s) => s.sort()), [['session sess-1', 'token tok-1'], ['session sess-1', 'token tok-1'], ['session sess-1', 'token tok-1']]);
  });

  test('other bus events stay local; garbage on the channel is ignored', async () => {
    const [here, there] = [new EventBus(), new EventBus()];
    await join(here);
    await join(there);
    const got: string[] = [];
    there.on('device:online', (id) => got.push(`online ${id}`));
    there.on('token:revoked', (id) => got.push(`revoked ${id}`));
    here.emit('device:online', 'd1');
    const raw = new Redis(redis.url);
    await raw.publish(NOTICE_CHANNEL, 'not a notice');
    await raw.publish(NOTICE_CHANNEL, JSON.stringify({ from: 'elsewhere', kind: 'device:online', id: 'd2' }));
    await raw.publish(NOTICE_CHANNEL, JSON.stringify({ from: 'elsewhere', kind: 'token:revoked', id: 'tok-2' }));
    await until(() => got.length > 0, 2000, 'the valid notice');
    await sleep(100);
    await raw.quit();
    assert.equal(got, ['revoked tok-2']);
  });

  test('a closed relay stops sending', async () => {
    const [here, there] = [new EventBus(), new EventBus()];
    const n = await startNotices({ url: redis.url, bus: here, logger });
    await join(there);
    const got: string[] = [];
    there.on('token:revoked', (id) => got.push(id));
    await n.close();
    here.emit('token:revoked', 'after-close');
    await sleep(150);
    assert.equal(got, []);
    assert.is(here.listenerCount('token:revoked'), 0);
  });
}

test('a Redis nobody answers at stops the start with CONFIG_INVALID naming redisUrl, without the password', async () => {
  const port = await freePort();
  const err = await startNotices({ url: `redis://:hunter2@127.0.0.1:${port}`, bus: new EventBus(), logger }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, HookwireError);
  assert.is((err as HookwireError).code, 'CONFIG_INVALID');
  assert.is((err as HookwireError).field, 'redisUrl');
  assert.not.match((err as Error).message, 'hunter2');
});

test.run();
