// Private stays private: the cloud's events about an event in a device's private space
// (<deviceID>/...) go to that device's space only. hook-sent/<event> for such an event would
// show every device its private event names.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let b: TestBridge;
let rx: Receiver;
let owner: TestClient;
let other: TestClient;
let ownerId: string;

test.before(async () => {
  b = await testBridge();
  rx = await receiver();
  rx.on('/private', (_req, res) => res.end('for you only'));
  const a = await b.addDevice();
  const c = await b.addDevice();
  ownerId = a.id;
  owner = await deviceClient(b.mqttUrl, a);
  other = await deviceClient(b.mqttUrl, c);
  await owner.client.subscribeAsync('#', { qos: 1 });
  await other.client.subscribeAsync('#', { qos: 1 });
});

test.after(async () => {
  await owner?.end();
  await other?.end();
  await b?.stop();
  await rx?.close();
});

test('hook-sent, hook-response and hook-error for a private event reach its device alone, under its ID', async () => {
  const name = `${ownerId}/secret-plan`;
  await b.call('POST', '/v1/integrations', { event: name, url: `${rx.url}/private` });
  await b.call('POST', '/v1/integrations', { event: name, url: `http://127.0.0.1:1/refused` });
  await owner.client.publishAsync(name, 'x', { qos: 1 });
  await until(() => owner.topics().some((t) => t.includes('hook-sent')) && owner.topics().some((t) => t.includes('hook-error')), 5000, 'the owner\'s answers');
  await b.webhooks.idle();
  const mine = owner.topics().filter((t) => t.includes('hook-'));
  assert.ok(mine.includes(`${ownerId}/hook-sent/${name}`), mine.join(', '));
  assert.ok(mine.includes(`${ownerId}/hook-response/${name}/0`), mine.join(', '));
  assert.ok(mine.some((t) => t.startsWith(`${ownerId}/hook-error/${name}/`)), mine.join(', '));
  const leaked = other.topics().filter((t) => t.includes('secret-plan'));
  assert.equal(leaked, [], 'another device saw the private event\'s name');
});

test('an event the API publishes into a device\'s space: its answers go to that device, not the sandbox topics', async () => {
  const name = `${ownerId}/api-secret`;
  await b.call('POST', '/v1/integrations', { event: name, url: `${rx.url}/private` });
  assert.is((await b.call('POST', '/v1/devices/events', { name, data: 'y' })).status, 200);
  await until(() => owner.topics().includes(`${ownerId}/hook-response/${name}/0`), 5000, 'the response in the device\'s space');
  await b.webhooks.idle();
  assert.equal(other.topics().filter((t) => t.includes('api-secret')), []);
});

test('a public event keeps Particle\'s hook-sent/<event>', async () => {
  await b.call('POST', '/v1/integrations', { event: 'public-temp', url: `${rx.url}/private` });
  await owner.client.publishAsync('public-temp', '1', { qos: 1 });
  await until(() => other.topics().includes('hook-sent/public-temp'), 5000, 'hook-sent for everyone');
});

test.run();
