// Who chooses where a webhook goes (bridge/webhooks/targets.ts), and what a template may be
// (limits.ts), at creation through the API: a tag in the URL's host or port is refused unless
// the integration sets dynamicHost, which never goes with credentials; templates too deep or
// too large are a 400 naming the field, never a 500. Then a dynamic host delivering, and an
// integration stored before these rules loading disabled rather than sending where a device says.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Device } from '../../../firmware-sdk/index.ts';
import { createWebhooks } from '../../../bridge/webhooks/index.ts';
import type { TestBridge } from '../../helpers/bridge.ts';
import type { Receiver } from '../../helpers/receiver.ts';
import { useWebhookRig } from '../../helpers/rig.ts';
import { quietLogger, tempStore } from '../../helpers/store.ts';

let b: TestBridge;
let rx: Receiver;
let device: Device;
useWebhookRig(test, (rig) => ({ b, rx, device } = rig));

const create = (template: Record<string, unknown>) => b.call('POST', '/v1/integrations', { event: 'tgt', ...template });

/** A refusal at creation: 400, the field named, nothing stored. */
async function refused(template: Record<string, unknown>, field: string) {
  const before = (await b.call('GET', '/v1/integrations')).body.length;
  const r = await create(template);
  assert.is(r.status, 400, `${JSON.stringify(template).slice(0, 120)}: ${JSON.stringify(r.body).slice(0, 300)}`);
  assert.is(r.body.field, field);
  assert.is((await b.call('GET', '/v1/integrations')).body.length, before, 'nothing stored');
  return r.body;
}

test('a template tag in the URL\'s host or port is refused at creation (field url)', async () => {
  for (const url of ['http://{{{host}}}/hook', 'https://{{{tenant}}}.example.com/hook', 'http://example.com:{{port}}/x', 'http://example.com{{{rest}}}', 'http://{{#a}}x{{/a}}.example.com/', 'http://user:{{{p}}}@example.com/']) {
    await refused({ url }, 'url');
  }
  // Tags in the path and query cannot move the request to another host.
  const ok = await create({ url: `${rx.url}/{{{PARTICLE_DEVICE_ID}}}/x?room={{{room}}}` });
  assert.is(ok.status, 201);
});

test('dynamicHost: true lets event data choose the host, and the request goes there', async () => {
  const r = await create({ event: 'dyn', url: 'http://{{{target}}}/dyn/{{{PARTICLE_EVENT_NAME}}}', dynamicHost: true, json: { v: '{{{v}}}' } });
  assert.is(r.status, 201, JSON.stringify(r.body));
  const got = await b.call('GET', `/v1/integrations/${r.body.id}`);
  assert.is(got.body.integration.dynamicHost, true);
  await device.publish('dyn', JSON.stringify({ target: `127.0.0.1:${rx.port}`, v: 'here' }), { qos: 1 });
  const req = await rx.next('/dyn/dyn');
  assert.is(JSON.parse(req.body.toString()).v, 'here');
});

test('dynamicHost with credentials is refused, naming the credential', async () => {
  const url = 'http://{{{target}}}/x';
  await refused({ url, dynamicHost: true, auth: { username: 'u', password: 'p' } }, 'auth');
  await refused({ url, dynamicHost: true, headers: { Authorization: 'Bearer t' } }, 'headers.Authorization');
  await refused({ url, dynamicHost: true, headers: { 'X-Api-Key': 'k' } }, 'headers.X-Api-Key');
  await refused({ url, dynamicHost: true, headers: { Cookie: 'session=1' } }, 'headers.Cookie');
  await refused({ url, dynamicHost: true, query: { access_token: 't' } }, 'query.access_token');
  await refused({ url: 'http://{{{target}}}/x?apikey=k', dynamicHost: true }, 'url');
  await refused({ url: 'http://u:p@{{{target}}}/x', dynamicHost: true }, 'url');
  await refused({ url, dynamicHost: 'sometimes' }, 'dynamicHost');
  // A harmless header is fine.
  assert.is((await create({ url, dynamicHost: true, headers: { 'Content-Type': 'text/plain' } })).status, 201);
});

test('no signing secret for a dynamic host, and no dynamic host for a signed integration', async () => {
  const dyn = await create({ url: 'http://{{{target}}}/x', dynamicHost: true });
  const rotate = await b.call('POST', `/v1/integrations/${dyn.body.id}/secret`, {});
  assert.is(rotate.status, 400);
  assert.is(rotate.body.field, 'dynamicHost');
  const signed = await create({ url: `${rx.url}/signed` });
  assert.is((await b.call('POST', `/v1/integrations/${signed.body.id}/secret`, {})).status, 200);
  const change = await b.call('PUT', `/v1/integrations/${signed.body.id}`, { event: 'tgt', url: 'http://{{{target}}}/x', dynamicHost: true });
  assert.is(change.status, 400);
  assert.is(change.body.field, 'dynamicHost');
});

test('a Particle template with Hookwire fields it does not know still imports, and a plain one is unchanged', async () => {
  const particle = { event: 'tgt', url: `${rx.url}/p`, requestType: 'POST', json: { a: '{{{PARTICLE_EVENT_VALUE}}}' }, mydevices: true, noDefaults: true };
  const r = await create(particle);
  assert.is(r.status, 201);
  const got = (await b.call('GET', `/v1/integrations/${r.body.id}`)).body.integration;
  assert.not.ok('dynamicHost' in got, 'no dynamicHost unless set');
});

test('JSON nested 4,000 deep is a 400 naming the field, never a 500', async () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 4000; i++) deep = { a: deep };
  const body = await refused({ url: `${rx.url}/x`, json: deep }, 'json');
  assert.is(body.code, 'TEMPLATE_INVALID');
  let deepArray: unknown = 'x';
  for (let i = 0; i < 4000; i++) deepArray = [deepArray];
  await refused({ url: `${rx.url}/x`, form: { f: deepArray } }, 'form');
  await refused({ url: `${rx.url}/x`, body: `${'{{#a}}'.repeat(4000)}x${'{{/a}}'.repeat(4000)}` }, 'body');
});

test('a template over 64 KiB is a 400 naming its largest field', async () => {
  await refused({ url: `${rx.url}/x`, body: '{{{PARTICLE_EVENT_VALUE}}}'.repeat(40_000) }, 'body');
  await refused({ url: `${rx.url}/x`, headers: { 'X-Big': 'y'.repeat(70_000) } }, 'headers');
});

test('an integration stored with a host tag and no dynamicHost loads disabled, with the reason, and cannot be enabled as it is', async () => {
  const t = await tempStore();
  const now = new Date().toISOString();
  await t.store.integrations.create({ id: 'c'.repeat(24), productId: null, template: { event: 'legacy', url: 'http://{{{host}}}/hook', headers: { Authorization: 'Bearer k' } }, createdAt: now, updatedAt: now });
  const webhooks = await createWebhooks({ store: t.store, publish: () => {}, logger: quietLogger() });
  try {
    const integration = webhooks.get('c'.repeat(24));
    assert.is(integration.disabled, true);
    assert.match(String(webhooks.status(integration.id).disabledReason), /dynamicHost/);
    const enabling = await webhooks.setEnabled(integration.id, true, 'someone').then(() => undefined, (err: { field?: string }) => err);
    assert.is(enabling?.field, 'url');
  } finally {
    await webhooks.close();
    await t.close();
  }
});

test.run();
