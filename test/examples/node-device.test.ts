// examples/node-device as a newcomer runs it: one command, nothing set but where the bridge's
// data is. It registers its device the first time and reuses it after, finds the broker from
// the bridge's bridge.json, publishes, and prints the webhook's reply that comes back to it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testBridge, type TestBridge } from '../helpers/bridge.ts';
import { run } from '../helpers/spawn.ts';

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
  // A webhook on the bridge's own request bin that answers something the device will print.
  await b.call('PUT', '/v1/bins/node-device', { status: 200, body: 'hi from the bin' });
  const created = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'hello', url: `${b.url}/bin/node-device` });
  assert.is(created.status, 201, JSON.stringify(created.body));
});
test.after(async () => {
  await b?.stop();
});

const device = () => run(process.execPath, ['--import', 'tsx', 'examples/node-device/device.ts', '--count', '1', '--every', '1'],
  { HOOKWIRE_DATA_DIR: b.config.dataDir, HOOKWIRE_URL: '', HOOKWIRE_MQTT_URL: '', HOOKWIRE_TOKEN: '', DEVICE_ID: '', DEVICE_TOKEN: '' });

test('one command: registers a device, connects to that bridge, publishes, prints the reply', async () => {
  const res = await device();
  assert.is(res.code, 0, res.stderr + res.stdout);
  const { id } = JSON.parse(await readFile(join(b.config.dataDir, 'node-device.json'), 'utf8'));
  assert.match(res.stdout, `registered device ${id}`);
  assert.match(res.stdout, `connected to ${b.mqttUrl} as ${id}`);
  assert.match(res.stdout, 'published hello: hello 1');
  assert.match(res.stdout, `received ${id}/hook-response/hello/0: hi from the bin`);
});

test('the second run reuses the device', async () => {
  const res = await device();
  assert.is(res.code, 0, res.stderr);
  assert.not.match(res.stdout, 'registered');
  assert.is((await b.call('GET', '/v1/devices')).body.length, 1);
});

test.run();
