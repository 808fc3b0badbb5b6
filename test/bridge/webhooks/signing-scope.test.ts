// What a signature covers (docs/signing.md): the body byte for byte, so a form body is signed
// as sent, and a GET's empty body only: its query string, where its data travels, is not.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sign } from '../../../bridge/webhooks/signing.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Captured, type Receiver } from '../../helpers/receiver.ts';

let b: TestBridge;
let rx: Receiver;

test.before(async () => {
  [b, rx] = await Promise.all([testBridge(), receiver()]);
});
test.after(async () => {
  await b?.stop();
  await rx?.close();
});

/** A signed integration fired once by an API publish; its request as the target got it, and the secret. */
async function fire(path: string, template: Record<string, unknown>): Promise<{ req: Captured; secret: string }> {
  const made = await b.call('POST', '/v1/integrations', { url: `${rx.url}${path}`, ...template });
  assert.is(made.status, 201, JSON.stringify(made.body));
  const secret = (await b.call('POST', `/v1/integrations/${made.body.id}/secret`)).body.secret as string;
  const next = rx.next(path);
  assert.is((await b.call('POST', '/v1/devices/events', { name: template.event, data: 'a b&c=1' })).status, 200);
  return { req: await next, secret };
}

const signatureOf = (req: Captured) => String(req.headers['webhook-signature']);
const signed = (secret: string, req: Captured, content: string) =>
  sign(secret, String(req.headers['webhook-id']), Number(req.headers['webhook-timestamp']), content);

test('a form body is signed as sent: the raw form bytes, not a parsed or JSON form of them', async () => {
  const { req, secret } = await fire('/form', { event: 'signed-form', form: { room: 'kitchen' } });
  assert.match(String(req.headers['content-type']), 'application/x-www-form-urlencoded');
  const raw = req.body.toString('utf8');
  assert.match(raw, 'data=a+b%26c%3D1');
  assert.is(signatureOf(req), signed(secret, req, raw));
  assert.is.not(signatureOf(req), signed(secret, req, JSON.stringify(Object.fromEntries(new URLSearchParams(raw)))));
});

test('a GET signs its empty body only: the data in its query string is not covered', async () => {
  const { req, secret } = await fire('/get', { event: 'signed-get', requestType: 'GET' });
  assert.is(req.method, 'GET');
  assert.match(req.url, 'data=a+b%26c%3D1', 'the data is in the query');
  assert.is(req.body.length, 0);
  assert.is(signatureOf(req), signed(secret, req, ''), 'the signature is that of the empty body');
  assert.is.not(signatureOf(req), signed(secret, req, req.url.slice(req.url.indexOf('?') + 1)), 'not that of the query');
});

test.run();
