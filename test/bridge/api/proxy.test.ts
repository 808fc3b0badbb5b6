// Behind a reverse proxy: with HOOKWIRE_TRUST_PROXY naming it, a request's client is the one its
// X-Forwarded-For names, so one client's wrong tokens do not lock out everyone behind the proxy;
// without it, the header is ignored, so a client cannot dodge the limit by writing one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';

/** GET /v1/devices over a real socket from 127.0.0.1, as if forwarded for `client`. */
async function get(b: TestBridge, token: string, client: string) {
  const res = await fetch(`${b.url}/v1/devices`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client } });
  await res.arrayBuffer();
  return res.status;
}

test('a trusted proxy: each forwarded client has its own count; the one guessing is refused, the others are not', async () => {
  const b = await testBridge({ trustProxy: 'loopback' });
  try {
    for (let i = 0; i < 20; i++) assert.is(await get(b, `hwt_wrong${i}`, '203.0.113.5'), 401);
    assert.is(await get(b, b.token, '203.0.113.5'), 429, 'the guessing client is refused');
    assert.is(await get(b, b.token, '203.0.113.6'), 200, 'another client behind the same proxy is not');
    assert.ok(b.logs.some((l) => String(l.msg).startsWith('too many failed logins') && l.remote === '203.0.113.5'), 'the log names the client, not the proxy');
  } finally {
    await b.stop();
  }
});

test('no trusted proxy: X-Forwarded-For is ignored, so writing one does not reset the count', async () => {
  const b = await testBridge();
  try {
    for (let i = 0; i < 20; i++) assert.is(await get(b, `hwt_wrong${i}`, `198.51.100.${i}`), 401);
    assert.is(await get(b, b.token, '198.51.100.99'), 429);
  } finally {
    await b.stop();
  }
});

test('a bad proxy entry stops the start, naming the setting', async () => {
  try {
    await testBridge({ trustProxy: 'loopback,not-an-address' });
    assert.unreachable('started');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'CONFIG_INVALID');
    assert.match((err as Error).message, /HOOKWIRE_TRUST_PROXY/);
  }
});

test.run();
