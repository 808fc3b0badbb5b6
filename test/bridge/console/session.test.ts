// Console sign-in over plain HTTP, as a browser would make it: an API token traded for a
// session cookie (HttpOnly, SameSite=Strict, Secure under HTTPS), changes refused without the
// session's CSRF header or with a read token, sign-out and token revocation ending the session
// (and its event streams), and the page served with its policy and cacheable assets.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { openssl, tempPki, tlsBridge, trusting } from '../../helpers/tls.ts';

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

async function send(method: string, path: string, options: { cookie?: string; csrf?: string; body?: unknown; origin?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  if (options.origin) headers.origin = options.origin;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(b.url + path, { method: method as 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // the page
  }
  return { status: res.statusCode, headers: res.headers, body };
}

/** Sign in with a token: the cookie to send back (name=value) and the CSRF value. */
async function signIn(token: string): Promise<{ cookie: string; csrf: string; setCookie: string; scope: string }> {
  const res = await send('POST', '/console/session', { body: { token }, origin: b.url });
  assert.is(res.status, 200, JSON.stringify(res.body));
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, csrf: res.body.csrf, setCookie, scope: res.body.scope };
}

async function readToken(name: string): Promise<{ id: string; token: string }> {
  return (await b.call('POST', '/v1/access_tokens', { name, scope: 'read' })).body;
}

test('signing in sets an HttpOnly, SameSite=Strict cookie for the whole API, not Secure over plain HTTP; the log never holds the token', async () => {
  const s = await signIn(b.token);
  assert.match(s.cookie, /^hookwire_session=[A-Za-z0-9_-]{43}$/);
  assert.match(s.setCookie, /; Path=\//);
  assert.match(s.setCookie, /; HttpOnly/);
  assert.match(s.setCookie, /; SameSite=Strict/);
  assert.not.match(s.setCookie, /Secure/);
  assert.is(s.scope, 'admin');
  const who = await send('GET', '/console/session', { cookie: s.cookie });
  assert.equal([who.body.signed_in, who.body.username, who.body.csrf], [true, 'admin', s.csrf]);
  assert.is(who.body.broker.mqtt_port, b.mqttPort);
  assert.ok(b.logs.some((l) => l.msg === 'console sign-in'));
  const cookieValue = s.cookie.split('=')[1]!;
  for (const l of b.logs) {
    const line = JSON.stringify(l);
    assert.not.ok(line.includes(b.token) || line.includes(cookieValue), `secret in log: ${l.msg}`);
  }
});

test('not signed in: the console asks and hears so, and the API answers 401', async () => {
  const who = await send('GET', '/console/session');
  assert.equal([who.status, who.body], [200, { signed_in: false }]);
  assert.is((await send('GET', '/v1/devices', { cookie: 'hookwire_session=forged' })).status, 401);
});

test('a wrong token is refused and counts as a failed login', async () => {
  const res = await send('POST', '/console/session', { body: { token: 'hwt_wrong' } });
  assert.is(res.status, 401);
  assert.is(res.headers['set-cookie'], undefined);
  assert.is((await send('POST', '/console/session', { body: {} })).body.field, 'token');

  // On a bridge that refuses an address after 2 wrong tokens, the third sign-in is refused, right token or not.
  const strict = await testBridge({}, { loginLimit: { maxFailures: 2, windowMs: 60_000, blockMs: 60_000 } });
  try {
    const signIn = (token: string) => request(`${strict.url}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    for (let i = 0; i < 2; i++) {
      const wrong = await signIn('hwt_wrong');
      await wrong.body.dump();
      assert.is(wrong.statusCode, 401);
    }
    const limited = await signIn(strict.token);
    assert.equal([limited.statusCode, ((await limited.body.json()) as { code: string }).code], [429, 'LOGIN_LIMITED']);
  } finally {
    await strict.stop();
  }
});

test('a change with the cookie needs the CSRF header: without it nothing changes', async () => {
  const s = await signIn(b.token);
  const before = (await b.call('GET', '/v1/devices')).body.length;
  const forged = await send('POST', '/v1/devices', { cookie: s.cookie, body: { name: 'forged' } });
  assert.equal([forged.status, forged.body.code], [403, 'CROSS_SITE']);
  const wrong = await send('POST', '/v1/devices', { cookie: s.cookie, csrf: 'x'.repeat(32), body: { name: 'forged' } });
  assert.equal([wrong.status, wrong.body.code], [403, 'CROSS_SITE']);
  assert.is((await b.call('GET', '/v1/devices')).body.length, before);
  const made = await send('POST', '/v1/devices', { cookie: s.cookie, csrf: s.csrf, body: { name: 'from-console' } });
  assert.is(made.status, 201);
  assert.is((await send('GET', '/v1/devices', { cookie: s.cookie })).body.length, before + 1, 'reads need no CSRF header');
});

test('a sign-in posted from another site is refused (login CSRF)', async () => {
  const res = await send('POST', '/console/session', { body: { token: b.token }, origin: 'https://evil.example' });
  assert.equal([res.status, res.body.code], [403, 'CROSS_SITE']);
  assert.is(res.headers['set-cookie'], undefined);
});

test('a read token\'s session can look but not change, CSRF header or not', async () => {
  const t = await readToken('viewer');
  const s = await signIn(t.token);
  assert.is(s.scope, 'read');
  assert.is((await send('GET', '/v1/integrations', { cookie: s.cookie })).status, 200);
  const res = await send('POST', '/v1/devices', { cookie: s.cookie, csrf: s.csrf, body: { name: 'nope' } });
  assert.equal([res.status, res.body.code], [403, 'FORBIDDEN']);
  const preview = await send('POST', '/v1/integrations/preview', { cookie: s.cookie, csrf: s.csrf, body: { template: { event: 'x', url: 'https://example.com' } } });
  assert.is(preview.status, 403, 'a preview shows the template\'s secrets');
});

test('signing out ends the session and the event streams it opened', async () => {
  const s = await signIn(b.token);
  const res = await request(`${b.url}/v1/events`, { headers: { cookie: s.cookie } });
  assert.is(res.statusCode, 200);
  let ended = false;
  res.body.on('end', () => { ended = true; }).on('error', () => { ended = true; }).resume();
  const out = await send('DELETE', '/console/session', { cookie: s.cookie, csrf: s.csrf });
  assert.is(out.status, 204);
  assert.match(String(out.headers['set-cookie']), /^hookwire_session=;.*Expires=Thu, 01 Jan 1970/);
  await until(() => ended, 2000, 'the stream to end');
  assert.is((await send('GET', '/v1/devices', { cookie: s.cookie })).status, 401);
  assert.equal((await send('GET', '/console/session', { cookie: s.cookie })).body, { signed_in: false });
});

test('sign-out without the CSRF header is refused: another site cannot sign a person out', async () => {
  const s = await signIn(b.token);
  assert.is((await send('DELETE', '/console/session', { cookie: s.cookie })).status, 403);
  assert.is((await send('GET', '/v1/devices', { cookie: s.cookie })).status, 200);
});

test('revoking the token ends its console sessions', async () => {
  const t = await readToken('revoked-later');
  const s = await signIn(t.token);
  assert.is((await send('GET', '/v1/devices', { cookie: s.cookie })).status, 200);
  assert.is((await b.call('DELETE', `/v1/access_tokens/${t.id}`)).status, 200);
  assert.is((await send('GET', '/v1/devices', { cookie: s.cookie })).status, 401);
});

test('every console URL is the page, with a policy that allows only the bridge\'s own scripts; its assets are cached for good', async () => {
  for (const path of ['/console', '/console/', '/console/devices', '/console/integrations/abc/edit']) {
    const page = await send('GET', path);
    assert.is(page.status, 200, path);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.is(page.headers['cache-control'], 'no-store');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  }
  const html = (await send('GET', '/console')).body as string;
  const script = /src="(\/console\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  const style = /href="(\/console\/assets\/app-[A-Z0-9]+\.css)"/.exec(html)?.[1];
  assert.ok(script && style, html);

  const res = await request(b.url + script, { headers: { 'accept-encoding': 'br, gzip' } });
  const compressed = Buffer.from(await res.body.arrayBuffer());
  assert.is(res.statusCode, 200);
  assert.is(res.headers['content-encoding'], 'br');
  assert.is(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  const plain = await request(b.url + script);
  const raw = Buffer.from(await plain.body.arrayBuffer());
  assert.ok(compressed.length < raw.length / 2, `${compressed.length} vs ${raw.length}`);
  const again = await request(b.url + script, { headers: { 'if-none-match': String(res.headers.etag) } });
  await again.body.dump();
  assert.is(again.statusCode, 304);
  assert.is((await send('GET', '/console/assets/app-NOPE.js')).body.code, 'NOT_FOUND');
});

test('the preview renders an unsaved template for a sample event, and names the field of a bad one', async () => {
  const template = { event: 'temp', url: 'https://example.com/in/{{PARTICLE_DEVICE_ID}}', requestType: 'POST', json: { v: '{{{t}}}' }, headers: { 'X-Key': 'k1' } };
  const ok = await b.call('POST', '/v1/integrations/preview', { template, data: '{"t": 21.5}', device_id: 'a'.repeat(24) });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.is(ok.body.request.url, `https://example.com/in/${'a'.repeat(24)}`);
  assert.is(ok.body.request.headers['x-key'], 'k1');
  assert.is(JSON.parse(ok.body.request.body).v, '21.5'); // as Particle renders a tag inside a JSON string
  assert.is(ok.body.event.name, 'temp');
  const bad = await b.call('POST', '/v1/integrations/preview', { template: { event: 'temp', url: 'ftp://example.com' } });
  assert.equal([bad.status, bad.body.field], [400, 'url']);
  const missing = await b.call('POST', '/v1/integrations/preview', {});
  assert.equal([missing.status, missing.body.field], [400, 'template']);
  assert.is((await b.call('GET', '/v1/integrations')).body.length, 0, 'nothing was saved');
});

if (!openssl) {
  test('openssl not installed: the HTTPS cookie test is skipped (apt-get install -y openssl)', () => {});
} else {
  test('under HTTPS the cookie is Secure and __Host- prefixed', async () => {
    const pki = await tempPki();
    const s = await tlsBridge(pki);
    const dispatcher = await trusting(pki.ca.cert);
    try {
      const res = await request(`${s.url}/console/session`, {
        method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: s.token }),
      });
      await res.body.dump();
      const setCookie = String(res.headers['set-cookie']);
      assert.match(setCookie, /^__Host-hookwire_session=/);
      assert.match(setCookie, /; Secure/);
      const cookie = setCookie.split(';')[0]!;
      const devices = await request(`${s.url}/v1/devices`, { dispatcher, headers: { cookie } });
      await devices.body.dump();
      assert.is(devices.statusCode, 200);
    } finally {
      await dispatcher.close();
      await s.stop();
      await pki.remove();
    }
  });
}

test.run();
