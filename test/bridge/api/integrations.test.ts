// The integrations API in Particle's shapes (PARTICLE.md §6), and the CLI over it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { hookwire } from '../../helpers/spawn.ts';

let b: TestBridge;
let dir: string;

test.before(async () => {
  b = await testBridge();
  dir = await mkdtemp(join(tmpdir(), 'hookwire-int-'));
});
test.after(async () => {
  await b?.stop();
  await rm(dir, { recursive: true, force: true });
});

const template = { event: 'temp', url: 'https://example.com/in', requestType: 'POST', json: { t: '{{{temp}}}' }, noDefaults: true };

test('POST /v1/integrations: 201 {ok, id, url, event, created_at, hookUrl}; GET shows the config, counters and logs', async () => {
  const res = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', name: 'Room temp', ...template });
  assert.is(res.status, 201);
  assert.equal(Object.keys(res.body).sort(), ['created_at', 'event', 'hookUrl', 'id', 'ok', 'url']);
  assert.equal([res.body.ok, res.body.event, res.body.url], [true, 'temp', 'https://example.com/in']);
  assert.match(res.body.id, /^[0-9a-f]{24}$/);
  assert.ok(res.body.hookUrl.endsWith(`/v1/integrations/${res.body.id}`));

  const got = await b.call('GET', `/v1/integrations/${res.body.id}`);
  assert.is(got.status, 200);
  const i = got.body.integration;
  assert.equal({ id: i.id, integration_type: i.integration_type, name: i.name, event: i.event, url: i.url, requestType: i.requestType, json: i.json, noDefaults: i.noDefaults, rejectUnauthorized: i.rejectUnauthorized, disabled: i.disabled },
    { id: res.body.id, integration_type: 'Webhook', name: 'Room temp', event: 'temp', url: 'https://example.com/in', requestType: 'POST', json: { t: '{{{temp}}}' }, noDefaults: true, rejectUnauthorized: true, disabled: false });
  assert.equal(i.logs, []);
  assert.equal([i.counters.total_calls, i.counters.total_errors, i.state], [0, 0, 'Unknown']);
  assert.equal(i.signing, { enabled: false, previous_valid_until: null });
  assert.is(i.retryPolicy, 'particle');
});

test('legacy POST /v1/webhooks takes a template alone; both lists show both, with each one\'s state', async () => {
  const legacy = await b.call('POST', '/v1/webhooks', { ...template, event: 'legacy' });
  assert.is(legacy.status, 201);
  for (const path of ['/v1/integrations', '/v1/webhooks']) {
    const list = await b.call('GET', path);
    const entry = list.body.find((e: { id: string }) => e.id === legacy.body.id);
    assert.equal({ event: entry.event, integration_type: entry.integration_type, url: entry.url, requestType: entry.requestType, state: entry.state },
      { event: 'legacy', integration_type: 'Webhook', url: 'https://example.com/in', requestType: 'POST', state: 'Unknown' }, 'the state, as the console lists it');
    assert.type(entry.state_reason, 'string');
    assert.type(entry.created_at, 'string');
  }
});

test('PUT replaces the whole config: fields left out are gone', async () => {
  const { body } = await b.call('POST', '/v1/integrations', { ...template, event: 'put-me', headers: { 'X-A': '1' } });
  const put = await b.call('PUT', `/v1/integrations/${body.id}`, { event: 'put-me', url: 'https://example.com/other', form: { a: '{{{b}}}' } });
  assert.is(put.status, 200);
  const i = put.body.integration;
  assert.equal([i.url, i.form, i.json, i.headers, i.noDefaults], ['https://example.com/other', { a: '{{{b}}}' }, undefined, undefined, false]);
  const bad = await b.call('PUT', `/v1/integrations/${body.id}`, { event: 'put-me' });
  assert.equal([bad.status, bad.body.field], [400, 'url']);
  assert.is((await b.call('GET', `/v1/integrations/${body.id}`)).body.integration.url, 'https://example.com/other', 'a refused PUT changes nothing');
});

test('DELETE: 204 for /v1/integrations, {"ok": true} for /v1/webhooks; 404 afterwards', async () => {
  const one = (await b.call('POST', '/v1/integrations', template)).body.id;
  const two = (await b.call('POST', '/v1/webhooks', template)).body.id;
  const del1 = await b.call('DELETE', `/v1/integrations/${one}`);
  assert.equal([del1.status, del1.body], [204, undefined]);
  const del2 = await b.call('DELETE', `/v1/webhooks/${two}`);
  assert.equal([del2.status, del2.body], [200, { ok: true }]);
  const gone = await b.call('GET', `/v1/integrations/${one}`);
  assert.equal([gone.status, gone.body.ok, gone.body.code], [404, false, 'INTEGRATION_NOT_FOUND']);
  assert.is((await b.call('DELETE', `/v1/webhooks/${two}`)).status, 404);
});

test('product scope: /v1/products/:id/... filters by product and hides other products\' integrations', async () => {
  const p1 = (await b.call('POST', '/v1/products/101/integrations', { integration_type: 'Webhook', ...template })).body.id;
  const p2 = (await b.call('POST', '/v1/products/202/webhooks', template)).body.id;
  const list = (await b.call('GET', '/v1/products/101/integrations')).body;
  assert.equal(list.map((i: { id: string }) => i.id), [p1]);
  assert.is(list[0].product_id, 101);
  assert.is((await b.call('GET', `/v1/products/101/integrations/${p2}`)).status, 404);
  assert.is((await b.call('DELETE', `/v1/products/101/integrations/${p2}`)).status, 404);
  assert.is((await b.call('GET', `/v1/products/202/webhooks/${p2}`)).status, 200);
  const slug = await b.call('GET', '/v1/products/my-product/integrations');
  assert.equal([slug.status, slug.body.code], [404, 'PRODUCT_NOT_FOUND']);
});

test('disable records who, when and why; enable puts it back; PUT with disabled does the same', async () => {
  const id = (await b.call('POST', '/v1/integrations', template)).body.id;
  const off = (await b.call('POST', `/v1/integrations/${id}/disable`, { reason: 'receiver maintenance' })).body.integration;
  assert.equal([off.disabled, off.state, off.disabled_by, off.disabled_reason], [true, 'Disabled', 'admin', 'receiver maintenance']);
  assert.ok(Math.abs(Date.parse(off.disabled_at) - Date.now()) < 5000);
  assert.is((await b.call('GET', `/v1/integrations/${id}`)).body.integration.state_reason, 'disabled by admin: receiver maintenance');
  const on = (await b.call('POST', `/v1/integrations/${id}/enable`)).body.integration;
  assert.equal([on.disabled, on.state, on.disabled_by], [false, 'Unknown', null]);
  const put = (await b.call('PUT', `/v1/integrations/${id}`, { ...template, disabled: true })).body.integration;
  assert.equal([put.state, put.disabled_by], ['Disabled', 'admin']);
});

test('PATCH changes the fields given: retry policy, errors email; bad values name the field', async () => {
  const id = (await b.call('POST', '/v1/integrations', template)).body.id;
  const patched = (await b.call('PATCH', `/v1/integrations/${id}`, { retryPolicy: [5, 30, 300], errorsEmail: 'ops@example.com' })).body.integration;
  assert.equal([patched.retryPolicy, patched.errorsEmail, patched.json], [[5, 30, 300], 'ops@example.com', { t: '{{{temp}}}' }]);
  const bad = await b.call('PATCH', `/v1/integrations/${id}`, { retryPolicy: 'sometimes' });
  assert.equal([bad.status, bad.body.field], [400, 'retryPolicy']);
  const badEmail = await b.call('PATCH', `/v1/integrations/${id}`, { errorsEmail: 'nobody' });
  assert.equal([badEmail.status, badEmail.body.field], [400, 'errorsEmail']);
});

test('other integration types are refused; 401 without a token; access_token in the query works', async () => {
  const other = await b.call('POST', '/v1/integrations', { integration_type: 'AzureIotHub', ...template });
  assert.equal([other.status, other.body.field], [400, 'integration_type']);
  const none = await b.call('GET', '/v1/integrations', undefined, null);
  assert.equal([none.status, none.body.error], [401, 'invalid_token']);
  const viaQuery = await fetch(`${b.url}/v1/webhooks?access_token=${b.token}`);
  assert.is(viaQuery.status, 200);
});

test('the CLI: create from a pasted Particle template file, list, show, disable, enable, delete', async () => {
  const env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
  const file = join(dir, 'webhook.json');
  // A template as Particle's console exports it, unchanged.
  await writeFile(file, JSON.stringify({ event: 'cli-hook', url: 'https://api.example.com/data', requestType: 'POST', noDefaults: false, rejectUnauthorized: true, json: { value: '{{{PARTICLE_EVENT_VALUE}}}' }, mydevices: true }));
  const created = await hookwire(['integrations', 'create', file, '--json'], env);
  assert.is(created.code, 0, created.stderr);
  const id = JSON.parse(created.stdout).id;

  const list = await hookwire(['integrations', 'list'], env);
  assert.ok(list.stdout.split('\n')[0]!.startsWith('ID'));
  assert.ok(list.stdout.includes(id) && list.stdout.includes('cli-hook'));

  const show = await hookwire(['integrations', 'show', id], env);
  assert.ok(show.stdout.includes('https://api.example.com/data'));
  assert.ok(show.stdout.includes('0 succeeded, 0 failed'));

  assert.ok((await hookwire(['integrations', 'disable', id, '--reason', 'planned downtime'], env)).stdout.includes('disabled by admin: planned downtime'));
  assert.is(JSON.parse((await hookwire(['integrations', 'enable', id, '--json'], env)).stdout).disabled, false);
  assert.equal(JSON.parse((await hookwire(['integrations', 'retry-policy', id, 'durable', '--json'], env)).stdout).retryPolicy, 'durable');
  assert.equal(JSON.parse((await hookwire(['integrations', 'retry-policy', id, '5,30,300', '--json'], env)).stdout).retryPolicy, [5, 30, 300]);
  const rotated = await hookwire(['integrations', 'secret', 'rotate', id, '--overlap', '60'], env);
  assert.match(rotated.stdout, /New signing secret for [0-9a-f]{24} \(shown once, keep it\): whsec_/);
  const again = JSON.parse((await hookwire(['integrations', 'secret', 'rotate', id, '--json'], env)).stdout);
  assert.type(again.previous_valid_until, 'string', 'the first secret keeps signing for a while (default: one day)');
  assert.ok((await hookwire(['integrations', 'secret', 'remove', id], env)).stdout.includes('no longer signs'));
  const shown = await hookwire(['integrations', 'show', id], env);
  assert.ok(shown.stdout.includes('state: Unknown'), shown.stdout);
  assert.is((await hookwire(['integrations', 'delete', id], env)).code, 0);
  const gone = await hookwire(['integrations', 'show', id], env);
  assert.is(gone.code, 1);
  assert.ok(gone.stderr.includes('INTEGRATION_NOT_FOUND'));

  await writeFile(file, JSON.stringify({ event: 'x', url: 'https://e.com', json: {}, form: {} }));
  const bad = await hookwire(['integrations', 'create', file], env);
  assert.is(bad.code, 1);
  assert.ok(bad.stderr.includes('form cannot be used with json'), bad.stderr);
});

test('the list reads at a glance: who disabled one and why, its counters, and with ?history_days=N its daily counts; an error\'s log entry says what to check', async () => {
  // Port 9 on loopback refuses: each attempt is an ECONNREFUSED error.
  const { body: made } = await b.call('POST', '/v1/integrations', { event: 'glance', url: 'http://127.0.0.1:9/in' });
  assert.is((await b.call('POST', '/v1/devices/events', { name: 'glance', data: '1' })).status, 200);
  await until(async () => (await b.call('GET', `/v1/integrations/${made.id}`)).body.integration.logs.length > 0, 5000, 'the failed attempt');
  await b.call('POST', `/v1/integrations/${made.id}/disable`, { reason: 'target moving' });

  const row = (await b.call('GET', '/v1/integrations')).body.find((i: { id: string }) => i.id === made.id);
  assert.equal([row.state, row.disabled_by, row.disabled_reason], ['Disabled', 'admin', 'target moving']);
  assert.equal([row.counters.total_calls, row.counters.total_errors, row.counters.last_success_at], [1, 1, null]);
  assert.is(row.history, undefined, 'no history unless asked');

  const withHistory = (await b.call('GET', '/v1/integrations?history_days=3')).body.find((i: { id: string }) => i.id === made.id);
  assert.equal(withHistory.history.map((d: { day: string }) => d.day), [2, 1, 0].map((k) => new Date(Date.now() - k * 86_400_000).toISOString().slice(0, 10)));
  assert.equal(withHistory.history.at(-1), { day: new Date().toISOString().slice(0, 10), success: 0, error: 1, skipped: 0 });
  const bad = await b.call('GET', '/v1/integrations?history_days=31');
  assert.equal([bad.status, bad.body.field], [400, 'history_days']);

  const [log] = (await b.call('GET', `/v1/integrations/${made.id}`)).body.integration.logs;
  assert.is(log.error.code, 'ECONNREFUSED');
  assert.is(log.guidance.title, 'Connection refused');
  assert.type(log.guidance.check, 'string');
  await b.call('DELETE', `/v1/integrations/${made.id}`);
});

test.run();
