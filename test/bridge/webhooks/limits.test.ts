// Request and template limits (bridge/webhooks/limits.ts): in memory, then through a whole
// bridge. A request the bridge refuses before sending (too large, a header HTTP cannot carry)
// fails with its own code, reaches no one, and is not scored against the host: one device's
// data cannot put a host to sleep for another device's integration.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { checkRequest, nestingDepth, sectionDepth } from '../../../bridge/webhooks/limits.ts';
import type { OutgoingRequest } from '../../../bridge/webhooks/render.ts';
import Mustache from 'mustache';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

const request = (headers: Record<string, string>, body?: string): OutgoingRequest => {
  const r: OutgoingRequest = { method: 'POST', url: 'http://example.com/x', origin: 'http://example.com', path: '/x', headers };
  if (body !== undefined) r.body = body;
  return r;
};

test('nesting is measured without recursion, however deep', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
  assert.is(nestingDepth(deep, 32), 33, 'stops counting past the limit');
  assert.is(nestingDepth({ a: { b: [1, { c: 2 }] } }), 4);
  assert.is(nestingDepth('flat'), 0);
  assert.is(sectionDepth(Mustache.parse('{{#a}}{{#b}}{{x}}{{/b}}{{/a}}{{#c}}{{/c}}') as unknown[][]), 2);
});

test('a request over the size limit, or with a line break in a header or a bad header name, is refused before sending', () => {
  assert.is(checkRequest(request({ 'x-ok': 'fine' }, 'small'), 1024), undefined);
  assert.is(checkRequest(request({}, 'x'.repeat(2000)), 1024)?.code, 'REQUEST_TOO_LARGE');
  const newline = checkRequest(request({ 'x-note': 'a\r\nInjected: yes' }), 1024);
  assert.is(newline?.code, 'TEMPLATE_INVALID');
  assert.not.ok(newline?.message.includes('Injected'), 'the value is never quoted');
  assert.is(checkRequest(request({ 'bad name': 'v' }), 1024)?.code, 'TEMPLATE_INVALID');
});

let b: TestBridge;
let rx: Receiver;
let devA: Device;
let devB: Device;
const heard: { name: string; data: string }[] = [];

test.before(async () => {
  // The default throttle (3 errors outnumbering successes put a host to sleep), a long cooldown.
  b = await testBridge({ throttleCooldownMs: 60_000 });
  rx = await receiver();
  const a = await b.addDevice();
  const bb = await b.addDevice();
  devA = await connectDevice({ url: b.mqttUrl, deviceId: a.id, token: a.token });
  devB = await connectDevice({ url: b.mqttUrl, deviceId: bb.id, token: bb.token });
  for (const d of [devA, devB]) await d.subscribe(`${d.deviceID()}/hook-`, (name, data) => heard.push({ name, data: String(data) }));
});
test.after(async () => {
  await devA?.disconnect();
  await devB?.disconnect();
  await b?.stop();
  await rx?.close();
});

const errorFor = (device: Device, event: string) => heard.find((h) => h.name.startsWith(`${device.deviceID()}/hook-error/${event}/`));

test('a header with a newline from one device\'s data fails TEMPLATE_INVALID and never puts the host to sleep for another device', async () => {
  const note = await b.call('POST', '/v1/integrations', { event: 'note', url: `${rx.url}/note`, headers: { 'X-Note': '{{{PARTICLE_EVENT_VALUE}}}' } });
  const other = await b.call('POST', '/v1/integrations', { event: 'reading', url: `${rx.url}/reading` });
  assert.is(note.status, 201);
  assert.is(other.status, 201);
  for (let i = 0; i < 21; i++) await devA.publish('note', `line\r\nInjected: ${i}`, { qos: 1 });
  await b.webhooks.idle();
  const counters = (await b.call('GET', `/v1/integrations/${note.body.id}`)).body.integration.counters;
  assert.is(counters.total_errors, 21);
  assert.is(counters.last_error.code, 'TEMPLATE_INVALID');
  assert.equal(b.webhooks.sleepingHosts(), [], 'the host is awake');
  await devB.publish('reading', '21.5', { qos: 1 });
  await rx.next('/reading');
  await b.webhooks.idle();
  assert.is(errorFor(devB, 'reading'), undefined, 'device B heard no error (no "Sleeping")');
  assert.not.ok(rx.requests.some((r) => r.url.startsWith('/note')), 'nothing with the bad header was sent');
});

test('a template that renders a request over 1 MiB fails REQUEST_TOO_LARGE: nothing sent, the host not scored', async () => {
  // 1,100 copies of 1 KB of event data: a 29 KB template, a 1.1 MB request.
  const created = await b.call('POST', '/v1/integrations', { event: 'amplify', url: `${rx.url}/amplify`, body: '{{{PARTICLE_EVENT_VALUE}}}'.repeat(1100) });
  assert.is(created.status, 201, JSON.stringify(created.body));
  for (let i = 0; i < 5; i++) await devA.publish('amplify', 'x'.repeat(1000), { qos: 1 });
  await b.webhooks.idle();
  await until(() => errorFor(devA, 'amplify') !== undefined, 3000, 'hook-error for amplify');
  assert.match(errorFor(devA, 'amplify')!.data, /^request too large/);
  const counters = (await b.call('GET', `/v1/integrations/${created.body.id}`)).body.integration.counters;
  assert.is(counters.last_error.code, 'REQUEST_TOO_LARGE');
  assert.is(counters.total_dropped, 5, 'never retried: it would fail the same way');
  assert.not.ok(rx.requests.some((r) => r.url.startsWith('/amplify')));
  assert.equal(b.webhooks.sleepingHosts(), []);
});

test.run();
