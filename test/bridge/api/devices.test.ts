// The device registry API: Particle-shaped bodies and errors, tokens shown once and stored hashed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { hashSecret } from '../../../bridge/ids.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { connackCode, deviceClient } from '../../helpers/mqtt.ts';

let b: TestBridge;

test.before(async () => { b = await testBridge(); });
test.after(async () => { await b?.stop(); });

test('GET /health answers without a token', async () => {
  const res = await b.call('GET', '/health', undefined, null);
  assert.is(res.status, 200);
  assert.is(res.body.ok, true);
  assert.is(res.body.store, 'sqlite');
});

test('POST /v1/devices returns the device and its token, once; the store keeps only a hash', async () => {
  const res = await b.call('POST', '/v1/devices', { name: 'kitchen', product_id: 1234, firmware_version: 3 });
  assert.is(res.status, 201);
  assert.match(res.body.id, /^[0-9a-f]{24}$/);
  assert.match(res.body.token, /^hwd_/);
  assert.equal({ ...res.body, id: 0, token: 0, created_at: 0 }, { id: 0, token: 0, created_at: 0, name: 'kitchen', product_id: 1234, firmware_version: 3, connected: false, last_heard: null });
  const got = await b.call('GET', `/v1/devices/${res.body.id}`);
  assert.is(got.body.token, undefined, 'never shown again');
  const byName = await b.call('GET', '/v1/devices/kitchen');
  assert.is(byName.body.id, res.body.id);
  const db = new Database(join(b.config.dataDir, 'hookwire.db'), { readonly: true });
  const row = db.prepare('SELECT * FROM devices WHERE id = ?').get(res.body.id) as Record<string, unknown>;
  db.close();
  assert.is(row.token_hash, hashSecret(res.body.token));
  assert.not.ok(JSON.stringify(row).includes(res.body.token));
});

test('form bodies work as Particle clients send them', async () => {
  const res = await fetch(`${b.url}/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `name=formed&product_id=7&access_token=${b.token}`,
  });
  assert.is(res.status, 201);
  assert.is(((await res.json()) as { product_id: number }).product_id, 7);
});

test('list shows who is connected', async () => {
  const d = await b.addDevice({ name: 'online' });
  const c = await deviceClient(b.mqttUrl, d);
  await until(async () => (await b.call('GET', '/v1/devices')).body.find((x: { id: string }) => x.id === d.id).connected === true);
  await c.end();
  await until(async () => (await b.call('GET', '/v1/devices')).body.find((x: { id: string }) => x.id === d.id).connected === false);
  const listed = (await b.call('GET', '/v1/devices')).body.find((x: { id: string }) => x.id === d.id);
  assert.ok(listed.last_heard);
});

test('rotating a token disconnects the device and the old token stops working', async () => {
  const d = await b.addDevice();
  const c = await deviceClient(b.mqttUrl, d);
  const res = await b.call('POST', `/v1/devices/${d.id}/token`);
  assert.is(res.status, 200);
  await until(() => !c.client.connected);
  assert.is(await connackCode(b.mqttUrl, { clientId: d.id, username: d.id, password: d.token }), 4);
  assert.is(await connackCode(b.mqttUrl, { clientId: d.id, username: d.id, password: res.body.token }), 0);
  await c.end();
});

test('DELETE removes the device and closes its connection', async () => {
  const d = await b.addDevice();
  const c = await deviceClient(b.mqttUrl, d);
  const res = await b.call('DELETE', `/v1/devices/${d.id}`);
  assert.equal(res.body, { ok: true });
  await until(() => !c.client.connected);
  assert.is((await b.call('GET', `/v1/devices/${d.id}`)).status, 404);
  assert.is(await connackCode(b.mqttUrl, { clientId: d.id, username: d.id, password: d.token }), 4);
  await c.end();
});

test('no token, a wrong token: 401 in Particle\'s shape; a read-only token may look but not change', async () => {
  const none = await b.call('GET', '/v1/devices', undefined, null);
  assert.is(none.status, 401);
  assert.is(none.body.error, 'invalid_token');
  assert.type(none.body.error_description, 'string');
  const wrong = await b.call('GET', '/v1/devices', undefined, 'hwt_nope');
  assert.is(wrong.status, 401);
  assert.is(wrong.body.error, 'invalid_token');
  const viaQuery = await fetch(`${b.url}/v1/devices?access_token=${b.token}`);
  assert.is(viaQuery.status, 200);

  const readOnly = 'hwt_readonly_' + randomUUID();
  await b.store.tokens.create({ id: randomUUID(), name: 'dashboard', scope: 'read', tokenHash: hashSecret(readOnly) });
  assert.is((await b.call('GET', '/v1/devices', undefined, readOnly)).status, 200);
  const denied = await b.call('POST', '/v1/devices', { name: 'nope' }, readOnly);
  assert.is(denied.status, 403);
  assert.equal({ ok: denied.body.ok, code: denied.body.code }, { ok: false, code: 'FORBIDDEN' });
  assert.is((await b.call('GET', '/v1/devices/nope')).status, 404);
});

test('bad input: each gets a clear error naming the field, and nothing is created', async () => {
  const before = (await b.call('GET', '/v1/devices')).body.length;
  const cases: [unknown, number, string, string?][] = [
    ['{"name": ', 400, 'BAD_REQUEST'],
    [{ name: 'has space' }, 400, 'BAD_REQUEST', 'name'],
    [{ name: 'a'.repeat(65) }, 400, 'BAD_REQUEST', 'name'],
    [{ name: 'ab12ab12ab12ab12ab12ab12' }, 400, 'BAD_REQUEST', 'name'],
    [{ product_id: -1 }, 400, 'BAD_REQUEST', 'product_id'],
    [{ productId: 'x' }, 400, 'BAD_REQUEST', 'productId'],
    [{ firmware_version: 1.5 }, 400, 'BAD_REQUEST', 'firmware_version'],
    [[1, 2], 400, 'BAD_REQUEST'],
    [{ name: 'kitchen' }, 409, 'NAME_TAKEN', 'name'],
  ];
  for (const [body, status, code, field] of cases) {
    const res = await b.call('POST', '/v1/devices', body);
    assert.is(res.status, status, JSON.stringify(body));
    assert.is(res.body.ok, false);
    assert.is(res.body.code, code);
    assert.type(res.body.error, 'string');
    if (field) assert.is(res.body.field, field);
  }
  const huge = await b.call('POST', '/v1/devices', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
  assert.is(huge.status, 413);
  assert.is(huge.body.code, 'BODY_TOO_LARGE');
  assert.is((await b.call('GET', '/v1/devices')).body.length, before);
  const missing = await b.call('GET', '/v1/nothing-here');
  assert.is(missing.status, 404);
  assert.is(missing.body.code, 'NOT_FOUND');
});

/** particle-cli 3.43's line for a device in `particle list` (src/lib/ui logDeviceDetail) for IDs no platform has. */
const particleListType = (d: { product_id: unknown }) => `Product ${d.product_id}`;

test('a device in no product shows product_id "none", never null (particle list: "(Product none)")', async () => {
  const d = await b.addDevice({ name: 'productless' });
  const listed = (await b.call('GET', '/v1/devices')).body.find((x: { id: string }) => x.id === d.id);
  const got = (await b.call('GET', `/v1/devices/${d.id}`)).body;
  for (const shown of [listed, got]) {
    assert.is(shown.product_id, 'none');
    assert.is(particleListType(shown), 'Product none');
  }
  const inProduct = await b.addDevice({ name: 'in-product', product_id: 4242 });
  assert.is((await b.call('GET', `/v1/devices/${inProduct.id}`)).body.product_id, 4242);
});

test('PUT product_id "none" takes a device out of its product: what GET shows can be sent back', async () => {
  const d = await b.addDevice({ name: 'leaving', product_id: 77 });
  const out = await b.call('PUT', `/v1/devices/${d.id}`, { product_id: 'none' });
  assert.equal([out.status, out.body.product_id], [200, 'none']);
  assert.is((await b.store.devices.get(d.id))!.productId, null, 'stored as no product');
  const back = await b.call('PUT', `/v1/devices/${d.id}`, { product_id: 77 });
  assert.is(back.body.product_id, 77);
  const bad = await b.call('PUT', `/v1/devices/${d.id}`, { product_id: 'nothing' });
  assert.equal([bad.status, bad.body.code, bad.body.field], [400, 'BAD_REQUEST', 'product_id']);
});

test('tokens in the query string never reach the log', async () => {
  await fetch(`${b.url}/v1/devices?access_token=${b.token}`);
  await fetch(`${b.url}/v1/devices?access_token=hwt_secret_in_query`);
  const all = JSON.stringify(b.logs);
  assert.not.ok(all.includes(b.token));
  assert.not.ok(all.includes('hwt_secret_in_query'));
  assert.ok(b.logs.some((l) => l.msg === 'request' && l.path === '/v1/devices'), 'requests are logged, without the query');
});

test.run();
