// Integrations across bridges sharing PostgreSQL and Redis: one created, disabled or deleted
// through one bridge's API takes effect on every bridge (bridge/webhooks/registry.ts announces
// it, bridge/cluster/notices.ts relays it, each bridge reads it again from the store); the
// counters are what every bridge counted added up, whichever bridge's API is asked; and a
// bridge that has not heard of a person's change does not undo it when it settles.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let cluster: TestCluster;
let a: TestBridge;
let b: TestBridge;
let rx: Receiver;
const open: TestClient[] = [];

/** A device (made through A, so in the shared store), connected to `bridge`. */
async function deviceOn(bridge: TestBridge): Promise<{ id: string; client: TestClient }> {
  const d = await a.addDevice();
  const client = await deviceClient(bridge.mqttUrl, d);
  open.push(client);
  return { id: d.id, client };
}

/** Publish with QoS 1: resolves on the PUBACK, once the event and its deliveries are stored. */
const publish = (c: TestClient, name: string, data: string) => c.client.publishAsync(name, data, { qos: 1 });

const requestsTo = (path: string) => rx.requests.filter((r) => r.url.startsWith(path));
const detail = async (bridge: TestBridge, id: string) => (await bridge.call('GET', `/v1/integrations/${id}`)).body.integration;
const listed = async (bridge: TestBridge, id: string) => ((await bridge.call('GET', '/v1/integrations')).body as { id: string }[]).find((i) => i.id === id) as any;

async function create(path: string, event: string): Promise<string> {
  const res = await a.call('POST', '/v1/integrations', { event, url: `${rx.url}${path}`, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  test.before(async () => {
    // The throttle is kept out of the way: some deliveries here fail on purpose (404, not retried).
    cluster = await startCluster(2, { throttleMinErrors: 1_000_000 });
    [a, b] = cluster.bridges as [TestBridge, TestBridge];
    rx = await receiver();
    rx.on('/missing', (_req, res) => { res.statusCode = 404; res.end('no such thing'); });
  });
  test.after(async () => {
    for (const c of open) await c.end().catch(() => {});
    await rx?.close();
    await cluster?.stop();
  });

  test('created through A, it fires for a device connected to B; deleted through A, it stops', async () => {
    const id = await create('/created', 'made-on-a');
    const device = await deviceOn(b);
    await until(() => b.webhooks.list().some((i) => i.id === id), 10_000, 'B to hold the integration');
    await publish(device.client, 'made-on-a', '1');
    await until(() => requestsTo('/created').length === 1, 10_000, 'the request from B');
    assert.is(JSON.parse(requestsTo('/created')[0]!.body.toString()).v, '1');

    const res = await a.call('DELETE', `/v1/integrations/${id}`);
    assert.is(res.status, 204);
    await until(() => !b.webhooks.list().some((i) => i.id === id), 10_000, 'B to drop the integration');
    await publish(device.client, 'made-on-a', '2');
    await b.webhooks.idle();
    assert.is(requestsTo('/created').length, 1, 'nothing fired after the delete');
  });

  test('disabled through A: B stops firing, and B\'s settles afterwards leave it disabled', async () => {
    const id = await create('/disable', 'to-disable');
    const device = await deviceOn(b);
    await until(() => b.webhooks.list().some((i) => i.id === id), 10_000, 'B to hold the integration');
    await publish(device.client, 'to-disable', 'before');
    await until(() => requestsTo('/disable').length === 1, 10_000, 'the request from B');
    await until(async () => (await detail(b, id)).state === 'Active', 10_000, 'Active');

    const res = await a.call('POST', `/v1/integrations/${id}/disable`, { reason: 'maintenance' });
    assert.is(res.status, 200, JSON.stringify(res.body));
    await until(() => b.webhooks.get(id).disabled, 10_000, 'B to hold it disabled');
    await publish(device.client, 'to-disable', 'after');
    await b.webhooks.idle();
    assert.is(requestsTo('/disable').length, 1, 'B did not fire once disabled');
    for (const bridge of [a, b]) {
      const i = await detail(bridge, id);
      assert.equal([i.disabled, i.state, i.disabled_reason], [true, 'Disabled', 'maintenance']);
      assert.ok(typeof i.disabled_by === 'string' && i.disabled_by.length > 0, 'who disabled it');
    }

    // Enabled through B: A fires again.
    assert.is((await b.call('POST', `/v1/integrations/${id}/enable`)).status, 200);
    await until(() => !a.webhooks.get(id).disabled, 10_000, 'A to hold it enabled');
    const onA = await deviceOn(a);
    await publish(onA.client, 'to-disable', 'again');
    await until(() => requestsTo('/disable').length === 2, 10_000, 'the request from A');
  });

  test('a bridge that missed the disable (its notice lost) fires and settles, and the integration stays disabled everywhere', async () => {
    const id = await create('/missed', 'missed');
    const device = await deviceOn(b);
    await until(() => b.webhooks.list().some((i) => i.id === id), 10_000, 'B to hold the integration');
    await publish(device.client, 'missed', 'first');
    await until(async () => (await detail(a, id)).counters.total_calls === 1, 10_000, 'the first call counted');

    // B stops hearing of integration changes, as when a notice is lost in a Redis outage.
    const listeners = b.bus.listeners('integration:changed');
    b.bus.removeAllListeners('integration:changed');
    try {
      assert.is((await a.call('POST', `/v1/integrations/${id}/disable`, { reason: 'stop it' })).status, 200);
      assert.not.ok(b.webhooks.get(id).disabled, 'B still holds it enabled');
      // B fires with what it holds, and settles the success (Active) with its own stale state.
      await publish(device.client, 'missed', 'stale');
      await until(() => requestsTo('/missed').length === 2, 10_000, 'the stale call from B');
      await b.webhooks.idle();
    } finally {
      for (const l of listeners) b.bus.on('integration:changed', l as (id: string) => void);
    }
    for (const bridge of [a, b]) {
      const i = await detail(bridge, id);
      assert.equal([i.state, i.disabled_by !== null, i.disabled_reason], ['Disabled', true, 'stop it'], 'the disable stands');
      assert.is(i.counters.total_calls, 2, 'B\'s call is counted all the same');
    }
    assert.is(((await b.store.integrations.get(id))!.template as { disabled?: boolean }).disabled, true, 'the template stays disabled');

    // Once B reads it again, it stops firing.
    b.bus.emit('integration:changed', id, 'another-bridge');
    await until(() => b.webhooks.get(id).disabled, 10_000, 'B to read the disable');
    await publish(device.client, 'missed', 'late');
    await b.webhooks.idle();
    assert.is(requestsTo('/missed').length, 2);
  });

  test('counters: deliveries made on both bridges at once add up, the same on every bridge\'s API', async () => {
    const ok = await create('/count', 'tally');
    const failing = await create('/missing', 'gone');
    const [onA, onB] = [await deviceOn(a), await deviceOn(b)];
    const attempts = new Map<TestBridge, number>();
    const detach = [a, b].map((bridge) => bridge.webhooks.addHook('attempt', (r) => {
      if (r.job.integrationId === ok) attempts.set(bridge, (attempts.get(bridge) ?? 0) + 1);
    }));
    await until(() => [ok, failing].every((id) => b.webhooks.list().some((i) => i.id === id)), 10_000, 'B to hold both');

    const N = 40;
    await Promise.all([onA, onB].map(async (d, k) => {
      for (let i = 0; i < N; i++) {
        await publish(d.client, 'tally', `${k}-${i}`);
        if (i % 4 === 0) await publish(d.client, 'gone', `${k}-${i}`);
      }
    }));
    await until(() => requestsTo('/count').length === 2 * N && requestsTo('/missing').length === 2 * N / 4, 20_000, 'every request');
    await Promise.all([a.webhooks.idle(), b.webhooks.idle()]);
    for (const d of detach) d();
    assert.ok((attempts.get(a) ?? 0) > 0 && (attempts.get(b) ?? 0) > 0, 'both bridges delivered some');

    for (const bridge of [a, b]) {
      const i = await detail(bridge, ok);
      assert.equal([i.counters.total_calls, i.counters.total_errors, i.counters.total_dropped], [2 * N, 0, 0], 'the successes');
      const f = await detail(bridge, failing);
      assert.equal([f.counters.total_calls, f.counters.total_errors, f.counters.total_dropped, f.counters.last_error.code], [N / 2, N / 2, N / 2, '404'], 'the failures (not retried)');
      const row = await listed(bridge, ok);
      assert.equal([row.counters.total_calls, row.counters.total_errors], [2 * N, 0], 'the list shows the same');
    }
  });
}

test.run();
