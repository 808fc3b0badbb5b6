// The PostgreSQL store against a real server the test starts (test/helpers/postgres.ts): the
// conformance suite every backend passes, then what only a shared store has: schema
// migrations two bridges run at once, and deliveries leased so each goes to one bridge.
// CI installs Debian's postgresql and sets HOOKWIRE_REQUIRE_POSTGRES=1, so there missing
// binaries fail the suite; on a laptop without them the tests say they were skipped.

import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPostgresStore, type Store, type StoredEvent } from '../../../bridge/store/index.ts';
import { INSTALL_POSTGRES, postgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { storeConformance } from './conformance.ts';

const bin = postgresBin();
if (!bin && process.env.HOOKWIRE_REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL server binaries not found: ${INSTALL_POSTGRES}`);

if (!bin) {
  test(`PostgreSQL not installed: skipped (${INSTALL_POSTGRES})`, () => {});
  test.run();
} else {
  // One server for the file, a new database per test.
  let pg: TestPostgres | undefined;
  const server = async () => (pg ??= await startPostgres(bin));
  let url = '';
  const conformance = storeConformance('postgres', async () => {
    url = await (await server()).createDatabase();
    return openPostgresStore(url);
  }, async (s) => {
    await s.close();
    return openPostgresStore(url);
  });
  conformance.run();

  const leases = suite('postgres store: migrations and leases');
  const open: Store[] = [];
  const store = async (dbUrl: string, owner: string, leaseMs = 60_000) => {
    const s = await openPostgresStore(dbUrl, { owner, leaseMs });
    open.push(s);
    return s;
  };
  leases.after.each(async () => { await Promise.all(open.splice(0).map((s) => s.close())); });
  leases.after(async () => { await pg?.stop(); });

  const event = (id: string): StoredEvent => ({ id, name: 'temp', data: '21', type: 'text', published_at: new Date().toISOString(), coreid: 'a'.repeat(24), product_id: null, fw_version: null });
  const pending = async (s: Store, n: number, host: string, at: number) => (await s.deliveries.accept(Array.from({ length: n }, (_, i) => ({
    event: event(`${host}-${at}-${i}`), deliveries: [{ integrationId: 'i1', host, status: 'pending' as const, nextAt: at }],
  })))).flat();

  leases('bridges starting together migrate once, and the schema is versioned', async () => {
    const dbUrl = await (await server()).createDatabase();
    await Promise.all(['a', 'b', 'c'].map((o) => store(dbUrl, o)));
    const [a] = open;
    await a!.devices.create({ id: 'd'.repeat(24), name: 'x', productId: null, firmwareVersion: null, tokenHash: 'h'.repeat(64) });
    const again = await store(dbUrl, 'd');
    assert.is((await again.devices.get('d'.repeat(24)))!.name, 'x', 'a later start keeps the data');
  });

  leases('two bridges claiming the same due deliveries at once: each goes to exactly one', async () => {
    const dbUrl = await (await server()).createDatabase();
    const [a, b] = [await store(dbUrl, 'bridge-a'), await store(dbUrl, 'bridge-b')];
    const now = Date.now();
    const ids = await pending(a, 400, 'h.example', now);
    const got: { a: number[]; b: number[] } = { a: [], b: [] };
    // Many small claims from both sides, interleaved, until nothing is left.
    await Promise.all((['a', 'b'] as const).map(async (side) => {
      const s = side === 'a' ? a : b;
      for (let claimed; (claimed = await s.deliveries.claimDue('h.example', now, 7)).length > 0;) got[side].push(...claimed.map((c) => c.delivery.id));
    }));
    assert.ok(got.a.length > 0 && got.b.length > 0, `both claimed some (a ${got.a.length}, b ${got.b.length})`);
    const all = [...got.a, ...got.b].sort((x, y) => x - y);
    assert.equal(all, [...ids].sort((x, y) => x - y), 'every delivery claimed once');
    assert.equal(await a.deliveries.counts(), { pending: 0, running: 400, done: 0, failed: 0 });
  });

  leases('a claim is the holder\'s until its lease ends, then another bridge takes it; the old holder cannot settle it', async () => {
    const dbUrl = await (await server()).createDatabase();
    const [a, b] = [await store(dbUrl, 'bridge-a', 10_000), await store(dbUrl, 'bridge-b', 10_000)];
    const now = Date.now();
    const [id] = await pending(a, 1, 'h.example', now);
    assert.is((await a.deliveries.claimDue('h.example', now, 10)).length, 1);
    assert.equal(await b.deliveries.claimDue('h.example', now + 9_999, 10), [], 'held while the lease lasts');
    assert.is(await b.deliveries.nextDue('h.example'), now + 10_000, 'another bridge sees when the lease ends');
    assert.is(await a.deliveries.nextDue('h.example'), undefined, 'the holder does not wait for its own claim');
    assert.is(await b.deliveries.requeueRunning(now + 1), 0, 'a starting bridge leaves a live bridge\'s claims alone');

    const taken = await b.deliveries.claimDue('h.example', now + 10_000, 10);
    assert.equal(taken.map((c) => [c.delivery.id, c.delivery.status, c.event.id]), [[id, 'running', `h.example-${now}-0`]]);
    await a.deliveries.settle({ deliveries: [{ id: id!, status: 'failed', attempts: 1, nextAt: now, lastCode: '500', finishedAt: now }], statuses: [], daily: [], logs: [] }, 10);
    assert.equal(await b.deliveries.counts(), { pending: 0, running: 1, done: 0, failed: 0 }, 'the old holder\'s outcome does not undo the new claim');
    await b.deliveries.settle({ deliveries: [{ id: id!, status: 'done', attempts: 1, nextAt: now, lastCode: '200', finishedAt: now }], statuses: [], daily: [], logs: [] }, 10);
    assert.equal(await b.deliveries.counts(), { pending: 0, running: 0, done: 0, failed: 0 });
  });

  leases('leases are renewed while held; a closing bridge hands its claims back; a restarted one takes back its own', async () => {
    const dbUrl = await (await server()).createDatabase();
    const a = await store(dbUrl, 'bridge-a', 200);
    const b = await store(dbUrl, 'bridge-b', 200);
    const now = Date.now();
    await pending(a, 3, 'h.example', now);
    assert.is((await a.deliveries.claimDue('h.example', now, 2)).length, 2);
    await new Promise((r) => setTimeout(r, 500)); // more than the lease: renewed meanwhile
    assert.is((await b.deliveries.claimDue('h.example', Date.now(), 10)).length, 1, 'only the unclaimed one');

    await a.close();
    assert.is((await b.deliveries.claimDue('h.example', Date.now(), 10)).length, 2, 'handed back on close');

    const again = await store(dbUrl, 'bridge-b', 60_000);
    assert.is(await again.deliveries.requeueRunning(Date.now()), 3, 'the same owner restarted: its claims are pending again at once');
  });

  leases('retention removes failed deliveries and unneeded events in slices, keeping what is pending', async () => {
    const dbUrl = await (await server()).createDatabase();
    const s = await store(dbUrl, 'a');
    const old = new Date(Date.now() - 7_200_000).toISOString();
    await s.deliveries.accept(Array.from({ length: 2_500 }, (_, i) => ({ event: { ...event(`gone${i}`), published_at: old }, deliveries: [] })));
    const [keep] = await s.deliveries.accept([{ event: { ...event('kept'), published_at: old }, deliveries: [{ integrationId: 'i1', host: 'h', status: 'pending', nextAt: 0 }] }]);
    const failed = await pending(s, 3, 'f', 0);
    await s.deliveries.settle({ deliveries: failed.map((id) => ({ id, status: 'failed' as const, attempts: 1, nextAt: 0, lastCode: '500', finishedAt: 1 })), statuses: [], daily: [], logs: [] }, 10);
    const pruned = await s.deliveries.prune(Date.now(), { eventsMs: 3_600_000, failedMs: 1_000, dailyDays: 31 });
    assert.equal([pruned.deliveries, pruned.events], [3, 2_500], 'the failed deliveries\' events are recent: they stay');
    assert.is((await s.deliveries.claimDue('h', Date.now(), 5))[0]!.delivery.id, keep![0]);
  });

  leases.run();
}
