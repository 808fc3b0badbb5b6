// Three bridges acting as one, through failures, with the real servers: a bridge killed (-9)
// under load, whose devices reconnect to the others and whose deliveries the others take over
// once its leases end; Redis restarted under load; a host put to sleep by one bridge's
// throttle, skipped by the others. Nothing acknowledged is lost: every event a device had its
// PUBACK for reaches the receiver at least once (duplicates are allowed, and counted).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { apiClient, countingReceiver, idOf, loadDevice, loadTemplate, sample, startLoad, type ApiClient, type CountingReceiver, type LoadDevice } from '../../helpers/load.ts';
import { deviceClient, sleep, type TestClient } from '../../helpers/mqtt.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';
import { startBridgeProcess, type BridgeProcess } from '../../helpers/spawn.ts';

const SLEEPING = 'Sleeping, too many errors, please wait and try again';

let cluster: TestCluster;
const devices: LoadDevice[] = [];
const open: TestClient[] = [];
const receivers: CountingReceiver[] = [];
const procs: BridgeProcess[] = [];
const dirs: string[] = [];
let ownRedis: TestRedis | undefined;

/** Until every bridge of the in-process cluster knows integration `id`. */
async function everywhere(bridges: TestBridge[], id: string): Promise<void> {
  for (const [i, b] of bridges.entries()) {
    await until(async () => (await b.call('GET', `/v1/integrations/${id}`)).status === 200, 20_000, `integration ${id} on bridge ${i}`);
  }
}

/** Print what was delivered more than once (allowed after a failure; information only). */
function reportDuplicates(what: string, rx: CountingReceiver, acked: Set<string>): void {
  const dups = rx.duplicates();
  console.log(`${what}: ${acked.size} acknowledged, ${rx.total()} requests, ${dups.length} events delivered more than once${dups.length ? `: ${sample(dups.map(([id, n]) => `${id}×${n}`))}` : ''}`);
}

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  test.before(async () => {
    // A sleeping host stays asleep for the whole run: nothing depends on when it would wake.
    cluster = await startCluster(3, { throttleCooldownMs: 60_000 });
  });

  test.after(async () => {
    for (const d of devices) await d.client.end().catch(() => {});
    for (const c of open) await c.end().catch(() => {});
    for (const r of receivers) await r.close().catch(() => {});
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, sleep(10_000)]);
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      }
    }
    await ownRedis?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await cluster?.stop();
  });

  test('kill -9 one of three bridges under load: its devices reconnect to the others, and every acknowledged event is delivered', async () => {
    // Three bridge processes on a database and a Redis of their own; a 2 s lease, so the
    // others take over the killed bridge's deliveries soon after it dies.
    ownRedis = await startRedis();
    const storeUrl = await cluster.postgres.createDatabase();
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'hookwire-kill-'));
      dirs.push(dir);
      procs.push(await startBridgeProcess([], {
        HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_HTTP_PORT: '0', HOOKWIRE_DATA_DIR: dir, HOOKWIRE_TOKEN: '', HOOKWIRE_LOG_LEVEL: 'info',
        HOOKWIRE_STORE: storeUrl, HOOKWIRE_REDIS: ownRedis.url, HOOKWIRE_DELIVERY_LEASE_SEC: '2',
        // Few requests at once per bridge, so deliveries wait in every bridge's lane.
        HOOKWIRE_HOST_CONCURRENCY: '4',
      }));
    }
    const apis: ApiClient[] = [];
    for (const [i, p] of procs.entries()) apis.push(await apiClient(p, dirs[i]!));

    // A slow receiver: deliveries are in flight (and more wait) on every bridge.
    const rx = await countingReceiver('/kill', { delayMs: 150 });
    receivers.push(rx);
    const created = await apis[0]!.call('POST', '/v1/integrations', loadTemplate('kill', `${rx.url}/kill`));
    assert.is(created.status, 201, JSON.stringify(created.body));
    for (const [i, api] of apis.entries()) {
      await until(async () => (await api.call('GET', `/v1/integrations/${created.body.id}`)).status === 200, 20_000, `the integration on bridge ${i}`);
    }

    const urls = procs.map((p) => `mqtt://127.0.0.1:${p.mqttPort}`);
    const mine: LoadDevice[] = [];
    for (let home = 0; home < 3; home++) {
      for (let k = 0; k < 3; k++) {
        const res = await apis[home]!.call('POST', '/v1/devices', {});
        assert.is(res.status, 201, JSON.stringify(res.body));
        mine.push(await loadDevice(res.body, urls, home, 'kill', 100));
      }
    }
    devices.push(...mine);

    const VICTIM = 1;
    const load = startLoad(mine, { event: 'kill', count: 300, prefix: 'k', window: 9, gapMs: 10 });
    const fromVictim = (id: string) => load.by.get(id)?.home === VICTIM;
    // Kill it with requests in flight and more waiting in its lane: the victim's devices'
    // acknowledged events, as many not yet at the receiver as it sends at once.
    const waiting = () => [...load.acked].filter(fromVictim).length - [...rx.counts.keys()].filter(fromVictim).length;
    await until(() => [...rx.inFlight].some(fromVictim) && waiting() >= 4 && load.acked.size >= 60, 30_000, 'deliveries in flight and waiting on the bridge to kill');
    const ackedFromVictimBefore = [...load.acked].filter(fromVictim).length;
    // The victim's acknowledged events not yet at the receiver: only the others can deliver them now.
    const stranded = new Set([...load.acked].filter((id) => fromVictim(id) && !rx.counts.has(id)));
    const killedAt = performance.now();
    procs[VICTIM]!.child.kill('SIGKILL');
    await procs[VICTIM]!.exited;

    await load.done; // publishing stops: every publish acknowledged, or given up on
    const victims = mine.filter((d) => d.home === VICTIM);
    await until(() => victims.every((d) => d.client.client.connected), 20_000, 'the killed bridge\'s devices connected again');
    assert.ok([...load.acked].filter(fromVictim).length > ackedFromVictimBefore, 'and their events acknowledged by the others');

    await until(() => rx.missing(load.acked).length === 0, 40_000, `every acknowledged event delivered (missing ${sample(rx.missing(load.acked))})`);
    reportDuplicates('kill -9', rx, load.acked);
    const resumed = rx.rx.requests.filter((r) => stranded.has(idOf(r) ?? '')).map((r) => r.at - killedAt);
    console.log(`kill -9: the ${stranded.size} deliveries the killed bridge held were resumed by the others from ${Math.round(Math.min(...resumed))} ms to ${Math.round(Math.max(...resumed))} ms after the kill (lease 2 s)`);
    assert.equal(rx.unparsed.length, 0);
  });

  test('a host put to sleep on one bridge is skipped on the others: no request, the device hears "Sleeping", the integration TooManyErrors', async () => {
    const [a, b] = [cluster.bridges[0]!, cluster.bridges[1]!];
    // A host of its own (127.0.0.2), so no other test's receiver sleeps with it.
    const hot = await countingReceiver('/hot', { status: 500, host: '127.0.0.2' });
    receivers.push(hot);
    const created = await a.call('POST', '/v1/integrations', loadTemplate('hot', `${hot.url}/hot`));
    assert.is(created.status, 201, JSON.stringify(created.body));
    await everywhere(cluster.bridges, created.body.id);

    const [da, db] = [await a.addDevice(), await b.addDevice()];
    const onA = await deviceClient(a.mqttUrl, da);
    const onB = await deviceClient(b.mqttUrl, db);
    open.push(onA, onB);
    await onB.client.subscribeAsync(`${db.id}/hook-error/#`, { qos: 1 });

    // Three errors and no success (throttleMinErrors 3): the host sleeps, on A.
    for (let i = 0; i < 3; i++) await onA.client.publishAsync('hot', `hot-a${i}`, { qos: 1 });
    await until(() => a.webhooks.sleepingHosts().some((h) => h.host === '127.0.0.2'), 20_000, 'the host asleep on A');
    await a.webhooks.idle();
    const before = hot.total();
    assert.is(before, 3);

    // The notice reaches B in a moment; a device publishing then is skipped there.
    await until(() => b.webhooks.sleepingHosts().some((h) => h.host === '127.0.0.2'), 10_000, 'B told').catch(() => {});
    await onB.client.publishAsync('hot', 'hot-b', { qos: 1 });
    await until(() => onB.received.some((r) => r.topic.startsWith(`${db.id}/hook-error/hot/`)), 20_000, 'the hook-error at the device on B');
    await b.webhooks.idle();
    await sleep(300);
    const error = onB.received.find((r) => r.topic.startsWith(`${db.id}/hook-error/hot/`))!;
    assert.is(error.payload.toString(), SLEEPING);
    assert.not.ok(hot.counts.has('hot-b'), 'B sent the request');
    assert.is(hot.total(), before, 'no request from B');

    await until(async () => {
      const i = (await b.call('GET', `/v1/integrations/${created.body.id}`)).body.integration;
      return i.state === 'TooManyErrors' && i.counters.total_skipped >= 1;
    }, 20_000, 'TooManyErrors with a skip, through B');
  });

  test('Redis restarted under load: devices stay or come back, every acknowledged event is delivered, and hook-responses flow again', async () => {
    const bridges = cluster.bridges;
    const rx = await countingReceiver('/redis');
    receivers.push(rx);
    const created = await bridges[1]!.call('POST', '/v1/integrations', loadTemplate('redis', `${rx.url}/redis`));
    assert.is(created.status, 201, JSON.stringify(created.body));
    await everywhere(bridges, created.body.id);

    const mine: LoadDevice[] = [];
    for (const [home, b] of bridges.entries()) {
      // Each reconnects, by itself, to its own bridge.
      for (let k = 0; k < 2; k++) mine.push(await loadDevice(await b.addDevice(), [b.mqttUrl], 0, 'redis', 100));
      mine.slice(-2).forEach((d) => { d.home = home; });
    }
    devices.push(...mine);

    const load = startLoad(mine, { event: 'redis', count: 240, prefix: 'r', window: 6, gapMs: 20 });
    await until(() => load.acked.size >= 60, 30_000, 'load under way');
    const restarts = bridges.map((b) => b.logs.filter((l) => l.msg === 'Redis reachable again').length);
    await cluster.redis.restart(1000);
    await until(() => bridges.every((b, i) => b.logs.filter((l) => l.msg === 'Redis reachable again').length > restarts[i]!), 20_000, 'every bridge back on Redis');
    await load.done;
    assert.ok(load.acked.size > 0);

    await until(() => rx.missing(load.acked).length === 0, 40_000, `every acknowledged event delivered (missing ${sample(rx.missing(load.acked))})`);
    reportDuplicates('Redis restart', rx, load.acked);
    await until(() => mine.every((d) => d.client.client.connected), 20_000, 'every device connected');

    // A hook-response reaches each device again (one published right after the restart may wait
    // for the subscriptions to be back in Redis: publish until one is answered).
    for (const d of mine) {
      let n = 0;
      await until(async () => {
        const id = `after-${d.id}-${n++}`;
        await d.client.client.publishAsync('redis', id, { qos: 1 });
        await sleep(300);
        return d.responses.some((r) => r.startsWith(`after-${d.id}-`));
      }, 20_000, `a hook-response at device ${d.id} (bridge ${d.home})`);
    }
  });
}

test.run();
