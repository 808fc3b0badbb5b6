// Responses routed back to the device that triggered the hook (PARTICLE.md §3), received by
// real devices through the SDK: 512-byte parts cut on UTF-8 boundaries, the 100 KB cap,
// unchunked, responseTemplate, data URLs, topics.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { sleep } from '../../helpers/mqtt.ts';

let b: TestBridge;
let rx: Receiver;
let device: Device;
/** Everything the device received, in order. */
const heard: { name: string; data: unknown }[] = [];

test.before(async () => {
  b = await testBridge();
  rx = await receiver();
  const d = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  await device.subscribe(`${d.id}/`, (name, data) => heard.push({ name, data }));
  await device.subscribe('hook-sent/', (name, data) => heard.push({ name, data }));
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await rx?.close();
});

let n = 0;
/** Serve `body` for one hook on a fresh event name; publish; the parts the device got, by index. */
async function respond(body: string | Buffer, template: Record<string, unknown> = {}, contentType = 'text/plain; charset=utf-8') {
  const event = `resp${++n}x`; // never a prefix of another case's name
  rx.on(`/${event}`, (_req, res) => {
    res.setHeader('content-type', contentType);
    res.end(body);
  });
  const created = await b.call('POST', '/v1/integrations', { event, url: `${rx.url}/${event}`, ...template });
  assert.is(created.status, 201, JSON.stringify(created.body));
  await device.publish(event, 'go', { qos: 1 });
  await b.webhooks.idle();
  await until(() => heard.some((h) => h.name === `hook-sent/${event}`), 2000, 'hook-sent');
  await sleep(100); // parts follow hook-sent
  const prefix = `${device.deviceID()}/hook-response/${event}/`;
  const parts = heard.filter((h) => h.name.startsWith(prefix)).sort((a, b) => Number(a.name.slice(prefix.length)) - Number(b.name.slice(prefix.length)));
  return { event, id: created.body.id as string, parts, names: parts.map((p) => p.name.slice(prefix.length)) };
}

const bytes = (data: unknown) => (typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length);

test('an empty body sends hook-sent and no hook-response', async () => {
  const r = await respond('');
  assert.equal(r.parts, []);
});

test('no hook-sent when the request never reached a server', async () => {
  const sent: string[] = [];
  const onEvent = (e: { name: string }) => { if (e.name.startsWith('hook-sent/')) sent.push(e.name); };
  b.bus.on('event', onEvent);
  await b.call('POST', '/v1/integrations', { event: 'unreachable', url: 'http://127.0.0.1:1/x' });
  await device.publish('unreachable', 'x', { qos: 1 });
  await b.webhooks.idle();
  await until(() => heard.some((h) => h.name === `${device.deviceID()}/hook-error/unreachable/0`));
  b.bus.off('event', onEvent);
  assert.equal(sent, []);
});

for (const [size, expected] of [[511, [511]], [512, [512]], [513, [512, 1]]] as const) {
  test(`a ${size}-byte body arrives as parts of ${expected.join(' + ')} bytes`, async () => {
    const body = 'a'.repeat(size);
    const r = await respond(body);
    assert.equal(r.names, expected.map((_, i) => String(i)));
    assert.equal(r.parts.map((p) => bytes(p.data)), [...expected]);
    assert.is(r.parts.map((p) => p.data).join(''), body);
  });
}

test('multi-byte UTF-8 is cut on character boundaries: each part is valid text', async () => {
  const body = '€'.repeat(200); // 600 bytes; 512 is not a multiple of 3
  const r = await respond(body);
  assert.equal(r.parts.map((p) => typeof p.data), ['string', 'string'], 'each part decodes as text');
  assert.equal(r.parts.map((p) => bytes(p.data)), [510, 90]);
  assert.is(r.parts.map((p) => p.data).join(''), body);
});

test('a 150 KB body is capped at the first 100 KB: 200 parts of 512 bytes', async () => {
  const body = Buffer.alloc(150 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
  const r = await respond(body);
  assert.is(r.parts.length, 200);
  assert.ok(r.parts.every((p) => bytes(p.data) === 512));
  assert.is(r.parts.map((p) => p.data).join(''), body.subarray(0, 100 * 1024).toString());
});

test('unchunked: a response within the 1024-byte device limit arrives whole as part 0', async () => {
  const body = 'z'.repeat(1000);
  const r = await respond(body, { unchunked: true });
  assert.equal(r.names, ['0']);
  assert.is(r.parts[0]!.data, body);
});

test('unchunked over the device limit: discarded, and the integration\'s log says so', async () => {
  const r = await respond('z'.repeat(2000), { unchunked: true });
  assert.equal(r.parts, []);
  const detail = await b.call('GET', `/v1/integrations/${r.id}`);
  const log = detail.body.integration.logs[0];
  assert.ok(log.ok, 'the call itself succeeded');
  assert.match(log.note, /2000 bytes discarded/);
  assert.equal([detail.body.integration.counters.total_calls, detail.body.integration.counters.total_errors], [1, 0]);
});

test('responseTemplate renders over the response parsed as JSON', async () => {
  const weather = { main: { temp: 21.5, humidity: 60 }, weather: [{ description: 'light rain' }], name: 'London' };
  const r = await respond(JSON.stringify(weather), { responseTemplate: '{{main.temp}}~{{weather.0.description}}' }, 'application/json');
  assert.equal(r.parts.map((p) => p.data), ['21.5~light rain']);
});

test('dataUrlResponseEvent sends the response as a data: URL', async () => {
  const r = await respond('hi there', { dataUrlResponseEvent: true });
  assert.equal(r.parts.map((p) => p.data), [`data:text/plain;base64,${Buffer.from('hi there').toString('base64')}`]);
});

test('responseTopic is rendered; parts go to <responseTopic>/<index>', async () => {
  const event = `custom${++n}x`;
  rx.on(`/${event}`, (_req, res) => res.end('custom answer'));
  await b.call('POST', '/v1/integrations', { event, url: `${rx.url}/${event}`, responseTopic: '{{PARTICLE_DEVICE_ID}}/answers/{{PARTICLE_EVENT_NAME}}' });
  await device.publish(event, 'go', { qos: 1 });
  await until(() => heard.some((h) => h.name === `${device.deviceID()}/answers/${event}/0`));
  assert.is(heard.find((h) => h.name === `${device.deviceID()}/answers/${event}/0`)!.data, 'custom answer');
});

test('a prefix hook my-hooks fired by my-hooks/get_weather answers on .../hook-response/my-hooks/get_weather/0', async () => {
  rx.on('/my-hooks', (_req, res) => res.end('sunny'));
  await b.call('POST', '/v1/integrations', { event: 'my-hooks', url: `${rx.url}/my-hooks` });
  await device.publish('my-hooks/get_weather', 'Paris', { qos: 1 });
  const topic = `${device.deviceID()}/hook-response/my-hooks/get_weather/0`;
  await until(() => heard.some((h) => h.name === topic));
  assert.is(heard.find((h) => h.name === topic)!.data, 'sunny');
});

test('two devices firing one product integration each receive only their own response', async () => {
  const [a, c] = [await b.addDevice({ product_id: 9 }), await b.addDevice({ product_id: 9 })];
  const devices = [await connectDevice({ url: b.mqttUrl, deviceId: a.id, token: a.token }), await connectDevice({ url: b.mqttUrl, deviceId: c.id, token: c.token })];
  const got = new Map<string, string[]>(devices.map((d) => [d.deviceID(), []]));
  // Each subscribes to everything it may receive: the whole fleet's events ('' = '#').
  for (const d of devices) await d.subscribe('', (name, data) => { if (name.includes('hook-response')) got.get(d.deviceID())!.push(`${name}=${data}`); });
  rx.on('/product-echo', (req, res) => res.end(`for ${JSON.parse(req.body.toString()).coreid}`));
  const created = await b.call('POST', '/v1/products/9/integrations', { integration_type: 'Webhook', event: 'lookup', url: `${rx.url}/product-echo`, json: {} });
  assert.is(created.status, 201);
  await Promise.all(devices.map((d) => d.publish('lookup', 'x', { qos: 1 })));
  await until(() => [...got.values()].every((list) => list.length === 1));
  await sleep(100);
  for (const d of devices) assert.equal(got.get(d.deviceID()), [`${d.deviceID()}/hook-response/lookup/0=for ${d.deviceID()}`]);
  await Promise.all(devices.map((d) => d.disconnect()));
});

test.run();
