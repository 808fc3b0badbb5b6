// Two bridges sharing one Redis act as one broker (bridge/broker/shared.ts): what one bridge
// publishes reaches MQTT subscribers on the other, one connection per client ID across both,
// and a device deleted or a token revoked on one is cut off on the other. Each bridge has its
// own store here, so the device and the token are copied from A's store into B's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, mqttClient, sleep, type TestClient } from '../../helpers/mqtt.ts';
import { INSTALL, redisAvailable, startRedis, type TestRedis } from '../../helpers/redis.ts';

let redis: TestRedis;
let a: TestBridge;
let b: TestBridge;
const open: TestClient[] = [];

/** A device made on A, and the same record in B's store. */
async function sharedDevice(): Promise<{ id: string; token: string }> {
  const d = await a.addDevice();
  const rec = (await a.store.devices.get(d.id))!;
  await b.store.devices.create({ id: rec.id, name: rec.name, productId: rec.productId, firmwareVersion: rec.firmwareVersion, tokenHash: rec.tokenHash });
  return d;
}

/** An API token made on A, and the same record in B's store. */
async function sharedToken(scope: 'admin' | 'read' = 'admin'): Promise<{ id: string; token: string }> {
  const res = await a.call('POST', '/v1/access_tokens', { name: `svc-${Math.random().toString(36).slice(2)}`, scope });
  const rec = (await a.store.tokens.findByHash((await a.store.tokens.list()).find((t) => t.id === res.body.id)!.tokenHash))!;
  await b.store.tokens.create({ id: rec.id, name: rec.name, scope: rec.scope, tokenHash: rec.tokenHash });
  return { id: res.body.id, token: res.body.token };
}

async function client(c: Promise<TestClient>): Promise<TestClient> {
  const connected = await c;
  open.push(connected);
  return connected;
}

/** Until both bridges' emitters have subscribed (a SUBSCRIBE on one bridge is a pattern in Redis a moment later). */
const settle = () => sleep(100);

if (!redisAvailable) {
  test(`redis-server not installed: skipped (${INSTALL})`, () => {});
} else {
  test.before(async () => {
    redis = await startRedis();
    a = await testBridge({ redisUrl: redis.url });
    b = await testBridge({ redisUrl: redis.url });
  });
  test.after(async () => {
    for (const c of open) await c.end().catch(() => {});
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  test('a device on A receives what is published for it on B: the API, a cloud event (hook-response), a service client', async () => {
    const d = await sharedDevice();
    const device = await client(deviceClient(a.mqttUrl, d));
    await device.client.subscribeAsync(`${d.id}/#`, { qos: 1 });
    await settle();

    const res = await b.call('POST', '/v1/devices/events', { name: `${d.id}/led`, data: 'on' });
    assert.is(res.status, 200, JSON.stringify(res.body));
    b.ingest.cloud(`${d.id}/hook-response/temp/0`, Buffer.from('{"ok":true}'), 0);
    const svc = await client(mqttClient(b.mqttUrl, { clientId: 'svc-to-device', username: 's', password: (await sharedToken()).token }));
    await svc.client.publishAsync(`${d.id}/config`, 'v2', { qos: 1 });

    await until(() => device.received.length >= 3, 3000, 'three messages on A');
    assert.equal(device.received.map((r) => `${r.topic} ${r.payload}`).sort(), [
      `${d.id}/config v2`, `${d.id}/hook-response/temp/0 {"ok":true}`, `${d.id}/led on`,
    ]);
  });

  test('a service client on B sees a device\'s events published on A; another device on B does not see its private ones', async () => {
    const [d, other] = [await sharedDevice(), await sharedDevice()];
    const svc = await client(mqttClient(b.mqttUrl, { clientId: 'svc-watcher', username: 's', password: (await sharedToken('read')).token }));
    await svc.client.subscribeAsync('#', { qos: 1 });
    const nosy = await client(deviceClient(b.mqttUrl, other));
    await nosy.client.subscribeAsync('#', { qos: 0 });
    await settle();
    const events: HookwireEvent[] = [];
    a.bus.on('event', (e) => events.push(e));

    const device = await client(deviceClient(a.mqttUrl, d));
    await device.client.publishAsync('temp', '72', { qos: 1 });
    await device.client.publishAsync(`${d.id}/diag`, 'private', { qos: 1 });

    await until(() => svc.topics().includes(`${d.id}/diag`) && svc.topics().includes('temp'), 3000, 'both events on B');
    assert.ok(events.some((e) => e.name === 'temp' && e.coreid === d.id), 'A took the event in');
    await sleep(100);
    assert.ok(nosy.topics().includes('temp'), 'a fleet-wide event reaches devices on the other bridge');
    assert.not.ok(nosy.topics().includes(`${d.id}/diag`), 'another device received a private event');
    assert.not.ok(svc.topics().some((t) => t.startsWith('$')), 'a service client on # received $ topics');
  });

  test('one connection per device ID across the bridges: connecting on B closes the connection on A', async () => {
    const d = await sharedDevice();
    const first = await client(deviceClient(a.mqttUrl, d));
    const closed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
    const second = await client(deviceClient(b.mqttUrl, d));
    await closed;
    // A's own connections (isDeviceConnected answers for every bridge: the device is connected, to B).
    await until(() => !a.broker.deviceSubscriptions().has(d.id), 2000, 'A to let the device go');
    assert.ok(b.broker.isDeviceConnected(d.id));
    assert.ok(a.broker.isDeviceConnected(d.id));
    assert.ok(second.client.connected);
    assert.ok(a.logs.some((l) => String(l.msg).startsWith('session taken over') && l.clientId === d.id && l.kind === 'device'), 'A did not log the takeover');

    // Messages still reach it, now on B, from A.
    await second.client.subscribeAsync(`${d.id}/#`, { qos: 0 });
    await settle();
    a.ingest.cloud(`${d.id}/hook-response/x/0`, Buffer.from('here'), 0);
    await until(() => second.topics().includes(`${d.id}/hook-response/x/0`), 2000, 'the response on B');
  });

  test('a service client\'s ID is one across the bridges too', async () => {
    const { token } = await sharedToken();
    const first = await client(mqttClient(a.mqttUrl, { clientId: 'svc-one', username: 's', password: token }));
    const closed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
    await client(mqttClient(b.mqttUrl, { clientId: 'svc-one', username: 's', password: token }));
    await closed;
  });

  test('a device deleted on A is disconnected on B', async () => {
    const d = await sharedDevice();
    const device = await client(deviceClient(b.mqttUrl, d));
    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    assert.is((await a.call('DELETE', `/v1/devices/${d.id}`)).status, 200);
    await closed;
    assert.ok(b.logs.some((l) => String(l.msg).startsWith('device disconnected by another bridge') && l.deviceId === d.id));
  });

  test('an API token revoked on A closes its MQTT service connection on B, and only that one', async () => {
    const [revoked, kept] = [await sharedToken(), await sharedToken()];
    const doomed = await client(mqttClient(b.mqttUrl, { clientId: 'svc-doomed', username: 's', password: revoked.token }));
    const other = await client(mqttClient(b.mqttUrl, { clientId: 'svc-kept', username: 's', password: kept.token }));
    const closed = new Promise<void>((resolve) => doomed.client.once('close', () => resolve()));
    assert.is((await a.call('DELETE', `/v1/access_tokens/${revoked.id}`)).status, 200);
    await closed;
    assert.ok(b.logs.some((l) => String(l.msg).startsWith('API token revoked') && l.tokenId === revoked.id));
    assert.ok(other.client.connected, 'another token\'s connection was closed');
  });

  test('no client may publish on $SYS, where the bridges announce new clients', async () => {
    const d = await sharedDevice();
    const device = await client(deviceClient(a.mqttUrl, d));
    const svc = await client(mqttClient(b.mqttUrl, { clientId: 'svc-forger', username: 's', password: (await sharedToken()).token }));
    await svc.client.publishAsync('$SYS/forged/new/clients', d.id, { qos: 1 });
    await until(() => b.logs.some((l) => l.code === 'EVENT_NAME_RESERVED' && l.topic === '$SYS/forged/new/clients'), 2000, 'the refusal');
    await sleep(200);
    assert.ok(device.client.connected, 'a forged announcement closed the device');
    assert.ok(svc.client.connected, 'the refusal closed the service client');
  });
}

test.run();
