// Integration detail, history, test and replay (issue 5, item 3), through the HTTP API of a
// real bridge, with real receivers, a real device and compressed retry time (timeScale).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { hashSecret, newSecret } from '../../../bridge/ids.ts';
import { TEST_DEVICE_ID } from '../../../bridge/webhooks/dry-run.ts';
import { webhookId } from '../../../bridge/webhooks/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { freePort } from '../../helpers/net.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { sleep } from '../../helpers/mqtt.ts';

// `b`: retries compressed (particle's 30 s, 60 s → 30 ms, 60 ms) and the throttle out of the
// way, for deliveries that fail until dropped. `t`: default throttle, to show tests leave it alone.
let b: TestBridge;
let t: TestBridge;
let rx: Receiver;
let device: Device;
let deviceId: string;
let readToken: string;
const heard: { name: string; data: unknown }[] = [];
const cloudEvents: HookwireEvent[] = [];

test.before(async () => {
  b = await testBridge({ timeScale: 0.001, throttleMinErrors: 1_000_000 });
  t = await testBridge();
  rx = await receiver();
  rx.on('/ok', (_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"fine":true}'); });
  rx.on('/flaky', (req, res) => {
    res.statusCode = req.body.toString().includes('bad') ? 500 : 200;
    res.end(res.statusCode === 500 ? 'broken' : 'fine');
  });
  rx.on('/missing', (_req, res) => { res.statusCode = 404; res.end('no such page'); });
  rx.on('/echo', (req, res) => { res.setHeader('content-type', 'application/json'); res.setHeader('set-cookie', 'session=abc'); res.end(req.body); });
  const creds = await b.addDevice();
  deviceId = creds.id;
  device = await connectDevice({ url: b.mqttUrl, deviceId: creds.id, token: creds.token });
  await device.subscribe(`${creds.id}/hook-`, (name, data) => heard.push({ name, data }));
  b.bus.on('event', (e) => { if (e.coreid === 'hookwire') cloudEvents.push(e); });
  readToken = newSecret('hwt_');
  await b.store.tokens.create({ id: 'read-only-test', name: 'dashboard', scope: 'read', tokenHash: hashSecret(readToken) });
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await t?.stop();
  await rx?.close();
});

const detail = async (br: TestBridge, id: string) => (await br.call('GET', `/v1/integrations/${id}`)).body.integration;
const create = async (br: TestBridge, template: Record<string, unknown>) => {
  const res = await br.call('POST', '/v1/integrations', template);
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
};
const today = () => new Date().toISOString().slice(0, 10);
const dayBefore = (k: number) => new Date(Date.now() - k * 86_400_000).toISOString().slice(0, 10);

/** A Particle-shaped error body with a stable code. */
function isError(res: { status: number; body: any }, status: number, code: string, field?: string) {
  assert.is(res.status, status, JSON.stringify(res.body));
  assert.is(res.body.ok, false);
  assert.type(res.body.error, 'string');
  assert.is(res.body.code, code);
  if (field) assert.is(res.body.field, field);
}

let flaky: string;

test('detail: config, state, counters and logs (successes and errors, secrets redacted) after real deliveries', async () => {
  flaky = await create(b, { event: 'det', name: 'Flaky', url: `${rx.url}/flaky`, headers: { Authorization: 'Bearer s3cret' }, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
  await device.publish('det', 'good', { qos: 1 });
  await until(async () => (await detail(b, flaky)).state === 'Active', 3000, 'the success');
  await device.publish('det', 'bad', { qos: 1 });
  // particle policy: a 500 is tried 3 times (30 ms, 60 ms apart here), then dropped.
  await until(async () => (await detail(b, flaky)).counters.total_dropped === 1, 5000, 'the 500 dropped');

  const i = await detail(b, flaky);
  assert.equal([i.id, i.name, i.event, i.url, i.integration_type, i.retryPolicy], [flaky, 'Flaky', 'det', `${rx.url}/flaky`, 'Webhook', 'particle']);
  assert.equal([i.state, i.counters.total_calls, i.counters.total_errors, i.counters.consecutive_errors], ['Failing', 4, 3, 3]);
  assert.equal([i.counters.last_error.code, i.counters.last_error.message], ['500', `error status 500 from 127.0.0.1:${rx.port}`]);
  assert.type(i.counters.last_success_at, 'string');

  const successes = i.logs.filter((l: { ok: boolean }) => l.ok);
  const errors = i.logs.filter((l: { ok: boolean }) => !l.ok);
  assert.is(successes.length, 1);
  assert.is(errors.length, 3);
  const ok = successes[0];
  assert.equal([ok.event.name, ok.event.data, ok.event.coreid, ok.response.status, ok.response.body], ['det', 'good', deviceId, 200, 'fine']);
  assert.equal([ok.request.method, ok.request.url, JSON.parse(ok.request.body).v], ['POST', `${rx.url}/flaky`, 'good']);
  assert.is(ok.request.headers.authorization, '[redacted]', 'secrets never reach the logs');
  const err = errors[0];
  assert.equal([err.event.data, err.error.code, err.response.status, err.response.body], ['bad', '500', 500, 'broken']);
  assert.ok(Date.parse(errors[0].at) >= Date.parse(errors[2].at), 'newest first');
});

test('history: daily success/error/skipped, oldest first, today from 00:00 UTC; days 1..30', async () => {
  // Earlier days, written as settled outcomes would be; one is older than 30 days.
  await b.store.deliveries.settle({ deliveries: [], statuses: [], logs: [], daily: [
    { integrationId: flaky, day: dayBefore(1), success: 5, error: 2, skipped: 1 },
    { integrationId: flaky, day: dayBefore(29), success: 7, error: 0, skipped: 0 },
    { integrationId: flaky, day: dayBefore(30), success: 9, error: 9, skipped: 9 },
  ] }, 10);

  const one = await b.call('GET', `/v1/integrations/${flaky}/history?days=1`);
  assert.is(one.status, 200);
  assert.equal(one.body, { integration_id: flaky, days: [{ day: today(), success: 1, error: 3, skipped: 0 }] });

  const week = (await b.call('GET', `/v1/integrations/${flaky}/history?days=7`)).body.days;
  assert.is(week.length, 7);
  assert.equal(week.map((d: { day: string }) => d.day), [6, 5, 4, 3, 2, 1, 0].map(dayBefore));
  assert.equal(week[5], { day: dayBefore(1), success: 5, error: 2, skipped: 1 });
  assert.equal(week[0], { day: dayBefore(6), success: 0, error: 0, skipped: 0 });

  const month = (await b.call('GET', `/v1/integrations/${flaky}/history`)).body.days; // default 30
  assert.is(month.length, 30);
  assert.equal(month[0], { day: dayBefore(29), success: 7, error: 0, skipped: 0 });
  assert.ok(!month.some((d: { day: string }) => d.day === dayBefore(30)), 'the 31st day back is outside the 30');

  for (const days of ['0', '31', 'abc', '1.5', '', '-1']) {
    isError(await b.call('GET', `/v1/integrations/${flaky}/history?days=${days}`), 400, 'BAD_REQUEST', 'days');
  }
  isError(await b.call('GET', '/v1/integrations/000000000000000000000000/history'), 404, 'INTEGRATION_NOT_FOUND');
});

test('test: passes against a 200 server, through the real render and send, and changes nothing', async () => {
  const id = await create(b, {
    event: 'probe', url: `${rx.url}/echo`, headers: { 'X-API-Key': 'k3y' }, auth: { username: 'me', password: 'pw' },
    json: { v: '{{{PARTICLE_EVENT_VALUE}}}', dev: '{{{PARTICLE_DEVICE_ID}}}', n: '{{{PARTICLE_EVENT_NAME}}}' },
  });
  await b.call('POST', `/v1/integrations/${id}/secret`);
  const before = { counts: await b.store.deliveries.counts(), requests: rx.requests.length };
  const aboutProbe = (name: string) => name.includes('probe');

  const res = await b.call('POST', `/v1/integrations/${id}/test`, { data: '42', device_id: deviceId, name: 'probe/kitchen' });
  assert.is(res.status, 200, JSON.stringify(res.body));
  const r = res.body;
  assert.equal([r.pass, r.error, r.code, r.guidance], [true, null, undefined, undefined]);
  const sent = JSON.parse(r.request.body);
  assert.equal(sent, { event: 'probe/kitchen', data: '42', published_at: r.event.published_at, coreid: deviceId, v: '42', dev: deviceId, n: 'probe/kitchen' });
  assert.is(r.data, r.request.body, 'data: what the device would hear (the echoed body)');
  assert.equal([r.request.method, r.request.url], ['POST', `${rx.url}/echo`]);
  assert.is(r.request.headers['x-api-key'], '[redacted]');
  assert.is(r.request.headers.authorization, '[redacted]');
  assert.is(r.request.headers['webhook-signature'], '[redacted]');
  assert.equal([r.response.status, r.response.headers['set-cookie'], r.response.truncated], [200, '[redacted]', false]);
  assert.equal(r.would_publish, { topic: `${deviceId}/hook-response/probe/kitchen`, parts: 1 });
  assert.equal([r.host_sleeping, r.disabled], [false, false]);

  // The target really got it, signed, with the device ID asked for.
  assert.is(rx.requests.length, before.requests + 1);
  const got = rx.requests.at(-1)!;
  assert.equal([got.headers['x-api-key'], got.headers.authorization], ['k3y', `Basic ${Buffer.from('me:pw').toString('base64')}`]);
  assert.match(String(got.headers['webhook-signature']), /^v1,/);
  assert.is(got.headers['webhook-id'], `msg_${r.event.id}_${id}`);

  // Nothing changed: no delivery, counters, state, logs or history; nothing told to the device.
  await b.webhooks.idle();
  await sleep(100); // room for a hook-response that must not come
  assert.equal(await b.store.deliveries.counts(), before.counts);
  const i = await detail(b, id);
  assert.equal([i.state, i.counters.total_calls, i.counters.total_errors, i.counters.last_success_at, i.logs], ['Unknown', 0, 0, null, []]);
  assert.equal((await b.call('GET', `/v1/integrations/${id}/history?days=1`)).body.days, [{ day: today(), success: 0, error: 0, skipped: 0 }]);
  assert.equal(heard.filter((h) => aboutProbe(h.name)), [], 'no hook-response or hook-error reached the subscribed device');
  assert.equal(cloudEvents.filter((e) => aboutProbe(e.name)), [], 'no hook-sent or hook-response was published');
});

test('test: defaults (the integration\'s event, sample data, the placeholder device)', async () => {
  const id = await create(t, { event: 'plain', url: `${rx.url}/ok`, noDefaults: true, body: '{{{PARTICLE_EVENT_NAME}}} {{{PARTICLE_EVENT_VALUE}}} {{{PARTICLE_DEVICE_ID}}}' });
  const r = (await t.call('POST', `/v1/integrations/${id}/test`)).body;
  assert.is(r.pass, true);
  assert.is(r.request.body, `plain test-event ${TEST_DEVICE_ID}`);
  assert.is(r.data, '{"fine":true}');
  // JSON data is sent as its text, as a device would publish it.
  const json = (await t.call('POST', `/v1/integrations/${id}/test`, { data: { temp: 20 } })).body;
  assert.is(json.request.body, `plain {"temp":20} ${TEST_DEVICE_ID}`);
});

test('test: fails against a 404 and an unreachable port with code and guidance; the throttle, counters and logs are untouched', async () => {
  const missing = await create(t, { event: 'miss', url: `${rx.url}/missing` });
  const refused = await create(t, { event: 'refused', url: `http://127.0.0.1:${await freePort()}/in` });
  const template = await create(t, { event: 'tmpl', url: `${rx.url}/ok`, json: '{"v": {{{PARTICLE_EVENT_VALUE}}} }' });

  // More failures than it takes to put a host to sleep (3), had they been real deliveries.
  for (let k = 0; k < 4; k++) {
    const r = (await t.call('POST', `/v1/integrations/${missing}/test`)).body;
    assert.equal([r.pass, r.code, r.error, r.data], [false, '404', `error status 404 from 127.0.0.1:${rx.port}`, null]);
    assert.equal([r.response.status, r.response.body], [404, 'no such page']);
    assert.equal(r.guidance.title, 'Not Found');
    assert.type(r.guidance.check, 'string');
    assert.equal(r.would_publish, { topic: `${TEST_DEVICE_ID}/hook-error/miss`, parts: 1 });
  }
  for (let k = 0; k < 4; k++) {
    const r = (await t.call('POST', `/v1/integrations/${refused}/test`)).body;
    assert.equal([r.pass, r.code, r.guidance.title, r.response], [false, 'ECONNREFUSED', 'Connection refused', undefined]);
    assert.match(r.error, /^ECONNREFUSED/);
    assert.is(r.request.method, 'POST');
  }
  const bad = (await t.call('POST', `/v1/integrations/${template}/test`, { data: 'not json' })).body;
  assert.equal([bad.pass, bad.code, bad.guidance.title, bad.request], [false, 'TEMPLATE_INVALID', 'Template error', undefined]);

  await t.webhooks.idle();
  assert.equal(t.webhooks.sleepingHosts(), [], 'test failures do not score the host');
  for (const id of [missing, refused, template]) {
    const i = await detail(t, id);
    assert.equal([i.state, i.counters.total_calls, i.counters.total_errors, i.logs], ['Unknown', 0, 0, []]);
  }
  assert.equal(await t.store.deliveries.counts(), { pending: 0, running: 0, done: 0, failed: 0 });
});

test('test: bad input is a 400 naming the field; unknown integration 404; read-only token 403; no token 401', async () => {
  const id = await create(t, { event: 'checked', url: `${rx.url}/ok` });
  isError(await t.call('POST', `/v1/integrations/${id}/test`, { name: 'other' }), 400, 'BAD_REQUEST', 'name');
  isError(await t.call('POST', `/v1/integrations/${id}/test`, { name: 'checked+x' }), 400, 'BAD_REQUEST', 'name');
  isError(await t.call('POST', `/v1/integrations/${id}/test`, { device_id: 'abc' }), 400, 'BAD_REQUEST', 'device_id');
  isError(await t.call('POST', `/v1/integrations/${id}/test`, { data: 'x'.repeat(2000) }), 400, 'EVENT_TOO_LARGE', 'data');
  isError(await t.call('POST', `/v1/integrations/${id}/test`, '{"data":'), 400, 'BAD_REQUEST');
  isError(await t.call('POST', '/v1/integrations/000000000000000000000000/test'), 404, 'INTEGRATION_NOT_FOUND');
  isError(await t.call('POST', `/v1/products/5/integrations/${id}/test`), 404, 'INTEGRATION_NOT_FOUND');
  const before = rx.requests.length;
  const none = await t.call('POST', `/v1/integrations/${id}/test`, undefined, null);
  assert.equal([none.status, none.body.error], [401, 'invalid_token']);
  const ro = await b.call('POST', `/v1/integrations/${flaky}/test`, undefined, readToken);
  isError(ro, 403, 'FORBIDDEN');
  assert.is(rx.requests.length, before, 'refused tests send nothing');
});

test('replay: a delivery dropped against a down receiver is listed, then replayed once it is up, with the same webhook-id', async () => {
  const port = await freePort();
  const id = await create(b, { event: 'rp', url: `http://127.0.0.1:${port}/in`, noDefaults: true, body: '{{{PARTICLE_EVENT_VALUE}}}' });
  await device.publish('rp', 'one', { qos: 1 });
  await until(async () => (await b.call('GET', `/v1/integrations/${id}/failures`)).body.total === 1, 5000, 'the delivery dropped');

  const list = await b.call('GET', `/v1/integrations/${id}/failures`);
  assert.is(list.status, 200);
  const [f] = list.body.failures;
  assert.equal(list.body.integration_id, id);
  assert.equal([f.attempts, f.last_code, f.reason, f.event.name, f.event.coreid], [3, 'ECONNREFUSED', 'Connection refused', 'rp', deviceId]);
  assert.type(f.id, 'number');
  assert.ok(Date.parse(f.finished_at) >= Date.parse(f.created_at));
  assert.ok(Date.parse(f.event.published_at) > 0);
  assert.is((await detail(b, id)).counters.total_dropped, 1);

  const up = await receiver(port); // the receiver comes back
  try {
    const res = await b.call('POST', `/v1/integrations/${id}/replay`, { delivery_id: f.id });
    assert.equal([res.status, res.body], [200, { ok: true, replayed: 1 }]);
    const got = await up.next('/in');
    assert.is(got.body.toString(), 'one');
    assert.is(got.headers['webhook-id'], webhookId({ event: { id: f.event.id } as HookwireEvent, integrationId: id }), 'the idempotency key is the original one');
    await until(async () => (await detail(b, id)).state === 'Active', 3000, 'delivered');
    await b.webhooks.idle();
    assert.is((await b.call('GET', `/v1/integrations/${id}/failures`)).body.total, 0, 'delivered: no longer failed');
    assert.is(up.requests.length, 1);
    isError(await b.call('POST', `/v1/integrations/${id}/replay`, { delivery_id: f.id }), 404, 'DELIVERY_NOT_FOUND');
  } finally {
    await up.close();
  }
});

test('replay since a time, then all; the retries start over; a disabled integration refuses with 409', async () => {
  let failing = true;
  rx.on('/flip', (_req, res) => { res.statusCode = failing ? 503 : 200; res.end(); });
  const id = await create(b, { event: 'rs', url: `${rx.url}/flip`, noDefaults: true, body: '{{{PARTICLE_EVENT_VALUE}}}' });
  const failures = async () => (await b.call('GET', `/v1/integrations/${id}/failures`)).body;
  await device.publish('rs', 'early', { qos: 1 });
  await until(async () => (await failures()).total === 1, 5000, 'early dropped');
  await sleep(5);
  const since = new Date().toISOString();
  await sleep(5);
  await device.publish('rs', 'late', { qos: 1 });
  await until(async () => (await failures()).total === 2, 5000, 'late dropped');
  const listed = await failures();
  assert.equal(listed.failures.map((x: { event: { name: string } }) => x.event.name), ['rs', 'rs']);
  assert.equal((await b.call('GET', `/v1/integrations/${id}/failures?since=${encodeURIComponent(since)}`)).body.total, 1);
  assert.is((await b.call('GET', `/v1/integrations/${id}/failures?limit=1`)).body.failures.length, 1);
  const seen = (data: string) => rx.requests.filter((r) => r.url === '/flip' && r.body.toString() === data);
  const lateId = seen('late')[0]!.headers['webhook-id'];
  assert.is(seen('late').length, 3);

  // Still failing: the replayed delivery runs its whole policy again (3 attempts), then is dropped again.
  const again = await b.call('POST', `/v1/integrations/${id}/replay`, { since });
  assert.equal(again.body, { ok: true, replayed: 1 });
  await until(() => seen('late').length === 6, 5000, 'three more attempts');
  await until(async () => (await failures()).total === 2, 5000, 'dropped again');

  failing = false;
  const late = await b.call('POST', `/v1/integrations/${id}/replay`, { since });
  assert.equal(late.body, { ok: true, replayed: 1 });
  await until(() => seen('late').length === 7, 5000, 'late replayed');
  assert.is(seen('late')[6]!.headers['webhook-id'], lateId);
  await b.webhooks.idle();
  assert.equal((await failures()).total, 1, 'the early one was not replayed');
  assert.is(seen('early').length, 3);

  // Bad input changes nothing.
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, {}), 400, 'BAD_REQUEST');
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, { since: 'yesterday' }), 400, 'BAD_REQUEST', 'since');
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, { delivery_id: 'x' }), 400, 'BAD_REQUEST', 'delivery_id');
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, { delivery_id: 1, all: true }), 400, 'BAD_REQUEST');
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, { all: 'yes' }), 400, 'BAD_REQUEST', 'all');
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, '{"all":tru'), 400, 'BAD_REQUEST');
  assert.is((await failures()).total, 1);

  // Disabled: a replay would be dropped as stopped, so it is refused.
  await b.call('POST', `/v1/integrations/${id}/disable`);
  isError(await b.call('POST', `/v1/integrations/${id}/replay`, { all: true }), 409, 'INTEGRATION_DISABLED');
  assert.is((await failures()).total, 1);
  await b.call('POST', `/v1/integrations/${id}/enable`);
  assert.equal((await b.call('POST', `/v1/integrations/${id}/replay`, { all: true })).body, { ok: true, replayed: 1 });
  await until(() => seen('early').length === 4, 5000, 'early replayed');
  await b.webhooks.idle();
  assert.is((await failures()).total, 0);
  assert.equal((await b.call('POST', `/v1/integrations/${id}/replay`, { all: true })).body, { ok: true, replayed: 0 });
});

test('failures and replay: auth, product scope, unknown integration, bad query', async () => {
  const none = await b.call('GET', `/v1/integrations/${flaky}/failures`, undefined, null);
  assert.equal([none.status, none.body.error], [401, 'invalid_token']);
  const wrong = await b.call('POST', `/v1/integrations/${flaky}/replay`, { all: true }, 'hwt_wrong');
  assert.equal([wrong.status, wrong.body.error], [401, 'invalid_token']);
  const ro = await b.call('GET', `/v1/integrations/${flaky}/failures`, undefined, readToken);
  assert.equal([ro.status, ro.body.total], [200, 1], 'a read-only token may look');
  assert.is((await b.call('GET', `/v1/integrations/${flaky}/history?days=2`, undefined, readToken)).status, 200);
  isError(await b.call('POST', `/v1/integrations/${flaky}/replay`, { all: true }, readToken), 403, 'FORBIDDEN');
  assert.is((await b.call('GET', `/v1/integrations/${flaky}/failures`)).body.total, 1, 'the refused replay changed nothing');

  for (const [method, path] of [['GET', 'failures'], ['POST', 'replay']] as const) {
    isError(await b.call(method, `/v1/integrations/000000000000000000000000/${path}`, method === 'POST' ? { all: true } : undefined), 404, 'INTEGRATION_NOT_FOUND');
    isError(await b.call(method, `/v1/products/9/integrations/${flaky}/${path}`, method === 'POST' ? { all: true } : undefined), 404, 'INTEGRATION_NOT_FOUND');
  }
  const scoped = (await b.call('POST', '/v1/products/9/integrations', { event: 'scoped', url: `${rx.url}/ok` })).body.id;
  for (const kind of ['integrations', 'webhooks']) {
    const res = await b.call('GET', `/v1/products/9/${kind}/${scoped}/failures`);
    assert.equal([res.status, res.body.total, res.body.failures], [200, 0, []]);
    assert.equal((await b.call('POST', `/v1/products/9/${kind}/${scoped}/replay`, { all: true })).body, { ok: true, replayed: 0 });
  }
  assert.is((await b.call('POST', `/v1/products/9/integrations/${scoped}/test`)).body.pass, true);

  for (const query of ['since=yesterday', 'since=', 'limit=0', 'limit=1001', 'limit=abc']) {
    const field = query.split('=')[0];
    isError(await b.call('GET', `/v1/integrations/${flaky}/failures?${query}`), 400, 'BAD_REQUEST', field);
  }
});

test.run();
