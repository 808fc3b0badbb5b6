// The egress policy through a whole bridge: the bridge's own API is refused (its /health
// output never reaches a device) while its request bins stay reachable; the metadata address
// fails at once; test-fire and replay obey the same policy; a dynamic host pointed at the
// metadata address is refused; refusals are never scored against the host; and
// HOOKWIRE_EGRESS_DENY / _ALLOW as an operator sets them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { fromEnv, makeConfig } from '../../../bridge/config.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let b: TestBridge;
let rx: Receiver;
let device: Device;
const heard: { name: string; data: string }[] = [];

test.before(async () => {
  // The default throttle: three unanswered errors on 127.0.0.1 would put the receiver to sleep.
  b = await testBridge({ throttleCooldownMs: 60_000 });
  rx = await receiver();
  const d = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  await device.subscribe(`${d.id}/hook-`, (name, data) => heard.push({ name, data: String(data) }));
});
test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await rx?.close();
});

const create = async (template: Record<string, unknown>) => {
  const r = await b.call('POST', '/v1/integrations', template);
  assert.is(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
};
const heardOn = (kind: string, event: string) => heard.filter((h) => h.name.startsWith(`${device.deviceID()}/${kind}/${event}/`));
const lastError = async (id: string) => (await b.call('GET', `/v1/integrations/${id}`)).body.integration.counters.last_error;

test('the bridge\'s own API is refused (EGRESS_DENIED), its /health never reaches the device, and the host is not put to sleep', async () => {
  const health = await create({ event: 'own', url: `${b.url}/health`, requestType: 'GET' });
  const byName = await create({ event: 'ownname', url: `http://localhost:${b.httpPort}/v1/devices`, requestType: 'GET' });
  for (let i = 0; i < 5; i++) await device.publish('own', 'x', { qos: 1 });
  await device.publish('ownname', 'x', { qos: 1 });
  await b.webhooks.idle();
  await until(() => heardOn('hook-error', 'ownname').length > 0, 3000, 'hook-error for ownname');
  assert.is((await lastError(health)).code, 'EGRESS_DENIED');
  assert.is((await lastError(byName)).code, 'EGRESS_DENIED');
  assert.match(heardOn('hook-error', 'own')[0]!.data, /^EGRESS_DENIED: .* is refused by the egress policy \(the bridge's own API\)/);
  assert.is(heardOn('hook-response', 'own').length, 0, 'nothing of /health reached the device');
  // The receiver shares the host 127.0.0.1: six refusals did not put it to sleep.
  const ok = await create({ event: 'neighbour', url: `${rx.url}/neighbour` });
  await device.publish('neighbour', 'x', { qos: 1 });
  await rx.next('/neighbour');
  assert.equal(b.webhooks.sleepingHosts(), []);
  await b.webhooks.idle();
  assert.is((await b.call('GET', `/v1/integrations/${ok}`)).body.integration.counters.total_errors, 0);
});

test('the bridge\'s own request bins stay reachable (users point integrations there on purpose)', async () => {
  await create({ event: 'tobin', url: `${b.url}/bin/egress-test/here`, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
  await device.publish('tobin', 'kept', { qos: 1 });
  await b.webhooks.idle();
  await until(async () => ((await b.call('GET', '/v1/bins/egress-test')).body?.requests?.length ?? 0) > 0, 3000, 'the bin\'s request');
  const bin = (await b.call('GET', '/v1/bins/egress-test')).body;
  assert.match(JSON.stringify(bin.requests[0]), /kept/);
});

test('the cloud metadata address fails at once with EGRESS_DENIED; so does test-fire, with guidance', async () => {
  const id = await create({ event: 'meta', url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', requestType: 'GET' });
  const started = performance.now();
  const fired = await b.call('POST', `/v1/integrations/${id}/test`, {});
  assert.ok(performance.now() - started < 10_000, 'it waited for a connection');
  assert.is(fired.status, 200);
  assert.is(fired.body.pass, false);
  assert.is(fired.body.code, 'EGRESS_DENIED');
  assert.is(fired.body.guidance.title, 'Target refused by the egress policy');
  await device.publish('meta', 'x', { qos: 1 });
  await b.webhooks.idle();
  assert.is((await lastError(id)).code, 'EGRESS_DENIED');
});

test('test-fire and replay of the bridge\'s own API are refused too', async () => {
  const id = await create({ event: 'replayown', url: `${b.url}/health`, requestType: 'GET' });
  const fired = await b.call('POST', `/v1/integrations/${id}/test`, {});
  assert.is(fired.body.code, 'EGRESS_DENIED');
  assert.is(fired.body.data, null, 'no /health output');
  await device.publish('replayown', 'x', { qos: 1 });
  await b.webhooks.idle();
  const replayed = await b.call('POST', `/v1/integrations/${id}/replay`, { all: true });
  assert.is(replayed.status, 200, JSON.stringify(replayed.body));
  assert.is(replayed.body.replayed, 1, JSON.stringify(replayed.body));
  const calls = async () => (await b.call('GET', `/v1/integrations/${id}`)).body.integration.counters.total_calls;
  await until(async () => (await calls()) === 2, 3000, 'the replay attempted');
  const detail = (await b.call('GET', `/v1/integrations/${id}`)).body.integration;
  assert.is(detail.counters.last_error.code, 'EGRESS_DENIED');
  assert.is(heardOn('hook-response', 'replayown').length, 0);
});

test('a dynamic host the device points at the metadata address is refused', async () => {
  const id = await create({ event: 'dynmeta', url: 'http://{{{host}}}/latest/', dynamicHost: true });
  await device.publish('dynmeta', JSON.stringify({ host: '169.254.169.254' }), { qos: 1 });
  await device.publish('dynmeta', JSON.stringify({ host: '0xa9fea9fe' }), { qos: 1 });
  await b.webhooks.idle();
  const detail = (await b.call('GET', `/v1/integrations/${id}`)).body.integration;
  assert.is(detail.counters.total_errors, 2);
  assert.is(detail.counters.last_error.code, 'EGRESS_DENIED');
});

test('HOOKWIRE_EGRESS_DENY=loopback refuses the LAN receiver; HOOKWIRE_EGRESS_ALLOW makes a hole for it', async () => {
  const denied = await testBridge(fromEnv({ HOOKWIRE_EGRESS_DENY: 'private,loopback' }));
  const allowed = await testBridge(fromEnv({ HOOKWIRE_EGRESS_DENY: 'private,loopback', HOOKWIRE_EGRESS_ALLOW: '127.0.0.1/32' }));
  try {
    for (const [bridge, expected] of [[denied, 'EGRESS_DENIED'], [allowed, '200']] as const) {
      const id = (await bridge.call('POST', '/v1/integrations', { event: 'lan', url: `${rx.url}/lan` })).body.id;
      const fired = await bridge.call('POST', `/v1/integrations/${id}/test`, {});
      assert.is(fired.body.code ?? `${fired.body.response?.status}`, expected);
    }
  } finally {
    await denied.stop();
    await allowed.stop();
  }
});

test('a bad CIDR is a configuration error naming the setting and the entry', () => {
  try {
    makeConfig(fromEnv({ HOOKWIRE_EGRESS_DENY: '10.0.0.0/8, 10.0.0.0/33' }));
    assert.unreachable('accepted');
  } catch (err) {
    const e = err as { code?: string; field?: string; message: string };
    assert.equal([e.code, e.field], ['CONFIG_INVALID', 'egressDeny']);
    assert.match(e.message, /10\.0\.0\.0\/33/);
  }
  assert.equal(makeConfig(fromEnv({ HOOKWIRE_EGRESS_ALLOW: ' 169.254.169.254 ,fd00::/8' })).egressAllow, ['169.254.169.254', 'fd00::/8']);
});

test.run();
