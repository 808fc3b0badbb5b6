// API tokens: create (shown once), list (never the secret or its hash), revoke (401 at once);
// read-only tokens look but never change, and never see a template's secrets. And the CLI.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';
import { hookwire } from '../../helpers/spawn.ts';

let b: TestBridge;

test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

async function create(name: string, scope?: string) {
  const res = await b.call('POST', '/v1/access_tokens', scope ? { name, scope } : { name });
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; name: string; scope: string; created_at: string; revoked_at: null; token: string };
}

test('POST /v1/access_tokens: 201 with the token once; it authenticates; read is the default scope', async () => {
  const t = await create('grafana');
  assert.equal(Object.keys(t).sort(), ['created_at', 'id', 'name', 'revoked_at', 'scope', 'token']);
  assert.equal([t.name, t.scope, t.revoked_at], ['grafana', 'read', null]);
  assert.match(t.token, /^hwt_[A-Za-z0-9_-]{32}$/);
  assert.ok(Math.abs(Date.parse(t.created_at) - Date.now()) < 60_000);
  assert.is((await b.call('GET', '/v1/devices', undefined, t.token)).status, 200);
  const admin = await create('deploy-bot', 'admin');
  assert.is(admin.scope, 'admin');
  assert.is((await b.call('POST', '/v1/devices', {}, admin.token)).status, 201);
});

test('GET /v1/access_tokens lists id, name, scope, created_at, revoked_at: never the secret or its hash', async () => {
  const t = await create('lister');
  const res = await b.call('GET', '/v1/access_tokens');
  assert.is(res.status, 200);
  const entry = res.body.find((x: { id: string }) => x.id === t.id);
  assert.equal(entry, { id: t.id, name: 'lister', scope: 'read', created_at: t.created_at, revoked_at: null });
  assert.ok(res.body.some((x: { name: string; scope: string }) => x.name === 'admin' && x.scope === 'admin'), 'the first-start admin token is listed');
  const text = JSON.stringify(res.body);
  assert.not.ok(text.includes(t.token) || text.includes(t.token.slice(4)), 'no secret');
  assert.not.ok(/token_?hash|"hash"/i.test(text), 'no hash');
});

test('DELETE /v1/access_tokens/:id revokes: the token gets 401 at once; again is harmless; unknown is 404', async () => {
  const t = await create('short-lived', 'admin');
  assert.is((await b.call('GET', '/v1/integrations', undefined, t.token)).status, 200);
  const del = await b.call('DELETE', `/v1/access_tokens/${t.id}`);
  assert.is(del.status, 200);
  assert.equal([del.body.ok, del.body.id, typeof del.body.revoked_at], [true, t.id, 'string']);
  const after = await b.call('GET', '/v1/integrations', undefined, t.token);
  assert.equal([after.status, after.body.error], [401, 'invalid_token']);
  assert.is((await b.call('POST', '/v1/devices', {}, t.token)).status, 401);
  const listed = (await b.call('GET', '/v1/access_tokens')).body.find((x: { id: string }) => x.id === t.id);
  assert.is(listed.revoked_at, del.body.revoked_at);
  const again = await b.call('DELETE', `/v1/access_tokens/${t.id}`);
  assert.equal([again.status, again.body.revoked_at], [200, del.body.revoked_at]);
  const unknown = await b.call('DELETE', '/v1/access_tokens/00000000-0000-0000-0000-000000000000');
  assert.equal(unknown.body, { ok: false, error: 'no API token 00000000-0000-0000-0000-000000000000', code: 'TOKEN_NOT_FOUND' });
  assert.is(unknown.status, 404);
});

test('401 without or with a wrong token; 403 for a read token on every token route (it cannot mint an admin)', async () => {
  const ro = await create('dashboard', 'read');
  const routes: [string, string, unknown][] = [['POST', '/v1/access_tokens', { name: 'x', scope: 'admin' }], ['GET', '/v1/access_tokens', undefined], ['DELETE', `/v1/access_tokens/${ro.id}`, undefined]];
  for (const [method, path, body] of routes) {
    const none = await b.call(method, path, body, null);
    assert.equal([none.status, none.body.error], [401, 'invalid_token'], `${method} no token`);
    assert.is((await b.call(method, path, body, 'hwt_not-a-token')).status, 401, `${method} wrong token`);
    const forbidden = await b.call(method, path, body, ro.token);
    assert.equal([forbidden.status, forbidden.body.ok, forbidden.body.code], [403, false, 'FORBIDDEN'], `${method} read token`);
  }
  assert.is((await b.call('GET', '/v1/devices', undefined, ro.token)).status, 200, 'the read token was not revoked by its own attempt');
  const names = (await b.call('GET', '/v1/access_tokens')).body.map((x: { name: string }) => x.name);
  assert.not.ok(names.includes('x'), 'nothing was created');
});

test('bad input: missing or bad name, bad scope, malformed JSON, a body too large; nothing is created', async () => {
  const count = async () => (await b.call('GET', '/v1/access_tokens')).body.length;
  const before = await count();
  const cases: [unknown, string][] = [[{}, 'name'], [{ name: '' }, 'name'], [{ name: 42 }, 'name'], [{ name: 'a\nb' }, 'name'], [{ name: 'x', scope: 'root' }, 'scope']];
  for (const [body, field] of cases) {
    const res = await b.call('POST', '/v1/access_tokens', body);
    assert.equal([res.status, res.body.ok, res.body.code, res.body.field], [400, false, 'BAD_REQUEST', field], JSON.stringify(body));
  }
  const malformed = await b.call('POST', '/v1/access_tokens', '{"name": "x",');
  assert.equal([malformed.status, malformed.body.ok, malformed.body.code], [400, false, 'BAD_REQUEST']);
  const big = await b.call('POST', '/v1/access_tokens', { name: 'x'.repeat(b.config.maxBodyBytes) });
  assert.equal([big.status, big.body.ok, big.body.code], [413, false, 'BODY_TOO_LARGE']);
  assert.is(await count(), before);
});

test('a read token sees integrations with every template literal blanked by rule (tags, names and public fields kept); the admin sees them as stored', async () => {
  const secrets = ['URLPASS', 'QTOKEN', 'HAUTH', 'HKEY', 'HSUB', 'AUTHPASS', 'JSECRET', 'FKEY', 'T0SLACK', 'B0SLACK', 'XSLACKPATH', 'WEATHERAPPID', 'APITOKEN1', 'SESSIONX', 'SVCUSER', 'QPAGE'];
  const created = await b.call('POST', '/v1/integrations', {
    event: 'secretive',
    url: 'https://user:URLPASS@api.example.com/in?api_key=QTOKEN&page=QPAGE&units={{units}}',
    requestType: 'POST',
    headers: { Authorization: 'Bearer HAUTH', 'X-API-Key': 'HKEY', 'Ocp-Apim-Subscription-Key': 'HSUB', 'X-Session': 'SESSIONX', 'X-Device': '{{PARTICLE_DEVICE_ID}}', 'X-Plain': 'visible', 'Content-Type': 'application/json' },
    auth: { username: 'SVCUSER', password: 'AUTHPASS' },
    json: { client_secret: 'JSECRET', apiToken: 'APITOKEN1', temp: '{{{PARTICLE_EVENT_VALUE}}}' },
    publicFields: ['headers.X-Plain'],
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  const formHook = (await b.call('POST', '/v1/integrations', { event: 'secretive-form', url: 'https://api.example.com/f', form: { api_key: 'FKEY', a: 'b' }, query: { token: 'QTOKEN', appid: 'WEATHERAPPID' } })).body.id;
  const slack = (await b.call('POST', '/v1/integrations', { event: 'secretive-slack', url: 'https://hooks.slack.com/services/T0SLACK/B0SLACK/XSLACKPATH', json: { text: '{{PARTICLE_EVENT_VALUE}}' } })).body.id;
  const secret = (await b.call('POST', `/v1/integrations/${id}/secret`)).body.secret;
  assert.type(secret, 'string');
  const ro = await create('viewer', 'read');

  const detail = await b.call('GET', `/v1/integrations/${id}`, undefined, ro.token);
  assert.is(detail.status, 200);
  const seen = [JSON.stringify(detail.body), ...await Promise.all([`/v1/integrations/${formHook}`, `/v1/integrations/${slack}`, '/v1/integrations', '/v1/webhooks', '/v1/doctor?probe=false'].map(async (path) => JSON.stringify((await b.call('GET', path, undefined, ro.token)).body)))].join('\n');
  for (const s of [...secrets, secret]) assert.not.ok(seen.includes(s), `${s} is hidden from a read token`);
  const i = detail.body.integration;
  assert.equal([i.headers['X-Plain'], i.headers['X-Device'], i.headers['Content-Type'], i.json.temp, i.event], ['visible', '{{PARTICLE_DEVICE_ID}}', 'application/json', '{{{PARTICLE_EVENT_VALUE}}}', 'secretive'], 'tags, public fields and plain headers stay readable');
  assert.is(i.url, 'https://[redacted]@api.example.com/[redacted]?api_key=[redacted]&page=[redacted]&units={{units}}');
  assert.is(JSON.parse(seen.split('\n')[2]!).integration.url, 'https://hooks.slack.com/[redacted]/[redacted]/[redacted]/[redacted]');

  const asAdmin = JSON.stringify((await b.call('GET', `/v1/integrations/${id}`)).body) + JSON.stringify((await b.call('GET', `/v1/integrations/${formHook}`)).body) + JSON.stringify((await b.call('GET', `/v1/integrations/${slack}`)).body);
  for (const s of secrets) assert.ok(asAdmin.includes(s), `${s} is shown to the admin`);
  assert.not.ok(asAdmin.includes(secret), 'the signing secret is shown only once, to no one later');
  const bad = await b.call('POST', '/v1/integrations', { event: 'x', url: 'https://e.com', publicFields: ['auth.password'] });
  assert.equal([bad.status, bad.body.code, bad.body.field], [400, 'BAD_REQUEST', 'publicFields']);
});

test('the CLI: tokens create, list, revoke', async () => {
  const env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
  const created = await hookwire(['tokens', 'create', 'cli-reader', '--json'], env);
  assert.is(created.code, 0, created.stderr);
  const t = JSON.parse(created.stdout);
  assert.equal([t.name, t.scope], ['cli-reader', 'read']);
  const text = await hookwire(['tokens', 'create', 'cli-admin', '--scope', 'admin'], env);
  assert.ok(text.stdout.includes('shown once') && /hwt_\S+/.test(text.stdout));

  const list = await hookwire(['tokens', 'list'], env);
  assert.ok(list.stdout.split('\n')[0]!.startsWith('ID'));
  assert.ok(list.stdout.includes(t.id) && list.stdout.includes('cli-reader') && list.stdout.includes('cli-admin'));
  assert.not.ok(list.stdout.includes(t.token));

  const revoke = await hookwire(['tokens', 'revoke', t.id], env);
  assert.is(revoke.code, 0, revoke.stderr);
  assert.ok(revoke.stdout.includes('revoked'));
  assert.is((await b.call('GET', '/v1/devices', undefined, t.token)).status, 401);
  const listed = JSON.parse((await hookwire(['tokens', 'list', '--json'], env)).stdout).find((x: { id: string }) => x.id === t.id);
  assert.type(listed.revoked_at, 'string');

  const bad = await hookwire(['tokens', 'create', 'x', '--scope', 'root'], env);
  assert.is(bad.code, 1);
  assert.ok(bad.stderr.includes('BAD_REQUEST'));
  const readOnly = await hookwire(['tokens', 'list'], { ...env, HOOKWIRE_TOKEN: JSON.parse((await hookwire(['tokens', 'create', 'ro', '--json'], env)).stdout).token });
  assert.is(readOnly.code, 1);
  assert.ok(readOnly.stderr.includes('FORBIDDEN'));
});

test.run();
