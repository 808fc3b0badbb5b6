// The scheduler (bridge/webhooks/scheduler.ts) on a real SQLite store: pending deliveries go
// to their lane when due and only as far as the lane has room; a full lane is fed again when
// it calls back; a retry is taken at its time, not before; a previous run's running
// deliveries are picked up at start. On a store other bridges share, it reads again what is
// pending every few seconds (work another bridge wrote); on SQLite it never does.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DeliveryRecord, NewDelivery, Store } from '../../../bridge/store/index.ts';
import { stored } from '../../../bridge/webhooks/inbox.ts';
import { SHARED_REFRESH_MS, createScheduler, type Scheduler } from '../../../bridge/webhooks/scheduler.ts';
import { until } from '../../helpers/bridge.ts';
import { deviceEvent, quietLogger, tempStore, type TempStore } from '../../helpers/store.ts';

let t: TempStore;
let scheduler: Scheduler;

test.before.each(async () => {
  t = await tempStore();
});
test.after.each(async () => {
  scheduler?.stop();
  await t.close();
});

async function accept(store: Store, deliveries: NewDelivery[]): Promise<number[]> {
  const [ids] = await store.deliveries.accept([{ event: stored(deviceEvent('temp')), deliveries }]);
  return ids!;
}

/** A scheduler feeding lanes with the given room per host; what it hands over, with when. */
function feeding(room: Record<string, number>, store: Store = t.store, refreshMs?: number) {
  const taken: { delivery: DeliveryRecord; at: number }[] = [];
  scheduler = createScheduler({ store, logger: quietLogger(), ...(refreshMs === undefined ? {} : { refreshMs }) });
  scheduler.feed({
    room: (host) => room[host] ?? 0,
    run: (delivery) => {
      room[delivery.host]!--;
      taken.push({ delivery, at: Date.now() });
    },
  });
  return taken;
}

const pending = (host: string, nextAt: number, integrationId = 'i1'): NewDelivery => ({ integrationId, host, status: 'pending', nextAt });

test('due deliveries go to their lane up to its room; the rest when the lane calls back', async () => {
  const now = Date.now();
  const ids = await accept(t.store, [pending('a', now - 3), pending('a', now - 2), pending('a', now - 1)]);
  const room = { a: 2 };
  const taken = feeding(room);
  await scheduler.start();
  await until(() => taken.length === 2, 2000, 'two taken');
  assert.equal(taken.map((x) => x.delivery.id), ids.slice(0, 2), 'oldest due first');
  assert.ok(taken.every((x) => x.delivery.status === 'running'));
  await new Promise((r) => setTimeout(r, 30));
  assert.is(taken.length, 2, 'the lane is full: nothing more');

  room.a = 1;
  scheduler.room('a');
  await until(() => taken.length === 3, 2000, 'the third after room');
  assert.is(taken[2]!.delivery.id, ids[2]);
  assert.equal(await t.store.deliveries.counts(), { pending: 0, running: 3, done: 0, failed: 0 });
});

test('a retry is taken at its time, not before, and without holding up a host that is due', async () => {
  const now = Date.now();
  const later = now + 200;
  await accept(t.store, [pending('slow', later), pending('fast', now)]);
  const taken = feeding({ slow: 10, fast: 10 });
  await scheduler.start();
  await until(() => taken.length === 1, 2000, 'the due one');
  assert.is(taken[0]!.delivery.host, 'fast');
  await until(() => taken.length === 2, 3000, 'the retry');
  assert.is(taken[1]!.delivery.host, 'slow');
  assert.ok(taken[1]!.at >= later, `taken ${later - taken[1]!.at} ms early`);
});

test('a delivery made pending while running (a retry settled) wakes the scheduler at its time', async () => {
  const taken = feeding({ h: 10 });
  await scheduler.start();
  const at = Date.now() + 100;
  await accept(t.store, [pending('h', at)]);
  scheduler.pending('h', at);
  await until(() => taken.length === 1, 3000, 'the retry');
  assert.ok(taken[0]!.at >= at);
  assert.is(scheduler.pendingHosts(), 0, 'nothing else pending');
});

test('deliveries a stopped process left running are pending again at start, and taken', async () => {
  const ids = await accept(t.store, [{ integrationId: 'i1', host: 'h', status: 'running', nextAt: Date.now() }]);
  const taken = feeding({ h: 10 });
  assert.is(await scheduler.start(), 1);
  await until(() => taken.length === 1, 2000, 'the requeued one');
  assert.is(taken[0]!.delivery.id, ids[0]);
});

test('after stop, nothing more is taken', async () => {
  const taken = feeding({ h: 10 });
  await scheduler.start();
  const at = Date.now() + 50;
  await accept(t.store, [pending('h', at)]);
  scheduler.pending('h', at);
  scheduler.stop();
  await new Promise((r) => setTimeout(r, 150));
  assert.is(taken.length, 0);
});

/** The store, as `backend`, counting the scheduler's reads of every host's pending work. */
function counting(backend: string) {
  const reads = { n: 0 };
  const store: Store = {
    ...t.store, backend,
    deliveries: { ...t.store.deliveries, pendingHosts: () => { reads.n++; return t.store.deliveries.pendingHosts(); } },
  };
  return { store, reads };
}

test('on a shared store, deliveries another bridge wrote (nothing said to this one) are taken after a refresh', async () => {
  const { store } = counting('postgres');
  const taken = feeding({ h: 10 }, store, 50);
  await scheduler.start();
  const [id] = await accept(t.store, [pending('h', Date.now())]); // no scheduler.pending(): written elsewhere
  await until(() => taken.length === 1, 3000, 'the delivery found by a refresh');
  assert.is(taken[0]!.delivery.id, id);
});

test('the store is read again every SHARED_REFRESH_MS on PostgreSQL, and never again after start on SQLite', async () => {
  const sqlite = counting('sqlite');
  feeding({}, sqlite.store);
  await scheduler.start();
  const shared = counting('postgres');
  const other = createScheduler({ store: shared.store, logger: quietLogger() });
  other.feed({ room: () => 0, run: () => {} });
  try {
    await other.start();
    await until(() => shared.reads.n >= 2, SHARED_REFRESH_MS * 3, 'a refresh on the shared store');
    assert.is(sqlite.reads.n, 1, 'SQLite: read once, at start');
  } finally {
    other.stop();
  }
  const reads = shared.reads.n;
  await new Promise((r) => setTimeout(r, SHARED_REFRESH_MS + 200));
  assert.is(shared.reads.n, reads, 'no refresh after stop');
});

test.run();
