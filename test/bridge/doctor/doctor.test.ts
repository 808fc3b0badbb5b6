// hookwire doctor (issue 5, item 6): one deliberately broken setup per finding, on real
// bridges with real devices over MQTT and real HTTP receivers, read through GET /v1/doctor
// and the CLI run as a user runs it; and a healthy setup on which it finds nothing.
//
// Three bridges: `b` holds most fixtures (retries compressed by timeScale, the throttle kept
// out of the way so one fixture's errors do not put the others' host to sleep); `sleepy`
// puts a host to sleep after one error and keeps it asleep for the whole file; `healthy` has
// nothing wrong.

import { observe } from '../../../bridge/observers.ts';
import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import type { EventBus, HookwireEvent } from '../../../bridge/events/index.ts';
import { createDoctor, type DoctorReport, type Finding } from '../../../bridge/doctor/index.ts';
import type { DoctorWebhooks } from '../../../bridge/doctor/context.ts';
import { createLogger } from '../../../bridge/log.ts';
import { parseTemplate } from '../../../bridge/webhooks/integration.ts';
import { newStatus } from '../../../bridge/webhooks/status.ts';
import { createTracker } from '../../../bridge/doctor/tracker.ts';
import { nameMiss } from '../../../bridge/doctor/similar.ts';
import { coversFamily, namesFamily } from '../../../bridge/doctor/topics.ts';
import { hashSecret, newSecret } from '../../../bridge/ids.ts';
import type { AttemptObserver } from '../../../bridge/webhooks/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { freePort } from '../../helpers/net.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { hookwire } from '../../helpers/spawn.ts';

let b: TestBridge;
let sleepy: TestBridge;
let healthy: TestBridge;
let rx: Receiver;
let devA: Device;
let devAId: string;
let devBId: string;
let raw: TestClient;
let devS: Device;
let devH: Device;
let readToken: string;
const ids: Record<string, string> = {};
let report: DoctorReport;

const create = async (br: TestBridge, template: Record<string, unknown>, path = '/v1/integrations') => {
  const res = await br.call('POST', path, template);
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
};
const detail = async (br: TestBridge, id: string) => (await br.call('GET', `/v1/integrations/${id}`)).body.integration;
const doctor = async (br: TestBridge, query = '') => {
  const res = await br.call('GET', `/v1/doctor${query}`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body as DoctorReport;
};
/** The one finding with this check for this integration. */
function one(r: DoctorReport, check: string, id: string): Finding {
  const found = r.findings.filter((f) => f.check === check && f.integrationId === id);
  assert.is(found.length, 1, `${check} for ${id}: ${JSON.stringify(r.findings.filter((f) => f.integrationId === id), null, 1)}`);
  return found[0]!;
}

test.before(async () => {
  rx = await receiver();
  rx.on('/ok', (_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  rx.on('/fail5', (req, res) => { res.statusCode = req.body.toString().includes('missing') ? 404 : 500; res.end('broken'); });
  rx.on('/exhaust', (_req, res) => { res.statusCode = 500; res.end('down'); });
  rx.on('/silent', (_req, res) => { res.statusCode = 204; res.end(); });
  rx.on('/big', (_req, res) => res.end('x'.repeat(6000))); // 12 parts of 512 bytes
  rx.on('/whole', (_req, res) => res.end('y'.repeat(2000))); // over the 1024-byte device limit

  [b, sleepy, healthy] = await Promise.all([
    testBridge({ timeScale: 0.001, throttleMinErrors: 1_000_000 }),
    testBridge({ timeScale: 0.001, throttleMinErrors: 1, throttleCooldownMs: 600_000 }),
    testBridge(),
  ]);
  readToken = newSecret('hwt_');
  await b.store.tokens.create({ id: 'doctor-read', name: 'grafana', scope: 'read', tokenHash: hashSecret(readToken) });

  const a = await b.addDevice();
  devAId = a.id;
  devBId = (await b.addDevice()).id; // never connects
  const c = await b.addDevice();
  devA = await connectDevice({ url: b.mqttUrl, deviceId: a.id, token: a.token });
  raw = await deviceClient(b.mqttUrl, c);

  ids.case = await create(b, { event: 'Humid', name: 'Humidity', url: `${rx.url}/ok` });
  ids.prefix = await create(b, { event: 'temperature', url: `${rx.url}/ok` });
  ids.device = await create(b, { event: 'door', url: `${rx.url}/ok`, deviceID: devBId });
  ids.product = await create(b, { event: 'meter', url: `${rx.url}/ok` }, '/v1/products/42/integrations');
  ids.disabled = await create(b, { event: 'light', url: `${rx.url}/ok` });
  ids.exhausted = await create(b, { event: 'pump', url: `${rx.url}/exhaust`, retryPolicy: [1] });
  ids.errors = await create(b, { event: 'fail5', url: `${rx.url}/fail5` });
  ids.template = await create(b, { event: 'tplj', url: `${rx.url}/ok`, json: '{"t": {{t}}, "room": "{{room}}", "api_key": "s3cret-k3y"}' });
  ids.parts = await create(b, { event: 'bigresp', url: `${rx.url}/big` });
  ids.unchunked = await create(b, { event: 'whole', url: `${rx.url}/whole`, unchunked: true });
  ids.silent = await create(b, { event: 'silent', url: `${rx.url}/silent` });
  ids.sandbox = await create(b, { event: 'echo', url: `${rx.url}/ok` });
  ids.dns = await create(b, { event: 'dnsfail', url: 'http://hookwire-doctor.invalid/hook' });
  ids.refused = await create(b, { event: 'refusal', url: `http://127.0.0.1:${await freePort()}/` });
  ids.tooLarge = await create(b, { event: 'sensor', url: `${rx.url}/ok` });
  ids.templated = await create(b, { event: 'tenant', url: 'http://{{{host}}}/hook', dynamicHost: true });

  const disabled = await b.call('POST', `/v1/integrations/${ids.disabled}/disable`, { reason: 'maintenance window' });
  assert.is(disabled.status, 200);
  await devA.subscribe(`${devAId}/hook-response/silent/`, () => {});
  await devA.subscribe('hook-response/echo/', () => {}); // Particle's sandbox topic: never used for a device's event here
  for (const [name, data] of [['humid', '40'], ['temp', '21.5'], ['door', 'open'], ['meter', '7'], ['light', 'on'], ['pump', '1'],
    ['fail5', 'x'], ['fail5', 'missing'], ['tplj', '{"room":"kitchen"}'], ['bigresp', ''], ['whole', ''], ['silent', ''], ['echo', ''], ['refusal', '']]) {
    await devA.publish(name!, data, { qos: 1 });
  }
  await raw.client.publishAsync('sensor', Buffer.alloc(1500, 'a'), { qos: 1 }); // over 1024 bytes: refused

  await until(async () => (await detail(b, ids.exhausted!)).state === 'TooManyErrors', 5000, 'pump exhausted');
  await until(async () => (await detail(b, ids.errors!)).counters.total_dropped === 2, 5000, 'fail5 dropped');
  await until(async () => (await detail(b, ids.refused!)).counters.total_dropped === 1, 5000, 'refusal dropped');
  for (const id of [ids.template, ids.parts, ids.unchunked, ids.silent, ids.sandbox]) {
    await until(async () => (await detail(b, id!)).counters.total_calls === 1, 5000, `a call of ${id}`);
  }
  await b.webhooks.idle();
  report = await doctor(b);
});

test.after(async () => {
  await devA?.disconnect();
  await raw?.end();
  await devS?.disconnect();
  await devH?.disconnect();
  await Promise.all([b?.stop(), sleepy?.stop(), healthy?.stop()]);
  await rx?.close();
});

test('the report: counts, ok false, worst first, every finding with a check, a message and a next step', () => {
  assert.is(report.ok, false);
  assert.is(report.integrations, Object.keys(ids).length);
  assert.ok(Date.parse(report.observedSince) <= Date.parse(report.checkedAt));
  const order = { error: 0, warning: 1, info: 2 };
  const severities = report.findings.map((f) => order[f.severity]);
  assert.equal(severities, [...severities].sort((x, y) => x - y), 'errors, then warnings, then info');
  for (const f of report.findings) {
    assert.type(f.message, 'string');
    assert.ok(f.next.length > 0, f.check);
    assert.type(f.evidence, 'object');
  }
  assert.not.ok(report.findings.some((f) => f.check === 'CHECK_FAILED'), JSON.stringify(report.findings.filter((f) => f.check === 'CHECK_FAILED')));
});

test('NEAR_MISS_NAME: a name that differs only in case; the published name shorter than the trigger', () => {
  const c = one(report, 'NEAR_MISS_NAME', ids.case!);
  assert.equal([c.severity, c.evidence.kind, c.evidence.published, c.evidence.devices], ['warning', 'case', 'humid', [devAId]]);
  assert.match(c.next, `hookwire integrations update ${ids.case} --event humid`);
  const p = one(report, 'NEAR_MISS_NAME', ids.prefix!);
  assert.equal([p.evidence.kind, p.evidence.published, p.evidence.trigger], ['prefix', 'temp', 'temperature']);
  assert.match(p.next, `hookwire integrations update ${ids.prefix} --event temp`);
  // Integrations that fired are never near misses, and nothing else is taken for one.
  assert.equal(report.findings.filter((f) => f.check === 'NEAR_MISS_NAME').map((f) => f.integrationId).sort(), [ids.case, ids.prefix, ids.device, ids.product].sort());
});

test('NEAR_MISS_NAME: the name matches but the deviceID filter, or the product filter, excludes every device publishing it', () => {
  const d = one(report, 'NEAR_MISS_NAME', ids.device!);
  assert.equal([d.evidence.kind, d.evidence.published, d.evidence.deviceID, d.evidence.deviceConnected], ['device_filter', 'door', devBId, false]);
  assert.match(d.message, devAId);
  assert.match(d.next, `hookwire integrations update ${ids.device} --device-id ${devAId}`);
  const p = one(report, 'NEAR_MISS_NAME', ids.product!);
  assert.equal([p.evidence.kind, p.evidence.productId, p.evidence.productIds], ['product_filter', 42, [null]]);
  assert.match(p.next, '{"product_id":42}');
});

test('near misses in memory: levels and typos within 2 edits of the prefix; short or distant names are not near', () => {
  assert.equal(nameMiss('temp', 'home/temp/x'), { kind: 'level', suggestion: 'home/temp' });
  assert.equal(nameMiss('temperature', 'temprature/kitchen'), { kind: 'typo', suggestion: 'temprature', distance: 1 });
  assert.equal(nameMiss('temprature', 'temperature/kitchen'), { kind: 'typo', suggestion: 'temperature', distance: 1 });
  assert.equal(nameMiss('temp', 'tmep'), { kind: 'typo', suggestion: 'tmep', distance: 1 }, 'a swap is one edit');
  assert.equal(nameMiss('temperature', 'tmeperatrue'), { kind: 'typo', suggestion: 'tmeperatrue', distance: 2 });
  assert.is(nameMiss('temp', 'team'), undefined, 'two edits are too many for a 4-letter trigger');
  assert.is(nameMiss('abc', 'abd'), undefined, 'short triggers need an exact or case match');
  assert.is(nameMiss('temp', 'temperature'), undefined, 'a match is no miss');
  assert.is(nameMiss('temperature', 'te'), undefined, 'too short to be the trigger cut short');
});

test('EVENT_REFUSED: matching events the broker refused (too large); NEVER_FIRED when nothing close was published', () => {
  const r = one(report, 'EVENT_REFUSED', ids.tooLarge!);
  assert.equal([r.severity, r.evidence.code, r.evidence.name, r.evidence.count], ['warning', 'EVENT_TOO_LARGE', 'sensor', 1]);
  const n = one(report, 'NEVER_FIRED', ids.dns!);
  assert.is(n.severity, 'info');
});

test('INTEGRATION_DISABLED: who, when and why, the events it misses, and how to enable it', () => {
  const f = one(report, 'INTEGRATION_DISABLED', ids.disabled!);
  assert.equal([f.severity, f.evidence.disabledBy, f.evidence.disabledReason], ['warning', 'admin', 'maintenance window']);
  assert.type(f.evidence.disabledAt, 'string');
  assert.equal((f.evidence.missedEvents as { name: string }[]).map((m) => m.name), ['light']);
  assert.is(f.next, `hookwire integrations enable ${ids.disabled}`);
});

test('TOO_MANY_ERRORS: stopped after its retry schedule ran out, with the counters and the way back', () => {
  const f = one(report, 'TOO_MANY_ERRORS', ids.exhausted!);
  assert.equal([f.severity, f.evidence.totalCalls, f.evidence.totalErrors, f.evidence.failedDeliveriesKept, f.evidence.disabledBy], ['error', 2, 2, 1, 'hookwire']);
  assert.match(f.next, `hookwire integrations enable ${ids.exhausted}`);
  assert.match(f.next, `hookwire replay ${ids.exhausted} --all`);
});

test('ERRORS_BY_CODE: 500s and a 404 grouped by code, each with its guidance', () => {
  const found = report.findings.filter((f) => f.check === 'ERRORS_BY_CODE' && f.integrationId === ids.errors);
  const byCode = Object.fromEntries(found.map((f) => [f.evidence.code, f]));
  assert.equal(Object.keys(byCode).sort(), ['404', '500']);
  assert.equal([byCode['500']!.evidence.sinceStart, byCode['500']!.evidence.inRecentLogs, byCode['404']!.evidence.sinceStart], [3, 3, 1]);
  assert.equal((byCode['500']!.evidence.guidance as { title: string }).title, 'Server Error');
  assert.equal((byCode['404']!.evidence.guidance as { title: string }).title, 'Not Found');
  // It fails now: the code it last failed with is the error, the other one a warning.
  const last = (byCode['500']!.evidence.lastError as { code: string }).code;
  assert.is(byCode[last]!.severity, 'error');
  assert.is(byCode[last === '500' ? '404' : '500']!.severity, 'warning');
  assert.match(byCode['500']!.next, `hookwire replay ${ids.errors} --all`);
});

test('TEMPLATE_INVALID_JSON: the json template rendered with the latest event, the empty tag named, secrets blanked', () => {
  const f = one(report, 'TEMPLATE_INVALID_JSON', ids.template!);
  assert.equal([f.severity, f.evidence.field, f.evidence.emptyVariables], ['error', 'json', ['t']]);
  assert.equal((f.evidence.event as HookwireEvent).data, '{"room":"kitchen"}');
  assert.is(f.evidence.rendered, '{"t": , "room": "kitchen", "api_key": "[redacted]"}');
  assert.not.match(JSON.stringify(report), 's3cret', 'nor in the TEMPLATE_INVALID error repeated by ERRORS_BY_CODE');
  assert.match(f.next, `hookwire test ${ids.template} --name tplj --data '{"room":"kitchen"}'`);
});

test('RESPONSE_TOO_MANY_PARTS and RESPONSE_OVER_DEVICE_LIMIT: a 12-part response; an unchunked one discarded', () => {
  const p = one(report, 'RESPONSE_TOO_MANY_PARTS', ids.parts!);
  assert.equal([p.severity, p.evidence.maxParts, p.evidence.maxBytes, p.evidence.overAdvised], ['warning', 12, 6000, 1]);
  const u = one(report, 'RESPONSE_OVER_DEVICE_LIMIT', ids.unchunked!);
  assert.equal([u.severity, u.evidence.discarded, u.evidence.maxBodyBytes], ['error', 1, 2000]);
  assert.match(u.next, `hookwire integrations update ${ids.unchunked} --unchunked false`);
});

test('SUBSCRIBED_NO_RESPONSE and RESPONSE_TOPIC_MISMATCH: waiting for a hook that answers nothing; listening where responses never go', () => {
  const s = one(report, 'SUBSCRIBED_NO_RESPONSE', ids.silent!);
  assert.equal([s.severity, s.evidence.successes, s.evidence.answered], ['warning', 1, 0]);
  assert.equal(s.evidence.devices, [{ deviceId: devAId, filter: `${devAId}/hook-response/silent/#`, triggers: true }]);
  const m = one(report, 'RESPONSE_TOPIC_MISMATCH', ids.sandbox!);
  assert.equal([m.evidence.deviceId, m.evidence.filter], [devAId, 'hook-response/echo/#']);
  assert.match(m.next, `${devAId}/hook-response/echo`);
  assert.equal(report.findings.filter((f) => f.check === 'SUBSCRIBED_NO_RESPONSE').map((f) => f.integrationId), [ids.silent]);
});

test('TARGET_UNREACHABLE: a .invalid host (ENOTFOUND) and a refused port, probed; a templated host is not probed', () => {
  const dns = one(report, 'TARGET_UNREACHABLE', ids.dns!);
  assert.equal([dns.severity, dns.evidence.stage, dns.evidence.code, dns.evidence.host], ['error', 'dns', 'ENOTFOUND', 'hookwire-doctor.invalid']);
  const refused = one(report, 'TARGET_UNREACHABLE', ids.refused!);
  assert.equal([refused.evidence.stage, refused.evidence.code, refused.evidence.recentFailures], ['connect', 'ECONNREFUSED', { ECONNREFUSED: 3 }]);
  assert.equal(one(report, 'TARGET_NOT_PROBED', ids.templated!).severity, 'info');
  assert.equal(report.findings.filter((f) => f.check === 'TARGET_UNREACHABLE').map((f) => f.integrationId).sort(), [ids.dns, ids.refused].sort());
});

test('?probe=false: nothing is probed; a run of connection failures still tells', async () => {
  const r = await doctor(b, '?probe=false');
  assert.equal(r.findings.filter((f) => f.check === 'TARGET_UNREACHABLE').map((f) => [f.integrationId, f.evidence.probed]), [[ids.refused, false]]);
  assert.not.ok(r.findings.some((f) => f.check === 'TARGET_NOT_PROBED'));
});

test('HOST_SLEEPING: the host asleep, skipped today and in 30 days per integration, and which integration put it to sleep', async () => {
  const failing = await create(sleepy, { event: 'snooze', url: `${rx.url}/exhaust` });
  const bystander = await create(sleepy, { event: 'nap', url: `${rx.url}/ok` });
  const creds = await sleepy.addDevice();
  devS = await connectDevice({ url: sleepy.mqttUrl, deviceId: creds.id, token: creds.token });
  await devS.publish('snooze', '1', { qos: 1 }); // one 500 puts 127.0.0.1 to sleep; both retries are skipped
  await until(async () => (await detail(sleepy, failing)).counters.total_dropped === 1, 5000, 'snooze dropped');
  await devS.publish('nap', '1', { qos: 1 }); // skipped: the same host
  await until(async () => (await detail(sleepy, bystander)).counters.total_skipped >= 1, 5000, 'nap skipped');
  await sleepy.webhooks.idle();

  const r = await doctor(sleepy);
  const f = one(r, 'HOST_SLEEPING', failing);
  assert.equal([f.severity, f.evidence.host, f.evidence.skippedToday, f.evidence.skipped30Days], ['warning', '127.0.0.1', 2, 2]);
  assert.type(f.evidence.asleepUntil, 'string');
  const other = one(r, 'HOST_SLEEPING', bystander);
  assert.ok((other.evidence.skippedToday as number) >= 1);
  assert.equal((other.evidence.erroring as { id: string }[]).map((e) => e.id), [failing], 'the bystander is told who caused it');
  assert.match(other.next, `hookwire logs ${failing}`);
});

test('a healthy setup: no findings from the API; the CLI says so in one line and exits 0', async () => {
  const id = await create(healthy, { event: 'ok', url: `${rx.url}/ok` });
  const creds = await healthy.addDevice();
  devH = await connectDevice({ url: healthy.mqttUrl, deviceId: creds.id, token: creds.token });
  const heard: string[] = [];
  await devH.subscribe(`${creds.id}/hook-response/ok/`, (name) => heard.push(name));
  await devH.publish('ok', '1', { qos: 1 });
  await until(() => heard.length === 1, 5000, 'the response');
  await healthy.webhooks.idle();

  const r = await doctor(healthy);
  assert.equal(r.findings, []);
  assert.equal([r.ok, r.integrations], [true, 1]);
  assert.equal((await doctor(healthy, `?integration=${id}`)).findings, []);

  const cli = await hookwire(['doctor'], { HOOKWIRE_URL: healthy.url, HOOKWIRE_TOKEN: healthy.token, NO_COLOR: '1' });
  assert.is(cli.code, 0, cli.stderr);
  assert.is(cli.stdout, 'No problems found (1 integration checked).\n');
});

test('CLI on the broken setup: every finding with its next step, exit 1; one integration as --json', async () => {
  const env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token, NO_COLOR: '1' };
  const [all, single] = await Promise.all([hookwire(['doctor', '--skip-probe'], env), hookwire(['doctor', ids.template!, '--json'], env)]);
  assert.is(all.code, 1, all.stderr);
  const lines = all.stdout.split('\n');
  assert.match(lines[0]!, /^hookwire doctor: 16 integrations checked; events and deliveries observed since \S+Z\.$/);
  const heads = lines.filter((l) => /^(ERROR|WARN |info ) {2}[A-Z_]+/.test(l));
  assert.ok(heads.includes(`ERROR  TOO_MANY_ERRORS  integration ${ids.exhausted}`), heads.join('\n'));
  assert.ok(heads.includes(`WARN   NEAR_MISS_NAME  integration ${ids.case}`), heads.join('\n'));
  const at = lines.indexOf(`WARN   INTEGRATION_DISABLED  integration ${ids.disabled}`);
  assert.match(lines[at + 1]!, /is disabled by admin at \S+: "maintenance window"/);
  assert.is(lines[at + 2], `       next: hookwire integrations enable ${ids.disabled}`);
  assert.match(lines.at(-2)!, /^\d+ errors, \d+ warnings, \d+ notes\.$/);

  assert.is(single.code, 1, single.stderr);
  const json = JSON.parse(single.stdout) as DoctorReport;
  assert.equal([json.ok, json.integrations], [false, 1]);
  assert.ok(json.findings.length >= 2);
  assert.ok(json.findings.every((f) => f.integrationId === ids.template));
});

test('API: a read-only token may run it; unknown integration 404 and bad options 400, Particle-shaped; 401 without a token', async () => {
  const read = await b.call('GET', `/v1/doctor?integration=${ids.case}&probe=false`, undefined, readToken);
  assert.is(read.status, 200);
  assert.equal(read.body.findings.map((f: Finding) => f.check), ['NEAR_MISS_NAME']);

  const missing = await b.call('GET', '/v1/doctor?integration=000000000000000000000000');
  assert.equal([missing.status, missing.body.ok, missing.body.code], [404, false, 'INTEGRATION_NOT_FOUND']);
  assert.type(missing.body.error, 'string');
  for (const [query, field] of [['probe=maybe', 'probe'], ['probe_timeout_ms=5', 'probe_timeout_ms'], ['probe_timeout_ms=abc', 'probe_timeout_ms']]) {
    const bad = await b.call('GET', `/v1/doctor?${query}`);
    assert.equal([bad.status, bad.body.ok, bad.body.code, bad.body.field], [400, false, 'BAD_REQUEST', field]);
  }
  const anonymous = await b.call('GET', '/v1/doctor', undefined, null);
  assert.equal([anonymous.status, anonymous.body.error], [401, 'invalid_token']);

  const cli = await hookwire(['doctor', '000000000000000000000000'], { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token });
  assert.is(cli.code, 1);
  assert.match(cli.stderr, /\(INTEGRATION_NOT_FOUND\)/);
});

test('the tracker stays bounded: names, devices per name; attempts counted per integration; detached, it stops', () => {
  const bus = new EventEmitter() as unknown as EventBus;
  let observer: AttemptObserver | undefined;
  const tracker = createTracker({ maxNames: 50, devicesPerName: 3 });
  const detach = observe([tracker], { bus, webhooks: { addHook: (_name, o) => { observer = o; return () => { observer = undefined; }; } } });
  const event = (name: string, coreid: string): HookwireEvent => ({ id: name, name, data: '', type: 'text', published_at: '', coreid, product_id: null, fw_version: null });
  for (let k = 0; k < 200; k++) bus.emit('event', event(`n${k}`, 'a'.repeat(24)));
  for (let k = 0; k < 10; k++) bus.emit('event', event('many', `${k}`.padStart(24, '0')));
  bus.emit('event', event('hook-sent/x', 'hookwire'));
  const names = [...tracker.names()];
  assert.ok(names.length <= 50, `${names.length} names`);
  const many = names.find((n) => n.name === 'many')!;
  assert.equal([many.count, many.devices.length], [10, 3]);
  assert.not.ok(names.some((n) => n.name.startsWith('hook-')), 'the cloud\'s own events are not devices publishing');

  const job = { id: 1, integrationId: 'i', event: event('x', 'a'.repeat(24)), host: 'h', attempts: 0 };
  observer!({ job, kind: 'failure', event: job.event, failure: { code: '500', message: 'm' }, durationMs: 1 });
  observer!({ job, kind: 'success', event: job.event, durationMs: 1, reply: { topic: 't', data: Buffer.alloc(5200), whole: false } });
  const seen = tracker.integration('i')!;
  assert.equal([seen.attempts, seen.failures, seen.codes.get('500')!.count, seen.replies.maxParts, seen.replies.overParts], [2, 1, 1, 11, 1]);
  detach();
  assert.is(observer, undefined);
  assert.is((bus as unknown as EventEmitter).listenerCount('event'), 0);
});

test('a check that throws is a CHECK_FAILED finding; the other checks still report', async () => {
  const bus = new EventEmitter() as unknown as EventBus;
  const integration = { ...parseTemplate({ event: 'x', url: 'http://127.0.0.1:1/' }), id: 'a'.repeat(24), productId: null, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' };
  const lastError = { code: 'ECONNREFUSED', message: 'ECONNREFUSED: 127.0.0.1:1 refused the connection', at: '2024-01-01T00:00:00Z' };
  const status = { ...newStatus(), state: 'Failing' as const, totalCalls: 1, totalErrors: 1, consecutiveErrors: 1, lastError };
  const webhooks = {
    list: () => [integration], get: () => integration, status: () => status,
    logs: async () => { throw new Error('store unavailable'); },
    daily: async () => [], failures: async () => ({ total: 0, deliveries: [] }), sleepingHosts: () => [],
  };
  const broker = { deviceSubscriptions: () => new Map<string, string[]>(), isDeviceConnected: () => false };
  const logger = createLogger({ level: 'silent', pretty: false });
  const d = createDoctor({ webhooks: webhooks as unknown as DoctorWebhooks, broker, logger });
  const r = await d.run({ probe: false });
  const failed = r.findings.filter((f) => f.check === 'CHECK_FAILED').map((f) => f.evidence.check);
  assert.ok(failed.includes('errors by code'), JSON.stringify(r.findings));
  assert.ok(r.findings.some((f) => f.check === 'TARGET_UNREACHABLE'), 'the others ran');
  assert.is(r.ok, false);
});

test('topic families: which subscriptions cover a response topic, and which name it', () => {
  const d = 'a'.repeat(24);
  const open = { prefix: `${d}/hook-response/weather`, open: true };
  assert.equal([`${d}/hook-response/weather/#`, `${d}/#`, `${d}/hook-response/#`, 'hook-response/#', `${d}/hook-response/wea`].map((f) => coversFamily(f, open)), [true, true, true, false, false]);
  assert.equal([`${d}/hook-response/weather/#`, `${d}/#`, '#'].map((f) => namesFamily(f, open)), [true, false, false]);
  const closed = { prefix: 'my/resp', open: false };
  assert.equal(['my/resp/#', 'my/resp/+', 'my/resp/0', 'my/resp', 'my/resp/0/x'].map((f) => coversFamily(f, closed)), [true, true, true, false, false]);
});

test.run();
