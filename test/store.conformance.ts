// The store conformance suite: every backend runs these same checks (STYLE.md §7).

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HookwireError } from '../bridge/errors.ts';
import type { Store } from '../bridge/store/index.ts';

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

  t('integrations: create, get, list in order, update, remove', async () => {
    const base = { productId: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
    await store.integrations.create({ ...base, id: 'i1', template: { event: 'temp', url: 'https://example.com', json: { a: '{{{b}}}' } } });
    await store.integrations.create({ ...base, id: 'i2', productId: 7, template: { event: 'hum', url: 'https://example.com' }, createdAt: '2026-01-02T00:00:00.000Z' });
    assert.equal((await store.integrations.get('i1'))!.template, { event: 'temp', url: 'https://example.com', json: { a: '{{{b}}}' } });
    assert.equal((await store.integrations.list()).map((i) => i.id), ['i1', 'i2']);
    assert.ok(await store.integrations.update({ ...base, id: 'i1', productId: 3, template: { event: 'x', url: 'https://e.com' }, updatedAt: '2026-02-01T00:00:00.000Z' }));
    const u = (await store.integrations.get('i1'))!;
    assert.equal([u.productId, u.template.event, u.updatedAt, u.createdAt], [3, 'x', '2026-02-01T00:00:00.000Z', base.createdAt]);
    assert.not.ok(await store.integrations.update({ ...base, id: 'nope', template: {} }));
    assert.ok(await store.integrations.remove('i2'));
    assert.not.ok(await store.integrations.remove('i2'));
    assert.is((await store.integrations.list()).length, 1);
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
