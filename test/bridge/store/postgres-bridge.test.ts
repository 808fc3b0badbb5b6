// A bridge on the PostgreSQL store (HOOKWIRE_STORE=postgres://…): it starts, delivers a
// device's event through the shared queue, and what it holds survives a restart on the same
// database. The server is started by the test (test/helpers/postgres.ts); without its
// binaries the test says it was skipped, unless HOOKWIRE_REQUIRE_POSTGRES=1.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { INSTALL_POSTGRES, postgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

const bin = postgresBin();
if (!bin && process.env.HOOKWIRE_REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL server binaries not found: ${INSTALL_POSTGRES}`);

let pg: TestPostgres | undefined;
let rx: Receiver | undefined;
const bridges: TestBridge[] = [];
test.after(async () => {
  for (const b of bridges) await b.stop().catch(() => {});
  await rx?.close();
  await pg?.stop();
});

if (!bin) {
  test(`PostgreSQL not installed: skipped (${INSTALL_POSTGRES})`, () => {});
} else {
  test('a bridge on PostgreSQL delivers, and its devices and integrations survive a restart', async () => {
    pg = await startPostgres(bin);
    rx = await receiver();
    const storePath = await pg.createDatabase();
    const first = await testBridge({ storePath });
    bridges.push(first);
    assert.is(first.logs.find((l) => 'httpPort' in l && 'store' in l)?.store, 'postgres', 'the start is logged with its store');

    const device = await first.addDevice({ name: 'porch' });
    const created = await first.call('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'temp', url: `${rx.url}/hook`, requestType: 'POST' });
    assert.is(created.status, 201, JSON.stringify(created.body));
    const integrationId = created.body.id as string;

    // A QoS 1 publish is acknowledged once stored, then delivered from the shared queue.
    const client = await connectDevice({ url: first.mqttUrl, deviceId: device.id, token: device.token });
    await client.publish('temp', '21.5', { qos: 1 });
    const request = await rx.next('/hook', 5_000);
    assert.match(request.body.toString(), /21\.5/);
    await client.disconnect();
    await until(async () => (await first.store.deliveries.counts()).running === 0, 3_000, 'the delivery settled');
    await first.stop();
    bridges.pop();

    const second = await testBridge({ storePath });
    bridges.push(second);
    const devices = (await second.call('GET', '/v1/devices')).body as { id: string; name: string }[];
    assert.equal(devices.map((d) => [d.id, d.name]), [[device.id, 'porch']]);
    const integration = await second.call('GET', `/v1/integrations/${integrationId}`);
    assert.is(integration.status, 200);
    assert.is(integration.body.integration.event, 'temp');
    assert.equal(await second.store.deliveries.counts(), { pending: 0, running: 0, done: 0, failed: 0 }, 'delivered once, nothing left over');
  });
}

test.run();
