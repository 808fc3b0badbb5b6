// The dashboard on bridges sharing a PostgreSQL store: each bridge counts what went through
// it and adds its counts to the same hourly rows, so GET /v1/dashboard on any bridge shows
// the sum of every bridge's device events, API publishes and webhook attempts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Summary } from '../../../bridge/dashboard/index.ts';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  let rx: Receiver;
  const devices: TestClient[] = [];

  const dashboard = async (on: TestBridge): Promise<Summary> => {
    const res = await on.call('GET', '/v1/dashboard?period=1d');
    assert.is(res.status, 200, JSON.stringify(res.body));
    return res.body as Summary;
  };
  const figures = (s: Summary) => ({
    device: [s.types.device.successes, s.types.device.failures],
    inbound: [s.types.inbound.successes, s.types.inbound.failures],
    outbound: [s.types.outbound.successes, s.types.outbound.failures],
  });

  test.before(async () => {
    cluster = await startCluster(3);
    rx = await receiver();
    rx.on('/ok', (_req, res) => res.end('ok'));
    rx.on('/fail', (_req, res) => { res.statusCode = 500; res.end('down'); });
  });
  test.after(async () => {
    for (const d of devices) await d.end();
    await rx?.close();
    await cluster?.stop();
  });

  test('events, refusals, API publishes and attempts on every bridge are summed by each bridge\'s GET /v1/dashboard', async () => {
    const bridges = cluster.bridges;
    const [first] = bridges as [TestBridge];
    const ok = (await first.call('POST', '/v1/integrations', { event: 'temp', url: `${rx.url}/ok` })).body.id as string;
    const fail = (await first.call('POST', '/v1/integrations', { event: 'pump', url: `${rx.url}/fail`, retryPolicy: [3600] })).body.id as string;
    await until(() => bridges.every((b) => [ok, fail].every((id) => b.webhooks.list().some((i) => i.id === id))), 10_000, 'the integrations on every bridge');
    const before = await Promise.all(bridges.map(dashboard));
    for (const s of before) assert.equal(figures(s), figures(before[0]!), 'the same figures on every bridge');

    // Bridge k: k + 1 temp events, a pump event, a refused publish, a good and a bad API publish.
    for (const [k, b] of bridges.entries()) {
      const device = await deviceClient(b.mqttUrl, await b.addDevice());
      devices.push(device);
      for (let n = 0; n <= k; n++) await device.client.publishAsync('temp', String(n), { qos: 1 });
      await device.client.publishAsync('pump', 'on', { qos: 1 });
      await device.client.publishAsync('hook-sent/forged', 'x', { qos: 0 }); // refused: reserved
      assert.is((await b.call('POST', '/v1/devices/events', { name: 'from-erp', data: 'go' })).status, 200);
      assert.is((await b.call('POST', '/v1/devices/events', { data: 'no name' })).status, 400);
    }
    await until(() => rx.requests.filter((r) => r.url === '/ok').length === 6 && rx.requests.filter((r) => r.url === '/fail').length === 3, 10_000, 'the webhook calls');

    // Each bridge writes its counts about once a second: every one is there within a few.
    const expected = { device: [9, 3], inbound: [3, 3], outbound: [6, 3] };
    const delta = (s: Summary, b: Summary) => {
      const [now, then] = [figures(s), figures(b)];
      return {
        device: [now.device[0]! - then.device[0]!, now.device[1]! - then.device[1]!],
        inbound: [now.inbound[0]! - then.inbound[0]!, now.inbound[1]! - then.inbound[1]!],
        outbound: [now.outbound[0]! - then.outbound[0]!, now.outbound[1]! - then.outbound[1]!],
      };
    };
    for (const [k, b] of bridges.entries()) {
      await until(async () => JSON.stringify(delta(await dashboard(b), before[k]!)) === JSON.stringify(expected), 10_000, `the sums on bridge ${k}`);
      const s = await dashboard(b);
      assert.equal(delta(s, before[k]!), expected);
      const code = (c: string) => s.failures_by_code.find((x) => x.code === c)?.count ?? 0;
      assert.equal([code('500'), code('EVENT_NAME_RESERVED'), code('BAD_REQUEST')], [3, 3, 3]);
      const pump = s.failures.rows.find((r) => r.integration_id === fail)!;
      assert.equal([pump.event, pump.count], ['pump', 3]);
    }
  });
}

test.run();
