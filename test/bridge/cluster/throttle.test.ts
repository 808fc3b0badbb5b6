// The per-host throttle across bridges sharing PostgreSQL and Redis (PARTICLE.md §4): a host
// put to sleep on one bridge sleeps on every bridge for the cooldown (bridge/webhooks/engine.ts
// announces 'host:asleep', bridge/cluster/notices.ts relays it), so an event from a device on
// another bridge to the same host is skipped (SLEEPING) and the integration is TooManyErrors,
// as on one bridge.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let cluster: TestCluster;
let rx: Receiver;
const open: TestClient[] = [];

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  test.before(async () => {
    // One failure puts a host to sleep, for ten minutes: the test never sees it wake.
    cluster = await startCluster(3, { throttleMinErrors: 1, throttleCooldownMs: 600_000 });
    rx = await receiver();
    rx.on('/down', (_req, res) => { res.statusCode = 500; res.end('down'); });
  });
  test.after(async () => {
    for (const c of open) await c.end().catch(() => {});
    await rx?.close();
    await cluster?.stop();
  });

  test('a host put to sleep on A is asleep on B and C: B skips its attempt (SLEEPING), and shows TooManyErrors', async () => {
    const [a, b, c] = cluster.bridges as [TestBridge, TestBridge, TestBridge];
    const res = await a.call('POST', '/v1/integrations', { event: 'reading', url: `${rx.url}/down`, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
    assert.is(res.status, 201, JSON.stringify(res.body));
    const id = res.body.id as string;
    await until(() => [b, c].every((x) => x.webhooks.list().some((i) => i.id === id)), 10_000, 'B and C to hold the integration');

    const [onA, onB] = [await a.addDevice(), await a.addDevice()];
    const deviceA = await deviceClient(a.mqttUrl, onA);
    const deviceB = await deviceClient(b.mqttUrl, onB);
    open.push(deviceA, deviceB);
    await deviceB.client.subscribeAsync(`${onB.id}/hook-error/#`, { qos: 1 });

    await deviceA.client.publishAsync('reading', 'fails', { qos: 1 });
    await until(() => a.webhooks.sleepingHosts().some((h) => h.host === '127.0.0.1'), 10_000, 'the host asleep on A');
    await until(() => [b, c].every((x) => x.webhooks.sleepingHosts().some((h) => h.host === '127.0.0.1')), 10_000, 'the host asleep on B and C');
    assert.is(rx.requests.length, 1);
    await a.webhooks.idle(); // A's failure settled (Failing) before B's skip

    await deviceB.client.publishAsync('reading', 'skipped', { qos: 1 });
    await until(() => deviceB.topics().some((t) => t.startsWith(`${onB.id}/hook-error/reading`)), 10_000, 'the hook-error on the device');
    await b.webhooks.idle();
    assert.is(rx.requests.length, 1, 'B did not call the sleeping host');
    const error = deviceB.received.find((r) => r.topic.startsWith(`${onB.id}/hook-error/reading`))!;
    assert.is(String(error.payload), 'Sleeping, too many errors, please wait and try again');

    for (const bridge of [a, b, c]) {
      const i = (await bridge.call('GET', `/v1/integrations/${id}`)).body.integration;
      assert.equal([i.state, i.counters.total_calls, i.counters.total_errors, i.counters.total_skipped], ['TooManyErrors', 1, 1, 1]);
    }
  });
}

test.run();
