// The dashboard summary: a generated history with known totals checked figure by figure
// (a fixed `until`, so every window is exact), then live traffic (a real device, real
// receivers, API publishes) counted under the right types and codes, and the CLI.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Summary } from '../../../bridge/dashboard/summary.ts';
import type { StatsRow } from '../../../bridge/store/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { hookwire } from '../../helpers/spawn.ts';

let b: TestBridge;
let target: Receiver;
let device: TestClient | undefined;
let i1: string; // an integration that exists (event "temp")
const I2 = 'f'.repeat(24); // one deleted since its failures

// The history ends in the future, where no live count and no pruning can reach it.
const UNTIL = '2027-03-15T10:30:00.000Z';
const at = (iso: string) => Date.parse(iso);

function row(hour: string, type: StatsRow['type'], integrationId: string, code: string, description: string, count: number, first?: string, last?: string): StatsRow {
  return { hour: at(hour), type, integrationId, code, description, count, firstAt: at(first ?? hour), lastAt: at(last ?? hour) };
}

test.before(async () => {
  [b, target] = await Promise.all([testBridge(), receiver()]);
  target.on('/fail', (_req, res) => {
    res.statusCode = 500;
    res.end('down');
  });
  i1 = (await b.call('POST', '/v1/integrations', { event: 'temp', url: `${target.url}/ok`, requestType: 'POST' })).body.id;
  const r500 = 'HTTP 500 Internal Server Error';
  await b.store.stats.add([
    row('2027-03-15T10:00:00Z', 'outbound', i1, '', '', 10),
    row('2027-03-15T09:00:00Z', 'outbound', i1, '500', r500, 4, '2027-03-15T09:05:00Z', '2027-03-15T09:50:00Z'),
    row('2027-03-14T12:00:00Z', 'outbound', i1, '500', r500, 2, '2027-03-14T12:01:00Z', '2027-03-14T12:02:00Z'),
    row('2027-03-14T10:00:00Z', 'outbound', i1, '', '', 5),
    row('2027-03-10T00:00:00Z', 'device', '', '', '', 100),
    row('2027-03-05T00:00:00Z', 'device', '', '', '', 50),
    row('2027-03-05T00:00:00Z', 'device', '', 'EVENT_TOO_LARGE', 'Event data too large', 3, '2027-03-05T00:10:00Z', '2027-03-05T00:40:00Z'),
    row('2027-03-03T00:00:00Z', 'outbound', i1, '', '', 9),
    row('2027-02-01T00:00:00Z', 'inbound', '', '', '', 8),
    row('2027-03-15T08:00:00Z', 'inbound', '', 'UNAUTHORIZED', 'API token missing or wrong', 1, '2027-03-15T08:30:00Z', '2027-03-15T08:30:00Z'),
    row('2027-03-15T08:00:00Z', 'outbound', I2, 'ECONNREFUSED', 'Connection refused', 7, '2027-03-15T08:01:00Z', '2027-03-15T08:59:00Z'),
    row('2026-12-01T00:00:00Z', 'outbound', i1, '', '', 999), // before every window
    row('2027-03-16T01:00:00Z', 'outbound', i1, '', '', 1000), // after the end
  ]);
});
test.after(async () => {
  await device?.end();
  await b?.stop();
  await target?.close();
});

async function dashboard(query: string): Promise<Summary> {
  const res = await b.call('GET', `/v1/dashboard?${query}`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body as Summary;
}

const counts = (successes: number, failures: number) => ({ successes, failures });
/** Trend buckets that are not all zero, by index. */
function nonZero(s: Summary): Record<number, object> {
  const out: Record<number, object> = {};
  s.trends.forEach((t, i) => {
    const { at: _at, ...types } = t;
    if (Object.values(types).some((c) => c.successes || c.failures)) out[i] = types;
  });
  return out;
}

test('1d: the last 24 hours in hourly buckets, against the 24 before', async () => {
  const s = await dashboard(`period=1d&until=${UNTIL}`);
  assert.equal([s.period, s.bucket, s.from, s.until], ['1d', 'hour', '2027-03-14T11:00:00.000Z', '2027-03-15T11:00:00.000Z']);
  assert.equal(s.previous, { from: '2027-03-13T11:00:00.000Z', until: '2027-03-14T11:00:00.000Z' });
  assert.equal(s.types.outbound, { ...counts(10, 13), previous: counts(5, 0), change: { successes: 100, failures: null } });
  assert.equal(s.types.inbound, { ...counts(0, 1), previous: counts(0, 0), change: { successes: null, failures: null } });
  assert.equal(s.types.device, { ...counts(0, 0), previous: counts(0, 0), change: { successes: null, failures: null } });
  assert.equal(s.failures_by_code.map((c) => [c.code, c.count]), [['ECONNREFUSED', 7], ['500', 6], ['UNAUTHORIZED', 1]]);
  assert.is(s.failures_by_code[0]!.title, 'Connection refused');
  assert.ok(s.failures_by_code[1]!.check.length > 10, 'every code comes with what to check');
  assert.is(s.trends.length, 24);
  assert.is(s.trends[23]!.at, '2027-03-15T10:00:00.000Z');
  assert.equal(nonZero(s), {
    1: { outbound: counts(0, 2), inbound: counts(0, 0), device: counts(0, 0) },
    21: { outbound: counts(0, 7), inbound: counts(0, 1), device: counts(0, 0) },
    22: { outbound: counts(0, 4), inbound: counts(0, 0), device: counts(0, 0) },
    23: { outbound: counts(10, 0), inbound: counts(0, 0), device: counts(0, 0) },
  });
  assert.is(s.failures.total, 3);
  assert.equal(s.failures.rows.map((r) => [r.integration_id, r.event, r.type, r.code, r.description, r.count, r.first_seen, r.last_seen]), [
    [I2, null, 'outbound', 'ECONNREFUSED', 'Connection refused', 7, '2027-03-15T08:01:00.000Z', '2027-03-15T08:59:00.000Z'],
    [i1, 'temp', 'outbound', '500', 'HTTP 500 Internal Server Error', 6, '2027-03-14T12:01:00.000Z', '2027-03-15T09:50:00.000Z'],
    [null, null, 'inbound', 'UNAUTHORIZED', 'API token missing or wrong', 1, '2027-03-15T08:30:00.000Z', '2027-03-15T08:30:00.000Z'],
  ]);
  assert.is(s.failures.rows[1]!.title, 'Server Error', '5xx guidance');
});

test('7d: seven UTC days, today included, against the seven before', async () => {
  const s = await dashboard(`period=7d&until=${UNTIL}`);
  assert.equal([s.bucket, s.from, s.until, s.previous.from], ['day', '2027-03-09T00:00:00.000Z', '2027-03-16T00:00:00.000Z', '2027-03-02T00:00:00.000Z']);
  assert.equal(s.types.outbound, { ...counts(15, 13), previous: counts(9, 0), change: { successes: 66.7, failures: null } });
  assert.equal(s.types.inbound, { ...counts(0, 1), previous: counts(0, 0), change: { successes: null, failures: null } });
  assert.equal(s.types.device, { ...counts(100, 0), previous: counts(50, 3), change: { successes: 100, failures: -100 } });
  assert.equal(s.failures_by_code.map((c) => [c.code, c.count]), [['ECONNREFUSED', 7], ['500', 6], ['UNAUTHORIZED', 1]]);
  assert.equal(s.trends.map((t) => t.at.slice(0, 10)), ['2027-03-09', '2027-03-10', '2027-03-11', '2027-03-12', '2027-03-13', '2027-03-14', '2027-03-15']);
  assert.equal(nonZero(s), {
    1: { outbound: counts(0, 0), inbound: counts(0, 0), device: counts(100, 0) },
    5: { outbound: counts(5, 2), inbound: counts(0, 0), device: counts(0, 0) },
    6: { outbound: counts(10, 11), inbound: counts(0, 1), device: counts(0, 0) },
  });
  assert.equal(s.failures.rows.map((r) => [r.description, r.count]), [['Connection refused', 7], ['HTTP 500 Internal Server Error', 6], ['API token missing or wrong', 1]]);
});

test('30d (the default period): every type, an empty previous period gives null, a drop gives -100', async () => {
  const s = await dashboard(`until=${UNTIL}`);
  assert.equal([s.period, s.from, s.previous.from], ['30d', '2027-02-14T00:00:00.000Z', '2027-01-15T00:00:00.000Z']);
  assert.equal(s.types.outbound, { ...counts(24, 13), previous: counts(0, 0), change: { successes: null, failures: null } });
  assert.equal(s.types.inbound, { ...counts(0, 1), previous: counts(8, 0), change: { successes: -100, failures: null } });
  assert.equal(s.types.device, { ...counts(150, 3), previous: counts(0, 0), change: { successes: null, failures: null } });
  assert.equal(s.failures_by_code.map((c) => [c.code, c.count]), [['ECONNREFUSED', 7], ['500', 6], ['EVENT_TOO_LARGE', 3], ['UNAUTHORIZED', 1]]);
  assert.is(s.trends.length, 30);
  assert.equal(Object.keys(nonZero(s)).map(Number), [17, 19, 24, 28, 29]);
  assert.equal(s.trends[17], { at: '2027-03-03T00:00:00.000Z', outbound: counts(9, 0), inbound: counts(0, 0), device: counts(0, 0) });
  assert.equal(s.trends[19], { at: '2027-03-05T00:00:00.000Z', outbound: counts(0, 0), inbound: counts(0, 0), device: counts(50, 3) });
  // The trends add up to the totals.
  for (const type of ['outbound', 'inbound', 'device'] as const) {
    assert.is(s.trends.reduce((n, t) => n + t[type].successes, 0), s.types[type].successes, type);
    assert.is(s.trends.reduce((n, t) => n + t[type].failures, 0), s.types[type].failures, type);
  }
  const large = s.failures.rows.find((r) => r.code === 'EVENT_TOO_LARGE')!;
  assert.equal([large.type, large.integration_id, large.count, large.first_seen, large.last_seen], ['device', null, 3, '2027-03-05T00:10:00.000Z', '2027-03-05T00:40:00.000Z']);
});

test('live: device events, refusals, webhook attempts and API publishes are counted under their types and codes', async () => {
  const fail = (await b.call('POST', '/v1/integrations', { event: 'pump', url: `${target.url}/fail`, requestType: 'POST', retryPolicy: [3600] })).body.id;
  const before = await dashboard('period=1d');
  const dev = await b.addDevice();
  device = await deviceClient(b.mqttUrl, dev);
  await device.client.publishAsync('temp', '21', { qos: 1 });
  await device.client.publishAsync('temp', '22', { qos: 1 });
  await device.client.publishAsync('pump', 'on', { qos: 1 });
  await device.client.publishAsync('hook-sent/forged', 'x', { qos: 0 }); // refused: reserved
  assert.is((await b.call('POST', '/v1/devices/events', { name: 'from-erp', data: 'go' })).status, 200);
  assert.is((await b.call('POST', '/v1/devices/events', { data: 'no name' })).status, 400);
  assert.is((await b.call('POST', '/v1/devices/events', { name: 'x' }, 'hwt_wrong')).status, 401);
  await until(() => target.requests.length >= 3, 5000, 'three webhook requests');
  await b.webhooks.idle();
  await until(async () => (await dashboard('period=1d')).types.device.failures > before.types.device.failures, 3000, 'the refusal');

  const s = await dashboard('period=1d');
  const delta = (type: 'outbound' | 'inbound' | 'device') =>
    [s.types[type].successes - before.types[type].successes, s.types[type].failures - before.types[type].failures];
  assert.equal(delta('device'), [3, 1]);
  assert.equal(delta('outbound'), [2, 1]);
  assert.equal(delta('inbound'), [1, 2]);
  const code = (c: string) => s.failures_by_code.find((x) => x.code === c)?.count ?? 0;
  assert.equal([code('500'), code('EVENT_NAME_RESERVED'), code('BAD_REQUEST'), code('UNAUTHORIZED')], [1, 1, 1, 1]);
  const pumpRow = s.failures.rows.find((r) => r.integration_id === fail)!;
  assert.equal([pumpRow.event, pumpRow.type, pumpRow.description, pumpRow.count], ['pump', 'outbound', 'HTTP 500 Internal Server Error', 1]);
  assert.ok(Date.parse(pumpRow.first_seen) <= Date.parse(pumpRow.last_seen));
  const current = s.trends.at(-1)!;
  assert.ok(current.outbound.successes >= 2 && current.device.failures >= 1, 'the current hour holds them');

  // Restarted counts come from the store: what was flushed is what a new reader sees.
  const rows = await b.store.stats.range(Date.parse(s.from), Date.parse(s.until));
  assert.is(rows.filter((r) => r.type === 'outbound' && r.code === '').reduce((n, r) => n + r.count, 0), s.types.outbound.successes);
});

test('bad input: 400 naming the field, 401 without a token; a read token may look', async () => {
  for (const [query, field] of [['period=2d', 'period'], ['period=30', 'period'], ['until=yesterday', 'until']] as const) {
    const res = await b.call('GET', `/v1/dashboard?${query}`);
    assert.equal([res.status, res.body.code, res.body.field, res.body.ok], [400, 'BAD_REQUEST', field, false], query);
  }
  const none = await b.call('GET', '/v1/dashboard', undefined, null);
  assert.equal([none.status, none.body.error], [401, 'invalid_token']);
  const read = (await b.call('POST', '/v1/access_tokens', { name: 'wallboard', scope: 'read' })).body.token;
  assert.is((await b.call('GET', '/v1/dashboard?period=7d', undefined, read)).status, 200);
});

test('hookwire dashboard: the summary for a terminal, and --json', async () => {
  const env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
  const text = await hookwire(['dashboard', '--period', '7d', '--until', UNTIL], env);
  assert.is(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  assert.ok(lines[0]!.startsWith('Hookwire dashboard, 7d: 2027-03-09T00:00:00.000Z'), lines[0]);
  assert.match(text.stdout, /Outbound webhooks\s+15\s+\+66\.7%\s+13\s+new/);
  assert.match(text.stdout, /Inbound \(API publishes\)\s+0\s+-\s+1\s+new/);
  assert.match(text.stdout, /Device events\s+100\s+\+100%\s+0\s+-100%/);
  assert.match(text.stdout, /ECONNREFUSED\s+7\s+Connection refused: /);
  assert.match(text.stdout, new RegExp(`${i1}\\s+temp\\s+outbound\\s+HTTP 500 Internal Server Error\\s+6\\s+2027-03-14T12:01:00.000Z`));
  const json = await hookwire(['dashboard', '--period', '1d', '--until', UNTIL, '--json'], env);
  assert.is(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as Summary).types.outbound.successes, 10);
  const bad = await hookwire(['dashboard', '--period', 'week'], env);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /period must be one of 1d, 7d, 30d/);
});

test.run();
