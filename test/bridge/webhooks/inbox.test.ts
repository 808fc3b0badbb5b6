// The inbox (bridge/webhooks/inbox.ts) on a real SQLite store: events accepted in one turn
// are written in one transaction; a delivery whose lane has room starts at once with its
// store ID, the others wait; a failed write rejects the publishers and gives the slots back.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { createInbox, type Target } from '../../../bridge/webhooks/inbox.ts';
import { deviceEvent, quietLogger, tempStore, type TempStore } from '../../helpers/store.ts';

let t: TempStore;
test.before.each(async () => {
  t = await tempStore();
});
test.after.each(async () => {
  await t.close();
});

function inboxWith(room: Record<string, number>) {
  const started: { id: number; event: HookwireEvent; target: Target }[] = [];
  const waiting: string[] = [];
  const released: string[] = [];
  let writes = 0;
  const accept = t.store.deliveries.accept.bind(t.store.deliveries);
  t.store.deliveries.accept = (batch) => {
    writes++;
    return accept(batch);
  };
  const inbox = createInbox({
    store: t.store,
    logger: quietLogger(),
    reserve: (host) => (room[host] ?? 0) > 0 && room[host]!-- > 0,
    release: (host) => released.push(host),
    start: (id, event, target) => started.push({ id, event, target }),
    wait: (host) => waiting.push(host),
  });
  return { inbox, started, waiting, released, writes: () => writes };
}

const to = (host: string, integrationId = 'i1'): Target => ({ integrationId, host });

test('events added in one turn are written in one transaction, and resolve once durable', async () => {
  const { inbox, writes } = inboxWith({ h: 100 });
  const events = [deviceEvent('a'), deviceEvent('b'), deviceEvent('c')];
  const accepted = events.map((e) => inbox.add(e, [to('h')]));
  assert.is(writes(), 0, 'nothing written before the turn ends');
  await Promise.all(accepted);
  assert.is(writes(), 1);
  assert.equal(await t.store.deliveries.counts(), { pending: 0, running: 3, done: 0, failed: 0 });
  await inbox.add(deviceEvent('d'), [to('h')]);
  assert.is(writes(), 2, 'a later turn, a new transaction');
});

test('deliveries with room start at once with their store IDs; the rest wait in the store', async () => {
  const { inbox, started, waiting } = inboxWith({ roomy: 1, full: 0 });
  const event = deviceEvent('temp');
  await inbox.add(event, [to('roomy', 'i1'), to('full', 'i2')]);
  assert.is(started.length, 1);
  assert.is(started[0]!.target.host, 'roomy');
  assert.is(started[0]!.event, event);
  assert.equal(waiting, ['full']);
  const claimed = await t.store.deliveries.claimDue('full', Date.now(), 10);
  assert.equal(claimed.map((c) => [c.delivery.integrationId, c.event.id]), [['i2', event.id]]);
  assert.is((await t.store.deliveries.counts()).running, 2, 'started with the ID the store gave it');
  assert.ok(started[0]!.id > 0 && started[0]!.id !== claimed[0]!.delivery.id);
});

test('an event with no targets starts nothing and leaves no delivery', async () => {
  const { inbox, started } = inboxWith({});
  await inbox.add(deviceEvent('quiet'), []);
  await inbox.settled();
  assert.is(started.length, 0);
  assert.equal(await t.store.deliveries.counts(), { pending: 0, running: 0, done: 0, failed: 0 });
});

test('a write that fails rejects every publisher of the batch and gives the promised slots back', async () => {
  const { inbox, started, released } = inboxWith({ h: 5 });
  await t.store.close(); // the database is gone: every write fails
  const results = await Promise.allSettled([inbox.add(deviceEvent('a'), [to('h')]), inbox.add(deviceEvent('b'), [to('h'), to('g')])]);
  assert.equal(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(released, ['h', 'h'], 'the two slots reserved on h');
  assert.is(started.length, 0);
  await inbox.settled();
});

test.run();
