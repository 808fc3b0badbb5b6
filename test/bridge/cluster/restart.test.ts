// Redis restarted under two bridges sharing it (a crash: killed, back empty): the bridges
// reconnect to it by themselves, a device connected meanwhile (the SDK reconnects should its
// connection drop) publishes again, and messages cross between the bridges again. A message
// made while Redis is away waits for it, however long, and reaches its device after.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { connectDevice } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { mqttClient, sleep, type TestClient } from '../../helpers/mqtt.ts';
import { INSTALL, redisAvailable, startRedis, type TestRedis } from '../../helpers/redis.ts';

let redis: TestRedis;
let a: TestBridge;
let b: TestBridge;

if (!redisAvailable) {
  test(`redis-server not installed: skipped (${INSTALL})`, () => {});
} else {
  test.before(async () => {
    redis = await startRedis();
    a = await testBridge({ redisUrl: redis.url });
    b = await testBridge({ redisUrl: redis.url });
  });
  test.after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  test('Redis restarted under a connected device: its later publishes reach the other bridge, and messages reach it', async () => {
    const d = await a.addDevice();
    const rec = (await a.store.devices.get(d.id))!;
    await b.store.devices.create({ id: rec.id, name: null, productId: null, firmwareVersion: null, tokenHash: rec.tokenHash });
    const token = (await a.call('POST', '/v1/access_tokens', { name: 'watcher', scope: 'read' })).body;
    const tokenRec = (await a.store.tokens.list()).find((t) => t.id === token.id)!;
    await b.store.tokens.create({ id: tokenRec.id, name: tokenRec.name, scope: tokenRec.scope, tokenHash: tokenRec.tokenHash });

    const device = await connectDevice({ url: a.mqttUrl, deviceId: d.id, token: d.token, reconnectMinMs: 50, reconnectMaxMs: 200, timeoutMs: 5000 });
    const inbox: string[] = [];
    await device.subscribe(`${d.id}/inbox`, (name, data) => { inbox.push(`${name} ${data}`); });
    const watcher: TestClient = await mqttClient(b.mqttUrl, { clientId: 'svc-restart', username: 's', password: token.token, reconnectPeriod: 50 });
    await watcher.client.subscribeAsync('#', { qos: 1 });
    const events: HookwireEvent[] = [];
    a.bus.on('event', (e) => events.push(e));
    try {
      await sleep(100);
      await device.publish('before', '1', { qos: 1 });
      await until(() => watcher.topics().includes('before'), 3000, 'the first event on B');

      await redis.restart();
      // The bridges' connections to Redis come back by themselves (ioredis resubscribes).
      await until(() => a.logs.some((l) => l.msg === 'Redis reachable again') && b.logs.some((l) => l.msg === 'Redis reachable again'), 5000, 'both bridges back on Redis');
      await until(() => device.connected(), 5000, 'the device connected');

      // Publishes made now go through; one made right after the restart may wait for the
      // resubscription, so publish until B sees one.
      await until(async () => {
        await device.publish('after', '2', { qos: 1 });
        return watcher.topics().includes('after');
      }, 5000, 'an event published after the restart on B');
      assert.ok(events.some((e) => e.name === 'after' && e.coreid === d.id), 'A took the event in');

      await until(async () => {
        await b.call('POST', '/v1/devices/events', { name: `${d.id}/inbox`, data: 'hello' });
        return inbox.length > 0;
      }, 5000, 'a message from B at the device on A');
      assert.equal(inbox[0], `${d.id}/inbox hello`);
    } finally {
      await device.disconnect();
      await watcher.end();
    }
  });

  test('a message for a device, made while Redis is away for longer than ioredis retries a command, reaches it when Redis is back', async () => {
    const d = await a.addDevice();
    const device = await connectDevice({ url: a.mqttUrl, deviceId: d.id, token: d.token, reconnectMinMs: 50, reconnectMaxMs: 200, timeoutMs: 5000 });
    const inbox: string[] = [];
    await device.subscribe(`${d.id}/inbox`, (name, data) => { inbox.push(`${name} ${data}`); });
    try {
      await sleep(100);
      // Down 12 s: ioredis gives up on a queued command after 20 reconnection attempts (about 10 s).
      const restarting = redis.restart(12_000);
      await sleep(500);
      const sent = await a.call('POST', '/v1/devices/events', { name: `${d.id}/inbox`, data: 'while-away' });
      assert.is(sent.status, 200, 'the API takes it (it triggers nothing to store)');
      await restarting;
      await until(() => inbox.length > 0, 10_000, 'the message once Redis is back');
      assert.equal(inbox, [`${d.id}/inbox while-away`]);
    } finally {
      await device.disconnect();
    }
  });
}

test.run();
