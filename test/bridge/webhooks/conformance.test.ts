// Particle conformance (PARTICLE.md §1-§3): for every documented example and rule, the
// template, the event, and the exact request a real local HTTP server receives: method, path,
// query, headers, body byte for byte.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { USER_AGENT } from '../../../bridge/webhooks/index.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let b: TestBridge;
let rx: Receiver;
let plain: Device;
let product: Device;
const events: HookwireEvent[] = [];

test.before(async () => {
  b = await testBridge();
  rx = await receiver();
  b.bus.on('event', (e) => events.push(e));
  const p = await b.addDevice({ name: 'plain' });
  const q = await b.addDevice({ name: 'in-product', product_id: 5, firmware_version: 3 });
  plain = await connectDevice({ url: b.mqttUrl, deviceId: p.id, token: p.token });
  product = await connectDevice({ url: b.mqttUrl, deviceId: q.id, token: q.token });
});

test.after(async () => {
  await plain?.disconnect();
  await product?.disconnect();
  await b?.stop();
  await rx?.close();
});

interface Expected {
  method: string;
  /** Path and query after the case's own path. */
  url: string;
  /** Headers beyond host, connection, user-agent and content-length (computed from body). */
  headers?: Record<string, string>;
  body?: string;
}

interface Case {
  title: string;
  template: Record<string, unknown>;
  /** Appended to the receiver URL after the case's path (may hold templates). */
  urlSuffix?: string;
  device?: () => Device;
  event: string;
  data?: unknown;
  expect: (e: HookwireEvent) => Expected;
}

const defaults = (e: HookwireEvent): [string, string][] => [['event', e.name], ['data', e.data], ['published_at', e.published_at], ['coreid', e.coreid]];
const form = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();
const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

let n = 0;
async function fire(c: Case): Promise<{ event: HookwireEvent; path: string; integrationId: string }> {
  const path = `/case${++n}`;
  const res = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', ...c.template, url: `${rx.url}${path}${c.urlSuffix ?? ''}` });
  assert.is(res.status, 201, JSON.stringify(res.body));
  const device = (c.device ?? (() => plain))();
  await device.publish(c.event, c.data, { qos: 1 });
  await b.webhooks.idle();
  await b.call('DELETE', `/v1/integrations/${res.body.id}`);
  const event = events.findLast((e) => e.name === c.event && e.coreid === device.deviceID())!;
  return { event, path, integrationId: res.body.id };
}

const cases: Case[] = [
  {
    title: 'a bare event + url hook sends a form POST of the default fields (§2)',
    template: { event: 'demo' },
    event: 'demo',
    data: 'mydata',
    expect: (e) => ({ method: 'POST', url: '', headers: FORM_TYPE, body: form(defaults(e)) }),
  },
  {
    title: 'GET puts the default fields in the query string',
    template: { event: 'get-defaults', requestType: 'GET' },
    event: 'get-defaults',
    data: '21.5',
    expect: (e) => ({ method: 'GET', url: `?${form(defaults(e))}` }),
  },
  {
    title: 'query {q, p} renders as ?q=<data>&p=my+app, with noDefaults nothing else (§2 example)',
    template: { event: 'lookup', requestType: 'GET', noDefaults: true, query: { q: '{{{PARTICLE_EVENT_VALUE}}}', p: 'my app' } },
    event: 'lookup',
    data: 'London, UK',
    expect: () => ({ method: 'GET', url: '?q=London%2C+UK&p=my+app' }),
  },
  {
    title: 'query appends to a templated URL that has a query of its own, defaults after',
    template: { event: 'url-query', requestType: 'GET', query: { units: 'metric' } },
    urlSuffix: '/{{{PARTICLE_DEVICE_ID}}}?key=abc',
    event: 'url-query',
    data: 'x',
    expect: (e) => ({ method: 'GET', url: `/${e.coreid}?key=abc&units=metric&${form(defaults(e))}` }),
  },
  {
    title: 'json object: values render as strings, defaults first',
    template: { event: 'json-obj', json: { t: '{{{temp}}}', room: '{{{room}}}', fixed: 7 } },
    event: 'json-obj',
    data: '{"temp":20,"room":"kitchen"}',
    expect: (e) => ({ method: 'POST', url: '', headers: JSON_TYPE, body: JSON.stringify({ ...Object.fromEntries(defaults(e)), t: '20', room: 'kitchen', fixed: 7 }) }),
  },
  {
    title: 'json object with noDefaults: only the template',
    template: { event: 'json-nodef', noDefaults: true, json: { t: '{{{temp}}}', nested: { who: '{{{PARTICLE_DEVICE_ID}}}', list: ['{{{temp}}}', 1] } } },
    event: 'json-nodef',
    data: '{"temp":20}',
    expect: (e) => ({ method: 'POST', url: '', headers: JSON_TYPE, body: JSON.stringify({ t: '20', nested: { who: e.coreid, list: ['20', 1] } }) }),
  },
  {
    title: 'a string json template lets numbers through unquoted',
    template: { event: 'json-str', noDefaults: true, json: '{"t": {{temp}}, "ok": {{ok}}, "room": "{{room}}"}' },
    event: 'json-str',
    data: '{"temp":20.5,"ok":true,"room":"den"}',
    expect: () => ({ method: 'POST', url: '', headers: JSON_TYPE, body: '{"t":20.5,"ok":true,"room":"den"}' }),
  },
  {
    title: 'a string json template gets the defaults merged in',
    template: { event: 'json-str-def', json: '{"t": {{temp}}}' },
    event: 'json-str-def',
    data: '{"temp":3}',
    expect: (e) => ({ method: 'POST', url: '', headers: JSON_TYPE, body: JSON.stringify({ ...Object.fromEntries(defaults(e)), t: 3 }) }),
  },
  {
    title: '{{x}} HTML-escapes & < > " \' while {{{x}}} does not',
    template: { event: 'escape', noDefaults: true, json: { escaped: '{{x}}', raw: '{{{x}}}' } },
    event: 'escape',
    data: JSON.stringify({ x: `<a href="/x">Tom & Jerry's</a>` }),
    expect: () => ({ method: 'POST', url: '', headers: JSON_TYPE, body: JSON.stringify({ escaped: '&lt;a href=&quot;/x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;', raw: `<a href="/x">Tom & Jerry's</a>` }) }),
  },
  {
    title: 'form object: defaults then the rendered fields, urlencoded',
    template: { event: 'form', form: { field1: '{{{temp}}}', 'api_key': 'K 1' } },
    event: 'form',
    data: '{"temp":20}',
    expect: (e) => ({ method: 'POST', url: '', headers: FORM_TYPE, body: form([...defaults(e), ['field1', '20'], ['api_key', 'K 1']]) }),
  },
  {
    title: 'form with GET goes to the query string',
    template: { event: 'form-get', requestType: 'GET', form: { field1: '{{{temp}}}' } },
    event: 'form-get',
    data: '{"temp":20}',
    expect: (e) => ({ method: 'GET', url: `?${form([['field1', '20'], ...defaults(e)])}` }),
  },
  {
    title: 'body is sent as is, with no defaults and no Content-Type but the one set in headers',
    template: { event: 'body', body: 'temp={{{temp}}};raw={{{PARTICLE_EVENT_VALUE}}}', headers: { 'Content-Type': 'text/plain' } },
    event: 'body',
    data: '{"temp":20}',
    expect: () => ({ method: 'POST', url: '', headers: { 'content-type': 'text/plain' }, body: 'temp=20;raw={"temp":20}' }),
  },
  {
    title: 'body without a Content-Type header gets none',
    template: { event: 'body-bare', body: '{{{PARTICLE_EVENT_VALUE}}}' },
    event: 'body-bare',
    data: 'hello',
    expect: () => ({ method: 'POST', url: '', body: 'hello' }),
  },
  {
    title: 'headers: keys and values templated',
    template: { event: 'headers', noDefaults: true, headers: { 'X-Device': '{{{PARTICLE_DEVICE_ID}}}', 'X-{{{kind}}}': 'yes' } },
    event: 'headers',
    data: '{"kind":"Sensor"}',
    expect: (e) => ({ method: 'POST', url: '', headers: { 'x-device': e.coreid, 'x-sensor': 'yes' } }),
  },
  {
    title: 'auth: templated username and password as HTTP Basic',
    template: { event: 'auth', noDefaults: true, auth: { username: '{{{user}}}', password: 's3cret:x' } },
    event: 'auth',
    data: '{"user":"ada"}',
    expect: () => ({ method: 'POST', url: '', headers: { authorization: `Basic ${Buffer.from('ada:s3cret:x').toString('base64')}` } }),
  },
  {
    title: 'PUT with json',
    template: { event: 'put', requestType: 'PUT', noDefaults: true, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } },
    event: 'put',
    data: 'on',
    expect: () => ({ method: 'PUT', url: '', headers: JSON_TYPE, body: '{"v":"on"}' }),
  },
  {
    title: 'DELETE with neither json, form nor body sends the defaults as a form',
    template: { event: 'delete', requestType: 'delete' },
    event: 'delete',
    data: 'gone',
    expect: (e) => ({ method: 'DELETE', url: '', headers: FORM_TYPE, body: form(defaults(e)) }),
  },
  {
    title: 'noDefaults POST with nothing else sends no body',
    template: { event: 'empty', noDefaults: true },
    event: 'empty',
    data: 'x',
    expect: () => ({ method: 'POST', url: '' }),
  },
  {
    title: 'dotted paths, array indexes, sections, inverted sections and iteration (§2)',
    template: { event: 'mustache', body: '{{{a.b}}}|{{{c.0.d}}}|{{#b}}{{{b}}}{{/b}}{{^b}}Missing{{/b}}|{{^z}}Missing{{/z}}|{{#c}}{{{ca}}}~{{/c}}' },
    event: 'mustache',
    data: JSON.stringify({ a: { b: 'AB' }, b: 'B', c: [{ d: 'D0', ca: 'x' }, { ca: 'y' }] }),
    expect: () => ({ method: 'POST', url: '', body: 'AB|D0|B|Missing|x~y~' }),
  },
  {
    title: 'every predefined variable, and the legacy SPARK_* aliases',
    device: () => product,
    template: {
      event: 'vars',
      body: ['PARTICLE_DEVICE_ID', 'PARTICLE_EVENT_NAME', 'PARTICLE_EVENT_VALUE', 'PARTICLE_PUBLISHED_AT', 'PARTICLE_EVENT_ID', 'PRODUCT_ID', 'PRODUCT_USER_ID',
        'PRODUCT_VERSION', 'PARTICLE_EVENT_JSON', 'PARTICLE_EVENT_BASE64', 'SPARK_EVENT_NAME', 'SPARK_EVENT_VALUE', 'SPARK_CORE_ID', 'SPARK_PUBLISHED_AT'].map((v) => `{{{${v}}}}`).join('\n'),
    },
    event: 'vars/all',
    data: 'v1',
    expect: (e) => {
      const json = JSON.stringify({ event: e.name, data: 'v1', published_at: e.published_at, coreid: e.coreid, product_id: 5, fw_version: 3 });
      return { method: 'POST', url: '', body: [e.coreid, 'vars/all', 'v1', e.published_at, e.id, '5', '', '3', json, Buffer.from(json).toString('base64'), 'vars/all', 'v1', e.coreid, e.published_at].join('\n') };
    },
  },
  {
    title: 'a prefix hook my-hooks fired by my-hooks/get_weather sees the full event name',
    template: { event: 'my-hooks', noDefaults: true, json: { name: '{{{PARTICLE_EVENT_NAME}}}' } },
    event: 'my-hooks/get_weather',
    data: '',
    expect: () => ({ method: 'POST', url: '', headers: JSON_TYPE, body: '{"name":"my-hooks/get_weather"}' }),
  },
  {
    title: 'typed (CBOR) data: its fields are variables and PARTICLE_EVENT_VALUE is its JSON',
    template: { event: 'typed', noDefaults: true, body: '{{{temp}}} {{{tags.1}}} {{{PARTICLE_EVENT_VALUE}}}' },
    event: 'typed',
    data: { temp: 21.5, tags: ['a', 'b'] },
    expect: () => ({ method: 'POST', url: '', body: '21.5 b {"temp":21.5,"tags":["a","b"]}' }),
  },
  {
    title: 'binary data reaches templates base64-encoded',
    template: { event: 'binary', noDefaults: true, body: '{{{PARTICLE_EVENT_VALUE}}}' },
    event: 'binary',
    data: new Uint8Array([0xff, 0x00, 0x80]),
    expect: () => ({ method: 'POST', url: '', body: '/wCA' }),
  },
  {
    title: 'aliases a pasted template may use: eventName, deviceid, lowercase requestType',
    template: { eventName: 'alias', requestType: 'get', noDefaults: true, query: { x: '1' } },
    event: 'alias',
    data: '',
    expect: () => ({ method: 'GET', url: '?x=1' }),
  },
];

for (const c of cases) {
  test(c.title, async () => {
    const { event, path, integrationId } = await fire(c);
    const req = await rx.next(path);
    const want = c.expect(event);
    const body = Buffer.from(want.body ?? '');
    // Every request is identifiable (Standard Webhooks): the delivery's ID, the attempt's time.
    const sentAt = Number(req.headers['webhook-timestamp']);
    assert.ok(Math.abs(sentAt - Date.now() / 1000) < 10, `webhook-timestamp ${sentAt} is now, in seconds`);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${rx.port}`, connection: 'keep-alive', 'user-agent': USER_AGENT, ...want.headers,
      'webhook-id': `msg_${event.id}_${integrationId}`, 'webhook-timestamp': String(sentAt),
    };
    // undici sends a length for every method that may carry a body, 0 when there is none.
    if (want.method !== 'GET') headers['content-length'] = String(body.length);
    assert.is(req.method, want.method);
    assert.is(req.url, path + want.url);
    assert.equal(req.headers, headers);
    assert.is(req.body.toString('utf8'), body.toString('utf8'));
    assert.ok(req.body.equals(body), 'body byte for byte');
  });
}

/** Publish and wait for every delivery; the requests the receiver got meanwhile. */
async function requestsFor(template: Record<string, unknown>, publish: () => Promise<unknown> | undefined): Promise<string[]> {
  const path = `/filter${++n}`;
  const res = await b.call('POST', '/v1/integrations', { url: `${rx.url}${path}`, noDefaults: true, body: '{{{PARTICLE_EVENT_NAME}}}', ...template });
  assert.is(res.status, 201);
  await publish();
  await b.webhooks.idle();
  await b.call('DELETE', `/v1/integrations/${res.body.id}`);
  return rx.requests.filter((r) => r.url === path).map((r) => r.body.toString());
}

test('the trigger is a case-sensitive string prefix: temp fires for temp, temperature, temperature/basement, not high_temp or Temp', async () => {
  const got = await requestsFor({ event: 'temp' }, async () => {
    for (const name of ['temp', 'temperature', 'temperature/basement', 'high_temp', 'Temp', 'tem']) await plain.publish(name, '1', { qos: 1 });
  });
  assert.equal(got.sort(), ['temp', 'temperature', 'temperature/basement']);
});

test('deviceID and product filters; disabled integrations never fire', async () => {
  const byDevice = await requestsFor({ event: 'filtered', deviceID: product.deviceID() }, async () => {
    await plain.publish('filtered/a', '1', { qos: 1 });
    await product.publish('filtered/b', '1', { qos: 1 });
  });
  assert.equal(byDevice, ['filtered/b']);

  const path = `/product${++n}`;
  const res = await b.call('POST', '/v1/products/5/integrations', { event: 'pfilter', url: `${rx.url}${path}`, noDefaults: true, body: '{{{PARTICLE_DEVICE_ID}}}' });
  assert.is(res.status, 201);
  await plain.publish('pfilter', '1', { qos: 1 });
  await product.publish('pfilter', '1', { qos: 1 });
  await b.webhooks.idle();
  assert.equal(rx.requests.filter((r) => r.url === path).map((r) => r.body.toString()), [product.deviceID()]);

  const disabled = await requestsFor({ event: 'off', disabled: true }, () => plain.publish('off', '1', { qos: 1 }));
  assert.equal(disabled, []);
});

test('hook-* events never trigger integrations, even one on a matching prefix', async () => {
  const got = await requestsFor({ event: 'hook' }, async () => {
    b.ingest.cloud('hook-sent/x', Buffer.alloc(0), 0);
    b.ingest.cloud(`${plain.deviceID()}/hook-response/x/0`, Buffer.from('x'), 0);
    await plain.publish('hooks-are-fine', '1', { qos: 1 });
  });
  assert.ok(got.includes('hooks-are-fine'));
  // (The integration's own state event, hookwire/integrations/<id>/state, may fire it: only hook-* never do.)
  assert.equal(got.filter((name) => /(^|\/)hook-/.test(name)), []);
});

test('two identical templates make two integrations, and both fire', async () => {
  const path = `/twice${++n}`;
  const template = { event: 'twice', url: `${rx.url}${path}`, noDefaults: true };
  const [one, two] = [await b.call('POST', '/v1/webhooks', template), await b.call('POST', '/v1/webhooks', template)];
  assert.is.not(one.body.id, two.body.id);
  await plain.publish('twice', '1', { qos: 1 });
  await b.webhooks.idle();
  assert.is(rx.requests.filter((r) => r.url === path).length, 2);
});

test.run();
