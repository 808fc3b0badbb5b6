// Failures, each against a real local server: the right code in hook-error, the right
// counters, and other integrations unaffected. Template errors: refused at creation naming
// the field, or TEMPLATE_INVALID at delivery, and nothing else breaks.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type AddressInfo } from 'node:net';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { sleep } from '../../helpers/mqtt.ts';
import { freePort, hungServer, type HungServer } from '../../helpers/net.ts';

const TIMEOUT_MS = 400;
let b: TestBridge;
let rx: Receiver;
let device: Device;
let silent: HungServer;
const heard: { name: string; data: unknown }[] = [];
let healthyId: string;

test.before(async () => {
  // Every target here is 127.0.0.1: keep the per-host throttle out of the way (it has its own tests).
  b = await testBridge({ webhookTimeoutMs: TIMEOUT_MS, throttleMinErrors: 1_000_000 });
  rx = await receiver();
  silent = await hungServer();
  const d = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  await device.subscribe(`${d.id}/hook-`, (name, data) => heard.push({ name, data }));
  // A healthy integration on every event of these tests: it must never notice the others.
  rx.on('/healthy', (_req, res) => res.end('fine'));
  healthyId = (await b.call('POST', '/v1/integrations', { event: 'f', url: `${rx.url}/healthy` })).body.id;
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await rx?.close();
  await silent?.close();
});

let n = 0;
async function failWith(url: string, template: Record<string, unknown> = {}, data = 'x') {
  const event = `f${++n}x`; // never a prefix of another case's name (f1x, f10x)
  const created = await b.call('POST', '/v1/integrations', { event, url, ...template });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const successes = (c: { total_calls: number; total_errors: number }) => c.total_calls - c.total_errors;
  const healthyBefore = successes((await b.call('GET', `/v1/integrations/${healthyId}`)).body.integration.counters);
  await device.publish(event, data, { qos: 1 });
  await b.webhooks.idle();
  const topic = `${device.deviceID()}/hook-error/${event}/0`;
  await until(() => heard.some((h) => h.name === topic), 2000, `hook-error on ${topic}`);
  const detail = (await b.call('GET', `/v1/integrations/${created.body.id}`)).body.integration;
  const healthy = (await b.call('GET', `/v1/integrations/${healthyId}`)).body.integration.counters;
  assert.is(successes(healthy), healthyBefore + 1, 'the healthy integration delivered the same event');
  assert.is(healthy.total_errors, 0);
  return { error: String(heard.find((h) => h.name === topic)!.data), counters: detail.counters, log: detail.logs[0], event };
}

test('404: "error status 404 from <host>", counted as an error', async () => {
  rx.on('/missing', (_req, res) => { res.statusCode = 404; res.end('nope'); });
  const r = await failWith(`${rx.url}/missing`);
  assert.is(r.error, `error status 404 from 127.0.0.1:${rx.port}`);
  assert.equal([r.counters.total_calls, r.counters.total_errors, r.counters.consecutive_errors, r.counters.last_error.code], [1, 1, 1, '404']);
  assert.is(r.counters.total_dropped, 1, 'a 404 is not retried under the particle policy');
  assert.is(r.log.response.status, 404);
  assert.is(r.log.response.body, 'nope');
});

test('500', async () => {
  rx.on('/broken', (_req, res) => { res.statusCode = 500; res.end(); });
  const r = await failWith(`${rx.url}/broken`);
  assert.is(r.counters.last_error.code, '500');
  assert.match(r.error, /^error status 500 from/);
});

test('a refused connection: ECONNREFUSED', async () => {
  const r = await failWith(`http://127.0.0.1:${await freePort()}/x`);
  assert.is(r.counters.last_error.code, 'ECONNREFUSED');
  assert.match(r.error, /^ECONNREFUSED/);
  assert.is(r.log.response, undefined);
});

test('an unknown host: ENOTFOUND', async () => {
  const r = await failWith('http://no-such-host.invalid/x'); // .invalid never resolves (RFC 6761)
  assert.is(r.counters.last_error.code, 'ENOTFOUND');
  assert.match(r.error, /^ENOTFOUND: no-such-host\.invalid/);
});

test('a server that accepts and never answers: ESOCKETTIMEDOUT after the configured timeout', async () => {
  const started = Date.now();
  const r = await failWith(`http://127.0.0.1:${silent.port}/x`);
  assert.is(r.counters.last_error.code, 'ESOCKETTIMEDOUT');
  assert.ok(Date.now() - started >= TIMEOUT_MS, 'not before the timeout');
});

test('a server that resets the connection: ECONNRESET', async () => {
  const resetServer = createServer((s) => s.once('data', () => s.resetAndDestroy()));
  await new Promise<void>((r) => resetServer.listen(0, '127.0.0.1', r));
  const r = await failWith(`http://127.0.0.1:${(resetServer.address() as AddressInfo).port}/x`);
  resetServer.close();
  assert.is(r.counters.last_error.code, 'ECONNRESET');
  assert.match(r.error, /ECONNRESET/);
});

test('a body that trickles past the timeout fails; an endless fast body is cut at 100 KB', async () => {
  const trickle = `trickle${++n}`;
  rx.on(`/${trickle}`, (_req, res) => {
    res.write('a');
    const timer = setInterval(() => res.write('a'), TIMEOUT_MS / 4);
    res.on('close', () => clearInterval(timer));
  });
  const slow = await failWith(`${rx.url}/${trickle}`);
  assert.is(slow.counters.last_error.code, 'ESOCKETTIMEDOUT');

  const endless = `endless${++n}`;
  rx.on(`/${endless}`, (_req, res) => {
    const chunk = Buffer.alloc(16 * 1024, 0x62);
    const pump = () => { while (res.write(chunk)); };
    res.on('drain', pump);
    pump();
  });
  await b.call('POST', '/v1/integrations', { event: endless, url: `${rx.url}/${endless}` });
  await device.publish(endless, 'x', { qos: 1 });
  await b.webhooks.idle();
  await until(() => heard.filter((h) => h.name.startsWith(`${device.deviceID()}/hook-response/${endless}/`)).length === 200, 3000, '200 parts');
});

test('bad templates are refused at creation, naming the field, and nothing is stored', async () => {
  const before = (await b.call('GET', '/v1/integrations')).body.length;
  const url = `${rx.url}/x`;
  const cases: [Record<string, unknown>, string, string][] = [
    [{ url }, 'event', 'BAD_REQUEST'],
    [{ event: 'x' }, 'url', 'BAD_REQUEST'],
    [{ event: 'x', url: 'ftp://example.com/' }, 'url', 'BAD_REQUEST'],
    [{ event: 'x', url: 'https://exa mple.com/{{{a}}}' }, 'url', 'BAD_REQUEST'],
    [{ event: 'x', url, requestType: 'PATCH' }, 'requestType', 'BAD_REQUEST'],
    [{ event: 'x', url, json: { a: 1 }, form: { b: 2 } }, 'form', 'BAD_REQUEST'],
    [{ event: 'x', url, json: { a: 1 }, body: 'b' }, 'body', 'BAD_REQUEST'],
    [{ event: 'x', url, json: { a: '{{#open}}' } }, 'json.a', 'TEMPLATE_INVALID'],
    [{ event: 'x', url, body: '{{unclosed' }, 'body', 'TEMPLATE_INVALID'],
    [{ event: 'x', url, headers: { 'X-A': '{{/close}}' } }, 'headers.X-A', 'TEMPLATE_INVALID'],
    [{ event: 'x', url, responseTemplate: '{{#a}}' }, 'responseTemplate', 'TEMPLATE_INVALID'],
    [{ event: 'x', url, json: '{"t": {{{t}}}' }, 'json', 'TEMPLATE_INVALID'],
    [{ event: 'x', url, responseTopic: 'answers for {{PARTICLE_DEVICE_ID}}' }, 'responseTopic', 'TEMPLATE_INVALID'],
    [{ event: 'x', url, headers: 'nope' }, 'headers', 'BAD_REQUEST'],
    [{ event: 'x', url, auth: { username: 1 } }, 'auth.username', 'BAD_REQUEST'],
    [{ event: 'x', url, deviceID: 'not-a-device' }, 'deviceID', 'BAD_REQUEST'],
    [{ event: 'x', url, noDefaults: 'maybe' }, 'noDefaults', 'BAD_REQUEST'],
    [{ event: 'bad name', url }, 'event', 'BAD_REQUEST'],
    [{ event: 'hook-response/x', url }, 'event', 'BAD_REQUEST'],
  ];
  for (const [template, field, code] of cases) {
    const res = await b.call('POST', '/v1/integrations', template);
    assert.is(res.status, 400, JSON.stringify(template));
    assert.equal({ field: res.body.field, code: res.body.code, ok: res.body.ok }, { field, code, ok: false }, JSON.stringify(template));
    assert.ok(res.body.error.startsWith(field), res.body.error);
  }
  assert.is((await b.call('GET', '/v1/integrations')).body.length, before);
});

test('a template that fails to render at delivery: TEMPLATE_INVALID in hook-error, nothing else breaks', async () => {
  const brokenJson = await failWith(`${rx.url}/never`, { json: '{"t": {{temp}}}' }); // no "temp" in the data
  assert.is(brokenJson.counters.last_error.code, 'TEMPLATE_INVALID');
  assert.match(brokenJson.error, /^template error: json: rendered invalid JSON/);

  const brokenUrl = await failWith('http://127.0.0.1:{{{port}}}/x', { dynamicHost: true }, '{"port":"not-a-port"}');
  assert.is(brokenUrl.counters.last_error.code, 'TEMPLATE_INVALID');
  assert.match(brokenUrl.error, /^template error: url: rendered to an invalid URL/);

  rx.on('/ok-but-topic', (_req, res) => res.end('an answer to route'));
  // Valid for a room without spaces (so accepted at creation), not for this event's.
  const brokenTopic = await failWith(`${rx.url}/ok-but-topic`, { responseTopic: 'answers/{{{room}}}' }, '{"room":"living room"}');
  assert.is(brokenTopic.counters.last_error.code, 'TEMPLATE_INVALID');
  assert.match(brokenTopic.error, /responseTopic: rendered an invalid event name/);
  assert.is(rx.requests.filter((r) => r.url === '/never').length, 0, 'nothing was sent for the broken json');
});

test.run();
