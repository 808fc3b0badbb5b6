// WAL checkpoints off the bridge's thread (bridge/store/checkpointer.ts): what the bridge
// commits reaches the database file without the bridge's connection copying it (that copy,
// inside a commit, was the slow tail of event latency), and the store closes cleanly.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { openSqliteStore } from '../../../bridge/store/index.ts';
import { stored } from '../../../bridge/webhooks/inbox.ts';
import { until } from '../../helpers/bridge.ts';
import { deviceEvent, tempStore } from '../../helpers/store.ts';

test('commits reach the database file within moments, well before SQLite\'s own 1,000-page checkpoint', async () => {
  const t = await tempStore();
  try {
    const before = statSync(t.path).size;
    // About 300 pages of events and deliveries: far below the 1,000 pages after which a commit
    // would checkpoint by itself.
    for (let i = 0; i < 20; i++) {
      await t.store.deliveries.accept(Array.from({ length: 50 }, () => ({
        event: stored(deviceEvent('temp', 'x'.repeat(800))),
        deliveries: [{ integrationId: 'i1', host: 'example.com', status: 'pending' as const, nextAt: Date.now() }],
      })));
    }
    const wal = statSync(`${t.path}-wal`).size;
    assert.ok(wal < 1000 * 4096, `WAL ${wal} bytes`);
    await until(() => statSync(t.path).size > before + 500_000, 3000, 'the database file to grow');
  } finally {
    await t.close();
  }
});

test('closing stops the checkpoints and leaves everything in the file', async () => {
  const t = await tempStore();
  await t.store.deliveries.accept([{ event: stored(deviceEvent('temp')), deliveries: [{ integrationId: 'i1', host: 'h', status: 'pending', nextAt: 1 }] }]);
  await t.store.close();
  const again = openSqliteStore(t.path);
  try {
    assert.is((await again.deliveries.counts()).pending, 1);
  } finally {
    await again.close();
    await t.close();
  }
});

test.run();
