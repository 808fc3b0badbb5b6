// Render (bridge/webhooks/render.ts) on its own: the variables a template sees, Particle's
// escaping, where the default fields go, and a template that cannot render naming its field.
// The requests as a real server receives them are in conformance.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode } from 'cbor-x';
import { CBOR_TAG } from '../../../firmware-sdk/rules.ts';
import { eventFrom, isRefused, type HookwireEvent } from '../../../bridge/events/index.ts';
import { TemplateError } from '../../../bridge/errors.ts';
import { parseTemplate, type WebhookTemplate } from '../../../bridge/webhooks/index.ts';
import { eventView, render, renderRequest, USER_AGENT } from '../../../bridge/webhooks/render.ts';
import { DEVICE } from '../../helpers/store.ts';

function event(name: string, payload: string | Buffer, productId: number | null = null): HookwireEvent {
  const e = eventFrom(name, typeof payload === 'string' ? Buffer.from(payload) : payload, { coreid: DEVICE, productId, firmwareVersion: 7 }, 'device');
  if (isRefused(e)) throw new Error(e.code);
  return e;
}

const request = (template: Record<string, unknown>, e: HookwireEvent) => renderRequest(parseTemplate({ event: 'temp', ...template }), e);

test('the view: JSON data fields, then the predefined variables, which win over a field of the same name', () => {
  const e = event('temp', '{"t":21.5,"PARTICLE_DEVICE_ID":"spoofed","nested":{"a":1}}', 42);
  const v = eventView(e);
  assert.is(v.t, 21.5);
  assert.equal(v.nested, { a: 1 });
  assert.is(v.PARTICLE_DEVICE_ID, DEVICE);
  assert.equal([v.PARTICLE_EVENT_NAME, v.PARTICLE_EVENT_VALUE, v.PRODUCT_ID, v.PRODUCT_VERSION], ['temp', e.data, 42, 7]);
  assert.is(render('{{{PARTICLE_EVENT_JSON}}}', v), JSON.stringify({ event: 'temp', data: e.data, published_at: e.published_at, coreid: DEVICE, product_id: 42, fw_version: 7 }));
  assert.is(Buffer.from(render('{{PARTICLE_EVENT_BASE64}}', v), 'base64').toString(), render('{{{PARTICLE_EVENT_JSON}}}', v));
  assert.is(render('{{SPARK_CORE_ID}}', v), DEVICE, 'legacy names');
});

test('the view: typed data is read as fields; text that is not a JSON object gives none', () => {
  assert.is(eventView(event('temp', Buffer.concat([Buffer.from(CBOR_TAG), encode({ t: 3 })]))).t, 3);
  assert.is(eventView(event('temp', '[1,2]'))['0'], undefined);
  assert.is(eventView(event('temp', '{broken')).broken, undefined);
  assert.is(eventView(event('temp', '21.5')).PARTICLE_EVENT_VALUE, '21.5');
});

test('escaping as Particle does: {{x}} escapes & < > " \' only; {{{x}}} nothing', () => {
  const v = { x: `a&b<c>"d'e/f=g\`h` };
  assert.is(render('{{x}}', v), 'a&amp;b&lt;c&gt;&quot;d&#39;e/f=g`h');
  assert.is(render('{{{x}}}', v), v.x);
  assert.is(render('{{n}}', { n: 0 }), '0', 'numbers are not lost');
  assert.is(render('plain', {}), 'plain');
});

test('POST without json or form: the default fields as a form; noDefaults sends no body', () => {
  const e = event('temp', '21.5');
  const r = request({ url: 'https://example.com/in?k=1' }, e);
  assert.equal([r.method, r.origin, r.path], ['POST', 'https://example.com', '/in?k=1']);
  assert.equal(r.headers, { 'user-agent': USER_AGENT, 'content-type': 'application/x-www-form-urlencoded' });
  assert.is(r.body, new URLSearchParams({ event: 'temp', data: '21.5', published_at: e.published_at, coreid: DEVICE }).toString());
  const bare = request({ url: 'https://example.com/in', noDefaults: true }, e);
  assert.is(bare.body, undefined);
  assert.is(bare.headers['content-type'], undefined);
});

test('GET puts the defaults and the form in the query; json on GET keeps its body', () => {
  const e = event('temp', '21.5');
  const r = request({ url: 'https://example.com/q', requestType: 'GET', form: { unit: '{{PARTICLE_EVENT_NAME}}' } }, e);
  const q = new URL(r.url).searchParams;
  assert.equal([q.get('unit'), q.get('event'), q.get('coreid')], ['temp', 'temp', DEVICE]);
  assert.is(r.body, undefined);
  const j = request({ url: 'https://example.com/q', requestType: 'GET', json: { v: '{{PARTICLE_EVENT_VALUE}}' } }, e);
  assert.equal(JSON.parse(j.body!), { event: 'temp', data: '21.5', published_at: e.published_at, coreid: DEVICE, v: '21.5' });
});

test('json: an object template renders its keys and strings, other values stay; the defaults come first', () => {
  const e = event('temp', '{"t":21.5}');
  const r = request({ url: 'https://example.com', json: { '{{PARTICLE_EVENT_NAME}}': '{{t}}', n: 1, list: ['{{t}}', true], nil: null } }, e);
  assert.equal(Object.keys(JSON.parse(r.body!)), ['event', 'data', 'published_at', 'coreid', 'temp', 'n', 'list', 'nil']);
  assert.equal(JSON.parse(r.body!).list, ['21.5', true]);
  assert.is(r.headers['content-type'], 'application/json');
});

test('headers are rendered with lowercase names; auth does not replace an Authorization header', () => {
  const e = event('temp', '21.5');
  const r = request({ url: 'https://example.com', headers: { 'X-Device': '{{PARTICLE_DEVICE_ID}}' }, auth: { username: 'u', password: 'p' } }, e);
  assert.is(r.headers['x-device'], DEVICE);
  assert.is(r.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  const own = request({ url: 'https://example.com', headers: { Authorization: 'Bearer t' }, auth: { username: 'u', password: 'p' } }, e);
  assert.is(own.headers.authorization, 'Bearer t');
});

test('a template that cannot render for this event is a TemplateError naming its field, never quoting the rendered text', () => {
  const e = event('temp', '{"host":"not a host","q":"\\""}');
  const cases: [Record<string, unknown>, string][] = [
    [{ url: 'https://{{{host}}}/x?key=LITERAL' }, 'url'],
    [{ url: 'ftp://example.com/LITERAL/{{x}}' }, 'url'],
    [{ url: 'https://example.com', json: '{"key": "LITERAL", "v": "{{{q}}}"}' }, 'json'],
  ];
  for (const [template, field] of cases) {
    try {
      renderRequest({ ...parseTemplate({ event: 'temp', url: 'https://example.com' }), ...template } as WebhookTemplate, e);
      assert.unreachable(JSON.stringify(template));
    } catch (err) {
      assert.instance(err, TemplateError);
      assert.equal([(err as TemplateError).code, (err as TemplateError).field], ['TEMPLATE_INVALID', field]);
      assert.not.ok((err as Error).message.includes('LITERAL'), `the message quotes the template: ${(err as Error).message}`);
    }
  }
});

test.run();
