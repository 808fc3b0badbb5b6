// Outcomes (bridge/webhooks/outcomes.ts) on a real SQLite store: what each kind of attempt
// changes (the delivery, the counters and state, the daily counts, the logs), that a batch is
// one store call, and that nothing is announced (a retry to the scheduler, a state change to
// the owner) before the batch is committed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Code } from '../../../bridge/codes.ts';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { openSqliteStore } from '../../../bridge/store/index.ts';
import { stored } from '../../../bridge/webhooks/inbox.ts';
import { createOutcomes, KEEP_LOGS, type Entry, type Outcomes } from '../../../bridge/webhooks/outcomes.ts';
import type { AttemptKind, AttemptRecord } from '../../../bridge/webhooks/pipeline.ts';
import { newStatus, readStatus } from '../../../bridge/webhooks/status.ts';
import type { IntegrationState } from '../../../bridge/webhooks/state.ts';
import { deviceEvent, quietLogger, storedIntegration, tempStore, type TempStore } from '../../helpers/store.ts';

let t: TempStore;
test.before.each(async () => {
  t = await tempStore();
});
test.after.each(async () => {
  await t.close();
});

const HOST = 'example.com';

interface Harness {
  outcomes: Outcomes;
  entry: Entry;
  /** In order: each store call ("settle"), and what outcomes told the scheduler and the owner. */
  told: string[];
  settles: () => number;
  /** A delivery of a new event to the integration, running, as a lane has it. */
  delivery(attempts?: number): Promise<{ id: number; event: HookwireEvent; attempts: number }>;
}

async function harness(template: Record<string, unknown> = {}): Promise<Harness> {
  const integration = await storedIntegration(t.store, { event: 'temp', url: `https://${HOST}/hook`, ...template });
  const entry: Entry = { integration, status: newStatus() };
  const told: string[] = [];
  let settles = 0;
  const settle = t.store.deliveries.settle.bind(t.store.deliveries);
  t.store.deliveries.settle = async (s, keep) => {
    settles++;
    await settle(s, keep);
    told.push('settle');
  };
  const outcomes = createOutcomes({
    store: t.store,
    logger: quietLogger(),
    entry: (id) => (id === integration.id ? entry : undefined),
    timeScale: 1,
    pending: (host) => told.push(`pending ${host}`),
    stop: (_, reason) => told.push(`stop: ${reason}`),
    changed: (e, previous: IntegrationState) => {
      told.push(`${previous} → ${e.status.state}`);
      return false;
    },
  });
  return {
    outcomes, entry, told, settles: () => settles,
    async delivery(attempts = 0) {
      const event = deviceEvent('temp');
      const [ids] = await t.store.deliveries.accept([{ event: stored(event), deliveries: [{ integrationId: integration.id, host: HOST, status: 'running', nextAt: Date.now() }] }]);
      return { id: ids![0]!, event, attempts };
    },
  };
}

function record(h: Harness, d: { id: number; event: HookwireEvent; attempts: number }, kind: AttemptKind, code?: Code): AttemptRecord {
  const r: AttemptRecord = { kind, event: d.event, durationMs: 12.34, job: { id: d.id, integrationId: h.entry.integration.id, event: d.event, host: HOST, attempts: d.attempts } };
  if (kind === 'success') r.response = { status: 200, headers: {}, body: Buffer.from('ok'), truncated: false };
  if (kind === 'failure') r.failure = { code: code ?? '500', message: 'error status 500 from example.com' };
  if (kind === 'skipped') r.failure = { code: 'SLEEPING', message: 'Sleeping' };
  return r;
}

const today = () => new Date().toISOString().slice(0, 10);
const storedStatus = async (id: string) => readStatus((await t.store.integrations.get(id))!.status);

test('a success: the delivery is done, the counters and daily count move, the log keeps it, the state turns Active', async () => {
  const h = await harness();
  const d = await h.delivery();
  h.outcomes.report(record(h, d, 'success'));
  await h.outcomes.settled();
  const id = h.entry.integration.id;
  assert.equal(await t.store.deliveries.counts(), { pending: 0, running: 0, done: 0, failed: 0 }, 'delivered jobs go');
  const s = await storedStatus(id);
  assert.equal([s.state, s.totalCalls, s.totalErrors, s.consecutiveErrors], ['Active', 1, 0, 0]);
  assert.ok(s.lastSuccessAt);
  assert.equal(await t.store.deliveries.daily(id, today()), [{ day: today(), success: 1, error: 0, skipped: 0 }]);
  const logs = await t.store.deliveries.logs(id);
  assert.equal(logs.map((l) => [l.ok, (l.entry as { event: { id: string } }).event.id]), [[true, d.event.id]]);
  assert.equal(h.told, ['settle', 'Unknown → Active']);
});

test('a failure with retries left: pending again at its retry time, told to the scheduler once committed', async () => {
  const h = await harness({ retryPolicy: [60] });
  const d = await h.delivery();
  const before = Date.now();
  h.outcomes.report(record(h, d, 'failure', '503'));
  assert.equal(h.told, [], 'nothing announced while the batch is open');
  await h.outcomes.settled();
  assert.equal(h.told, ['settle', `pending ${HOST}`, 'Unknown → Failing']);
  const due = (await t.store.deliveries.nextDue(HOST))!;
  assert.ok(due >= before + 54_000 && due <= Date.now() + 66_000, `due in ${due - before} ms`);
  const s = await storedStatus(h.entry.integration.id);
  assert.equal([s.state, s.totalCalls, s.totalErrors, s.consecutiveErrors, s.lastError?.code], ['Failing', 1, 1, 1, '503']);
  assert.equal((await t.store.deliveries.logs(h.entry.integration.id)).map((l) => l.ok), [false]);
});

test('the schedule runs out: the delivery fails for replay, the integration is stopped and its owner told', async () => {
  const h = await harness({ retryPolicy: [60] });
  const d = await h.delivery(1); // the one retry was made
  h.outcomes.report(record(h, d, 'failure', '500'));
  assert.ok(h.told[0]?.startsWith('stop: retry schedule exhausted'), 'stopped at once: no more attempts fire');
  await h.outcomes.settled();
  assert.equal(h.told.slice(1), ['settle', 'Unknown → TooManyErrors']);
  const failed = await t.store.deliveries.failed(h.entry.integration.id, { limit: 10 });
  assert.equal(failed.deliveries.map((f) => [f.id, f.attempts, f.lastCode]), [[d.id, 2, '500']]);
  const s = await storedStatus(h.entry.integration.id);
  assert.equal([s.state, s.disabledBy, s.totalDropped], ['TooManyErrors', 'hookwire', 1]);
});

test('Particle\'s policy drops a delivery whose retries ran out and carries on', async () => {
  const h = await harness({ retryPolicy: 'particle' });
  const d = await h.delivery(2);
  h.outcomes.report(record(h, d, 'failure', '500'));
  await h.outcomes.settled();
  assert.not.ok(h.told.some((x) => x.startsWith('stop')));
  const s = await storedStatus(h.entry.integration.id);
  assert.equal([s.state, s.disabledBy, s.totalDropped], ['Failing', null, 1]);
});

test('a skip (host asleep): counted as skipped, not a call, not logged, pending again', async () => {
  const h = await harness({ retryPolicy: 'durable' });
  const d = await h.delivery();
  h.outcomes.report(record(h, d, 'skipped'));
  await h.outcomes.settled();
  const id = h.entry.integration.id;
  const s = await storedStatus(id);
  assert.equal([s.state, s.totalCalls, s.totalSkipped], ['TooManyErrors', 0, 1]);
  assert.equal(await t.store.deliveries.daily(id, today()), [{ day: today(), success: 0, error: 0, skipped: 1 }]);
  assert.is((await t.store.deliveries.logs(id)).length, 0);
  assert.is((await t.store.deliveries.counts()).pending, 1);
});

test('an integration deleted or disabled since the event was accepted: the delivery is dropped, not retried', async () => {
  const h = await harness({ retryPolicy: 'durable' });
  const gone = await h.delivery();
  const deleted: AttemptRecord = { ...record(h, gone, 'stopped'), job: { ...record(h, gone, 'stopped').job, integrationId: 'deleted' } };
  h.outcomes.report(deleted);
  const stopped = await h.delivery();
  h.outcomes.report(record(h, stopped, 'stopped'));
  await h.outcomes.settled();
  assert.equal(await t.store.deliveries.counts(), { pending: 0, running: 0, done: 0, failed: 2 });
  assert.is((await storedStatus(h.entry.integration.id)).totalDropped, 1);
  assert.equal(h.told, ['settle']);
});

test('a burst is one batch: one store call; errors all logged (the last 10 kept), successes once a second', async () => {
  const h = await harness({ retryPolicy: 'particle' });
  const deliveries = await Promise.all(Array.from({ length: 30 }, () => h.delivery()));
  deliveries.forEach((d, i) => h.outcomes.report(record(h, d, i % 2 ? 'failure' : 'success')));
  await h.outcomes.settled();
  assert.is(h.settles(), 1);
  const logs = await t.store.deliveries.logs(h.entry.integration.id);
  assert.is(logs.filter((l) => !l.ok).length, KEEP_LOGS);
  assert.is(logs.filter((l) => l.ok).length, 1);
  const s = await storedStatus(h.entry.integration.id);
  assert.equal([s.totalCalls, s.totalErrors], [30, 15]);
});

test('a batch the store cannot take is not announced: its deliveries stay running for the next start', async () => {
  const h = await harness({ retryPolicy: [60] });
  const d = await h.delivery();
  await t.store.close(); // every write fails from here
  h.outcomes.report(record(h, d, 'failure'));
  await h.outcomes.settled();
  assert.equal(h.told, [], 'no retry scheduled, no state announced');
  const reopened = openSqliteStore(t.path);
  try {
    assert.is((await reopened.deliveries.counts()).running, 1);
  } finally {
    await reopened.close();
  }
});

test.run();
