// The device SDK on Node against a real bridge: prefix semantics, typed data, QoS 1
// acknowledgement, local validation, refusals, reconnection and the offline queue.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, createNodeDevice, type Device, type SdkError } from '../../firmware-sdk/index.ts';
import type { HookwireEvent } from '../../bridge/events/index.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { mqttProxy, type MqttProxy } from '../helpers/proxy.ts';
import { sleep } from '../helpers/mqtt.ts';

let b: TestBridge;
let proxy: MqttProxy;
const events: HookwireEvent[] = [];
const devices: Device[] = [];

async function device(url?: string, options: Record<string, number> = {}): Promise<Device> {
  const creds = await b.addDevice();
  const d = await connectDevice({ url: url ?? b.mqttUrl, deviceId: creds.id, token: creds.token, ...options });
  devices.push(d);
  return d;
}

test.before(async () => {
  b = await testBridge();
  proxy = await mqttProxy(b.mqttPort);
  b.bus.on('event', (e) => events.push(e));
});

test.after(async () => {
  await Promise.all(devices.map((d) => d.disconnect()));
  await proxy?.close();
  await b?.stop();
});

test('subscribe is a string prefix: temp gets temp, temperature, temperature/basement, not high_temp', async () => {
  const [sub, pub] = [await device(), await device()];
  const got: string[] = [];
  await sub.subscribe('temp', (name) => got.push(name));
  for (const name of ['temp', 'temperature', 'temperature/basement', 'high_temp', 'tem', 'Temp']) await pub.publish(name, '1', { qos: 1 });
  await pub.publish('done-marker', '', { qos: 1 });
  await until(() => got.length >= 3);
  await sleep(50);
  assert.equal(got.sort(), ['temp', 'temperature', 'temperature/basement']);
});

test('a prefix with levels subscribes narrowly and still filters the partial level', async () => {
  const d = await device();
  const got: string[] = [];
  await d.subscribe(`${d.deviceID()}/hook-response/weather`, (name) => got.push(name));
  for (const name of ['weather/0', 'weather/1', 'weatherstation/0', 'other/0']) {
    b.broker.aedes.publish({ cmd: 'publish', topic: `${d.deviceID()}/hook-response/${name}`, payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, () => {});
  }
  await until(() => got.length >= 3);
  await sleep(50);
  assert.equal(got.map((n) => n.slice(25)).sort(), ['hook-response/weather/0', 'hook-response/weather/1', 'hook-response/weatherstation/0']);
});

test('typed data round-trips between two devices as CBOR, and the bridge sees it as JSON', async () => {
  const [from, to] = [await device(), await device()];
  const value = { temp: 21.5, room: 'cuisine é', readings: [1, 2, 3], ok: true, nested: { n: null } };
  let received: unknown;
  await to.subscribe('typed/', (_name, data) => { received = data; });
  await from.publish('typed/reading', value, { qos: 1 });
  await until(() => received !== undefined);
  assert.equal(received, value);
  const event = events.find((e) => e.name === 'typed/reading')!;
  assert.is(event.type, 'typed');
  assert.equal(JSON.parse(event.data), value);
});

test('binary data arrives as bytes, text as text', async () => {
  const [from, to] = [await device(), await device()];
  const got: unknown[] = [];
  await to.subscribe('bin/', (_name, data) => got.push(data));
  await from.publish('bin/raw', new Uint8Array([0xff, 0x00, 0xfe]), { qos: 1 });
  await from.publish('bin/text', 'héllo', { qos: 1 });
  await until(() => got.length === 2);
  assert.ok(got[0] instanceof Uint8Array);
  assert.equal([...(got[0] as Uint8Array)], [0xff, 0x00, 0xfe]);
  assert.is(got[1], 'héllo');
});

test('a QoS 1 publish settles only after the PUBACK arrives', async () => {
  const d = await device(proxy.url);
  proxy.holdAcks(true);
  let settled = false;
  const done = d.publish('acked', '1', { qos: 1 })!.then(() => { settled = true; });
  await until(() => events.some((e) => e.name === 'acked' && e.coreid === d.deviceID()), 2000, 'the bridge to accept the event');
  await sleep(100);
  assert.not.ok(settled, 'settled before the PUBACK');
  proxy.holdAcks(false);
  await done;
  assert.ok(settled);
});

test('local validation throws a stable code before anything is sent', async () => {
  const d = await device(proxy.url);
  const other = await b.addDevice();
  const sentBefore = proxy.publishes.length;
  const cases: [string, unknown, string][] = [
    ['', 'x', 'EVENT_NAME_INVALID'],
    ['x'.repeat(65), 'x', 'EVENT_NAME_INVALID'],
    ['bad+name', 'x', 'EVENT_NAME_INVALID'],
    ['spark/x', 'x', 'EVENT_NAME_RESERVED'],
    [`${d.deviceID()}/hook-response/x`, 'x', 'EVENT_NAME_RESERVED'],
    [`${other.id}/x`, 'x', 'EVENT_PRIVATE_SPACE'],
    ['big', 'é'.repeat(513), 'EVENT_TOO_LARGE'], // 1026 bytes in UTF-8, 513 characters
    ['big', { blob: 'x'.repeat(16_400) }, 'EVENT_TOO_LARGE'],
  ];
  for (const [name, data, code] of cases) {
    try {
      d.publish(name, data, { qos: 1 });
      assert.unreachable(`${name} should throw`);
    } catch (err) {
      assert.is((err as SdkError).code, code, name.slice(0, 30));
    }
  }
  assert.throws(() => d.subscribe('a+b', () => {}), (err: SdkError) => err.code === 'EVENT_NAME_INVALID');
  await d.publish('fine', 'é'.repeat(512), { qos: 1 }); // exactly 1024 bytes
  assert.is(proxy.publishes.length, sentBefore + 1, 'only the valid publish was sent');
});

test('a publish the bridge refuses rejects with the bridge\'s code', async () => {
  const d = await device();
  const refusals: SdkError[] = [];
  d.on('refused', (err) => refusals.push(err as SdkError));
  // Tagged as CBOR but not CBOR: only the bridge can tell.
  const err = await d.publish('bad-cbor', new Uint8Array([0xd9, 0xd9, 0xf7, 0xff, 0xff]), { qos: 1 })!.then(() => null, (e: SdkError) => e);
  assert.is(err?.code, 'EVENT_DATA_INVALID');
  assert.is(err?.event, 'bad-cbor');
  assert.is(refusals[0]?.code, 'EVENT_DATA_INVALID');
  await d.publish('after-refusal', 'ok', { qos: 1 });
  assert.ok(d.connected());
});

test('reconnects with backoff, keeps its subscriptions, and sends what was queued offline', async () => {
  const d = await device(proxy.url, { reconnectMinMs: 20, reconnectMaxMs: 100 });
  const peer = await device();
  const got: string[] = [];
  await d.subscribe('after/', (name) => got.push(name));
  const drops: unknown[] = [];
  d.on('disconnect', (e) => drops.push(e));

  proxy.refuse(true);
  proxy.cut();
  await until(() => !d.connected());
  const queued = [d.publish('queued/1', 'a', { qos: 1 }), d.publish('queued/2', 'b', { qos: 0 })];
  assert.is(d.queued(), 2);
  await sleep(300); // several refused attempts, backing off
  proxy.refuse(false);
  await until(() => d.connected(), 3000, 'reconnect');
  await Promise.all(queued);
  assert.is(d.queued(), 0);
  await until(() => events.some((e) => e.name === 'queued/1') && events.some((e) => e.name === 'queued/2'));
  await peer.publish('after/reconnect', 'x', { qos: 1 });
  await until(() => got.includes('after/reconnect'), 2000, 'the subscription to be made again');
  assert.is(drops.length, 1);
});

test('the offline queue is bounded: past the limit a publish fails with QUEUE_FULL', async () => {
  const creds = await b.addDevice();
  const d = createNodeDevice({ url: b.mqttUrl, deviceId: creds.id, token: creds.token, queueLimit: 2 });
  const first = [d.publish('q/1', '1'), d.publish('q/2', '2')];
  const err = await d.publish('q/3', '3')!.then(() => null, (e: SdkError) => e);
  assert.is(err?.code, 'QUEUE_FULL');
  await d.connect();
  await Promise.all(first);
  await until(() => events.some((e) => e.name === 'q/2'));
  assert.not.ok(events.some((e) => e.name === 'q/3'));
  await d.disconnect();
});

test('disconnect fails what is still queued with DISCONNECTED', async () => {
  const creds = await b.addDevice();
  const d = createNodeDevice({ url: 'mqtt://127.0.0.1:1', deviceId: creds.id, token: creds.token, reconnectMinMs: 10_000 });
  d.connect()!.catch(() => {});
  const pending = d.publish('never', '1', { qos: 1 })!.then(() => null, (e: SdkError) => e);
  await d.disconnect();
  assert.is((await pending)?.code, 'DISCONNECTED');
});

test('a bridge that cannot be reached: each attempt is an offline event naming the URL, and connectDevice gives up with CONNECT_TIMEOUT', async () => {
  const creds = await b.addDevice();
  const proxy = await mqttProxy(b.mqttPort); // its own: no other device reconnects through it
  proxy.refuse(true);
  const offline: SdkError[] = [];
  try {
    await connectDevice({ url: proxy.url, deviceId: creds.id, token: creds.token, reconnectMinMs: 20, reconnectMaxMs: 50, timeoutMs: 500, onOffline: (e) => offline.push(e) });
    assert.unreachable('connected');
  } catch (err) {
    assert.is((err as SdkError).code, 'CONNECT_TIMEOUT');
    assert.match((err as SdkError).message, /not connected within 500 ms \(.*127\.0\.0\.1/);
  }
  assert.ok(offline.length >= 2, `${offline.length} offline events`);
  assert.equal([offline[0]!.code, offline[0]!.message.includes(proxy.url)], ['UNREACHABLE', true]);
  const attempts = proxy.connections();
  await sleep(200);
  assert.is(proxy.connections(), attempts, 'it stopped trying');
  await proxy.close();
});

test('timeoutMs: 0 waits as long as it takes: the device connects once the bridge is back', async () => {
  const creds = await b.addDevice();
  const proxy = await mqttProxy(b.mqttPort); // its own: no other device reconnects through it
  proxy.refuse(true);
  const offline: SdkError[] = [];
  const connecting = connectDevice({ url: proxy.url, deviceId: creds.id, token: creds.token, reconnectMinMs: 20, reconnectMaxMs: 50, timeoutMs: 0, onOffline: (e) => offline.push(e) });
  await until(() => offline.length >= 2, 3000, 'failed attempts');
  proxy.refuse(false);
  const d = await connecting;
  assert.ok(d.connected());
  await d.disconnect();
  await proxy.close();
});

test('wrong credentials reject connect with CONNECT_REFUSED and stop retrying', async () => {
  const creds = await b.addDevice();
  const d = createNodeDevice({ url: b.mqttUrl, deviceId: creds.id, token: 'hwd_wrong', reconnectMinMs: 10 });
  const err = await d.connect()!.then(() => null, (e: SdkError) => e);
  assert.is(err?.code, 'CONNECT_REFUSED');
  const attempts = b.logs.filter((l) => l.code === 'AUTH_FAILED' && l.deviceId === creds.id).length;
  await sleep(200);
  assert.is(b.logs.filter((l) => l.code === 'AUTH_FAILED' && l.deviceId === creds.id).length, attempts, 'no retry loop');
  await d.disconnect();
});

test('MQTT over WebSocket on the HTTP port works like TCP', async () => {
  const d = await device(`ws://127.0.0.1:${b.httpPort}/mqtt`);
  await d.publish('over-websocket', '1', { qos: 1 });
  assert.ok(events.some((e) => e.name === 'over-websocket' && e.coreid === d.deviceID()));
});

test.run();
