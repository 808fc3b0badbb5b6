// GET /metrics: Prometheus text format, values that follow real traffic (MQTT devices, real
// HTTP receivers), a registry per bridge.

import { observe } from '../../../bridge/observers.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBus } from '../../../bridge/events/index.ts';
import { createMetrics } from '../../../bridge/metrics.ts';
import type { AttemptObserver } from '../../../bridge/webhooks/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let b: TestBridge;
let other: TestBridge;
let target: Receiver;
let device: TestClient | undefined;
let okHook: string;
let badHook: string;

test.before(async () => {
  [b, other, target] = await Promise.all([testBridge(), testBridge(), receiver()]);
  target.on('/bad', (_req, res) => {
    res.statusCode = 400;
    res.end('no');
  });
  okHook = (await b.call('POST', '/v1/integrations', { event: 'metric-ok', url: `${target.url}/ok`, requestType: 'POST' })).body.id;
  badHook = (await b.call('POST', '/v1/integrations', { event: 'metric-bad', url: `${target.url}/bad`, requestType: 'POST' })).body.id;
});
test.after(async () => {
  await device?.end();
  await b?.stop();
  await other?.stop();
  await target?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text exposition format's samples (comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The bridge's samples, each checked to carry its `bridge` label, which is then left out. */
async function scrape(bridge = b, token = bridge.token): Promise<Sample[]> {
  const res = await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(res.status, 200);
  return parse(await res.text()).map(({ labels: { bridge: name, ...labels }, ...sample }) => {
    assert.is(name, bridge.config.bridgeName, `the bridge label of ${sample.name}`);
    return { ...sample, labels };
  });
}

/** The sample's value with exactly these labels (0 when the series does not exist yet). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  return found?.value ?? 0;
}

test('Prometheus text format for a read token; 401 without one or with a wrong one', async () => {
  const readToken = (await b.call('POST', '/v1/access_tokens', { name: 'prometheus', scope: 'read' })).body.token;
  const res = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${readToken}` } });
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const samples = parse(await res.text());
  for (const name of ['hookwire_devices_connected', 'hookwire_sleeping_hosts', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) {
    assert.ok(samples.some((s) => s.name === name), name);
  }
  for (const status of ['pending', 'running', 'failed']) assert.ok(samples.some((s) => s.name === 'hookwire_deliveries_queued' && s.labels.status === status), status);
  assert.is(value(samples, 'hookwire_sleeping_hosts'), 0);

  const none = await fetch(`${b.url}/metrics`);
  assert.equal([none.status, ((await none.json()) as { error: string }).error], [401, 'invalid_token']);
  assert.is((await fetch(`${b.url}/metrics`, { headers: { authorization: 'Bearer hwt_nope' } })).status, 401);
});

test('connected devices and accepted device events follow a real MQTT device', async () => {
  const before = await scrape();
  const dev = await b.addDevice();
  device = await deviceClient(b.mqttUrl, dev);
  await until(async () => value(await scrape(), 'hookwire_devices_connected') === value(before, 'hookwire_devices_connected') + 1, 3000, 'the device gauge');
  await device.client.publishAsync('plain-event', '1', { qos: 1 });
  await device.client.publishAsync('plain-event', '2', { qos: 1 });
  const after = await scrape();
  const accepted = { outcome: 'accepted', source: 'device', code: '' };
  assert.is(value(after, 'hookwire_events_in_total', accepted) - value(before, 'hookwire_events_in_total', accepted), 2);
});

test('deliveries by integration and outcome, the latency histogram, and cloud events count after real webhooks', async () => {
  const before = await scrape();
  await device!.client.publishAsync('metric-ok', 'x', { qos: 1 });
  await device!.client.publishAsync('metric-bad', 'y', { qos: 1 });
  await b.webhooks.idle();
  const after = await scrape();
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
  assert.is(delta('hookwire_deliveries_total', { integration_id: okHook, outcome: 'success', code: '200' }), 1);
  assert.is(delta('hookwire_deliveries_total', { integration_id: badHook, outcome: 'failure', code: '400' }), 1);
  assert.is(delta('hookwire_deliveries_total', { integration_id: okHook, outcome: 'failure', code: '400' }), 0);
  assert.is(delta('hookwire_delivery_duration_seconds_count', { integration_id: okHook }), 1);
  assert.is(delta('hookwire_delivery_duration_seconds_bucket', { integration_id: okHook, le: '+Inf' }), 1);
  assert.ok(value(after, 'hookwire_delivery_duration_seconds_sum', { integration_id: okHook }) > 0);
  // hook-sent for each, hook-error for the 400: events the cloud made.
  assert.ok(delta('hookwire_events_in_total', { outcome: 'accepted', source: 'cloud', code: '' }) >= 2);
  assert.is(value(after, 'hookwire_deliveries_queued', { status: 'pending' }), 0);
  assert.is(value(after, 'hookwire_deliveries_queued', { status: 'running' }), 0);
});

test('a refused publish counts under its code', async () => {
  const labels = { outcome: 'refused', source: 'device', code: 'EVENT_NAME_RESERVED' };
  const before = value(await scrape(), 'hookwire_events_in_total', labels);
  await device!.client.publishAsync('hook-sent/forged', 'x', { qos: 0 });
  await until(async () => value(await scrape(), 'hookwire_events_in_total', labels) === before + 1, 3000, 'the refusal counter');
});

test('a deleted integration\'s series leave /metrics at once; the others stay', async () => {
  const gone = (await b.call('POST', '/v1/integrations', { event: 'metric-gone', url: `${target.url}/ok`, requestType: 'POST' })).body.id as string;
  await device!.client.publishAsync('metric-gone', 'x', { qos: 1 });
  await device!.client.publishAsync('metric-ok', 'x', { qos: 1 });
  await b.webhooks.idle();
  const mine = (samples: Sample[], id: string) => samples.filter((x) => x.labels.integration_id === id).map((x) => x.name);
  const before = await scrape();
  assert.ok(mine(before, gone).includes('hookwire_deliveries_total') && mine(before, gone).includes('hookwire_delivery_duration_seconds_count'), 'series to remove');
  assert.is((await b.call('DELETE', `/v1/integrations/${gone}`)).status, 204);
  const after = await scrape();
  assert.equal(mine(after, gone), [], 'no series of the deleted integration');
  assert.equal(mine(after, okHook).sort(), mine(before, okHook).sort(), 'the others keep theirs');
  assert.is(value(after, 'hookwire_deliveries_total', { integration_id: okHook, outcome: 'success', code: '200' }), value(before, 'hookwire_deliveries_total', { integration_id: okHook, outcome: 'success', code: '200' }));
});

test('two bridges in one process keep their own metrics, each series labelled with its own bridge name', async () => {
  assert.is.not(b.config.bridgeName, other.config.bridgeName);
  assert.ok(b.config.bridgeName.endsWith(`:${b.config.dataDir}`), 'by default the host name and the data directory');
  const mine = await scrape();
  const theirs = await scrape(other);
  assert.ok(value(mine, 'hookwire_deliveries_total', { integration_id: okHook, outcome: 'success', code: '200' }) >= 1);
  assert.not.ok(theirs.some((s) => s.labels.integration_id === okHook), 'the other bridge never saw this integration');
  assert.is(value(theirs, 'hookwire_devices_connected'), 0);
  assert.is(value(theirs, 'hookwire_events_in_total', { outcome: 'accepted', source: 'device', code: '' }), 0);
  assert.ok(theirs.some((s) => s.name === 'process_cpu_seconds_total'), 'each registry has the process metrics');
});

test('in memory: sources by coreid, API refusals, and detaching the observer stops it', async () => {
  const bus = new EventBus();
  const observers = new Set<AttemptObserver>();
  const m = createMetrics({
    broker: { connectedDevices: () => 3 },
    webhooks: { lanes: () => [{ host: 'a.example', active: 2, waiting: 5 }], sleepingHosts: () => [{ host: 'b.example', until: Date.now() + 1000 }], list: () => [] },
    store: { deliveries: { counts: async () => ({ pending: 4, running: 1, done: 0, failed: 7 }) } as never },
    limiter: { failures: { mqtt: 2, http: 1 }, refusals: { mqtt: 0, http: 5 } },
  });
  const detach = observe([m], { bus, webhooks: { addHook: (_name, o) => (observers.add(o), () => observers.delete(o)) } });
  const event = (coreid: string) => ({ id: '1', name: 'e', data: '', type: 'text' as const, published_at: '', coreid, product_id: null, fw_version: null });
  bus.emit('event', event('api'));
  bus.emit('event', event('hookwire'));
  bus.emit('event', event('0123456789abcdef01234567'));
  bus.emit('inbound', { at: '', ok: false, code: 'EVENT_NAME_INVALID' });
  bus.emit('inbound', { at: '', ok: true, name: 'e' });
  const s = parse(await m.render());
  for (const source of ['api', 'cloud', 'device']) assert.is(value(s, 'hookwire_events_in_total', { outcome: 'accepted', source, code: '' }), 1, source);
  assert.is(value(s, 'hookwire_events_in_total', { outcome: 'refused', source: 'api', code: 'EVENT_NAME_INVALID' }), 1);
  assert.equal([value(s, 'hookwire_devices_connected'), value(s, 'hookwire_sleeping_hosts')], [3, 1]);
  assert.equal([value(s, 'hookwire_deliveries_queued', { status: 'pending' }), value(s, 'hookwire_deliveries_queued', { status: 'failed' })], [4, 7]);
  assert.equal([value(s, 'hookwire_lane_deliveries', { host: 'a.example', state: 'active' }), value(s, 'hookwire_lane_deliveries', { host: 'a.example', state: 'waiting' })], [2, 5]);
  assert.equal([value(s, 'hookwire_login_failures_total', { protocol: 'mqtt' }), value(s, 'hookwire_login_refused_total', { protocol: 'http' })], [2, 5]);
  assert.is(observers.size, 1);
  detach();
  m.close();
  assert.equal([bus.listenerCount('event'), bus.listenerCount('refused'), bus.listenerCount('inbound'), observers.size], [0, 0, 0, 0]);
});

test.run();
