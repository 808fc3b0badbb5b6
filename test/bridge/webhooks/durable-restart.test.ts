// Nothing acknowledged is lost: the bridge in a child process, its receiver down, N QoS 1
// events acknowledged, kill -9, restart, receiver up: every event arrives. And a graceful
// restart keeps counters and logs, and resumes what was pending.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDevice } from '../../../firmware-sdk/index.ts';
import { until } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { startBridgeProcess, type BridgeProcess } from '../../helpers/spawn.ts';
import { freePort, hungServer } from '../../helpers/net.ts';

const N = 200;
let dataDir: string;
let bridge: BridgeProcess | undefined;
let rx: Receiver | undefined;
let token: string;
let port: number;
let integrationId: string;

// Retries in compressed time: the durable schedule's first minutes pass in a second or two.
const env = () => ({ HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_HTTP_PORT: '0', HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_TIME_SCALE: '0.005', HOOKWIRE_THROTTLE_COOLDOWN_MS: '200', HOOKWIRE_TOKEN: '' });

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(bridge!.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookwire-crash-'));
  port = await freePort();
});

test.after(async () => {
  if (bridge && bridge.child.exitCode === null) bridge.child.kill('SIGKILL');
  await rx?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('kill -9 with the receiver down: every acknowledged event is delivered after the restart', async () => {
  bridge = await startBridgeProcess([], env());
  token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const device = await api<{ id: string; token: string }>('POST', '/v1/devices', { name: 'crashy' });
  integrationId = (await api<{ id: string }>('POST', '/v1/integrations', {
    event: 'reading', url: `http://127.0.0.1:${port}/in`, retryPolicy: 'durable', json: { n: '{{{PARTICLE_EVENT_VALUE}}}' },
  })).id;

  const d = await connectDevice({ url: `mqtt://127.0.0.1:${bridge.mqttPort}`, deviceId: device.id, token: device.token, reconnectMinMs: 60_000 });
  await Promise.all(Array.from({ length: N }, (_, i) => d.publish('reading', String(i), { qos: 1 }))); // every PUBACK received
  bridge.child.kill('SIGKILL');
  assert.not.ok(await bridge.exited === 0, 'killed, not stopped');
  await d.disconnect();

  rx = await receiver(port); // up now, where the integration points
  bridge = await startBridgeProcess([], env());
  await until(() => new Set(rx!.requests.map((r) => r.headers['webhook-id'])).size === N, 20_000, `${N} distinct deliveries`);
  const values = new Set(rx.requests.map((r) => JSON.parse(r.body.toString()).n));
  assert.is(values.size, N);
  for (let i = 0; i < N; i++) assert.ok(values.has(String(i)), `event ${i} delivered`);
});

test('kill -9 while deliveries are in flight (the receiver hangs): they run again after the restart', async () => {
  await rx!.close();
  rx = undefined;
  // A receiver that accepts connections and never answers: every attempt is in flight when we kill.
  const hung = await hungServer(port);
  const device = await api<{ id: string; token: string }>('POST', '/v1/devices', { name: 'inflight' });
  const d = await connectDevice({ url: `mqtt://127.0.0.1:${bridge!.mqttPort}`, deviceId: device.id, token: device.token, reconnectMinMs: 60_000 });
  const M = 20; // within one host lane's concurrency: all of them in flight at once
  await Promise.all(Array.from({ length: M }, (_, i) => d.publish('reading', `inflight-${i}`, { qos: 1 })));
  await until(() => hung.connections() > 0, 5000, 'attempts in flight');
  bridge!.child.kill('SIGKILL');
  await bridge!.exited;
  await d.disconnect();
  await hung.close();

  rx = await receiver(port);
  bridge = await startBridgeProcess([], env());
  const delivered = () => new Set(rx!.requests.map((r) => JSON.parse(r.body.toString()).n).filter((n: string) => n.startsWith('inflight-')));
  await until(() => delivered().size === M, 20_000, `${M} in-flight deliveries`);
});

test('SIGTERM with deliveries hung in flight stops promptly; they run after the restart', async () => {
  await rx!.close();
  rx = undefined;
  const hung = await hungServer(port);
  const device = await api<{ id: string; token: string }>('POST', '/v1/devices', { name: 'graceful' });
  const d = await connectDevice({ url: `mqtt://127.0.0.1:${bridge!.mqttPort}`, deviceId: device.id, token: device.token, reconnectMinMs: 60_000 });
  await Promise.all(Array.from({ length: 5 }, (_, i) => d.publish('reading', `graceful-${i}`, { qos: 1 })));
  await until(() => hung.connections() > 0, 5000, 'attempts in flight');
  const stopping = Date.now();
  bridge!.child.kill('SIGTERM');
  assert.is(await bridge!.exited, 0);
  assert.ok(Date.now() - stopping < 10_000, `stopped in ${Date.now() - stopping} ms, not after the 20 s webhook timeout`);
  await d.disconnect();
  await hung.close();

  rx = await receiver(port);
  bridge = await startBridgeProcess([], env());
  const delivered = () => new Set(rx!.requests.map((r) => JSON.parse(r.body.toString()).n).filter((n: string) => n.startsWith('graceful-')));
  await until(() => delivered().size === 5, 20_000, 'the 5 deliveries that were in flight');
});

test('a graceful restart keeps state, counters and logs', async () => {
  await until(async () => (await api('GET', `/v1/integrations/${integrationId}`)).integration.state === 'Active', 5000, 'Active');
  const before = (await api('GET', `/v1/integrations/${integrationId}`)).integration;
  assert.ok(before.counters.total_calls >= N);
  assert.ok(before.logs.length > 0);
  bridge!.child.kill('SIGTERM');
  assert.is(await bridge!.exited, 0);
  bridge = await startBridgeProcess([], env());
  const after = (await api('GET', `/v1/integrations/${integrationId}`)).integration;
  assert.equal(after.counters, before.counters);
  assert.equal(after.logs, before.logs);
  assert.equal([after.state, after.state_reason], [before.state, before.state_reason]);
});

test.run();
