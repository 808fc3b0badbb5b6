// A bridge that missed notices (Redis was away) catches up with the shared store: the
// integration registry's resync reads again every integration changed since it last read it
// (created, changed, disabled elsewhere) and drops those deleted, with nothing announced.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBus } from '../../../bridge/events/index.ts';
import { openPostgresStore, type Store } from '../../../bridge/store/index.ts';
import { createNotifier, notifyDefaults } from '../../../bridge/webhooks/notify.ts';
import { createRegistry, type Registry } from '../../../bridge/webhooks/registry.ts';
import { INSTALL_POSTGRES, postgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { quietLogger } from '../../helpers/store.ts';

if (!postgresBin()) {
  test(`PostgreSQL not installed: skipped (${INSTALL_POSTGRES})`, () => {});
} else {
  let pg: TestPostgres;
  const stores: Store[] = [];
  test.before(async () => { pg = await startPostgres(); });
  test.after(async () => {
    for (const s of stores) await s.close();
    await pg?.stop();
  });

  /** A bridge's registry on the shared store, with its own bus (no Redis: every notice is lost). */
  async function bridgeRegistry(url: string): Promise<{ registry: Registry; announced: string[] }> {
    const store = await openPostgresStore(url, { owner: `bridge-${stores.length}` });
    stores.push(store);
    const logger = quietLogger();
    const bus = new EventBus();
    const announced: string[] = [];
    bus.on('integration:changed', (id) => announced.push(id));
    const registry = createRegistry({ store, logger, notifier: createNotifier(notifyDefaults, () => {}, logger), bus, shared: true });
    await registry.load();
    return { registry, announced };
  }

  test('created, disabled and deleted on one bridge: the other learns each at its next resync', async () => {
    const url = await pg.createDatabase();
    const a = await bridgeRegistry(url);
    const b = await bridgeRegistry(url);
    const made = await a.registry.create({ event: 'temp', url: 'https://example.com/hook' }, null);
    assert.equal(b.registry.list().map((i) => i.id), [], 'B has not heard of it');
    await b.registry.resync();
    assert.equal(b.registry.list().map((i) => i.id), [made.id]);
    assert.is(b.registry.lookup(made.id)?.integration.disabled, false);

    await a.registry.setEnabled(a.registry.find(made.id), { kind: 'disabled', by: 'someone', reason: 'maintenance' });
    await b.registry.resync();
    assert.is(b.registry.lookup(made.id)?.integration.disabled, true);
    assert.is(b.registry.lookup(made.id)?.status.disabledReason, 'maintenance');

    await a.registry.remove(made.id);
    await b.registry.resync();
    assert.is(b.registry.lookup(made.id), undefined);
    assert.equal(b.announced, [], 'B announced nothing of what it read');
  });
}

test.run();
