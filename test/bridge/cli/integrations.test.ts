// hookwire integrations list and update, run as users run them against a real bridge with a
// real webhook target: the state list shows is the state the API reports, and update changes
// exactly what it is told to (PATCH), or replaces the template from a file (PUT).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { hookwire } from '../../helpers/spawn.ts';

let b: TestBridge;
let target: Receiver;
let env: NodeJS.ProcessEnv;
let dir: string;

test.before(async () => {
  b = await testBridge();
  target = await receiver();
  target.on('/fail', (_req, res) => { res.statusCode = 500; res.end('down'); });
  env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
  dir = await mkdtemp(join(tmpdir(), 'hookwire-cli-integrations-'));
});

test.after(async () => {
  await target?.close();
  await b?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function create(template: Record<string, unknown>): Promise<string> {
  const res = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', ...template });
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

const detail = async (id: string) => (await b.call('GET', `/v1/integrations/${id}`)).body.integration;

test('list shows each integration\'s real state, as GET /v1/integrations/:id reports it, in the table and in --json', async () => {
  const failing = await create({ event: 'st-fail', url: `${target.url}/fail`, requestType: 'POST' });
  const active = await create({ event: 'st-ok', url: `${target.url}/ok`, requestType: 'POST' });
  const unknown = await create({ event: 'st-never', url: `${target.url}/ok`, requestType: 'POST' });
  const disabled = await create({ event: 'st-off', url: `${target.url}/ok`, requestType: 'POST' });
  await b.call('POST', `/v1/integrations/${disabled}/disable`, { reason: 'testing' });
  await b.call('POST', '/v1/devices/events', { name: 'st-fail', data: '1' });
  await b.call('POST', '/v1/devices/events', { name: 'st-ok', data: '1' });
  await until(async () => (await detail(failing)).state === 'Failing', 10_000, 'Failing');
  await until(async () => (await detail(active)).state === 'Active', 10_000, 'Active');

  const expected: Record<string, string> = { [failing]: 'Failing', [active]: 'Active', [unknown]: 'Unknown', [disabled]: 'Disabled' };
  const table = await hookwire(['integrations', 'list'], env);
  assert.is(table.code, 0, table.stderr);
  const [header, ...rows] = table.stdout.trim().split('\n');
  const column = header!.indexOf('STATE');
  assert.ok(column > 0, header);
  for (const [id, state] of Object.entries(expected)) {
    const row = rows.find((r) => r.startsWith(id));
    assert.ok(row, `${id} listed`);
    assert.is(row!.slice(column).split(/\s+/)[0], state, row);
  }
  assert.not.match(table.stdout, /\benabled\b/);

  const json = await hookwire(['integrations', 'list', '--json'], env);
  const listed = JSON.parse(json.stdout) as { id: string; state: string; state_reason: string; disabled: boolean }[];
  for (const [id, state] of Object.entries(expected)) {
    const entry = listed.find((i) => i.id === id)!;
    assert.is(entry.state, state);
    assert.is(entry.state_reason, (await detail(id)).state_reason);
  }
  assert.is(listed.find((i) => i.id === failing)!.disabled, false, 'the list entry keeps its own fields');
});

test('update with flags changes only the fields given (PATCH); the rest stays', async () => {
  const id = await create({ event: 'up-one', url: `${target.url}/a`, requestType: 'POST', name: 'first', headers: { 'X-Keep': 'yes' }, json: { v: '{{{PARTICLE_EVENT_VALUE}}}' }, deviceID: '0123456789abcdef01234567' });
  const res = await hookwire(['integrations', 'update', id, '--url', `${target.url}/b`, '--event', 'up-two', '--request-type', 'put', '--device-id', ''], env);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, `Integration ${id} updated (changed event, url, requestType, deviceID)`);
  let i = await detail(id);
  assert.equal([i.url, i.event, i.requestType, i.deviceID], [`${target.url}/b`, 'up-two', 'PUT', undefined]);
  assert.equal([i.name, i.headers, i.json], ['first', { 'X-Keep': 'yes' }, { v: '{{{PARTICLE_EVENT_VALUE}}}' }]);

  // Any field with --set (JSON where the field takes it), a file's text with @, --json-template FILE.
  const body = join(dir, 'json-template.json');
  await writeFile(body, '{"temp": "{{{PARTICLE_EVENT_VALUE}}}", "from": "{{{PARTICLE_DEVICE_ID}}}"}');
  const responseTemplate = join(dir, 'response.txt');
  await writeFile(responseTemplate, '{{{status}}}');
  const set = await hookwire(['integrations', 'update', id, '--set', 'headers={"X-New":"1"}', '--set', 'noDefaults=true', '--set', `responseTemplate=@${responseTemplate}`, '--json-template', body, '--unset', 'name', '--json'], env);
  assert.is(set.code, 0, set.stderr);
  assert.is(JSON.parse(set.stdout).id, id);
  i = await detail(id);
  assert.equal([i.headers, i.noDefaults, i.responseTemplate, i.json, i.name], [{ 'X-New': '1' }, true, '{{{status}}}', { temp: '{{{PARTICLE_EVENT_VALUE}}}', from: '{{{PARTICLE_DEVICE_ID}}}' }, undefined]);

  // The change is live: the next event goes to the new URL with the new method.
  await b.call('POST', '/v1/devices/events', { name: 'up-two', data: '7' });
  const sent = await target.next('/b');
  assert.is(sent.method, 'PUT');
  assert.equal(JSON.parse(sent.body.toString()), { temp: '7', from: 'api' });
});

test('update with a template file replaces the whole template (PUT); flags apply over the file', async () => {
  const id = await create({ event: 'rep', url: `${target.url}/a`, requestType: 'POST', headers: { 'X-Old': '1' }, name: 'old' });
  const file = join(dir, 'replacement.json');
  await writeFile(file, JSON.stringify({ event: 'rep-new', url: `${target.url}/c`, requestType: 'GET', mydevices: true }));
  const res = await hookwire(['integrations', 'update', id, file, '--name', 'from-file'], env);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, 'template replaced');
  const i = await detail(id);
  assert.equal([i.event, i.url, i.requestType, i.name, i.headers], ['rep-new', `${target.url}/c`, 'GET', 'from-file', undefined]);
});

test('update errors: the bridge\'s code and field; unknown fields named with the nearest; nothing to change', async () => {
  const id = await create({ event: 'err', url: `${target.url}/a`, requestType: 'POST' });
  const bad = await hookwire(['integrations', 'update', id, '--request-type', 'FETCH'], env);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /^error \(field requestType\): .*\(BAD_REQUEST\)\s*$/);
  const badUrl = await hookwire(['integrations', 'update', id, '--url', 'not a url'], env);
  assert.is(badUrl.code, 1);
  assert.match(badUrl.stderr, /url/);
  assert.match(badUrl.stderr, /\([A-Z_]+\)\s*$/);
  assert.is((await detail(id)).requestType, 'POST', 'nothing changed');

  const typo = await hookwire(['integrations', 'update', id, '--set', 'reqestType=GET'], env);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, 'unknown field "reqestType"; did you mean "requestType"?');
  const notJson = await hookwire(['integrations', 'update', id, '--set', 'headers=X-A: 1'], env);
  assert.is(notJson.code, 2);
  assert.match(notJson.stderr, 'headers must be JSON');
  const disabled = await hookwire(['integrations', 'update', id, '--set', 'disabled=true'], env);
  assert.is(disabled.code, 2);
  assert.match(disabled.stderr, 'integrations enable|disable');
  const nothing = await hookwire(['integrations', 'update', id], env);
  assert.is(nothing.code, 2);
  assert.match(nothing.stderr, 'needs a template file or a field to change');
  const missing = await hookwire(['integrations', 'update', '000000000000000000000000', '--url', `${target.url}/x`], env);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, 'INTEGRATION_NOT_FOUND');
});

test.run();
