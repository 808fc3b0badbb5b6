// Sessions the bridge can afford: every session is clean (nothing queues in memory for a
// client that went away), nothing is retained, only MQTT 3.1.1 is served (other versions are
// refused with a code, logged and counted), takeovers are logged and a read-only token cannot
// cut off another token's service client, client IDs are cut short in logs, and wrong tokens
// are limited per address (MQTT and HTTP).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt from 'mqtt';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { connackCode, deviceClient, mqttClient, sleep } from '../../helpers/mqtt.ts';

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

async function serviceToken(scope: 'admin' | 'read'): Promise<string> {
  return (await b.call('POST', '/v1/access_tokens', { name: `svc-${scope}`, scope })).body.token;
}

test('a device asking for a persistent session gets a clean one: nothing queues while it is away', async () => {
  const d = await b.addDevice();
  const first = await deviceClient(b.mqttUrl, d, { clean: false });
  await first.client.subscribeAsync(`${d.id}/inbox/#`, { qos: 1 });
  await first.end();
  const svc = await mqttClient(b.mqttUrl, { clientId: 'svc-queue', username: 's', password: await serviceToken('admin') });
  for (let i = 0; i < 50; i++) await svc.client.publishAsync(`${d.id}/inbox/${i}`, 'while away', { qos: 1 });
  await svc.end();
  let sessionPresent: boolean | undefined;
  const again = mqtt.connect(b.mqttUrl, { protocolVersion: 4, clientId: d.id, username: d.id, password: d.token, clean: false, reconnectPeriod: 0 });
  const got: string[] = [];
  again.on('message', (topic) => got.push(topic));
  await new Promise<void>((resolve) => again.once('connect', (connack) => { sessionPresent = connack.sessionPresent; resolve(); }));
  await sleep(200);
  again.end(true);
  assert.is(sessionPresent, false);
  assert.equal(got, [], 'queued messages were delivered: the session persisted');
});

test('nothing is retained, from a service client either', async () => {
  const svc = await mqttClient(b.mqttUrl, { clientId: 'svc-retain', username: 's', password: await serviceToken('admin') });
  await svc.client.publishAsync('status/retained', 'kept?', { qos: 1, retain: true });
  await svc.end();
  const late = await mqttClient(b.mqttUrl, { clientId: 'svc-late', username: 's', password: await serviceToken('admin') });
  await late.client.subscribeAsync('status/#', { qos: 1 });
  await sleep(200);
  await late.end();
  assert.equal(late.topics(), []);
});

test('MQTT 5 and 3.1 clients are refused with PROTOCOL_UNSUPPORTED, logged and put on the bus', async () => {
  const refused: string[] = [];
  b.bus.on('refused', (r) => refused.push(r.code));
  const d = await b.addDevice();
  for (const protocolVersion of [5, 3] as const) {
    const c = mqtt.connect(b.mqttUrl, { protocolVersion, clientId: d.id, username: d.id, password: d.token, reconnectPeriod: 0, connectTimeout: 2000 });
    await new Promise<void>((resolve) => { c.once('close', () => resolve()); c.once('connect', () => resolve()); });
    assert.not.ok(c.connected, `MQTT protocol level ${protocolVersion} was served`);
    c.end(true);
  }
  const lines = b.logs.filter((l) => l.code === 'PROTOCOL_UNSUPPORTED');
  assert.is(lines.length, 2);
  assert.ok(String(lines[0]!.msg).includes('MQTT 5') && String(lines[1]!.msg).includes('MQTT 3.1'));
  assert.equal(refused.filter((c) => c === 'PROTOCOL_UNSUPPORTED').length, 2);
});

test('a 30 KB client ID is cut short in the log', async () => {
  const huge = 'x'.repeat(30_000);
  assert.is(await connackCode(b.mqttUrl, { clientId: huge, username: 'u', password: 'wrong' }), 4);
  await until(() => b.logs.some((l) => l.code === 'AUTH_FAILED' && String(l.deviceId).startsWith('xxx')), 2000, 'the refusal line');
  const longest = Math.max(...b.logs.map((l) => JSON.stringify(l).length));
  assert.ok(longest < 2000, `a log line of ${longest} characters`);
});

test('a takeover is logged; a read-only token cannot take over another token\'s service client', async () => {
  const admin = await serviceToken('admin');
  const holder = await mqttClient(b.mqttUrl, { clientId: 'svc-shared-id', username: 's', password: admin });
  assert.is(await connackCode(b.mqttUrl, { clientId: 'svc-shared-id', username: 's', password: await serviceToken('read') }), 2);
  assert.ok(holder.client.connected, 'the holder was cut off by a read-only token');
  assert.ok(b.logs.some((l) => l.code === 'CLIENT_ID_IN_USE'));
  const closed = new Promise<void>((resolve) => holder.client.once('close', () => resolve()));
  const taker = await mqttClient(b.mqttUrl, { clientId: 'svc-shared-id', username: 's', password: admin });
  await closed;
  assert.ok(b.logs.some((l) => String(l.msg).startsWith('session taken over') && l.clientId === 'svc-shared-id'));
  await taker.end();
  holder.client.end(true);
});

test('wrong tokens are limited per address: after 20 in a minute, even the right one is refused, over MQTT and HTTP', async () => {
  const limited = await testBridge();
  try {
    const d = await limited.addDevice();
    for (let i = 0; i < 20; i++) assert.is(await connackCode(limited.mqttUrl, { clientId: d.id, username: d.id, password: `wrong-${i}` }), 4);
    assert.is(await connackCode(limited.mqttUrl, { clientId: d.id, username: d.id, password: d.token }), 4, 'the right token got in while the address is refused');
    assert.ok(limited.logs.some((l) => l.code === 'LOGIN_LIMITED'));
    assert.ok(limited.logs.some((l) => String(l.msg).startsWith('too many failed logins') && l.remote));
    // HTTP counts the same address: it is refused there too, with its own code.
    const res = await limited.call('GET', '/v1/devices', undefined, 'hwt_wrong');
    assert.equal([res.status, res.body.code], [429, 'LOGIN_LIMITED']);
    // Read from another address (this one is refused now).
    const metrics = (await limited.api.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.9.9.9', headers: { authorization: `Bearer ${limited.token}` } })).body;
    assert.match(metrics, /hookwire_login_failures_total\{protocol="mqtt",bridge="[^"]+"\} 2\d/);
    assert.match(metrics, /hookwire_login_refused_total\{protocol="http",bridge="[^"]+"\} [1-9]/);
  } finally {
    await limited.stop();
  }
});

test.run();
