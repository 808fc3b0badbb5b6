// Delivery that survives failure, with time compressed through configuration (timeScale):
// an outage under the durable policy, an exhausted schedule (state event and email), the
// per-host throttle, Retry-After and Particle's retry rules.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { sleep } from '../../helpers/mqtt.ts';

interface Setup {
  b: TestBridge;
  device: Device;
  heard: { name: string; data: unknown }[];
  events: HookwireEvent[];
  stop(): Promise<void>;
}

async function setup(overrides: Record<string, unknown>): Promise<Setup> {
  const b = await testBridge(overrides);
  const creds = await b.addDevice();
  const device = await connectDevice({ url: b.mqttUrl, deviceId: creds.id, token: creds.token });
  const heard: Setup['heard'] = [];
  await device.subscribe(`${creds.id}/hook-`, (name, data) => heard.push({ name, data }));
  const events: HookwireEvent[] = [];
  b.bus.on('event', (e) => events.push(e));
  return { b, device, heard, events, async stop() { await device.disconnect(); await b.stop(); } };
}

const detail = async (b: TestBridge, id: string) => (await b.call('GET', `/v1/integrations/${id}`)).body.integration;
const stateChanges = (events: HookwireEvent[], id: string) =>
  events.filter((e) => e.name === `hookwire/integrations/${id}/state`).map((e) => JSON.parse(e.data) as { previous: string; state: string; reason: string });

test('outage under the durable policy: full delivery after recovery; Active → Failing → Active; counters and history', async () => {
  // 60 s retries become 60 ms; the throttle is kept out of the way (it has its own test).
  const s = await setup({ timeScale: 0.001, throttleMinErrors: 1_000_000 });
  let rx: Receiver | undefined = await receiver();
  const port = rx.port;
  const { body } = await s.b.call('POST', '/v1/integrations', { event: 'meter', url: `${rx.url}/in`, retryPolicy: 'durable', json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
  await s.device.publish('meter', 'before', { qos: 1 });
  await until(async () => (await detail(s.b, body.id)).state === 'Active');

  await rx.close(); // the receiver goes down
  for (let i = 0; i < 5; i++) await s.device.publish('meter', `during-${i}`, { qos: 1 });
  await until(async () => (await detail(s.b, body.id)).counters.total_errors >= 10, 5000, 'retries failing');
  assert.is((await detail(s.b, body.id)).state, 'Failing');

  rx = await receiver(port); // and comes back
  await until(() => new Set(rx!.requests.map((r) => JSON.parse(r.body.toString()).v)).size === 5, 10_000, 'the 5 events delivered');
  await until(async () => (await detail(s.b, body.id)).state === 'Active');
  await s.b.webhooks.idle();

  const i = await detail(s.b, body.id);
  assert.equal(stateChanges(s.events, body.id).map((c) => `${c.previous}→${c.state}`), ['Unknown→Active', 'Active→Failing', 'Failing→Active']);
  assert.is(i.counters.total_calls, 6 + i.counters.total_errors, 'every call either succeeded (6) or failed');
  assert.is(i.counters.consecutive_errors, 0);
  assert.is(i.counters.last_error.code, 'ECONNREFUSED');
  assert.is(i.counters.total_dropped, 0);
  assert.ok(i.counters.last_success_at > i.counters.last_error.at);
  const history = (await s.b.call('GET', `/v1/integrations/${body.id}/history?days=1`)).body;
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(history.days.at(-1), { day: today, success: 6, error: i.counters.total_errors, skipped: 0 });
  assert.ok(i.logs.some((l: { ok: boolean }) => !l.ok) && i.logs.some((l: { ok: boolean }) => l.ok), 'errors and successes logged');
  await rx.close();
  await s.stop();
});

test('the schedule runs out: TooManyErrors, disabled, a state event, and one email per state', async () => {
  const mail: { to: string; subject: string; text: string }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => { raw += c; });
      stream.on('end', () => {
        // The body comes quoted-printable: undo soft line breaks and =XX escapes.
        const text = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        mail.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), subject: /^Subject: (.*)$/m.exec(raw)?.[1] ?? '', text });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const s = await setup({ timeScale: 0.001, throttleMinErrors: 1_000_000, smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}` });
  const rx = await receiver();
  rx.on('/down', (_req, res) => { res.statusCode = 500; res.end('down for good'); });
  const { body } = await s.b.call('POST', '/v1/integrations', { event: 'doomed', name: 'Doomed', url: `${rx.url}/down`, retryPolicy: [1, 1], errorsEmail: 'ops@example.com' });
  // Another integration posts state changes to a chat service: state events trigger integrations.
  await s.b.call('POST', '/v1/integrations', { event: 'hookwire/integrations/', url: `${rx.url}/chat`, noDefaults: true, body: '{{{state}}}: {{{reason}}}' });

  for (let i = 0; i < 5; i++) await s.device.publish('doomed', String(i), { qos: 1 }); // five events, one outage
  await until(async () => (await detail(s.b, body.id)).state === 'TooManyErrors', 5000, 'TooManyErrors');
  await s.b.webhooks.idle();
  await until(() => mail.length >= 2, 5000, 'two emails');
  await sleep(200);

  const i = await detail(s.b, body.id);
  assert.equal([i.state, i.disabled, i.disabled_by], ['TooManyErrors', true, 'hookwire']);
  assert.match(i.state_reason, /retry schedule exhausted/);
  assert.equal(stateChanges(s.events, body.id).map((c) => c.state), ['Failing', 'TooManyErrors']);
  const chat = rx.requests.filter((r) => r.url === '/chat').map((r) => r.body.toString());
  assert.ok(chat.some((m) => m.startsWith('TooManyErrors: retry schedule exhausted')), chat.join('\n'));
  assert.is(mail.length, 2, 'one email when it started failing, one when it stopped: not one per event');
  assert.match(mail[0]!.subject, /Doomed .* is Failing/);
  assert.match(mail[1]!.subject, /Doomed .* is TooManyErrors/);
  assert.ok(mail.every((m) => m.to === 'ops@example.com'));
  assert.ok(mail[1]!.text.includes(`hookwire integrations enable ${body.id}`), mail[1]!.text);
  // The first delivery exhausted its schedule; those still pending were dropped once it was
  // disabled (events published after that no longer trigger it at all).
  const failed = (await s.b.store.deliveries.counts()).failed;
  assert.ok(failed >= 1);
  assert.is(i.counters.total_dropped, failed);

  // Disabled: new events no longer trigger it; enabling puts it back in service.
  const before = rx.requests.length;
  await s.device.publish('doomed', 'after', { qos: 1 });
  await s.b.webhooks.idle();
  assert.is(rx.requests.length, before);
  const enabled = (await s.b.call('POST', `/v1/integrations/${body.id}/enable`)).body.integration;
  assert.equal([enabled.state, enabled.disabled], ['Unknown', false]);
  await rx.close();
  await s.stop();
  await new Promise<void>((r) => smtp.close(() => r()));
});

test('a host answering 500 goes to sleep; another host keeps its full rate; the first recovers after the cooldown', async () => {
  const s = await setup({ throttleCooldownMs: 400, throttleMinErrors: 3, timeScale: 0.01 });
  const bad = await receiver(0, '127.0.0.1');
  const good = await receiver(0, '127.0.0.2'); // another hostname: scored on its own
  let failing = true;
  bad.on('/', (_req, res) => { res.statusCode = failing ? 500 : 200; res.end(); });
  const badHook = (await s.b.call('POST', '/v1/integrations', { event: 'tick', url: `${bad.url}/`, noDefaults: true, body: '{{{PARTICLE_EVENT_VALUE}}}' })).body.id;
  const goodHook = (await s.b.call('POST', '/v1/integrations', { event: 'tick', url: `${good.url}/`, noDefaults: true, body: '{{{PARTICLE_EVENT_VALUE}}}' })).body.id;

  for (let i = 0; i < 50; i++) await s.device.publish('tick', String(i), { qos: 1 });
  await s.b.webhooks.idle();
  assert.is(good.requests.length, 50, 'the healthy host got every event, at once');
  assert.ok(bad.requests.length < 50, `the sleeping host was spared (${bad.requests.length} requests)`);
  const sleeping = await detail(s.b, badHook);
  assert.ok(sleeping.counters.total_skipped > 0);
  assert.is(sleeping.state, 'TooManyErrors');
  assert.match(sleeping.state_reason, /sleeping/);
  assert.ok(s.heard.some((h) => h.data === 'Sleeping, too many errors, please wait and try again'));
  assert.equal(s.b.webhooks.sleepingHosts().map((h) => h.host), ['127.0.0.1']);
  const today = (await s.b.call('GET', `/v1/integrations/${badHook}/history?days=1`)).body.days.at(-1);
  assert.is(today.skipped, sleeping.counters.total_skipped);

  failing = false; // the host is fixed; after its cooldown it is called again
  await until(async () => (await detail(s.b, badHook)).state === 'Active', 10_000, 'the host to recover');
  await until(() => new Set(bad.requests.filter((r) => r.body.length).map((r) => r.body.toString())).size === 50, 10_000, 'the skipped events retried');
  const healthy = await detail(s.b, goodHook);
  assert.equal([healthy.counters.total_calls, healthy.counters.total_errors, healthy.counters.total_skipped], [50, 0, 0]);
  await bad.close();
  await good.close();
  await s.stop();
});

test('Retry-After is honoured; under particle a 404 is not retried, a 503 is (30 s, 60 s, then dropped)', async () => {
  const s = await setup({ timeScale: 0.01, throttleMinErrors: 1_000_000 }); // 30 s → 0.3 s; Retry-After 100 s → 1 s
  const rx = await receiver();
  let limited = true;
  rx.on('/limited', (_req, res) => {
    if (limited) {
      limited = false;
      res.statusCode = 429;
      res.setHeader('retry-after', '100');
    }
    res.end();
  });
  rx.on('/missing', (_req, res) => { res.statusCode = 404; res.end(); });
  rx.on('/unavailable', (_req, res) => { res.statusCode = 503; res.end(); });
  for (const path of ['limited', 'missing', 'unavailable']) await s.b.call('POST', '/v1/integrations', { event: path, url: `${rx.url}/${path}` });
  for (const path of ['limited', 'missing', 'unavailable']) await s.device.publish(path, 'x', { qos: 1 });

  await until(() => rx.requests.filter((r) => r.url === '/limited').length === 2, 5000, 'the retry after Retry-After');
  const [first, second] = rx.requests.filter((r) => r.url === '/limited');
  assert.ok(second!.at - first!.at >= 1000, `waited ${Math.round(second!.at - first!.at)} ms: Retry-After (1 s here), not the schedule (0.3 s)`);
  await until(() => rx.requests.filter((r) => r.url === '/unavailable').length === 3, 5000, '503 retried twice');
  await sleep(1200); // well past where a third retry would be
  assert.is(rx.requests.filter((r) => r.url === '/unavailable').length, 3, 'then dropped');
  assert.is(rx.requests.filter((r) => r.url === '/missing').length, 1, 'a 404 is not retried');
  const ids = new Set(rx.requests.filter((r) => r.url === '/unavailable').map((r) => r.headers['webhook-id']));
  assert.is(ids.size, 1, 'every attempt of a delivery carries the same webhook-id');
  await rx.close();
  await s.stop();
});

test.run();
