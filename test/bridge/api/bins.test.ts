// The request bin: `/bin/<name>` captures any request byte for byte, answers as configured,
// keeps bounded history; `/v1/bins` shows it (with a long-poll); the CLI watches it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Bins } from '../../../bridge/api/bins.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { cliBin, hookwire, root } from '../../helpers/spawn.ts';

let b: TestBridge;
let readToken: string;
let device: TestClient | undefined;
let watcher: ChildProcessWithoutNullStreams | undefined;

test.before(async () => {
  b = await testBridge();
  readToken = (await b.call('POST', '/v1/access_tokens', { name: 'dashboard', scope: 'read' })).body.token;
});
test.after(async () => {
  watcher?.kill('SIGKILL');
  await device?.end();
  await b?.stop();
});

/** Send anything to a bin, as an outside service would (no token). */
const send = (path: string, init: RequestInit = {}) => fetch(b.url + path, init);
const requestsIn = async (name: string, token = b.token) => (await b.call('GET', `/v1/bins/${name}`, undefined, token)).body.requests;

test('any method, path, query, headers and a byte-exact body are captured; default answer 200 {"ok":true}', async () => {
  const binary = Buffer.from([0x00, 0xff, 0xd9, 0xd9, 0xf7, 0x80, 0x0a]);
  const text = 'héllo wörld\r\n{"not": json';
  const r1 = await send('/bin/capture/a/b?x=1&x=2&y=', { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-custom': 'yes' }, body: binary });
  assert.is(r1.status, 200);
  assert.equal(await r1.json(), { ok: true });
  await send('/bin/capture', { method: 'PATCH', headers: { 'content-type': 'text/weird; charset=utf-8' }, body: text });
  await send('/bin/capture', { method: 'DELETE' });
  await send('/bin/capture/', { method: 'OPTIONS' });

  const [a, p, d, o] = await requestsIn('capture');
  assert.equal([a.method, a.path, a.query_string, a.query], ['POST', '/bin/capture/a/b', 'x=1&x=2&y=', { x: ['1', '2'], y: '' }]);
  assert.is(a.headers['x-custom'], 'yes');
  assert.is(a.body_encoding, 'base64');
  assert.ok(Buffer.from(a.body, 'base64').equals(binary), 'binary body byte for byte');
  assert.equal([a.body_bytes, a.truncated, a.remote_address], [binary.length, false, '127.0.0.1']);
  assert.equal([p.method, p.body_encoding, p.body, p.body_bytes], ['PATCH', 'utf8', text, Buffer.byteLength(text)]);
  assert.equal([d.method, d.body, d.body_bytes], ['DELETE', '', 0]);
  assert.equal([o.method, o.path], ['OPTIONS', '/bin/capture/']);
  assert.ok(a.id < p.id && p.id < d.id && d.id < o.id, 'IDs increase');
  assert.ok(Math.abs(Date.parse(a.received_at) - Date.now()) < 60_000);
});

test('the capture parser is local: other routes still refuse malformed JSON and parse forms', async () => {
  const malformed = await b.call('PUT', '/v1/bins/capture', '{"status": ');
  assert.equal([malformed.status, malformed.body.ok, malformed.body.code], [400, false, 'BAD_REQUEST']);
  const form = await fetch(`${b.url}/v1/bins/formed`, { method: 'PUT', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=202&body=queued' });
  assert.is(form.status, 200);
  const answer = await send('/bin/formed', { method: 'POST' });
  assert.equal([answer.status, await answer.text()], [202, 'queued']);
});

test('PUT /v1/bins/:name sets the answer: status, body, headers; every capture gets it', async () => {
  const put = await b.call('PUT', '/v1/bins/answers', { status: 503, body: { error: 'down' }, headers: { 'Retry-After': '120' } });
  assert.is(put.status, 200);
  assert.equal(put.body.response, { status: 503, headers: { 'retry-after': '120', 'content-type': 'application/json; charset=utf-8' }, body: '{"error":"down"}' });
  assert.is(put.body.url, `${b.url}/bin/answers`);
  const res = await send('/bin/answers/deep/path', { method: 'POST', body: 'x' });
  assert.equal([res.status, res.headers.get('retry-after'), await res.json()], [503, '120', { error: 'down' }]);
  const text = await b.call('PUT', '/v1/bins/answers', { status: '201', body: 'created' });
  assert.equal(text.body.response.headers, { 'content-type': 'text/plain; charset=utf-8' });
  const again = await send('/bin/answers');
  assert.equal([again.status, await again.text()], [201, 'created']);
});

test('bad input: bin names, status, headers, wait; each refused with a Particle-shaped error and nothing changed', async () => {
  for (const name of ['has.dot', 'a'.repeat(65), 'sp%20ace']) {
    const captured = await send(`/bin/${name}`, { method: 'POST', body: 'x' });
    assert.is(captured.status, 400, name);
    assert.equal(await captured.json(), { ok: false, error: `bin name "${decodeURIComponent(name)}" is invalid: use 1-64 characters of A-Z a-z 0-9 _ -`, code: 'BIN_NAME_INVALID', field: 'name' });
    const api = await b.call('GET', `/v1/bins/${name}`);
    assert.equal([api.status, api.body.code], [400, 'BIN_NAME_INVALID']);
  }
  const cases: [unknown, string][] = [
    [{ status: 99 }, 'status'],
    [{ status: 600 }, 'status'],
    [{ status: 'teapot' }, 'status'],
    [{ headers: { 'Content-Length': '5' } }, 'headers.Content-Length'],
    [{ headers: { 'X-Evil': 'a\r\nSet-Cookie: b' } }, 'headers.X-Evil'],
    [{ headers: 'x' }, 'headers'],
  ];
  for (const [body, field] of cases) {
    const res = await b.call('PUT', '/v1/bins/answers', body);
    assert.equal([res.status, res.body.ok, res.body.code, res.body.field], [400, false, 'BAD_REQUEST', field], JSON.stringify(body));
  }
  assert.is((await send('/bin/answers')).status, 201, 'the answer set before is unchanged');
  for (const q of ['wait=26', 'wait=-1', 'after=x', 'after=1.5']) {
    const res = await b.call('GET', `/v1/bins/answers?${q}`);
    assert.equal([res.status, res.body.code], [400, 'BAD_REQUEST'], q);
  }
});

test('401 without or with a wrong token, 403 for a read token where admin is needed, 404 for an unknown bin', async () => {
  for (const [method, path] of [['GET', '/v1/bins'], ['GET', '/v1/bins/capture'], ['PUT', '/v1/bins/capture'], ['DELETE', '/v1/bins/capture']] as const) {
    const none = await b.call(method, path, method === 'PUT' ? { status: 500 } : undefined, null);
    assert.equal([none.status, none.body.error], [401, 'invalid_token'], `${method} ${path}`);
    const wrong = await b.call(method, path, undefined, 'hwt_wrong');
    assert.is(wrong.status, 401);
  }
  for (const [method, path] of [['PUT', '/v1/bins/capture'], ['DELETE', '/v1/bins/capture']] as const) {
    const ro = await b.call(method, path, method === 'PUT' ? { status: 500 } : undefined, readToken);
    assert.equal([ro.status, ro.body.ok, ro.body.code], [403, false, 'FORBIDDEN']);
  }
  assert.is((await send('/bin/capture')).status, 200, 'the read token changed nothing');
  for (const method of ['GET', 'DELETE']) {
    const missing = await b.call(method, '/v1/bins/never-used');
    assert.equal([missing.status, missing.body.ok, missing.body.code], [404, false, 'BIN_NOT_FOUND'], method);
  }
});

test('the capture route is public and a body over the API limit gets 413 without being kept', async () => {
  const before = (await b.call('GET', '/v1/bins/big')).status;
  assert.is(before, 404);
  const res = await send('/bin/big', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'x'.repeat(b.config.maxBodyBytes) }) });
  assert.is(res.status, 413);
  assert.equal(await res.json(), { ok: false, error: 'Request body is too large', code: 'BODY_TOO_LARGE' });
  assert.is((await b.call('GET', '/v1/bins/big')).status, 404);
});

test('bounds: 101 requests keep the last 100; a body over 100 KB keeps its first 100 KB, marked truncated', async () => {
  for (let i = 1; i <= 101; i++) await send(`/bin/bounded?n=${i}`, { method: 'POST', body: String(i) });
  const view = (await b.call('GET', '/v1/bins/bounded')).body;
  assert.equal([view.count, view.total], [100, 101]);
  assert.equal(view.requests.map((r: { body: string }) => r.body), Array.from({ length: 100 }, (_, i) => String(i + 2)), 'oldest dropped, newest last');

  const big = Buffer.alloc(150 * 1024, 'é'); // 2-byte characters: the cut must not split one
  await send('/bin/huge', { method: 'POST', body: big });
  const [r] = await requestsIn('huge');
  assert.equal([r.body_bytes, r.truncated, r.body_encoding], [big.length, true, 'utf8']);
  assert.is(Buffer.byteLength(r.body), 100 * 1024);
  assert.ok(big.subarray(0, 100 * 1024).equals(Buffer.from(r.body)), 'the kept part is the start, byte for byte');
});

test('bounds: 100 bins; the tokenless capture URL makes new ones only while there is room, PUT (with a token) drops the least recently used', async () => {
  const own = await testBridge(); // a bridge of its own: this test fills every slot
  const capture = (name: string) => fetch(`${own.url}/bin/${name}`, { method: 'POST' });
  let listed: string[] = [];
  const refresh = async () => {
    listed = (await own.call('GET', '/v1/bins')).body.map((x: { name: string }) => x.name);
  };
  try {
    await capture('keep-me');
    for (let i = 0; i < 99; i++) assert.is((await capture(`fill-${i}`)).status, 200);
    await refresh();
    assert.is(listed.length, 100);
    // Full: a tokenless request to a new name pushes no one out.
    const refused = await capture('intruder');
    assert.equal([refused.status, ((await refused.json()) as { code: string }).code], [404, 'BIN_NOT_FOUND']);
    await refresh();
    assert.equal([listed.length, listed.includes('intruder'), listed.includes('keep-me')], [100, false, true]);
    // An existing bin still captures, and is then the most recently used.
    assert.is((await capture('keep-me')).status, 200);
    await refresh();
    assert.is(listed[0], 'keep-me', 'most recently used first');
    // With a token, a new bin drops the least recently used one.
    const oldest = listed.at(-1)!;
    assert.is((await own.call('PUT', '/v1/bins/invited', { status: 200 })).status, 200);
    await refresh();
    assert.equal([listed.length, listed[0], listed.includes(oldest), listed.includes('keep-me')], [100, 'invited', false, true]);

    const del = await own.call('DELETE', '/v1/bins/keep-me');
    assert.equal([del.status, del.body], [200, { ok: true }]);
    const cleared = (await own.call('GET', '/v1/bins/keep-me')).body;
    assert.equal([cleared.count, cleared.requests], [0, []]);
  } finally {
    await own.stop();
  }
});

test('bounds in memory: the byte budget drops the least recently used bin\'s oldest requests first', () => {
  const bins = new Bins({ maxTotalBytes: 10_000, maxBodyBytes: 3_000 });
  const post = (name: string, n: number) => bins.capture(name, { method: 'POST', url: `/bin/${name}`, headers: {}, body: Buffer.alloc(n, 'a'), remoteAddress: '::1' });
  post('old', 3_000);
  post('old', 3_000);
  post('new', 3_000);
  assert.ok(bins.heldBytes <= 10_000);
  post('new', 3_000);
  assert.ok(bins.heldBytes <= 10_000, `held ${bins.heldBytes}`);
  assert.equal([bins.requests('old').length, bins.requests('new').length], [1, 2]);
  post('new', 3_000);
  assert.equal([bins.requests('old').length, bins.requests('new').length], [0, 3]);
  bins.close();
});

test('a long-poll (wait) answers when a request arrives, with only what came after `after`', async () => {
  await send('/bin/poll', { method: 'POST', body: 'seen already' });
  const { last_id: after } = (await b.call('GET', '/v1/bins/poll')).body;
  let settled = false;
  const poll = b.call('GET', `/v1/bins/poll?after=${after}&wait=25`).then((r) => {
    settled = true;
    return r;
  });
  await b.call('GET', '/health'); // a full round trip after the poll was sent
  assert.not.ok(settled, 'the poll waits while nothing new has come');
  await send('/bin/poll/late', { method: 'PUT', body: 'arrived' });
  const res = await poll;
  assert.is(res.status, 200);
  assert.equal(res.body.requests.map((r: { path: string; body: string }) => [r.path, r.body]), [['/bin/poll/late', 'arrived']]);
  assert.is(res.body.last_id, res.body.requests[0].id);
  const nothing = await b.call('GET', `/v1/bins/poll?after=${res.body.last_id}`);
  assert.equal(nothing.body.requests, []);
  const notYet = await b.call('GET', '/v1/bins/not-yet?wait=0.05');
  assert.equal([notYet.status, notYet.body.count, notYet.body.requests], [200, 0, []], 'a watcher may wait on a bin before its first request');
});

test('a read token sees captured requests with credentials masked; the admin sees them as sent', async () => {
  await send('/bin/secrets?access_token=QSECRET&page=2&appid=ASECRET', {
    method: 'POST',
    headers: { authorization: 'Bearer HSECRET', cookie: 'sid=CSECRET', 'x-api-key': 'KSECRET', 'x-session': 'SSECRET', 'content-type': 'application/json' },
    body: JSON.stringify({ password: 'BSECRET', temp: 21 }),
  });
  const [asRead] = await requestsIn('secrets', readToken);
  const text = JSON.stringify(asRead);
  for (const secret of ['QSECRET', 'HSECRET', 'CSECRET', 'KSECRET', 'SSECRET', 'ASECRET', 'BSECRET']) assert.not.ok(text.includes(secret), `${secret} hidden from a read token`);
  // By rule: every query value and every header value but plain ones (content type, ...).
  assert.equal([asRead.headers.authorization, asRead.headers['content-type'], asRead.query.page, JSON.parse(asRead.body).temp], ['[redacted]', 'application/json', '[redacted]', 21]);
  const [asAdmin] = await requestsIn('secrets');
  assert.equal([asAdmin.headers.authorization, asAdmin.query.access_token, JSON.parse(asAdmin.body).password], ['Bearer HSECRET', 'QSECRET', 'BSECRET']);
});

test('an integration pointed at a bin gets the real rendered request from a device publish; the bin\'s answer reaches the device', async () => {
  const dev = await b.addDevice({ name: 'thermo' });
  const hook = await b.call('POST', '/v1/integrations', {
    event: 'room-temp', url: `${b.url}/bin/mine?src={{{PARTICLE_DEVICE_ID}}}`, requestType: 'POST',
    json: { temp: '{{{PARTICLE_EVENT_VALUE}}}', device: '{{{PARTICLE_DEVICE_ID}}}' }, headers: { 'X-Token': 'abc' },
  });
  assert.is(hook.status, 201);
  await b.call('PUT', '/v1/bins/mine', { status: 200, body: 'thanks' });
  device = await deviceClient(b.mqttUrl, dev);
  await device.client.subscribeAsync(`${dev.id}/hook-response/room-temp/#`, { qos: 1 });
  await device.client.publishAsync('room-temp', '21.5', { qos: 1 });

  const poll = await b.call('GET', '/v1/bins/mine?wait=25');
  const [r] = poll.body.requests;
  assert.equal([r.method, r.path, r.query], ['POST', '/bin/mine', { src: dev.id }]);
  const body = JSON.parse(r.body);
  // Particle adds its default fields unless noDefaults is set.
  assert.equal({ ...body, published_at: typeof body.published_at }, { temp: '21.5', device: dev.id, event: 'room-temp', data: '21.5', coreid: dev.id, published_at: 'string' });
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.is(r.headers['x-token'], 'abc');
  assert.ok(String(r.headers['user-agent']).length > 0);
  await until(() => device!.received.length > 0, 5000, 'hook-response');
  assert.equal(device.received.map((m) => [m.topic, m.payload.toString()]), [[`${dev.id}/hook-response/room-temp/0`, 'thanks']]);
});

test('the CLI: bin url prints the URL; bin watch shows a request as it arrives; respond, show, clear', async () => {
  const env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
  const url = await hookwire(['bin', 'url', 'cli-bin'], env);
  assert.equal([url.code, url.stdout.trim()], [0, `${b.url}/bin/cli-bin`]);
  assert.is((await hookwire(['bin', 'url', 'bad.name'], env)).code, 2);

  watcher = spawn(process.execPath, [cliBin, 'bin', 'watch', 'cli-bin', '--json'], { cwd: root, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  watcher.stdout.on('data', (d) => { out += d; });
  watcher.stderr.on('data', (d) => { err += d; });
  await until(() => err.includes('Watching'), 10_000, 'the watcher to start');
  await send('/bin/cli-bin/from-outside?k=v', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello bin' });
  await until(() => out.includes('\n'), 10_000, 'the watcher to print the request');
  const line = JSON.parse(out.split('\n')[0]!);
  assert.equal([line.method, line.path, line.query_string, line.body], ['POST', '/bin/cli-bin/from-outside', 'k=v', 'hello bin']);
  watcher.kill('SIGKILL');

  const respond = await hookwire(['bin', 'respond', 'cli-bin', '--status', '418', '--body', 'teapot', '--header', 'X-Why: tests'], env);
  assert.is(respond.code, 0, respond.stderr);
  const answer = await send('/bin/cli-bin');
  assert.equal([answer.status, answer.headers.get('x-why'), await answer.text()], [418, 'tests', 'teapot']);

  const show = await hookwire(['bin', 'show', 'cli-bin'], env);
  assert.is(show.code, 0, show.stderr);
  assert.ok(show.stdout.includes('POST /bin/cli-bin/from-outside?k=v'));
  assert.ok(show.stdout.includes('  hello bin'));
  assert.ok(show.stdout.includes('answers 418'));

  assert.is((await hookwire(['bin', 'clear', 'cli-bin'], env)).code, 0);
  assert.equal((await requestsIn('cli-bin')), []);
  const list = await hookwire(['bin', 'list', '--json'], env);
  assert.ok(JSON.parse(list.stdout).some((x: { name: string }) => x.name === 'cli-bin'));
});

test.run();
