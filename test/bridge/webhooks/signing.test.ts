// Signed requests, checked by a verifier written here from the Standard Webhooks
// specification (not by calling the bridge's signer): the signed content is
// `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 keyed with the base64 bytes after
// `whsec_`, sent as space-separated `v1,<base64>` signatures.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Captured, type Receiver } from '../../helpers/receiver.ts';
import { sleep } from '../../helpers/mqtt.ts';

/** The receiver's side, as the specification describes it. */
function verify(secret: string, req: Pick<Captured, 'headers' | 'body'>, toleranceS = 300): boolean {
  const id = String(req.headers['webhook-id']);
  const timestamp = String(req.headers['webhook-timestamp']);
  const signatures = String(req.headers['webhook-signature'] ?? '').split(' ');
  if (Math.abs(Number(timestamp) - Date.now() / 1000) > toleranceS) return false; // replay protection
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${req.body.toString('utf8')}`).digest();
  return signatures.some((s) => {
    const [version, b64] = s.split(',');
    const given = Buffer.from(b64 ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

let b: TestBridge;
let rx: Receiver;
let device: Device;
let id: string;

test.before(async () => {
  b = await testBridge();
  rx = await receiver();
  const d = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  id = (await b.call('POST', '/v1/integrations', { event: 'signed', url: `${rx.url}/signed`, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } })).body.id;
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await rx?.close();
});

async function send(value: string): Promise<Captured> {
  await device.publish('signed', value, { qos: 1 });
  await until(() => rx.requests.some((r) => r.body.includes(value)));
  return rx.requests.find((r) => r.body.includes(value))!;
}

test('without a secret: webhook-id and webhook-timestamp, no signature', async () => {
  const req = await send('plain');
  assert.match(String(req.headers['webhook-id']), /^msg_[0-9a-f]{32}_[0-9a-f]{24}$/);
  assert.not.ok(String(req.headers['webhook-id']).includes('.'), 'no dots: the id is part of the signed content');
  assert.is(req.headers['webhook-signature'], undefined);
});

let first: string;

test('with a secret: the signature verifies; a tampered body or another secret does not', async () => {
  const r = await b.call('POST', `/v1/integrations/${id}/secret`, { overlap_seconds: 0 });
  first = r.body.secret;
  assert.match(first, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.ok(Buffer.from(first.slice(6), 'base64').length >= 24);
  const req = await send('signed-1');
  assert.ok(verify(first, req));
  assert.not.ok(verify(first, { headers: req.headers, body: Buffer.from(req.body.toString().replace('signed-1', 'signed-2')) }), 'tampered');
  assert.not.ok(verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, req), 'another secret');
});

test('rotation: during the overlap both secrets sign, then only the new one', async () => {
  const r = await b.call('POST', `/v1/integrations/${id}/secret`, { overlap_seconds: 1 });
  const second = r.body.secret as string;
  assert.type(r.body.previous_valid_until, 'string');
  const during = await send('rotating');
  assert.is(String(during.headers['webhook-signature']).split(' ').length, 2);
  assert.ok(verify(first, during), 'the old secret still verifies during the overlap');
  assert.ok(verify(second, during), 'the new one does');
  await sleep(1100);
  const after = await send('rotated');
  assert.is(String(after.headers['webhook-signature']).split(' ').length, 1);
  assert.ok(verify(second, after));
  assert.not.ok(verify(first, after), 'the old secret no longer signs');
});

test('the secret never shows: not in the integration, its logs, or the bridge\'s log', async () => {
  await b.webhooks.idle();
  const detail = (await b.call('GET', `/v1/integrations/${id}`)).body.integration;
  assert.equal(detail.signing, { enabled: true, previous_valid_until: null });
  const everything = JSON.stringify(detail) + JSON.stringify(b.logs);
  assert.not.ok(everything.includes(first.slice(6)));
  const logged = detail.logs.find((l: { request?: { headers: Record<string, string> } }) => l.request?.headers['webhook-signature']);
  assert.is(logged.request.headers['webhook-signature'], '[redacted]');
});

test('removing the secret stops signing', async () => {
  assert.is((await b.call('DELETE', `/v1/integrations/${id}/secret`)).status, 204);
  const req = await send('unsigned-again');
  assert.is(req.headers['webhook-signature'], undefined);
});

test.run();
