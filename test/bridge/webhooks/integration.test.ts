// Templates checked when they are saved (bridge/webhooks/integration.ts `parseTemplate`):
// rendered over sample events (render.ts `sampleEvents`) and refused, naming the field, only
// when no sample renders a request that could be sent. In memory first (what is accepted and
// what is refused, the README's and the examples' templates among the accepted), then
// through a real bridge: POST, PUT and PATCH of /v1/integrations and /v1/webhooks refuse
// with 400 TEMPLATE_INVALID and store nothing, and an accepted template delivers to a real
// receiver from a real device.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '../../../firmware-sdk/index.ts';
import { HookwireError } from '../../../bridge/errors.ts';
import { parseTemplate } from '../../../bridge/webhooks/integration.ts';
import { eventView, render, sampleEvents, templateVariables } from '../../../bridge/webhooks/render.ts';
import type { TestBridge } from '../../helpers/bridge.ts';
import type { Receiver } from '../../helpers/receiver.ts';
import { useWebhookRig } from '../../helpers/rig.ts';

const ROOT = join(import.meta.dirname, '../../..');
const url = 'https://example.com/in';

/** The error parseTemplate throws for a template, or undefined when it is accepted. */
function refusal(template: Record<string, unknown>): HookwireError | undefined {
  try {
    parseTemplate(template);
    return undefined;
  } catch (err) {
    assert.instance(err, HookwireError);
    return err as HookwireError;
  }
}

/** Templates valid for real devices: each must be accepted. */
const VALID: [string, Record<string, unknown>][] = [
  ['a number bare in a json string ({{{temp}}})', { event: 'temp', url, json: '{"t": {{{temp}}}}' }],
  ['an escaped tag bare in a json string ({{t}})', { event: 'temp', url, json: '{"t": {{t}}, "room": "{{room}}", "api_key": "k"}' }],
  ['a tag quoted in a json string', { event: 'temp', url, json: '{"t": "{{{temp}}}"}' }],
  ['the event value bare (devices send numbers or JSON)', { event: 'temp', url, json: '{"v": {{{PARTICLE_EVENT_VALUE}}}}' }],
  ['the event value quoted (devices send text)', { event: 'temp', url, json: '{"v": "{{{PARTICLE_EVENT_VALUE}}}"}' }],
  ['a default through sections', { event: 'temp', url, json: '{"t": {{#t}}{{t}}{{/t}}{{^t}}null{{/t}}}' }],
  ['dotted names', { event: 'gps', url, json: '{"lat": {{loc.lat}}, "lon": {{loc.lon}}}' }],
  ['a section over a list', { event: 'temp', url, json: '{"names": [{{#items}}"{{name}}"{{/items}}]}' }],
  ['the whole event as JSON', { event: 'temp', url, json: '{{{PARTICLE_EVENT_JSON}}}' }],
  ['a product\'s ID bare', { event: 'temp', url, json: '{"product": {{PRODUCT_ID}}, "fw": {{PRODUCT_VERSION}}}' }],
  ['a JSON body declared by its Content-Type', { event: 'temp', url, body: '{{{PARTICLE_EVENT_VALUE}}}', headers: { 'Content-Type': 'application/json' } }],
  ['a text body that is not JSON', { event: 'temp', url, body: 'temp={{{temp}}} {', headers: { 'Content-Type': 'text/plain' } }],
  ['a host chosen by the data', { event: 'tenant', url: 'http://{{{host}}}:{{{port}}}/hook', dynamicHost: true }],
  ['a templated header name and value', { event: 'temp', url, headers: { 'X-{{{kind}}}': '{{{PARTICLE_DEVICE_ID}}}' } }],
  ['a response topic from the data', { event: 'temp', url, responseTopic: 'answers/{{{room}}}', errorResponseTopic: 'errors/{{PARTICLE_EVENT_NAME}}' }],
];

/** Templates no event can render usable: each refused with its field. */
const FAULTY: [string, Record<string, unknown>, string][] = [
  ['an unclosed brace in a json string', { event: 'temp', url, json: '{"t": {{{temp}}}, "key": "LITERAL-SECRET"' }, 'json'],
  ['a trailing comma', { event: 'temp', url, json: '{"t": {{{temp}}}, "key": "LITERAL-SECRET",}' }, 'json'],
  ['an always-empty variable bare', { event: 'temp', url, json: '{"u": {{PRODUCT_USER_ID}}, "key": "LITERAL-SECRET"}' }, 'json'],
  ['a JSON body that never parses', { event: 'temp', url, body: '{"a": "LITERAL-SECRET"', headers: { 'Content-Type': 'application/vnd.api+json' } }, 'body'],
  ['a header name with a space', { event: 'temp', url, headers: { 'X Key': 'LITERAL-SECRET' } }, 'headers.X Key'],
  ['a header value with a line break', { event: 'temp', url, headers: { 'X-Key': 'LITERAL-SECRET\r\nInjected: 1' } }, 'headers.X-Key'],
  ['a header name rendered empty whatever the data', { event: 'temp', url, headers: { '{{PRODUCT_USER_ID}}': 'LITERAL-SECRET' } }, 'headers.{{PRODUCT_USER_ID}}'],
  ['a response topic with spaces', { event: 'temp', url, responseTopic: 'answers for {{PARTICLE_DEVICE_ID}} LITERAL-SECRET' }, 'responseTopic'],
  ['an error topic rendered empty', { event: 'temp', url, errorResponseTopic: '{{PRODUCT_USER_ID}}' }, 'errorResponseTopic'],
];

test('templates valid for real devices are accepted, whatever their tags stand for', () => {
  for (const [what, template] of VALID) assert.is(refusal(template), undefined, what);
});

test('templates no event can render usable are refused: TEMPLATE_INVALID naming the field, never quoting the template', () => {
  for (const [what, template, field] of FAULTY) {
    const err = refusal(template);
    assert.ok(err, `${what}: accepted`);
    assert.equal([err!.code, err!.field, err!.status], ['TEMPLATE_INVALID', field, 400], what);
    assert.ok(err!.message.startsWith(field), err!.message);
    assert.not.match(err!.message, 'LITERAL', `${what}: the message quotes the template: ${err!.message}`);
  }
  // The position in the rendered JSON is given, so the fault can be found.
  assert.match(refusal(FAULTY[1]![1])!.message, /not valid JSON at character \d+/);
});

test('a URL that is no URL is refused without quoting it (it may hold a key)', () => {
  const err = refusal({ event: 'temp', url: 'https://exa mple.com/in?key=LITERAL-SECRET' });
  assert.equal([err?.field, err?.code], ['url', 'BAD_REQUEST']);
  assert.not.match(err!.message, 'LITERAL');
});

test('a template read back from the store is not rendered again (it still loads, and the doctor reports it)', () => {
  assert.is(parseTemplate({ event: 'temp', url, json: '{"t": ' }, { stored: true }).json, '{"t": ');
});

test('sample events: every variable the template uses has a value in the JSON one, none in the text one', () => {
  const t = parseTemplate({ event: 'temp', url: 'https://example.com/{{{path}}}', json: '{"a": {{loc.lat}}, "b": {{#on}}1{{/on}}{{^off}}0{{/off}}, "d": "{{PARTICLE_DEVICE_ID}}"}', deviceID: 'a'.repeat(24) });
  const [json, text] = sampleEvents(t);
  assert.equal(JSON.parse(json!.data), { path: 1, loc: { lat: 1 }, on: 1, off: 1 }, 'predefined names are not data fields');
  assert.equal([json!.name, json!.coreid, json!.product_id], ['temp', 'a'.repeat(24), 1]);
  assert.is(text!.data, '1');
  assert.is(render('[{{loc.lat}}]', eventView(text!)), '[]', 'in the text sample a data variable renders empty');
  assert.equal([...templateVariables('{{a}} {{{b}}} {{#c}}{{d.e}}{{.}}{{/c}}{{^f}}{{/f}}')].sort(), ['a', 'b', 'c', 'd.e', 'f']);
});

/** The ```json blocks and inline `{"event": ...}` templates of a Markdown file. */
function markdownTemplates(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  const out: Record<string, unknown>[] = [];
  for (const m of text.matchAll(/```json\n([\s\S]*?)```/g)) {
    const value = JSON.parse(m[1]!) as Record<string, unknown>;
    if (value.event !== undefined && value.url !== undefined) out.push(value);
  }
  for (const m of text.matchAll(/`(\{"event": [^`]*\})`/g)) out.push(JSON.parse(m[1]!) as Record<string, unknown>);
  // Shell heredocs (the Quickstart's `cat > hook.json <<JSON`), a command's output standing in for its URL.
  for (const m of text.matchAll(/<<'?JSON'?\n([\s\S]*?)\nJSON\n/g)) out.push(JSON.parse(m[1]!.replace(/\$\([^)]*\)/g, 'http://127.0.0.1:8080/bin/x')) as Record<string, unknown>);
  return out;
}

test('the templates in the README and the docs, and every example\'s template.json, are accepted', () => {
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const readme = docs.flatMap((f) => markdownTemplates(join(ROOT, f)));
  assert.ok(readme.length >= 3, `${readme.length} templates found in the README and docs/`);
  const examples = readdirSync(join(ROOT, 'examples'))
    .map((d) => join(ROOT, 'examples', d, 'template.json'))
    .filter((p) => existsSync(p))
    .map((p) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>);
  assert.ok(examples.length >= 4, `${examples.length} examples found`);
  for (const template of [...readme, ...examples]) assert.is(refusal(template), undefined, JSON.stringify(template));
});

let b: TestBridge;
let rx: Receiver;
let device: Device;
useWebhookRig(test, (rig) => ({ b, rx, device } = rig));

const broken = { event: 'temp', url: 'http://127.0.0.1:1/in', json: '{"t": {{{temp}}}, "key": "LITERAL-SECRET"' };

test('POST /v1/integrations and /v1/webhooks (and under a product): 400 TEMPLATE_INVALID with the field, nothing stored', async () => {
  for (const path of ['/v1/integrations', '/v1/webhooks', '/v1/products/7/integrations']) {
    const res = await b.call('POST', path, broken);
    assert.equal([res.status, res.body.ok, res.body.code, res.body.field], [400, false, 'TEMPLATE_INVALID', 'json'], path);
    assert.not.match(res.body.error, 'LITERAL', res.body.error);
  }
  assert.equal((await b.call('GET', '/v1/integrations')).body, []);
  assert.equal(await b.store.integrations.list(), []);
});

test('PUT and PATCH: a change that cannot render is refused and the integration stays as it was', async () => {
  const good = { event: 'temp', url: `${rx.url}/in`, json: '{"t": {{{temp}}}}', noDefaults: true };
  const created = await b.call('POST', '/v1/integrations', good);
  assert.is(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  const before = (await b.call('GET', `/v1/integrations/${id}`)).body.integration;

  const cases: [string, string, Record<string, unknown>, string][] = [
    ['PUT', `/v1/integrations/${id}`, broken, 'json'],
    ['PUT', `/v1/webhooks/${id}`, broken, 'json'],
    ['PATCH', `/v1/integrations/${id}`, { json: '{"t": {{{temp}}}' }, 'json'],
    ['PATCH', `/v1/webhooks/${id}`, { headers: { 'X-Key': 'a\nb' } }, 'headers.X-Key'],
    ['PATCH', `/v1/integrations/${id}`, { responseTopic: 'two words' }, 'responseTopic'],
  ];
  for (const [method, path, body, field] of cases) {
    const res = await b.call(method, path, body);
    assert.equal([res.status, res.body.code, res.body.field], [400, 'TEMPLATE_INVALID', field], `${method} ${path} ${JSON.stringify(body)}`);
  }
  const after = (await b.call('GET', `/v1/integrations/${id}`)).body.integration;
  assert.equal([after.json, after.headers, after.responseTopic, after.updated_at], [before.json, before.headers, before.responseTopic, before.updated_at]);
  const [stored] = await b.store.integrations.list();
  assert.equal((stored!.template as { json?: unknown }).json, good.json);

  // A change that renders is taken.
  const patched = await b.call('PATCH', `/v1/integrations/${id}`, { json: '{"t": {{{temp}}}, "room": "{{room}}"}' });
  assert.is(patched.status, 200, JSON.stringify(patched.body));
});

test('an accepted template delivers what the device sends: {{{temp}}} as a number', async () => {
  await device.publish('temp', '{"temp": 21.5, "room": "kitchen"}', { qos: 1 });
  const req = await rx.next('/in');
  assert.equal(JSON.parse(req.body.toString()), { t: 21.5, room: 'kitchen' });
});

test.run();
