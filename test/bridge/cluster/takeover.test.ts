// A bridge that crashes with deliveries in hand: the bridges still running deliver them once
// their leases end, without a restart. A crash is a real one: bridge A runs as a child process
// (`hookwire start`, as users run it) and is killed with SIGKILL while the webhook target holds
// its requests, so it neither renews nor hands back its claims.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPostgresStore, type Store, type StoredEvent } from '../../../bridge/store/index.ts';
import type { AttemptRecord } from '../../../bridge/webhooks/index.ts';
import { until } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { startBridgeProcess, type BridgeProcess } from '../../helpers/spawn.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  let target: Receiver;
  let a: BridgeProcess | undefined;
  let dataDirA = '';
  const stores: Store[] = [];

  test.before(async () => {
    // Leases of 2 s: a crashed bridge's claims are free 2 s after its last renewal.
    cluster = await startCluster(1, { deliveryLeaseSec: 2 });
    target = await receiver();
    dataDirA = await mkdtemp(join(tmpdir(), 'hookwire-crash-'));
  });
  test.after(async () => {
    a?.child.kill('SIGKILL');
    await a?.exited;
    for (const s of stores) await s.close();
    await target?.close();
    await cluster?.stop();
    if (dataDirA) await rm(dataDirA, { recursive: true, force: true });
  });

  test('pendingHosts and nextDue count another bridge\'s running delivery as due when its lease has ended', async () => {
    const url = await cluster.postgres.createDatabase();
    const [x, y] = [await openPostgresStore(url, { owner: 'bridge-x' }), await openPostgresStore(url, { owner: 'bridge-y' })];
    stores.push(x, y);
    // Claimed two minutes ago with a 60 s lease, and never renewed since (a renewal is 15 s away).
    const then = Date.now() - 120_000;
    const event: StoredEvent = { id: 'ev-1', name: 'temp', data: '1', type: 'text', published_at: new Date(then).toISOString(), coreid: 'a'.repeat(24), product_id: null, fw_version: null };
    await x.deliveries.accept([{ event, deliveries: [{ integrationId: 'i1', host: 'h.example', status: 'pending', nextAt: then }] }]);
    assert.is((await x.deliveries.claimDue('h.example', then, 10)).length, 1);
    assert.equal(await x.deliveries.counts(), { pending: 0, running: 1, done: 0, failed: 0 });

    assert.equal([...await y.deliveries.pendingHosts()], [['h.example', then + 60_000]], 'the expired claim is pending work for another bridge, due when its lease ended');
    assert.is(await y.deliveries.nextDue('h.example'), then + 60_000);
    assert.equal([...await x.deliveries.pendingHosts()], [], 'not for its holder');
    assert.is((await y.deliveries.claimDue('h.example', Date.now(), 10)).length, 1, 'and the other bridge takes it');
  });

  test('a bridge knows at once a delivery it holds, and learns from the store one another bridge took over from it', async () => {
    const url = await cluster.postgres.createDatabase();
    const [x, y] = [await openPostgresStore(url, { owner: 'bridge-x' }), await openPostgresStore(url, { owner: 'bridge-y' })];
    stores.push(x, y);
    const event = (id: string): StoredEvent => ({ id, name: 'temp', data: '1', type: 'text', published_at: new Date().toISOString(), coreid: 'a'.repeat(24), product_id: null, fw_version: null });
    const [ids] = await x.deliveries.accept([{ event: event('ev-fresh'), deliveries: [{ integrationId: 'i1', host: 'h.example', status: 'running', nextAt: Date.now() }] }]);
    assert.is(x.deliveries.holds!(ids![0]!), true, 'accepted running just now: held, no question asked');
    // Claimed two minutes ago with a 60 s lease and never renewed since (x was paused).
    const then = Date.now() - 120_000;
    await x.deliveries.accept([
      { event: event('ev-kept'), deliveries: [{ integrationId: 'i1', host: 'kept.example', status: 'pending', nextAt: then }] },
      { event: event('ev-lost'), deliveries: [{ integrationId: 'i1', host: 'lost.example', status: 'pending', nextAt: then }] },
    ]);
    const [kept] = await x.deliveries.claimDue('kept.example', then, 10);
    const [lost] = await x.deliveries.claimDue('lost.example', then, 10);
    assert.is((await y.deliveries.claimDue('lost.example', Date.now(), 10)).length, 1, 'y takes one over, its lease having ended');
    const asked = x.deliveries.holds!(kept!.delivery.id);
    assert.instance(asked, Promise, 'its lease may have ended: the store is asked');
    assert.is(await asked, true, 'nobody took that one: still x\'s');
    assert.is(x.deliveries.holds!(kept!.delivery.id), true, 'and its lease renewed: known at once again');
    assert.is(await x.deliveries.holds!(lost!.delivery.id), false, 'x learns the other is not its own any more');
  });

  test('a bridge paused longer than its lease does not send again what the others took over while it was stopped', async () => {
    const [b] = cluster.bridges;
    const N = 30;
    const got = new Map<string, number>();
    target.on('/paused', (req, res) => {
      const data = (JSON.parse(req.body.toString()) as { data: string }).data;
      got.set(data, (got.get(data) ?? 0) + 1);
      setTimeout(() => res.end('ok'), 200);
    });
    const hook = await b!.call('POST', '/v1/integrations', { event: 'paused', url: `${target.url}/paused`, requestType: 'POST', json: { data: '{{{PARTICLE_EVENT_VALUE}}}' } });
    assert.is(hook.status, 201);
    const dir = await mkdtemp(join(tmpdir(), 'hookwire-pause-'));
    const p = await startBridgeProcess(['--data-dir', dir, '--mqtt-port', '0', '--http-port', '0'], {
      HOOKWIRE_STORE: cluster.storeUrl, HOOKWIRE_DELIVERY_LEASE_SEC: '2', HOOKWIRE_HOST_CONCURRENCY: '2', HOOKWIRE_LOG_LEVEL: 'info',
    });
    try {
      for (let i = 0; i < N; i++) {
        const res = await fetch(`${p.url}/v1/devices/events`, {
          method: 'POST', headers: { authorization: `Bearer ${b!.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'paused', data: `event-${i}` }),
        });
        assert.is(res.status, 200, `event ${i} accepted`);
      }
      p.child.kill('SIGSTOP');
      await until(() => got.size === N, 30_000, `the other bridge delivering all ${N} while this one is stopped (${got.size} so far)`);
      p.child.kill('SIGCONT');
      // Resumed: its requests in flight when it stopped finish; what waited in its lane is not sent again.
      // Time for it to send its whole lane again (about 3 s at 2 × 200 ms), as it did before it checked.
      await new Promise((r) => setTimeout(r, 3000));
      const twice = [...got].filter(([, n]) => n > 1).map(([d]) => d);
      assert.ok(twice.length <= 2, `at most the 2 requests in flight at the pause sent twice, not ${twice.length}: ${twice.join(', ')}`);
      assert.ok(p.logs.some((l) => l.msg === 'delivery taken over by another bridge while it waited here: not attempted'), 'the resumed bridge says why it dropped them');
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a bridge killed with deliveries in flight and waiting: the surviving bridge delivers every one after the lease, without a restart', async () => {
    const [b] = cluster.bridges;
    const N = 6;
    // Every request waits until the test says; those of the killed bridge are never answered.
    let holding = true;
    const held: ServerResponse[] = [];
    target.on('/hook', (_req, res) => {
      if (holding) held.push(res);
      else res.end('ok');
    });
    const hook = await b!.call('POST', '/v1/integrations', { event: 'takeover', url: `${target.url}/hook`, requestType: 'POST' });
    assert.is(hook.status, 201);
    const delivered = new Set<string>();
    b!.webhooks.addHook('attempt', (record: AttemptRecord) => {
      if (record.kind === 'success' && record.job.integrationId === hook.body.id) delivered.add(record.job.event.data);
    });

    // Bridge A: 2 requests in flight to the host and 1 waiting in its lane; the rest wait in the store.
    a = await startBridgeProcess(['--data-dir', dataDirA, '--mqtt-port', '0', '--http-port', '0'], {
      HOOKWIRE_STORE: cluster.storeUrl, HOOKWIRE_DELIVERY_LEASE_SEC: '2', HOOKWIRE_HOST_CONCURRENCY: '2', HOOKWIRE_HOST_QUEUE: '1', HOOKWIRE_LOG_LEVEL: 'info',
    });
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${a.url}/v1/devices/events`, {
        method: 'POST', headers: { authorization: `Bearer ${b!.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'takeover', data: `event-${i}` }),
      });
      assert.is(res.status, 200, `event ${i} accepted by A`);
    }
    await until(() => target.requests.length >= 2, 10_000, 'A sending its first requests');

    a.child.kill('SIGKILL');
    assert.is(await a.exited, null, 'killed');
    // Requests still open now are the surviving bridge's (it may have taken some of the waiting ones already): answer them.
    holding = false;
    for (const res of held) if (!res.socket?.destroyed) res.end('ok');

    await until(() => delivered.size === N, 30_000, `B delivering all ${N} events (delivered: ${[...delivered].sort().join(', ')})`);
    assert.equal([...delivered].sort(), Array.from({ length: N }, (_, i) => `event-${i}`).sort());
    await until(async () => {
      const counts = await b!.store.deliveries.counts();
      return counts.pending === 0 && counts.running === 0;
    }, 10_000, 'nothing left pending or running');
    assert.equal((await b!.store.deliveries.counts()).failed, 0);
  });
}

test.run();
