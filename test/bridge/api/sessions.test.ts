// Sessions end with their credentials: revoking an API token closes the MQTT service
// connections and the event streams it opened (not only its next login), through any of the
// ways Particle's tools revoke (by ID, by the token's value, `current`).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { connackCode, mqttClient } from '../../helpers/mqtt.ts';

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

async function token(name: string, scope = 'read'): Promise<{ id: string; token: string }> {
  return (await b.call('POST', '/v1/access_tokens', { name, scope })).body;
}

/** An open event stream: resolves once its `:ok` arrived; `ended` once the bridge ends it. */
async function stream(secret: string) {
  const res = await request(`${b.url}/v1/events`, { headers: { authorization: `Bearer ${secret}` } });
  assert.is(res.statusCode, 200);
  let text = '';
  const ended = new Promise<void>((resolve) => {
    res.body.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    res.body.on('end', resolve);
    res.body.on('error', () => resolve());
  });
  await until(() => text.startsWith(':ok'), 2000, 'the stream to open');
  return { ended, text: () => text };
}

async function service(secret: string) {
  const c = await mqttClient(b.mqttUrl, { clientId: `svc-${Math.random().toString(36).slice(2)}`, username: 'svc', password: secret });
  const closed = new Promise<void>((resolve) => c.client.once('close', () => resolve()));
  return { c, closed };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} still open after ${ms} ms`)), ms))]);

test('revoking a token by ID closes its MQTT service connections and event streams; other tokens keep theirs', async () => {
  const doomed = await token('doomed', 'admin');
  const other = await token('other', 'admin');
  const [s1, m1] = [await stream(doomed.token), await service(doomed.token)];
  const [s2, m2] = [await stream(other.token), await service(other.token)];
  assert.is((await b.call('DELETE', `/v1/access_tokens/${doomed.id}`)).status, 200);
  await within(Promise.all([s1.ended, m1.closed]), 1000, 'the revoked token\'s sessions');
  assert.is(await connackCode(b.mqttUrl, { clientId: 'svc-again', username: 'svc', password: doomed.token }), 4);
  // The other token's sessions go on: an event still reaches its stream and its subscription.
  await m2.c.client.subscribeAsync('still/#');
  await b.call('POST', '/v1/devices/events', { name: 'still/here', data: '1' });
  await until(() => s2.text().includes('event: still/here') && m2.c.topics().includes('still/here'), 2000, 'the other token\'s sessions');
  await m2.c.end();
});

test('revoking by the token\'s value (particle token revoke) ends its sessions too', async () => {
  const t = await token('by-value');
  const s = await stream(t.token);
  assert.is((await b.call('DELETE', `/v1/access_tokens/${t.token}`)).status, 200);
  await within(s.ended, 1000, 'the stream');
  assert.is((await b.call('GET', '/v1/devices', undefined, t.token)).status, 401);
});

test('revoking by value needs no other token: the value is its own credential (what particle-cli sends); by ID it needs an admin', async () => {
  const t = await token('by-value-alone');
  const reader = await token('reader');
  assert.is((await b.call('DELETE', `/v1/access_tokens/${t.id}`, undefined, null)).status, 401, 'by ID, no token');
  assert.is((await b.call('DELETE', `/v1/access_tokens/${t.id}`, undefined, reader.token)).status, 403, 'by ID, a read token');
  assert.is((await b.call('GET', '/v1/devices', undefined, t.token)).status, 200, 'still valid');
  const s = await stream(t.token);
  assert.is((await b.call('DELETE', `/v1/access_tokens/${t.token}`, undefined, null)).status, 200);
  await within(s.ended, 1000, 'the stream');
  assert.is((await b.call('GET', '/v1/devices', undefined, t.token)).status, 401);
});

test('DELETE /v1/access_tokens/current (particle logout) revokes the calling token, read scope included', async () => {
  const t = await token('logout');
  const s = await stream(t.token);
  const res = await b.call('DELETE', '/v1/access_tokens/current', undefined, t.token);
  assert.is(res.status, 200);
  assert.equal([res.body.id, typeof res.body.revoked_at], [t.id, 'string']);
  await within(s.ended, 1000, 'the stream');
  assert.is((await b.call('GET', '/v1/devices', undefined, t.token)).status, 401);
  assert.is((await b.call('DELETE', '/v1/access_tokens/current', undefined, t.token)).status, 401);
});

test('an unknown token value is a 404 that does not say more', async () => {
  const res = await b.call('DELETE', '/v1/access_tokens/hwt_nope');
  assert.equal([res.status, res.body.code], [404, 'TOKEN_NOT_FOUND']);
  assert.not.ok(JSON.stringify(res.body).includes('hwt_nope'));
});

test.run();
