// Three bridges acting as one, on one PostgreSQL and one Redis the test starts: devices spread
// over the three, one integration made through one bridge's API. Every acknowledged event's
// webhook is attempted exactly once while every bridge lives (the receiver counts requests by
// the ID each event carries), each device hears its own hook-responses, a hook-response reaches
// its device on whichever bridge the device is connected to now, and an integration made
// through one bridge fires for devices connected to another.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { countingReceiver, loadDevice, loadTemplate, sample, startLoad, type CountingReceiver, type LoadDevice } from '../../helpers/load.ts';
import { deviceClient, sleep, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

const PER_BRIDGE = 4;
const EVENTS = 300;

let cluster: TestCluster;
let bridges: TestBridge[];
let rx: CountingReceiver;
const devices: LoadDevice[] = [];
const open: TestClient[] = [];
const receivers: Receiver[] = [];

/** Until every bridge knows integration `id` (made on one, announced to the others). */
async function everywhere(id: string): Promise<void> {
  for (const [i, b] of bridges.entries()) {
    await until(async () => (await b.call('GET', `/v1/integrations/${id}`)).status === 200, 20_000, `integration ${id} on bridge ${i}`);
  }
}

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  test.before(async () => {
    cluster = await startCluster(3);
    bridges = cluster.bridges;
    rx = await countingReceiver('/load');
    const urls = bridges.map((b) => b.mqttUrl);
    for (let home = 0; home < bridges.length; home++) {
      for (let k = 0; k < PER_BRIDGE; k++) {
        // Devices are made through any bridge: the store is shared.
        const d = await bridges[(home + k) % bridges.length]!.addDevice();
        devices.push(await loadDevice(d, urls, home, 'load'));
      }
    }
  });

  test.after(async () => {
    for (const d of devices) await d.client.end().catch(() => {});
    for (const c of open) await c.end().catch(() => {});
    for (const r of receivers) await r.close().catch(() => {});
    await rx?.close();
    await cluster?.stop();
  });

  test('every acknowledged event from devices on three bridges is delivered exactly once, and each device hears its hook-responses', async () => {
    for (const [i, b] of bridges.entries()) {
      const own = b.broker.deviceSubscriptions(); // this bridge's own connections
      assert.ok(devices.every((d) => own.has(d.id) === (d.home === i)), `bridge ${i} holds its devices, and only those`);
    }
    const created = await bridges[0]!.call('POST', '/v1/integrations', loadTemplate('load', `${rx.url}/load`));
    assert.is(created.status, 201, JSON.stringify(created.body));
    await everywhere(created.body.id);

    const load = startLoad(devices, { event: 'load', count: EVENTS, prefix: 'ev', window: 24 });
    await load.done;
    assert.is(load.acked.size, EVENTS, `every publish acknowledged (not: ${sample([...load.timedOut])})`);

    await until(() => rx.missing(load.acked).length === 0, 30_000, `every acknowledged event at the receiver (missing ${sample(rx.missing(load.acked))})`);
    for (const b of bridges) await b.webhooks.idle();
    await sleep(500); // a duplicate would arrive now
    assert.equal(rx.duplicates(), [], 'no event delivered twice while every bridge lives');
    assert.is(rx.total(), EVENTS, 'nothing delivered that was not published');

    // Each event's response goes to the device that published it, and to no other.
    await until(() => devices.every((d) => d.responses.length >= [...load.by.values()].filter((x) => x === d).length), 20_000, 'every hook-response at its device');
    for (const d of devices) {
      const own = load.sent.filter((id) => load.by.get(id) === d);
      assert.equal([...d.responses].sort(), [...own].sort(), `device ${d.id} (bridge ${d.home}) heard the responses to its own events, once each`);
    }

    // The integration's counters are the sum over the three bridges.
    await until(async () => (await bridges[1]!.call('GET', `/v1/integrations/${created.body.id}`)).body.integration.counters.total_calls === EVENTS,
      20_000, `total_calls ${EVENTS} on bridge 1`);
  });

  test('a hook-response reaches the device on the bridge it moved to while the webhook was delivered by another, its parts in order', async () => {
    const [a, b] = [bridges[0]!, bridges[1]!];
    const hold = await receiver();
    receivers.push(hold);
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const body = Array.from({ length: 1500 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''); // 3 parts: 512 + 512 + 476
    hold.on('/moved', (_req, res) => { void released.then(() => res.end(body)); });
    const created = await a.call('POST', '/v1/integrations', { event: 'moved', url: `${hold.url}/moved` });
    assert.is(created.status, 201, JSON.stringify(created.body));

    const d = await a.addDevice();
    const onA = await deviceClient(a.mqttUrl, d);
    open.push(onA);
    await onA.client.publishAsync('moved', 'x', { qos: 1 });
    await hold.next('/moved', 20_000); // A is sending it, and waits for the answer

    // The device moves to B (its connection on A is taken over) and listens there.
    const onB = await deviceClient(b.mqttUrl, d);
    open.push(onB);
    // A's own connections (isDeviceConnected answers for every bridge sharing the broker).
    await until(() => !a.broker.deviceSubscriptions().has(d.id) && b.broker.deviceSubscriptions().has(d.id), 20_000, 'the device on B only');
    await onB.client.subscribeAsync(`${d.id}/hook-response/moved/#`, { qos: 1 });
    await sleep(200); // the subscription reaches Redis

    release();
    await until(() => onB.received.length >= 3, 20_000, 'three parts on B');
    await sleep(200);
    assert.equal(onB.topics(), [0, 1, 2].map((i) => `${d.id}/hook-response/moved/${i}`), 'the parts in order, once each');
    assert.is(onB.received.map((r) => r.payload.toString()).join(''), body);
    assert.is(hold.requests.filter((r) => r.url === '/moved').length, 1, 'one request');
  });

  test('an integration made through C\'s API fires for a device connected to A', async () => {
    const [a, c] = [bridges[0]!, bridges[2]!];
    const other = await receiver();
    receivers.push(other);
    const created = await c.call('POST', '/v1/integrations', { event: 'fromc', url: `${other.url}/fromc`, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
    assert.is(created.status, 201, JSON.stringify(created.body));
    await until(async () => (await a.call('GET', `/v1/integrations/${created.body.id}`)).status === 200, 20_000, 'the integration on A');

    const d = await c.addDevice();
    const onA = await deviceClient(a.mqttUrl, d);
    open.push(onA);
    await onA.client.publishAsync('fromc', 'hello', { qos: 1 });
    const req = await other.next('/fromc', 20_000);
    assert.is(JSON.parse(req.body.toString()).v, 'hello');
    await a.webhooks.idle();
    await sleep(200);
    assert.is(other.requests.length, 1, 'once');
    const seen = await c.call('GET', `/v1/integrations/${created.body.id}`);
    await until(async () => (await c.call('GET', `/v1/integrations/${created.body.id}`)).body.integration.counters.total_calls === 1, 20_000,
      `C counts A's call (now ${JSON.stringify(seen.body.integration?.counters)})`);
  });
}

test.run();
