// GET /v1/user (Particle's "get user", what `particle whoami` asks): the token's name as the
// username, for admin and read tokens alike; 401 without a token or with a wrong one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';

let b: TestBridge;

test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

const particleShape = (username: string, scope: string) => ({
  username,
  subscription_ids: [],
  account_info: { first_name: '', last_name: '', business_account: false },
  team_invites: [],
  mfa: { enabled: false },
  scope,
});

test('the admin token: its name is the username', async () => {
  const res = await b.call('GET', '/v1/user');
  assert.is(res.status, 200);
  assert.equal(res.body, particleShape('admin', 'admin'));
});

test('a read token may ask who it is; particle-cli reads `username`', async () => {
  const made = await b.call('POST', '/v1/access_tokens', { name: 'grafana', scope: 'read' });
  assert.is(made.status, 201);
  const res = await b.call('GET', '/v1/user', undefined, made.body.token);
  assert.is(res.status, 200);
  assert.equal(res.body, particleShape('grafana', 'read'));
});

test('the token in the query, as Particle clients also send it', async () => {
  const res = await fetch(`${b.url}/v1/user?access_token=${b.token}`);
  assert.is(res.status, 200);
  assert.is(((await res.json()) as { username: string }).username, 'admin');
});

test('401 without a token, with a wrong one, and with a revoked one', async () => {
  const none = await b.call('GET', '/v1/user', undefined, null);
  assert.equal([none.status, none.body.error], [401, 'invalid_token']);
  const wrong = await b.call('GET', '/v1/user', undefined, 'hwt_not-a-token');
  assert.equal([wrong.status, wrong.body.error], [401, 'invalid_token']);
  const made = await b.call('POST', '/v1/access_tokens', { name: 'gone', scope: 'read' });
  assert.is((await b.call('DELETE', `/v1/access_tokens/${made.body.id}`)).status, 200);
  assert.is((await b.call('GET', '/v1/user', undefined, made.body.token)).status, 401);
});

test.run();
