// Which devices are connected, over bridges sharing a Redis (bridge/broker/presence.ts): a
// device connected to one bridge shows online through every bridge's API and on every bus,
// and offline once it disconnects; a takeover between bridges ends online whatever order the
// bridges' words reach Redis; a bridge killed without a word stops showing its devices after
// the expiry.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HEARTBEAT_MS, PRESENCE_TTL_MS, startPresence, type Presence } from '../../../bridge/broker/presence.ts';
import { EventBus } from '../../../bridge/events/index.ts';
import { createLogger } from '../../../bridge/log.ts';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { deviceClient, sleep, type TestClient } from '../../helpers/mqtt.ts';
import { startBridgeProcess, type BridgeProcess } from '../../helpers/spawn.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  let a: TestBridge;
  let b: TestBridge;
  let child: BridgeProcess | undefined;
  let childDir = '';
  const clients: TestClient[] = [];
  const presences: Presence[] = [];
  const logger = createLogger({ level: 'silent', pretty: false });

  test.before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.bridges as [TestBridge, TestBridge];
  });
  test.after(async () => {
    for (const c of clients) await c.end().catch(() => {});
    for (const p of presences) await p.close().catch(() => {});
    child?.child.kill('SIGKILL');
    await child?.exited;
    await cluster?.stop();
    if (childDir) await rm(childDir, { recursive: true, force: true });
  });

  async function connect(url: string, creds: { id: string; token: string }): Promise<TestClient> {
    const c = await deviceClient(url, creds);
    clients.push(c);
    return c;
  }

  /** `connected` of a device as a bridge's API shows it, in the list and on its own. */
  async function shown(on: TestBridge, id: string): Promise<[boolean, boolean]> {
    const list = (await on.call('GET', '/v1/devices')).body as { id: string; connected: boolean }[];
    const one = (await on.call('GET', `/v1/devices/${id}`)).body as { connected: boolean };
    return [list.find((d) => d.id === id)!.connected, one.connected];
  }

  test('a device connected to B is online through A\'s API, health and bus; offline once it disconnects', async () => {
    const creds = await a.addDevice();
    const seen: string[] = [];
    a.bus.on('device:online', (id) => { if (id === creds.id) seen.push('online'); });
    a.bus.on('device:offline', (id) => { if (id === creds.id) seen.push('offline'); });
    assert.equal(await shown(a, creds.id), [false, false]);
    const before = (await a.call('GET', '/health')).body;

    const device = await connect(b.mqttUrl, creds);
    await until(async () => (await shown(a, creds.id))[0], 10_000, 'A to show the device online');
    assert.equal(await shown(a, creds.id), [true, true]);
    assert.ok(a.broker.isDeviceConnected(creds.id));
    const health = (await a.call('GET', '/health')).body;
    assert.is(health.devices_connected, before.devices_connected + 1, 'connected to some bridge');
    assert.is(health.devices_connected_here, before.devices_connected_here, 'not to A');
    assert.is((await b.call('GET', '/health')).body.devices_connected_here, 1);
    assert.equal(seen, ['online']);

    await device.end();
    await until(async () => !(await shown(a, creds.id))[0], 10_000, 'A to show the device offline');
    assert.equal(await shown(a, creds.id), [false, false]);
    assert.is((await a.call('GET', '/health')).body.devices_connected, before.devices_connected);
    assert.equal(seen, ['online', 'offline']);
  });

  test('a device taken over from A by B, and back, stays online on both bridges', async () => {
    const creds = await a.addDevice();
    const offline: string[] = [];
    for (const x of [a, b]) x.bus.on('device:offline', (id) => { if (id === creds.id) offline.push(x === a ? 'A' : 'B'); });
    let last = await connect(a.mqttUrl, creds);
    for (const to of [b, a, b]) {
      const from = last;
      last = await connect(to.mqttUrl, creds);
      await until(() => !from.client.connected, 10_000, 'the previous connection closed');
      await sleep(300);
      for (const x of [a, b]) assert.equal(await shown(x, creds.id), [true, true], `online on ${x === a ? 'A' : 'B'} after the takeover to ${to === a ? 'A' : 'B'}`);
    }
    assert.equal(offline.filter((who) => who === 'A'), [], 'A never said it went offline (it stayed connected to some bridge)');
    await last.end();
    for (const x of [a, b]) await until(async () => !(await shown(x, creds.id))[0], 10_000, 'offline at last');
  });

  test('takeover in either order: the old bridge\'s disconnect reaching Redis before or after the new bridge\'s connect', async () => {
    const watch = new EventBus();
    const states: string[] = [];
    watch.on('device:online', (id) => states.push(`${id} online`));
    watch.on('device:offline', (id) => states.push(`${id} offline`));
    const start = async (id: string, bus = new EventBus()) => {
      const p = await startPresence({ url: cluster.redis.url, bridgeId: id, bus, logger });
      presences.push(p);
      return p;
    };
    const [x, y, w] = [await start('bridge-x'), await start('bridge-y'), await start('bridge-w', watch)];

    // Connect first, then disconnect from the old bridge.
    x.connected('d1');
    await until(() => w.elsewhere('d1'), 10_000, 'd1 online');
    y.connected('d1');
    await sleep(50);
    x.disconnected('d1');
    // Disconnect from the old bridge first, then connect to the new one.
    x.connected('d2');
    await until(() => w.elsewhere('d2'), 10_000, 'd2 online');
    x.disconnected('d2');
    y.connected('d2');
    await sleep(300);
    await w.sync();
    assert.ok(w.elsewhere('d1') && w.elsewhere('d2'), 'both online');
    assert.equal(states.filter((s) => s.startsWith('d1')), ['d1 online'], 'd1 never offline');
    assert.equal(states.at(-1), 'd2 online', 'd2 online at last (it may show offline for a moment between)');

    // A watcher that starts now reads both from Redis.
    const late = await start('bridge-late');
    assert.ok(late.elsewhere('d1') && late.elsewhere('d2'));
    await y.close();
    await until(() => !w.elsewhere('d1') && !w.elsewhere('d2'), 10_000, 'a bridge stopped cleanly: its devices offline at once');
    assert.equal(states.slice(-2).sort(), ['d1 offline', 'd2 offline']);
  });

  test('a bridge killed with devices connected: the others stop showing them online once its presence expires', async () => {
    childDir = await mkdtemp(join(tmpdir(), 'hookwire-presence-'));
    child = await startBridgeProcess(['--data-dir', childDir, '--mqtt-port', '0', '--http-port', '0'], {
      HOOKWIRE_STORE: cluster.storeUrl, HOOKWIRE_REDIS: cluster.redis.url, HOOKWIRE_LOG_LEVEL: 'info',
    });
    const creds = await a.addDevice();
    const before = (await a.call('GET', '/health')).body.devices_connected;
    await connect(`mqtt://127.0.0.1:${child.mqttPort}`, creds);
    await until(async () => (await shown(a, creds.id))[0] && (await shown(b, creds.id))[0], 10_000, 'online through A and B');

    child.child.kill('SIGKILL');
    assert.is(await child.exited, null, 'killed');
    await until(async () => !(await shown(a, creds.id))[0] && !(await shown(b, creds.id))[0], PRESENCE_TTL_MS + 2 * HEARTBEAT_MS + 10_000, 'offline through A and B');
    assert.is((await a.call('GET', '/health')).body.devices_connected, before);
  });
}

test.run();
