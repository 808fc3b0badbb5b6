// hookwire logs, history, test and replay, run as a user runs them (the real bin, a child
// process) against a real bridge with real receivers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { chart } from '../../../bridge/cli/commands/history.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { freePort } from '../../helpers/net.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { hookwire } from '../../helpers/spawn.ts';

let b: TestBridge;
let rx: Receiver;
let device: Device;
let env: NodeJS.ProcessEnv;
let flaky: string;

test.before(async () => {
  b = await testBridge({ timeScale: 0.001, throttleMinErrors: 1_000_000 });
  env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token, NO_COLOR: '' };
  rx = await receiver();
  rx.on('/flaky', (req, res) => {
    res.statusCode = req.body.toString().includes('bad') ? 500 : 200;
    res.end(res.statusCode === 500 ? 'broken' : 'fine');
  });
  rx.on('/missing', (_req, res) => { res.statusCode = 404; res.end(); });
  const creds = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: creds.id, token: creds.token });
  // One success and one 500, retried twice (particle policy) and dropped.
  flaky = (await b.call('POST', '/v1/integrations', { event: 'cli', name: 'Flaky', url: `${rx.url}/flaky` })).body.id;
  await device.publish('cli', 'good', { qos: 1 });
  await device.publish('cli', 'bad', { qos: 1 });
  await until(async () => (await b.call('GET', `/v1/integrations/${flaky}`)).body.integration.counters.total_dropped === 1, 5000, 'the 500 dropped');
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  await rx?.close();
});

test('logs: the last successes and errors, each error with its message and guidance', async () => {
  const res = await hookwire(['logs', flaky], env);
  assert.is(res.code, 0, res.stderr);
  const lines = res.stdout.split('\n');
  assert.ok(lines[0]!.startsWith(`${flaky} (Flaky): "cli" → ${rx.url}/flaky`), lines[0]);
  assert.match(lines[1]!, /state: Failing .* 1 succeeded, 3 failed, 0 skipped, 1 dropped/);
  const ok = lines.findIndex((l) => l.startsWith('Successes (the last 1,'));
  assert.match(lines[ok + 1]!, /^ {2}\S+Z {2}200 +\d+ ms {2}cli "good" {2}POST http/);
  const errors = lines.findIndex((l) => l.startsWith('Errors (the last 3,'));
  assert.ok(errors > ok);
  assert.match(lines[errors + 1]!, /^ {2}\S+Z {2}500 +\d+ ms {2}cli "bad"/);
  assert.is(lines[errors + 2]!.trim(), `error status 500 from 127.0.0.1:${rx.port}`);
  assert.is(lines[errors + 3]!.trim(), 'response: "broken"');
  assert.match(lines[errors + 4]!, /→ Server Error: Check the target's health/);

  const json = JSON.parse((await hookwire(['logs', flaky, '--json'], env)).stdout);
  assert.equal([json.successes.length, json.errors.length, json.errors[0].error.code, json.errors[0].guidance.title], [1, 3, '500', 'Server Error']);
});

test('history: a chart with plain marks when stdout is not a terminal; --json; a bad --days is the API\'s 400', async () => {
  const res = await hookwire(['history', flaky, '--days', '3'], env);
  assert.is(res.code, 0, res.stderr);
  assert.not.match(res.stdout, /\x1b\[/, 'no colour codes into a pipe');
  const rows = res.stdout.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
  assert.is(rows.length, 3);
  const today = new Date().toISOString().slice(0, 10);
  assert.is(rows[2], `${today}  #xxx        1 ok     3 err     0 skipped  (today, from 00:00 UTC)`);
  assert.match(rows[0]!, /^\S+ {2} +0 ok +0 err +0 skipped$/);
  assert.match(res.stdout, /3 days: 1 succeeded, 3 failed, 0 skipped/);
  assert.match(chart([{ day: today, success: 1, error: 0, skipped: 0 }], false).join('\n'), /\n1 day: 1 succeeded/, 'one day, not "1 days"');

  const json = JSON.parse((await hookwire(['history', flaky, '--days', '2', '--json'], env)).stdout);
  assert.equal(json.days.at(-1), { day: today, success: 1, error: 3, skipped: 0 });

  const bad = await hookwire(['history', flaky, '--days', '40'], env);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /days must be a whole number from 1 to 30 \(BAD_REQUEST\)/);
  const missing = await hookwire(['history'], env);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /usage: hookwire history <integration-id>/);
});

test('history chart: blue, red and gray blocks for a terminal; scaled to its width; at least one mark per non-zero count', () => {
  const days = [
    { day: '2024-05-01', success: 0, error: 0, skipped: 0 },
    { day: '2024-05-02', success: 2, error: 1, skipped: 1 },
  ];
  const colour = chart(days, true);
  assert.ok(colour[3]!.includes('\x1b[34m██\x1b[0m\x1b[31m█\x1b[0m\x1b[90m█\x1b[0m'), JSON.stringify(colour[3]));
  const big = chart([{ day: '2024-05-03', success: 400, error: 1, skipped: 0 }], false, 40);
  assert.ok(big[2]!.startsWith(`2024-05-03  ${'#'.repeat(40)}x `), big[2]);
  assert.match(big[0]!, /one mark ≈ 10\.0 events/);
});

test('test: PASS with the request line and response, exit 0; FAIL with guidance, exit 1; --json', async () => {
  const ok = await hookwire(['test', flaky, '--data', '{"t":1}'], env);
  assert.is(ok.code, 0, ok.stderr);
  const lines = ok.stdout.split('\n');
  assert.match(lines[0]!, new RegExp(`^PASS  POST ${rx.url}/flaky → 200 in \\d+ ms$`));
  assert.ok(lines.includes(`request:   POST ${rx.url}/flaky`), ok.stdout);
  assert.ok(lines.includes('response:  200'), ok.stdout);
  assert.ok(lines.includes('           fine'), ok.stdout);
  assert.match(ok.stdout, /event: +cli "\{\\"t\\":1\}" from 0{24}/);

  const missing = (await b.call('POST', '/v1/integrations', { event: 'gone', url: `${rx.url}/missing` })).body.id;
  const fail = await hookwire(['test', missing], env);
  assert.is(fail.code, 1);
  assert.match(fail.stdout, new RegExp(`^FAIL  error status 404 from 127.0.0.1:${rx.port}`));
  assert.match(fail.stdout, /\n404: Not Found\. Nothing at that URL/);
  assert.match(fail.stdout, /\nnext: Check the integration's url/);

  const refused = (await b.call('POST', '/v1/integrations', { event: 'nobody', url: `http://127.0.0.1:${await freePort()}/` })).body.id;
  const json = await hookwire(['test', refused, '--json'], env);
  assert.is(json.code, 1);
  const r = JSON.parse(json.stdout);
  assert.equal([r.pass, r.code, r.guidance.title], [false, 'ECONNREFUSED', 'Connection refused']);

  const i = (await b.call('GET', `/v1/integrations/${flaky}`)).body.integration;
  assert.equal([i.counters.total_calls, i.logs.length], [4, 4], 'the tests changed nothing');
});

test('replay: --list shows the failed delivery; --all replays it; it is delivered', async () => {
  const list = await hookwire(['replay', flaky, '--list'], env);
  assert.is(list.code, 0, list.stderr);
  const lines = list.stdout.split('\n');
  assert.match(lines[0]!, /^DELIVERY +FAILED AT +ATTEMPTS +CODE +REASON +EVENT +DEVICE$/);
  assert.match(lines[1]!, /^\d+ +\S+Z +3 +500 +Server Error +cli +[0-9a-f]{24}$/);
  assert.match(list.stdout, /1 failed\. Replay: hookwire replay/);

  const none = await hookwire(['replay', flaky], env);
  assert.is(none.code, 2, 'a replay needs a choice');
  const since = await hookwire(['replay', flaky, '--since', 'soon'], env);
  assert.equal([since.code, /since must be an ISO-8601 time/.test(since.stderr)], [1, true]);

  rx.on('/flaky', (_req, res) => res.end('fixed')); // the target is fixed
  const before = rx.requests.length;
  const res = await hookwire(['replay', flaky, '--all'], env);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`^Replayed 1 failed delivery of ${flaky}`));
  await until(() => rx.requests.length === before + 1, 5000, 'the replayed request');
  await b.webhooks.idle();
  const json = JSON.parse((await hookwire(['replay', flaky, '--list', '--json'], env)).stdout);
  assert.equal([json.total, json.failures], [0, []]);
  const again = await hookwire(['replay', flaky, '--all', '--json'], env);
  assert.equal(JSON.parse(again.stdout), { ok: true, replayed: 0 });
});

test('integrations show still works beside the new commands', async () => {
  const res = await hookwire(['integrations', 'show', flaky], env);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, /state: Active/);
});

test.run();
