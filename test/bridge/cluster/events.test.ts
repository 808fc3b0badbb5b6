// The event stream over bridges sharing a Redis: a stream on any bridge shows every event,
// whichever bridge took it in (a device's publish, an API publish, a webhook's hook-sent and
// hook-response), each once, with the same fields and the same filters as on the bridge that
// took it in; and a bridge's counters count only its own events.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import type { TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { deviceClient, sleep, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { sse, type SseReader } from '../../helpers/sse.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  let a: TestBridge;
  let b: TestBridge;
  let target: Receiver;
  const open: { close(): void }[] = [];
  const clients: TestClient[] = [];

  test.before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.bridges as [TestBridge, TestBridge];
    target = await receiver();
    target.on('/hook', (_req, res) => res.end('pong'));
  });
  test.after(async () => {
    for (const o of open) o.close();
    for (const c of clients) await c.end().catch(() => {});
    await target?.close();
    await cluster?.stop();
  });

  async function stream(on: TestBridge, path: string): Promise<SseReader> {
    const reader = await sse(on.url + path, on.token);
    open.push(reader);
    return reader;
  }

  async function device(on: TestBridge, body: Record<string, unknown> = {}): Promise<{ id: string; mqtt: TestClient }> {
    const creds = await a.addDevice(body); // the store is shared: made on A, known to B
    const mqtt = await deviceClient(on.mqttUrl, creds);
    clients.push(mqtt);
    return { id: creds.id, mqtt };
  }

  /** The accepted-event counters of a bridge's /metrics, summed. */
  async function eventsCounted(on: TestBridge): Promise<number> {
    const text = (await on.call('GET', '/metrics')).body as string;
    return text.split('\n').filter((l) => l.startsWith('hookwire_events_in_total{outcome="accepted"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  }

  test('a stream on either bridge shows every event of both, each once, framed and filtered the same; counters count their own bridge\'s only', async () => {
    const hook = await b.call('POST', '/v1/integrations', { event: 'hooked', url: `${target.url}/hook`, requestType: 'POST' });
    assert.is(hook.status, 201, JSON.stringify(hook.body));
    const onA = await device(a);
    const onB = await device(b, { product_id: 7 });
    const otherOnB = await device(b, { product_id: 8 });
    const paths = ['/v1/events', '/v1/devices/events/temp', `/v1/devices/${onB.id}/events`, '/v1/products/7/events', `/v1/events/${onB.id}/`];
    const streams = { a: [] as SseReader[], b: [] as SseReader[] };
    for (const path of paths) {
      streams.a.push(await stream(a, path));
      streams.b.push(await stream(b, path));
    }
    const local = { a: [] as HookwireEvent[], b: [] as HookwireEvent[] };
    a.bus.on('event', (e) => local.a.push(e));
    b.bus.on('event', (e) => local.b.push(e));
    const countedBefore = await eventsCounted(a);
    // A subscription on one bridge is a pattern in Redis a moment later.
    await sleep(100);

    await onB.mqtt.client.publishAsync('temp', '21', { qos: 1 });
    await onB.mqtt.client.publishAsync('hooked', 'x', { qos: 1 });
    await otherOnB.mqtt.client.publishAsync('temp', '22', { qos: 0 });
    await onA.mqtt.client.publishAsync('temp', '20', { qos: 1 });
    assert.is((await b.call('POST', '/v1/devices/events', { name: 'ping', data: 'from-b' })).status, 200);
    assert.is((await b.call('POST', '/v1/devices/events', { name: `${onB.id}/led`, data: 'on' })).status, 200);

    // The integration's first success also publishes its state (Unknown → Active).
    const expected = ['temp', 'hooked', 'temp', 'temp', 'ping', `${onB.id}/led`, 'hook-sent/hooked', `${onB.id}/hook-response/hooked/0`, `hookwire/integrations/${hook.body.id}/state`].sort();
    const names = (r: SseReader) => r.frames().map((f) => f.name).sort();
    for (const side of ['a', 'b'] as const) {
      await streams[side][0]!.until(() => names(streams[side][0]!).length >= expected.length, `every event on ${side.toUpperCase()}'s stream`);
    }
    // Anything sent twice would arrive by now.
    await sleep(500);

    const all = local.a.concat(local.b);
    assert.is(all.length, expected.length, 'each event taken in by one bridge');
    const frameOf = (e: HookwireEvent) => `event: ${e.name}\ndata: {"data":${JSON.stringify(e.data)},"ttl":60,"published_at":"${e.published_at}","coreid":"${e.coreid}"}`;
    const texts = (r: SseReader) => r.frames().map((f) => f.text).sort();
    assert.equal(texts(streams.a[0]!), all.map(frameOf).sort(), 'A shows every event once, with the fields of the bridge that took it in');
    assert.equal(texts(streams.b[0]!), all.map(frameOf).sort(), 'so does B');
    assert.ok(local.a.length > 0 && local.b.length > 0, 'both bridges took some in');
    assert.ok(all.some((e) => e.name === 'hook-sent/hooked' && e.coreid === 'hookwire'), 'the webhook answered');
    assert.ok(all.some((e) => e.name === 'ping' && e.coreid === 'api'));

    paths.forEach((path, i) => {
      assert.equal(texts(streams.a[i]!), texts(streams.b[i]!), `${path}: the same frames on A as on B`);
    });
    assert.equal(names(streams.a[1]!), ['temp', 'temp', 'temp'], 'the prefix');
    assert.equal(streams.a[2]!.frames().map((f) => `${f.name} ${f.data.data}`).sort(), ['hooked x', 'temp 21'], 'one device\'s, by its coreid');
    assert.equal(streams.a[3]!.frames().map((f) => `${f.name} ${f.data.data}`).sort(), ['hooked x', 'temp 21'], 'one product\'s');
    assert.equal(names(streams.a[4]!), [`${onB.id}/hook-response/hooked/0`, `${onB.id}/led`], 'the device\'s private space');

    // A's counters moved by what A took in, not by what its streams showed of B's.
    assert.is(await eventsCounted(a) - countedBefore, local.a.length, 'A counts its own events only');
  });

  test('a stream opened on a bridge that follows no other bridge yet misses nothing after :ok; the last one closed stops following', async () => {
    const onB = await device(b);
    for (let round = 0; round < 3; round++) {
      const reader = await stream(a, '/v1/events/round');
      await onB.mqtt.client.publishAsync(`round/${round}`, String(round), { qos: 1 });
      await reader.until(() => reader.frames().length === 1, `round ${round} on A`);
      assert.is(reader.frames()[0]!.name, `round/${round}`);
      reader.close();
      await sleep(100);
    }
    const elsewhere: HookwireEvent[] = [];
    a.bus.on('event:elsewhere', (e) => elsewhere.push(e));
    // Every stream on A is closed: B's events are no longer put on A's bus.
    for (const o of open) o.close();
    await sleep(300);
    await onB.mqtt.client.publishAsync('unwatched', '1', { qos: 1 });
    await sleep(300);
    assert.equal(elsewhere.map((e) => e.name), []);
  });
}

test.run();
