// The access matrix (DESIGN.md, device-private space), with real MQTT clients on port 0.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { connackCode, connectPacket, deviceClient, mqttClient, rawClient, sleep, type TestClient } from '../../helpers/mqtt.ts';

let b: TestBridge;
let A: { id: string; token: string };
let B: { id: string; token: string };
let a: TestClient;
let bee: TestClient;
let service: TestClient;
const events: HookwireEvent[] = [];

test.before(async () => {
  b = await testBridge();
  A = await b.addDevice({ name: 'device-a' });
  B = await b.addDevice({ name: 'device-b', product_id: 42, firmware_version: 7 });
  b.bus.on('event', (e) => events.push(e));
  a = await deviceClient(b.mqttUrl, A);
  bee = await deviceClient(b.mqttUrl, B);
  service = await mqttClient(b.mqttUrl, { clientId: 'test-service', username: 'service', password: b.token });
  await a.client.subscribeAsync('#');
  await bee.client.subscribeAsync(`${B.id}/#`);
  await bee.client.subscribeAsync('temp');
  await service.client.subscribeAsync('#');
});

test.after(async () => {
  await Promise.all([a?.end(), bee?.end(), service?.end()]);
  await b?.stop();
});

test('a device cannot connect with another device\'s token, a wrong ID, or no password', async () => {
  assert.is(await connackCode(b.mqttUrl, { clientId: A.id, username: A.id, password: B.token }), 4);
  assert.is(await connackCode(b.mqttUrl, { clientId: A.id, username: A.id }), 4);
  assert.is(await connackCode(b.mqttUrl, { clientId: A.id, username: B.id, password: B.token }), 2, 'client ID must equal username');
  assert.is(await connackCode(b.mqttUrl, { clientId: 'f'.repeat(24), username: 'f'.repeat(24), password: A.token }), 4, 'unknown device');
  assert.is(await connackCode(b.mqttUrl, { clientId: A.id, username: 'service', password: b.token }), 2, 'a service may not take a device ID');
  assert.is(await connackCode(b.mqttUrl, { clientId: 'svc', username: 'service', password: 'hwt_wrong' }), 4, 'bad API token');
  const refusals = b.logs.filter((l) => l.msg && l.code === 'AUTH_FAILED');
  assert.ok(refusals.some((l) => l.deviceId === A.id), 'refusal logged with the device ID');
  assert.not.ok(b.logs.some((l) => l.deviceId === A.id && l.code === 'PROTOCOL_ERROR'), 'a refused CONNECT is logged once, as what it is');
  assert.not.ok(JSON.stringify(b.logs).includes(B.token), 'tokens never reach the log');
});

const forbidden = (id: string) => [
  [`${id}/anything`, 'EVENT_PRIVATE_SPACE'],
  ['hook-response/x', 'EVENT_NAME_RESERVED'],
  ['hook-sent/x', 'EVENT_NAME_RESERVED'],
  ['spark-x', 'EVENT_NAME_RESERVED'],
  ['Particle/x', 'EVENT_NAME_RESERVED'],
  ['hookwire/x', 'EVENT_NAME_RESERVED'],
];

test('a device cannot publish into another device\'s space or a reserved name, and is told why', async () => {
  const cases = [...forbidden(B.id), [`${A.id}/hook-response/x/0`, 'EVENT_NAME_RESERVED'], [`${A.id}/hookwire/error`, 'EVENT_NAME_RESERVED']];
  const before = events.length;
  for (const [topic, code] of cases) {
    const notices = () => a.received.filter((r) => r.topic === `${A.id}/hookwire/error`).map((r) => JSON.parse(r.payload.toString()));
    const seen = notices().length;
    await a.client.publishAsync(topic!, 'x', { qos: 1 }); // acknowledged: the device does not resend it forever
    await until(() => notices().length > seen, 2000, `notice for ${topic}`);
    const notice = notices().at(-1);
    assert.is(notice.code, code, topic);
    assert.is(notice.event, topic);
    assert.type(notice.messageId, 'number', 'QoS 1 notices carry the messageId');
    assert.ok(b.logs.some((l) => l.deviceId === A.id && l.code === code && l.topic === topic), `logged: ${topic}`);
  }
  await a.client.publishAsync('still-connected', 'yes', { qos: 1 });
  await until(() => events.some((e) => e.name === 'still-connected'));
  assert.is(events.slice(before).filter((e) => e.name !== 'still-connected').length, 0, 'no refused publish became an event');
  const leaked = [...service.topics(), ...bee.topics()].filter((t) => cases.some(([topic]) => topic === t));
  assert.equal(leaked, [], 'no refused publish reached a subscriber');
});

test('subscribed to #, a device never receives another device\'s private events', async () => {
  await bee.client.publishAsync(`${B.id}/secret`, 'for B only', { qos: 1 });
  b.broker.aedes.publish({ cmd: 'publish', topic: `${B.id}/hook-response/weather/0`, payload: Buffer.from('cloud to B'), qos: 0, retain: false, dup: false }, () => {});
  await until(() => service.topics().includes(`${B.id}/hook-response/weather/0`) && service.topics().includes(`${B.id}/secret`));
  await until(() => bee.topics().includes(`${B.id}/hook-response/weather/0`) && bee.topics().includes(`${B.id}/secret`));
  await sleep(50);
  assert.equal(a.topics().filter((t) => t.startsWith(B.id)), []);
});

test('a device may not subscribe to another device\'s space or to $ topics', async () => {
  // mqtt.js hides the SUBACK codes behind an error, so speak raw MQTT here.
  const A2 = await b.addDevice();
  const raw = await rawClient(b.mqttPort);
  raw.send(connectPacket(A2));
  assert.is((await raw.next((p) => p.cmd === 'connack') as { returnCode: number }).returnCode, 0);
  raw.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: `${B.id}/#`, qos: 0 }, { topic: '$SYS/#', qos: 0 }, { topic: `${A2.id}/#`, qos: 0 }] });
  const suback = await raw.next((p) => p.cmd === 'suback') as { granted: number[] };
  assert.equal(suback.granted, [128, 128, 0]);
  const notice = await raw.next((p) => p.cmd === 'publish' && p.topic === `${A2.id}/hookwire/error`) as { payload: Buffer };
  assert.is(JSON.parse(notice.payload.toString()).code, 'SUBSCRIBE_FORBIDDEN');
  raw.send({ cmd: 'pingreq' });
  await raw.next((p) => p.cmd === 'pingresp');
  raw.socket.destroy();
});

test('a device receives its own private events and fleet-wide events', async () => {
  await bee.client.publishAsync('temp', '21.5', { qos: 1 });
  b.broker.aedes.publish({ cmd: 'publish', topic: `${A.id}/hook-response/temp/0`, payload: Buffer.from('for A'), qos: 0, retain: false, dup: false }, () => {});
  await until(() => a.topics().includes('temp') && a.topics().includes(`${A.id}/hook-response/temp/0`));
  const fleet = a.received.find((r) => r.topic === 'temp');
  assert.is(fleet!.payload.toString(), '21.5');
});

test('a service client publishes into any device\'s space and receives everything', async () => {
  await service.client.publishAsync(`${B.id}/hook-response/lookup/0`, 'from a service', { qos: 1 });
  await until(() => bee.topics().includes(`${B.id}/hook-response/lookup/0`));
  assert.ok(service.topics().includes(`${B.id}/secret`));
});

test('a read-only token publishing is refused with PUBLISH_FORBIDDEN: logged, counted, told, still connected', async () => {
  const made = await b.call('POST', '/v1/access_tokens', { name: 'watcher', scope: 'read' });
  const reader = await mqttClient(b.mqttUrl, { clientId: 'read-only-watcher', username: 'watcher', password: made.body.token });
  await reader.client.subscribeAsync('#'); // a read token may watch
  const refused: string[] = [];
  b.bus.on('refused', (r) => refused.push(r.code));
  const before = events.length;
  // Acknowledged, so it is not sent again; a closed connection fails here rather than hanging.
  await new Promise<void>((resolve, reject) => {
    const closed = () => reject(new Error('the broker closed the read-only client\'s connection'));
    reader.client.once('close', closed);
    reader.client.publish('temp', '21', { qos: 1 }, (err) => {
      reader.client.off('close', closed);
      if (err) reject(err); else resolve();
    });
  });
  const notice = () => reader.received.find((r) => r.topic === 'read-only-watcher/hookwire/error');
  await until(() => notice() !== undefined, 2000, 'the notice');
  const told = JSON.parse(notice()!.payload.toString());
  assert.equal([told.code, told.event, typeof told.messageId], ['PUBLISH_FORBIDDEN', 'temp', 'number']);
  const lines = b.logs.filter((l) => l.deviceId === 'read-only-watcher');
  assert.ok(lines.some((l) => l.code === 'PUBLISH_FORBIDDEN' && l.topic === 'temp' && l.component === 'broker'), 'logged with its code');
  assert.not.ok(lines.some((l) => l.code === 'PROTOCOL_ERROR'), 'not logged as a protocol error');
  assert.equal(refused, ['PUBLISH_FORBIDDEN'], 'on the bus, once');
  const scraped = await b.call('GET', '/metrics');
  assert.match(scraped.body, /hookwire_events_in_total\{outcome="refused",source="[a-z]+",code="PUBLISH_FORBIDDEN",bridge="[^"]+"\} 1/);
  await service.client.publishAsync('after-refusal', 'marker', { qos: 1 });
  await until(() => reader.topics().includes('after-refusal'), 2000, 'the reader still receiving');
  assert.ok(reader.client.connected, 'the read-only client keeps its connection');
  assert.not.ok(events.slice(before).some((e) => e.name === 'temp'), 'the refused publish made no event');
  const got = [...service.received, ...bee.received, ...reader.received].filter((r) => r.topic === 'temp' && r.payload.toString() === '21');
  assert.equal(got, [], 'no subscriber received it');
  await reader.end();
});

test('an accepted publish becomes an event with the publisher\'s identity from the connection', async () => {
  await bee.client.publishAsync('temperature/basement', '{"t":19.5}', { qos: 1 });
  await until(() => events.some((e) => e.name === 'temperature/basement'));
  const e = events.find((ev) => ev.name === 'temperature/basement')!;
  assert.is(e.coreid, B.id);
  assert.is(e.product_id, 42);
  assert.is(e.fw_version, 7);
  assert.is(e.data, '{"t":19.5}');
  assert.is(e.type, 'text');
  assert.match(e.id, /^[0-9a-f]{32}$/);
  assert.ok(Math.abs(Date.parse(e.published_at) - Date.now()) < 5000);
});

test.run();
