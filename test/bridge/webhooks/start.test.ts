// The webhooks send nothing until they are started: a delivery a previous run left pending
// waits for `start`, which the bridge calls once its answers (hook-responses) have somewhere to
// go. Before, such a delivery could finish while the broker was still starting and its answer
// had nowhere to go (the bridge crashed).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWebhooks } from '../../../bridge/webhooks/index.ts';
import { until } from '../../helpers/bridge.ts';
import { sleep } from '../../helpers/mqtt.ts';
import { receiver } from '../../helpers/receiver.ts';
import { DEVICE, quietLogger, storedIntegration, tempStore } from '../../helpers/store.ts';

test('a delivery left pending goes out at start, not before', async () => {
  const rx = await receiver();
  const t = await tempStore();
  const published: string[] = [];
  try {
    const integration = await storedIntegration(t.store, { event: 'left', url: `${rx.url}/hook`, requestType: 'POST' });
    await t.store.deliveries.accept([{
      event: { id: 'ev1', name: 'left', data: '1', type: 'text', published_at: new Date().toISOString(), coreid: DEVICE, product_id: null, fw_version: null },
      deliveries: [{ integrationId: integration.id, host: '127.0.0.1', status: 'running', nextAt: Date.now() }],
    }]);
    const webhooks = await createWebhooks({
      store: t.store, logger: quietLogger(), publish: (name) => { published.push(name); },
    });
    try {
      await sleep(300);
      assert.is(rx.requests.length, 0, 'nothing sent before start');
      await webhooks.start();
      await until(() => published.length > 0, 5000, 'the answer, published');
      assert.equal(published, ['hook-sent/left']);
      assert.is(rx.requests.length, 1);
    } finally {
      await webhooks.close();
    }
  } finally {
    await t.close();
    await rx.close();
  }
});

test.run();
