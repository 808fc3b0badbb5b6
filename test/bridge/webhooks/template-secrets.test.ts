// A template's secrets stay in the request: when a template cannot render for an event, the
// error a device hears (hook-error), the integration's last error and logs (as a read token
// sees them) and the bridge's log lines say which field failed and why, never the rendered
// text, which holds the template's literals (API keys) beside the device's data.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

const SECRET = 'sk_live_9f8e7d6c5b4a';
let b: TestBridge;
let rx: Receiver;
let device: Device;
let readToken: string;
const heard: { name: string; data: string }[] = [];

test.before(async () => {
  b = await testBridge({ throttleMinErrors: 1_000_000 });
  rx = await receiver();
  const d = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  await device.subscribe(`${d.id}/hook-`, (name, data) => heard.push({ name, data: String(data) }));
  readToken = (await b.call('POST', '/v1/access_tokens', { name: 'viewer', scope: 'read' })).body.token;
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await rx?.close();
});

async function fail(event: string, template: Record<string, unknown>, data: string) {
  const created = await b.call('POST', '/v1/integrations', { event, url: `${rx.url}/never`, ...template });
  assert.is(created.status, 201, JSON.stringify(created.body));
  await device.publish(event, data, { qos: 1 });
  const topic = `${device.deviceID()}/hook-error/${event}/0`;
  await until(() => heard.some((h) => h.name === topic), 3000, topic);
  await b.webhooks.idle();
  const asReader = await b.call('GET', `/v1/integrations/${created.body.id}`, undefined, readToken);
  return { heard: heard.find((h) => h.name === topic)!.data, reader: JSON.stringify(asReader.body), logs: JSON.stringify(b.logs) };
}

function assertNoSecret(seen: { heard: string; reader: string; logs: string }, what: string) {
  assert.not.ok(seen.heard.includes(SECRET), `${what}: the device heard the secret: ${seen.heard}`);
  assert.not.ok(seen.reader.includes(SECRET), `${what}: a read token saw the secret`);
  assert.not.ok(seen.logs.includes(SECRET), `${what}: the bridge logged the secret`);
}

test('device data that breaks a string json template (a trailing backslash) does not reveal the template\'s key', async () => {
  const seen = await fail('leak1', { json: `{"key": "${SECRET}", "v": "{{{PARTICLE_EVENT_VALUE}}}"}` }, 'abc\\');
  assertNoSecret(seen, 'json');
  assert.match(seen.heard, /^template error: json: /);
  assert.match(seen.heard, /JSON/);
});

test('a responseTopic that renders an invalid name does not reveal its literal', async () => {
  rx.on('/answer', (_req, res) => res.end('ok'));
  const created = await b.call('POST', '/v1/integrations', { event: 'leak3', url: `${rx.url}/answer`, responseTopic: `${SECRET}/{{{room}}}` });
  assert.is(created.status, 201, JSON.stringify(created.body));
  await device.publish('leak3', '{"room":"living room"}', { qos: 1 }); // a space: no event name
  const topic = `${device.deviceID()}/hook-error/leak3/0`;
  await until(() => heard.some((h) => h.name === topic), 3000, topic);
  await b.webhooks.idle();
  const detail = (await b.call('GET', `/v1/integrations/${created.body.id}`, undefined, readToken)).body.integration;
  const lastError = JSON.stringify([detail.counters.last_error, detail.logs]);
  assertNoSecret({ heard: heard.find((h) => h.name === topic)!.data, reader: lastError, logs: JSON.stringify(b.logs) }, 'responseTopic');
});

test('a delivery log shows a read token the rendered request with every literal blanked: URL path and query, header values', async () => {
  rx.on('/services', (_req, res) => res.end('ok'));
  const created = await b.call('POST', '/v1/integrations', {
    event: 'logged', url: `${rx.url}/services/${SECRET}?k=${SECRET}`, headers: { 'X-Session': SECRET }, json: { v: '{{PARTICLE_EVENT_VALUE}}' },
  });
  await device.publish('logged', '1', { qos: 1 });
  await until(() => rx.requests.some((r) => r.url.startsWith('/services/')), 3000, 'the delivery');
  await b.webhooks.idle();
  const asReader = (await b.call('GET', `/v1/integrations/${created.body.id}`, undefined, readToken)).body.integration;
  const log = asReader.logs[0];
  assert.ok(log?.request, 'a log with its request');
  assert.not.ok(JSON.stringify(asReader).includes(SECRET));
  assert.equal([log.request.url.endsWith('/[redacted]/[redacted]?k=[redacted]'), log.request.headers['x-session'], log.request.headers['content-type']], [true, '[redacted]', 'application/json']);
  const asAdmin = (await b.call('GET', `/v1/integrations/${created.body.id}`)).body.integration;
  assert.ok(asAdmin.logs[0].request.url.includes(SECRET), 'the admin sees the request as sent');
});

test.run();
