// The store conformance suite: every backend runs these same checks (STYLE.md §7).

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HookwireError } from '../../../bridge/errors.ts';
import type { Store } from '../../../bridge/store/index.ts';

export function storeConformance(backend: string, open: () => Promise<Store>, reopen?: (s: Store) => Promise<Store>) {
  const t = suite(`store conformance: ${backend}`);
  let store: Store;
  t.before.each(async () => { store = await open(); });
  t.after.each(async () => { await store.close(); });

  const device = (id: string, name: string | null = null) => ({ id, name, productId: null, firmwareVersion: null, tokenHash: 'h'.repeat(64) });

  t('devices: create, get by ID and name, list in creation order', async () => {
    const a = await store.devices.create({ ...device('a'.repeat(24), 'alpha'), productId: 5, firmwareVersion: 2 });
    await store.devices.create(device('b'.repeat(24)));
    assert.is(a.lastHeard, null);
    assert.equal(await store.devices.get('a'.repeat(24)), a);
    assert.equal(await store.devices.getByName('alpha'), a);
    assert.is(await store.devices.get('c'.repeat(24)), undefined);
    assert.equal((await store.devices.list()).map((d) => d.id), ['a'.repeat(24), 'b'.repeat(24)]);
  });

  t('devices: names are unique, and a clash is NAME_TAKEN that changes nothing', async () => {
    await store.devices.create(device('a'.repeat(24), 'same'));
    try {
      await store.devices.create(device('b'.repeat(24), 'same'));
      assert.unreachable();
    } catch (err) {
      assert.instance(err, HookwireError);
      assert.is((err as HookwireError).code, 'NAME_TAKEN');
    }
    assert.is((await store.devices.list()).length, 1);
    await store.devices.create(device('c'.repeat(24), 'other'));
    try {
      await store.devices.update('c'.repeat(24), { name: 'same' });
      assert.unreachable();
    } catch (err) {
      assert.is((err as HookwireError).code, 'NAME_TAKEN');
    }
    assert.is((await store.devices.get('c'.repeat(24)))!.name, 'other');
  });

  t('devices: update only what is given; remove', async () => {
    await store.devices.create({ ...device('a'.repeat(24), 'x'), productId: 1 });
    const u = await store.devices.update('a'.repeat(24), { firmwareVersion: 9, lastHeard: '2026-01-01T00:00:00.000Z' });
    assert.is(u!.productId, 1);
    assert.is(u!.firmwareVersion, 9);
    assert.is(u!.name, 'x');
    assert.is(u!.lastHeard, '2026-01-01T00:00:00.000Z');
    assert.is(await store.devices.update('f'.repeat(24), { firmwareVersion: 1 }), undefined);
    assert.ok(await store.devices.remove('a'.repeat(24)));
    assert.not.ok(await store.devices.remove('a'.repeat(24)));
    assert.is(await store.devices.get('a'.repeat(24)), undefined);
  });

  t('tokens: find by hash until revoked', async () => {
    const tok = await store.tokens.create({ id: 't1', name: 'ci', scope: 'read', tokenHash: 'x'.repeat(64) });
    assert.equal(await store.tokens.findByHash('x'.repeat(64)), tok);
    assert.ok(await store.tokens.revoke('t1'));
    assert.not.ok(await store.tokens.revoke('t1'));
    assert.is(await store.tokens.findByHash('x'.repeat(64)), undefined);
    assert.ok((await store.tokens.list())[0]!.revokedAt);
  });

  t('sessions: found with their token until expired, removed, or the token revoked', async () => {
    const tok = await store.tokens.create({ id: 't1', name: 'console', scope: 'admin', tokenHash: 'x'.repeat(64) });
    const session = { idHash: 's'.repeat(64), tokenId: 't1', csrf: 'c'.repeat(32), createdAt: '2026-01-01T00:00:00.000Z', expiresAt: 2_000 };
    await store.sessions.create(session);
    assert.equal(await store.sessions.find('s'.repeat(64), 1_000), { session, token: tok });
    assert.is(await store.sessions.find('s'.repeat(64), 2_000), undefined, 'expired at expiresAt');
    await store.sessions.touch('s'.repeat(64), 5_000);
    assert.is((await store.sessions.find('s'.repeat(64), 2_000))!.session.expiresAt, 5_000);
    assert.is(await store.sessions.find('u'.repeat(64), 1_000), undefined);

    await store.sessions.create({ ...session, idHash: 'o'.repeat(64), expiresAt: 1_500 });
    assert.is(await store.sessions.prune(3_000), 1, 'only the one expired by then');
    assert.ok(await store.sessions.find('s'.repeat(64), 3_000));

    await store.tokens.revoke('t1');
    assert.is(await store.sessions.find('s'.repeat(64), 1_000), undefined, 'a revoked token ends its sessions');
    assert.ok(await store.sessions.remove('s'.repeat(64)));
    assert.not.ok(await store.sessions.remove('s'.repeat(64)));
  });

  t('integrations: create, get, list in order, update, remove', async () => {
    const base = { productId: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
    await store.integrations.create({ ...base, id: 'i1', template: { event: 'temp', url: 'https://example.com', json: { a: '{{{b}}}' } } });
    await store.integrations.create({ ...base, id: 'i2', productId: 7, template: { event: 'hum', url: 'https://example.com' }, createdAt: '2026-01-02T00:00:00.000Z' });
    assert.equal((await store.integrations.get('i1'))!.template, { event: 'temp', url: 'https://example.com', json: { a: '{{{b}}}' } });
    assert.equal((await store.integrations.list()).map((i) => i.id), ['i1', 'i2']);
    assert.ok(await store.integrations.update({ ...base, id: 'i1', productId: 3, template: { event: 'x', url: 'https://e.com' }, updatedAt: '2026-02-01T00:00:00.000Z' }));
    const u = (await store.integrations.get('i1'))!;
    assert.equal([u.productId, (u.template as { event: string }).event, u.updatedAt, u.createdAt], [3, 'x', '2026-02-01T00:00:00.000Z', base.createdAt]);
    assert.not.ok(await store.integrations.update({ ...base, id: 'nope', template: {} }));
    assert.ok(await store.integrations.remove('i2'));
    assert.not.ok(await store.integrations.remove('i2'));
    assert.is((await store.integrations.list()).length, 1);
  });

  const event = (id: string, published_at = '2026-01-01T00:00:00.000Z') => ({ id, name: 'temp', data: '21', type: 'text' as const, published_at, coreid: 'a'.repeat(24), product_id: null, fw_version: null });

  t('deliveries: accept in one batch; claim what is due per host; settle; done ones are deleted', async () => {
    const now = 1_000_000;
    const ids = await store.deliveries.accept([
      { event: event('e1'), deliveries: [{ integrationId: 'i1', host: 'a.example', status: 'running', nextAt: now }, { integrationId: 'i2', host: 'b.example', status: 'pending', nextAt: now }] },
      { event: event('e2'), deliveries: [{ integrationId: 'i1', host: 'a.example', status: 'pending', nextAt: now + 500 }] },
    ]);
    assert.is(ids.length, 2);
    assert.is(ids[0]!.length, 2);
    assert.equal(await store.deliveries.counts(), { pending: 2, running: 1, done: 0, failed: 0 });
    assert.equal([...(await store.deliveries.pendingHosts())].sort(), [['a.example', now + 500], ['b.example', now]]);
    assert.equal(await store.deliveries.claimDue('a.example', now, 10), [], 'not due yet');
    const claimed = await store.deliveries.claimDue('a.example', now + 500, 10);
    assert.equal(claimed.map((c) => [c.delivery.id, c.delivery.status, c.event.id, c.event.data]), [[ids[1]![0], 'running', 'e2', '21']]);
    assert.is(await store.deliveries.nextDue('a.example'), undefined);
    assert.is(await store.deliveries.nextDue('b.example'), now);

    await store.deliveries.settle({
      deliveries: [
        { id: ids[0]![0]!, status: 'done', attempts: 1, nextAt: now, lastCode: '200', finishedAt: now },
        { id: ids[0]![1]!, status: 'pending', attempts: 1, nextAt: now + 30_000, lastCode: '503', finishedAt: null },
        { id: ids[1]![0]!, status: 'failed', attempts: 3, nextAt: now, lastCode: '500', finishedAt: now },
      ],
      statuses: [],
      daily: [{ integrationId: 'i1', day: '2026-01-01', success: 1, error: 2, skipped: 3 }, { integrationId: 'i1', day: '2026-01-01', success: 1, error: 0, skipped: 0 }],
      logs: [],
    }, 10);
    assert.equal(await store.deliveries.counts(), { pending: 1, running: 0, done: 0, failed: 1 });
    assert.is(await store.deliveries.nextDue('b.example'), now + 30_000);
    assert.equal(await store.deliveries.daily('i1', '2026-01-01'), [{ day: '2026-01-01', success: 2, error: 2, skipped: 3 }]);
  });

  t('deliveries: a large batch (more rows than one statement takes) returns each delivery\'s own ID', async () => {
    const now = 5_000;
    const batch = Array.from({ length: 150 }, (_, i) => ({
      event: event(`big${i}`),
      deliveries: [{ integrationId: 'i1', host: 'many', status: 'pending' as const, nextAt: now }, { integrationId: 'i2', host: 'many', status: 'pending' as const, nextAt: now }],
    }));
    const ids = await store.deliveries.accept(batch);
    const claimed = await store.deliveries.claimDue('many', now, 1000);
    assert.is(claimed.length, 300);
    const byId = new Map(claimed.map((c) => [c.delivery.id, c]));
    batch.forEach((b, i) => b.deliveries.forEach((d, k) => {
      const c = byId.get(ids[i]![k]!)!;
      assert.equal([c.event.id, c.delivery.integrationId], [b.event.id, d.integrationId]);
    }));
  });

  t('deliveries: running ones go back to pending at start; pruning keeps what is still needed', async () => {
    const now = Date.now();
    await store.deliveries.accept([{ event: event('old', new Date(now - 7_200_000).toISOString()), deliveries: [{ integrationId: 'i1', host: 'h', status: 'running', nextAt: now }] }]);
    await store.deliveries.accept([{ event: event('gone', new Date(now - 7_200_000).toISOString()), deliveries: [] }]);
    assert.is(await store.deliveries.requeueRunning(now + 5), 1);
    assert.equal(await store.deliveries.counts(), { pending: 1, running: 0, done: 0, failed: 0 });
    const pruned = await store.deliveries.prune(now, { eventsMs: 3_600_000, failedMs: 1000, dailyDays: 31 });
    assert.equal([pruned.deliveries, pruned.events], [0, 1], 'the event with no delivery left goes; the pending one stays');
    assert.is((await store.deliveries.claimDue('h', now + 5, 5))[0]!.event.id, 'old');
  });

  t('logs: newest first, each integration keeps its last N of each kind', async () => {
    for (let i = 0; i < 15; i++) {
      await store.deliveries.settle({ deliveries: [], statuses: [], daily: [], logs: [
        { integrationId: 'i1', ok: true, at: `t${i}`, entry: { n: i } },
        { integrationId: 'i1', ok: false, at: `t${i}`, entry: { n: i } },
        { integrationId: 'i2', ok: true, at: `t${i}`, entry: { n: i } },
      ] }, 10);
    }
    const logs = await store.deliveries.logs('i1');
    assert.is(logs.length, 20);
    assert.equal(logs.filter((l) => l.ok).map((l) => (l.entry as { n: number }).n), [14, 13, 12, 11, 10, 9, 8, 7, 6, 5]);
    assert.is((await store.deliveries.logs('i2')).length, 10);
  });

  t('integration status: settles add their counters to the stored ones; other fields are the latest, unless a newer revision is stored', async () => {
    const base = { productId: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', template: { event: 'temp', url: 'https://example.com' } };
    const counters = (calls: number, errors: number) => ({ totalCalls: calls, totalErrors: errors, totalSkipped: 0, totalDropped: 0 });
    await store.integrations.create({ ...base, id: 'i1', status: { state: 'Unknown', revision: 0, ...counters(0, 0) } });
    const settle = (status: object, add: Record<string, number>) =>
      store.deliveries.settle({ deliveries: [], statuses: [{ integrationId: 'i1', status, add }], daily: [], logs: [] }, 10);
    const stored = async () => (await store.integrations.get('i1'))!.status as Record<string, unknown>;

    // Two bridges, each settling from what it holds in memory (its own counts only).
    await settle({ state: 'Active', revision: 0, lastError: null, ...counters(3, 0) }, counters(3, 0));
    await settle({ state: 'Failing', revision: 0, lastError: { code: '500' }, ...counters(2, 2) }, counters(2, 2));
    let s = await stored();
    assert.equal([s.totalCalls, s.totalErrors, s.totalSkipped, s.totalDropped], [5, 2, 0, 0], 'counters added up, not the last one written');
    assert.equal([s.state, s.lastError], ['Failing', { code: '500' }], 'other fields: the latest settle\'s');

    // A person's change (a newer revision), then a settle from a bridge that has not read it.
    await settle({ state: 'Disabled', revision: 1, disabledBy: 'ops', ...counters(0, 0) }, counters(0, 0));
    await settle({ state: 'Active', revision: 0, disabledBy: null, ...counters(9, 0) }, counters(1, 0));
    s = await stored();
    assert.equal([s.state, s.disabledBy, s.revision], ['Disabled', 'ops', 1], 'the stale settle does not undo the change');
    assert.is(s.totalCalls, 6, 'its counts are still added');

    // Several updates of one integration in one settlement: the last status, every addition.
    await store.deliveries.settle({ deliveries: [], daily: [], logs: [], statuses: [
      { integrationId: 'i1', status: { state: 'Active', revision: 1 }, add: counters(1, 0) },
      { integrationId: 'i1', status: { state: 'Failing', revision: 1 }, add: counters(1, 1) },
    ] }, 10);
    s = await stored();
    assert.equal([s.state, s.totalCalls, s.totalErrors], ['Failing', 8, 3]);
  });

  t('stats: rows with the same key add up and widen first/last; a range is [from, until); prune drops old hours', async () => {
    const H = 3_600_000;
    const row = (hour: number, code: string, count: number, firstAt: number, lastAt: number) =>
      ({ hour, type: 'outbound' as const, integrationId: 'i1', code, description: code ? 'Connection refused' : '', count, firstAt, lastAt });
    await store.stats.add([row(0, '', 2, 10, 20), row(0, 'ECONNREFUSED', 1, 30, 30), row(H, '', 1, H + 5, H + 5)]);
    await store.stats.add([row(0, '', 3, 5, 15), row(0, 'ECONNREFUSED', 2, 40, 50)]);
    await store.stats.add([]);
    const first = (await store.stats.range(0, H)).sort((a, b) => a.code.localeCompare(b.code));
    assert.equal(first, [row(0, '', 5, 5, 20), row(0, 'ECONNREFUSED', 3, 30, 50)]);
    assert.equal(await store.stats.range(H, 2 * H), [row(H, '', 1, H + 5, H + 5)]);
    assert.is(await store.stats.prune(H), 2);
    assert.equal((await store.stats.range(0, 2 * H)).map((r) => r.hour), [H]);
  });

  // Shared request bins: only a store several bridges share has them.
  t('bins: capture makes a bin while there is room; bounds per bin, on bins and on bytes; clear keeps the answer', async () => {
    const bins = store.bins;
    if (!bins) return;
    const limits = { maxRequests: 3, maxBins: 2, maxTotalBytes: 1000 };
    const req = (n: number, size = 100) => ({ at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), size, request: { n } });
    const kept = async (name: string) => (await bins.requests(name, 0)).map((r) => (r.request as { n: number }).n);
    assert.equal(await bins.capture('a', req(1), limits), { response: null });
    for (const n of [2, 3, 4]) await bins.capture('a', req(n), limits);
    assert.equal(await kept('a'), [2, 3, 4], 'the oldest request dropped');
    const a = await bins.get('a');
    assert.equal([a!.count, a!.total, a!.lastRequestAt, a!.response], [3, 4, req(4).at, null]);
    const ids = (await bins.requests('a', 0)).map((r) => r.id);
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
    assert.equal((await bins.requests('a', ids[1]!)).map((r) => r.id), [ids[2]]);

    await bins.capture('b', req(5), limits);
    assert.is(await bins.capture('c', req(6), limits), undefined, 'no room: the capture makes no bin');
    assert.equal((await bins.list()).map((b) => b.name), ['b', 'a'], 'most recently used first');

    // 300 + 100 bytes held; 700 more in b: a (least recently used) loses its oldest first.
    await bins.capture('b', req(7, 700), limits);
    assert.equal([await kept('a'), await kept('b')], [[3, 4], [5, 7]]);
    await bins.capture('b', req(8, 900), limits);
    assert.equal([await kept('a'), await kept('b')], [[], [8]], 'never the request just kept');

    const configured = await bins.configure('c', { status: 503 }, limits);
    assert.equal([configured.name, configured.count, configured.response], ['c', 0, { status: 503 }]);
    assert.equal((await bins.list()).map((b) => b.name), ['c', 'b'], 'a bin made with an answer pushes out the least recently used');
    assert.equal(await bins.capture('c', req(9), limits), { response: { status: 503 } });
    assert.ok(await bins.clear('c'));
    assert.not.ok(await bins.clear('a'));
    const c = await bins.get('c');
    assert.equal([c!.count, c!.total, c!.response, await kept('c')], [0, 1, { status: 503 }, []]);
  });

  t('bins: a watcher hears every capture, by bin name', async () => {
    const bins = store.bins;
    if (!bins) return;
    const heard: string[] = [];
    const stop = await bins.watch((name) => heard.push(name));
    const limits = { maxRequests: 10, maxBins: 10, maxTotalBytes: 10_000 };
    await bins.capture('x', { at: new Date().toISOString(), size: 10, request: {} }, limits);
    await bins.capture('y', { at: new Date().toISOString(), size: 10, request: {} }, limits);
    const deadline = Date.now() + 10_000;
    while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await stop();
    assert.equal(heard, ['x', 'y']);
  });

  if (reopen) {
    t('what was written is there after reopening', async () => {
      await store.devices.create(device('d'.repeat(24), 'kept'));
      store = await reopen(store);
      assert.is((await store.devices.getByName('kept'))!.id, 'd'.repeat(24));
    });
  }

  return t;
}
