// The event stream (Server-Sent Events, Particle's wire format, PARTICLE.md §6) read byte for
// byte by a plain HTTP client, and publishing from the cloud (POST /v1/devices/events).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { hashSecret } from '../../../bridge/ids.ts';
import type { HookwireEvent, Inbound } from '../../../bridge/events/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

/** Short enough that a test sees several; the stall test needs a small per-stream cap. */
const KEEPALIVE_MS = 100;
const CAP = 64 * 1024;

let b: TestBridge;
let rx: Receiver;
let readToken: string;
const open: { close(): void }[] = [];
/** Every event the bus carried, to rebuild the exact frames a stream must show. */
const seen: HookwireEvent[] = [];
const inbound: Inbound[] = [];

test.before(async () => {
  b = await testBridge({ sseKeepAliveMs: KEEPALIVE_MS, sseMaxBufferedBytes: CAP });
  rx = await receiver();
  b.bus.on('event', (e) => seen.push(e));
  b.bus.on('inbound', (i) => inbound.push(i));
  readToken = `hwt_read_${randomUUID()}`;
  await b.store.tokens.create({ id: randomUUID(), name: 'dashboard', scope: 'read', tokenHash: hashSecret(readToken) });
});

test.after(async () => {
  for (const o of open) o.close();
  await b?.stop();
  await rx?.close();
});

interface Frame {
  name: string;
  data: { data: string; ttl: number; published_at: string; coreid: string };
}

interface SseReader {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far, as text. */
  text(): string;
  /** The event frames received so far (comments skipped). */
  frames(): Frame[];
  names(): string[];
  /** Resolves once `check` holds, looking again at every chunk received. */
  until(check: () => boolean, what: string, ms?: number): Promise<void>;
  close(): void;
}

/** GET a stream with node:http, keep every byte, and split frames as they arrive. */
function sse(path: string, token: string | null = b.token): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req: ClientRequest = request(b.url + path, { headers }, (res) => {
      const chunks: string[] = [];
      const frames: Frame[] = [];
      const waiters = new Set<() => void>();
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        chunks.push(chunk);
        const blocks = (pending + chunk).split('\n\n');
        pending = blocks.pop()!;
        for (const block of blocks) {
          if (block.startsWith(':')) continue;
          const m = /^event: (.*)\ndata: (.*)$/.exec(block);
          if (!m) throw new Error(`not a Particle frame: ${JSON.stringify(block)}`);
          frames.push({ name: m[1]!, data: JSON.parse(m[2]!) } as Frame);
        }
        for (const w of [...waiters]) w();
      });
      res.on('error', () => {});
      const reader: SseReader = {
        status: res.statusCode!,
        headers: res.headers,
        text: () => chunks.join(''),
        frames: () => frames,
        names: () => frames.map((f) => f.name),
        until(check, what, ms = 5000) {
          if (check()) return Promise.resolve();
          return new Promise<void>((done, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(look);
              fail(new Error(`timed out waiting for ${what}`));
            }, ms);
            const look = () => {
              if (!check()) return;
              clearTimeout(timer);
              waiters.delete(look);
              done();
            };
            waiters.add(look);
          });
        },
        close: () => req.destroy(),
      };
      open.push(reader);
      resolve(reader);
    });
    req.on('error', (err) => {
      if (!req.destroyed || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

/** The text without keep-alive comments. */
const withoutKeepAlives = (text: string) => text.replaceAll(':keepalive\n\n', '');

/** The exact frame Particle sends for an event. */
const frameText = (e: HookwireEvent) =>
  `event: ${e.name}\ndata: {"data":${JSON.stringify(e.data)},"ttl":60,"published_at":"${e.published_at}","coreid":"${e.coreid}"}\n\n`;

async function device(name?: string): Promise<{ id: string; token: string; mqtt: TestClient }> {
  const creds = await b.addDevice(name ? { name } : {});
  const mqtt = await deviceClient(b.mqttUrl, creds);
  open.push({ close: () => void mqtt.end() });
  return { ...creds, mqtt };
}

async function publishSeq(d: { mqtt: TestClient }, name: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await d.mqtt.client.publishAsync(name, String(i), { qos: 1 });
}

test('a stream opens with :ok, then device events in Particle\'s exact framing, in order per device', async () => {
  const reader = await sse('/v1/devices/events/seq');
  assert.is(reader.status, 200);
  assert.is(reader.headers['content-type'], 'text/event-stream');
  assert.is(reader.headers['cache-control'], 'no-store');
  await until(() => reader.text().length > 0, 3000, ':ok');
  assert.ok(reader.text().startsWith(':ok\n\n'), JSON.stringify(reader.text()));

  const [a, c] = await Promise.all([device(), device()]);
  await Promise.all([publishSeq(a, 'seq/a', 20), publishSeq(c, 'seq/c', 20)]);
  await until(() => reader.frames().length === 40, 5000, '40 events');

  for (const [d, name] of [[a, 'seq/a'], [c, 'seq/c']] as const) {
    const mine = reader.frames().filter((f) => f.name === name);
    assert.equal(mine.map((f) => f.data.data), Array.from({ length: 20 }, (_, i) => String(i)), `${name} in order`);
    assert.ok(mine.every((f) => f.data.coreid === d.id && f.data.ttl === 60));
  }
  // Byte for byte: `:ok`, then each event exactly as Particle frames it, keep-alives aside.
  const expected = ':ok\n\n' + seen.filter((e) => e.name.startsWith('seq')).map(frameText).join('');
  assert.is(withoutKeepAlives(reader.text()), expected);
});

test('a prefix is Particle\'s string prefix on the name, slashes included', async () => {
  const temp = await sse('/v1/events/temp');
  const base = await sse('/v1/events/temp/base');
  const d = await device();
  for (const name of ['temperature', 'temp/basement', 'tem', 'high_temp', 'TEMP', 'temp/base-end']) {
    await d.mqtt.client.publishAsync(name, 'x', { qos: 1 });
  }
  await until(() => temp.names().includes('temp/base-end') && base.names().includes('temp/base-end'), 3000, 'the last event');
  assert.equal(temp.names(), ['temperature', 'temp/basement', 'temp/base-end']);
  assert.equal(base.names(), ['temp/basement', 'temp/base-end']);
});

test('a device stream shows only that device\'s events (by ID or name); an unknown device is 404', async () => {
  const a = await device('stream-dev-a');
  const other = await device();
  const byId = await sse(`/v1/devices/${a.id}/events`);
  const byName = await sse('/v1/devices/stream-dev-a/events/only');
  await other.mqtt.client.publishAsync('only/other', '1', { qos: 1 });
  await a.mqtt.client.publishAsync('only/mine', '2', { qos: 1 });
  await other.mqtt.client.publishAsync('only/other', '3', { qos: 1 });
  await a.mqtt.client.publishAsync('only/end', '4', { qos: 1 });
  await until(() => byId.names().includes('only/end') && byName.names().includes('only/end'), 3000, 'the last event');
  assert.equal(byId.names(), ['only/mine', 'only/end']);
  assert.equal(byName.names(), ['only/mine', 'only/end']);
  assert.ok(byId.frames().every((f) => f.data.coreid === a.id));

  const missing = await b.call('GET', '/v1/devices/000000000000000000000000/events');
  assert.equal([missing.status, missing.body.ok, missing.body.code], [404, false, 'DEVICE_NOT_FOUND']);
  const badProduct = await b.call('GET', '/v1/products/not-a-product/events');
  assert.equal([badProduct.status, badProduct.body.code], [404, 'PRODUCT_NOT_FOUND']);
});

test('cloud events appear: hook-sent and the hook-response of a real integration', async () => {
  rx.on('/cloudy', (_req, res) => res.end('pong'));
  await b.call('POST', '/v1/integrations', { event: 'cloudy', url: `${rx.url}/cloudy` });
  const all = await sse('/v1/events');
  const d = await device();
  await d.mqtt.client.publishAsync('cloudy', 'x', { qos: 1 });
  const response = `${d.id}/hook-response/cloudy/0`;
  await until(() => all.names().includes('hook-sent/cloudy') && all.names().includes(response), 5000, 'hook-sent and hook-response');
  const names = all.names().filter((n) => n.includes('cloudy'));
  assert.ok(names.indexOf('cloudy') < names.indexOf('hook-sent/cloudy'), names.join());
  const sent = seen.find((e) => e.name === 'hook-sent/cloudy')!;
  assert.ok(all.text().includes(frameText(sent)));
  assert.is(sent.coreid, 'hookwire');
  const part = all.frames().find((f) => f.name === response)!;
  assert.equal([part.data.data, part.data.coreid], ['pong', 'hookwire']);
});

test('keep-alive comments arrive while nothing is published', async () => {
  const quiet = await sse('/v1/events/nothing-is-called-this');
  await until(() => quiet.text().split(':keepalive\n\n').length > 3, 5000, 'three keep-alives');
  assert.match(quiet.text(), /^:ok\n\n(:keepalive\n\n)+$/);
});

test('a reader that stops reading is cut off; another reader keeps receiving everything', async () => {
  const healthy = await sse('/v1/events/stall');
  // A raw socket that asks for the stream, reads its first bytes, then never reads again.
  const stalled: Socket = connect(b.httpPort, '127.0.0.1');
  open.push({ close: () => stalled.destroy() });
  stalled.on('error', () => {});
  let head = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString();
      if (!head.includes(':ok\n\n')) return;
      stalled.off('data', onData);
      stalled.pause();
      resolve();
    };
    stalled.on('data', onData);
    stalled.write(`GET /v1/events/stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${b.token}\r\n\r\n`);
  });
  assert.match(head, /^HTTP\/1\.1 200/);

  const dropped = () => b.logs.find((l) => l.code === 'SSE_SLOW_READER');
  // 16 KiB of data (about 22 KiB framed): two at a time stay under the cap for a reader
  // that keeps up.
  const big = Buffer.alloc(16 * 1024, 'y');
  let sent = 0;
  const publishPair = async () => {
    for (let i = 0; i < 2; i++) b.ingest.cloud(`stall/${sent++}`, big, 0);
    // Paced by the healthy reader: it never falls behind, so only the stalled one can.
    await healthy.until(() => healthy.frames().length === sent, `the healthy reader at ${sent}`);
  };
  // Loopback buffers hold a few MB before the bridge's own buffer starts to grow.
  while (!dropped()) {
    if (sent > 4000) assert.unreachable('the stalled reader was never cut off');
    await publishPair();
  }
  await publishPair();

  const line = dropped()!;
  assert.is(line.level, 40);
  assert.ok((line.bufferedBytes as number) > CAP && (line.bufferedBytes as number) <= CAP + 32 * 1024, `bounded: ${line.bufferedBytes}`);
  assert.equal(healthy.names(), Array.from({ length: sent }, (_, i) => `stall/${i}`));
});

test('401 without a token or with a wrong one; a read token or ?access_token= may stream', async () => {
  for (const token of [null, 'hwt_wrong']) {
    const res = await b.call('GET', '/v1/events', undefined, token);
    assert.is(res.status, 401);
    assert.is(res.body.error, 'invalid_token');
  }
  const ro = await sse('/v1/devices/events', readToken);
  assert.is(ro.status, 200);
  const query = await sse(`/v1/events?access_token=${b.token}`, null);
  assert.is(query.status, 200);
  await until(() => query.text().startsWith(':ok\n\n'), 3000, ':ok');
});

test('POST /v1/devices/events reaches subscribed devices, integrations and streams, as coreid "api"', async () => {
  const d = await device();
  await d.mqtt.client.subscribeAsync('relay/#', { qos: 1 });
  await b.call('POST', '/v1/integrations', { event: 'relay', url: `${rx.url}/relay` });
  const stream = await sse('/v1/events/relay');
  const before = inbound.length;

  const res = await b.call('POST', '/v1/devices/events', { name: 'relay/on', data: 'now', private: true, ttl: 60 });
  assert.equal([res.status, res.body], [200, { ok: true }]);
  await until(() => d.mqtt.topics().includes('relay/on'), 3000, 'the device');
  assert.is(d.mqtt.received.find((m) => m.topic === 'relay/on')!.payload.toString(), 'now');
  const hook = await rx.next('/relay');
  const form = new URLSearchParams(hook.body.toString());
  assert.equal([form.get('event'), form.get('data'), form.get('coreid')], ['relay/on', 'now', 'api']);
  await until(() => stream.names().includes('relay/on'), 3000, 'the stream');
  assert.equal(stream.frames()[0]!.data.coreid, 'api');
  assert.equal(inbound.slice(before).map((i) => [i.ok, i.name, i.code]), [[true, 'relay/on', undefined]]);

  // A form body (Particle's CLI and curl -d), access_token in it; data that is JSON.
  const formRes = await fetch(`${b.url}/v1/devices/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name: 'relay/form', data: 'a b', private: 'true', access_token: b.token }).toString(),
  });
  assert.equal([formRes.status, await formRes.json()], [200, { ok: true }]);
  assert.is((await b.call('POST', '/v1/devices/events', { name: 'relay/json', data: { a: 1 } })).status, 200);
  await until(() => d.mqtt.topics().includes('relay/json'), 3000, 'the JSON event');
  const payloads = Object.fromEntries(d.mqtt.received.map((m) => [m.topic, m.payload.toString()]));
  assert.equal([payloads['relay/form'], payloads['relay/json']], ['a b', '{"a":1}']);

  // The cloud may address one device in its private space; another device never sees it.
  await d.mqtt.client.subscribeAsync(`${d.id}/#`, { qos: 1 });
  const other = await device();
  await other.mqtt.client.subscribeAsync('#', { qos: 1 });
  await b.call('POST', '/v1/devices/events', { name: `${d.id}/relay`, data: 'only you' });
  await b.call('POST', '/v1/devices/events', { name: 'relay/sentinel' });
  await until(() => d.mqtt.topics().includes(`${d.id}/relay`) && other.mqtt.topics().includes('relay/sentinel'), 3000, 'the private event');
  assert.not.ok(other.mqtt.topics().some((t) => t.startsWith(d.id)), other.mqtt.topics().join());
});

test('bad input changes nothing: Particle-shaped 400s, 413, 403 for a read token, 401; each counted as inbound', async () => {
  const d = await device();
  await d.mqtt.client.subscribeAsync('bad/#', { qos: 1 });
  await b.call('POST', '/v1/integrations', { event: 'bad', url: `${rx.url}/bad` });
  const stream = await sse('/v1/events/bad');
  const before = inbound.length;
  const cases: [unknown, number, string, string?][] = [
    [{ name: 'bad name!' }, 400, 'EVENT_NAME_INVALID', 'name'],
    [{ name: 'b'.repeat(65) }, 400, 'EVENT_NAME_INVALID', 'name'],
    [{}, 400, 'BAD_REQUEST', 'name'],
    [{ name: 42 }, 400, 'BAD_REQUEST', 'name'],
    [{ name: 'hook-response/bad/0' }, 400, 'EVENT_NAME_RESERVED', 'name'],
    [{ name: 'particle/bad' }, 400, 'EVENT_NAME_RESERVED', 'name'],
    [{ name: 'bad/big', data: 'x'.repeat(1025) }, 400, 'EVENT_TOO_LARGE', 'data'],
    [{ name: 'bad/private', private: 'maybe' }, 400, 'BAD_REQUEST', 'private'],
    [{ name: 'bad/ttl', ttl: -1 }, 400, 'BAD_REQUEST', 'ttl'],
    ['{"name": "bad/malformed",', 400, 'BAD_REQUEST'],
    [JSON.stringify({ name: 'bad/huge', data: 'x'.repeat(b.config.maxBodyBytes) }), 413, 'BODY_TOO_LARGE'],
  ];
  for (const [body, status, code, field] of cases) {
    const res = await b.call('POST', '/v1/devices/events', body);
    const label = typeof body === 'string' ? body.slice(0, 40) : JSON.stringify(body).slice(0, 60);
    assert.equal([res.status, res.body.ok, res.body.code, typeof res.body.error], [status, false, code, 'string'], label);
    if (field) assert.is(res.body.field, field, label);
  }
  const readOnly = await b.call('POST', '/v1/devices/events', { name: 'bad/readonly' }, readToken);
  assert.equal([readOnly.status, readOnly.body.ok, readOnly.body.code], [403, false, 'FORBIDDEN']);
  const anonymous = await b.call('POST', '/v1/devices/events', { name: 'bad/anonymous' }, null);
  assert.equal([anonymous.status, anonymous.body.error], [401, 'invalid_token']);

  // Then one good publish: it is the only thing devices, integrations and streams ever see.
  assert.is((await b.call('POST', '/v1/devices/events', { name: 'bad/after', data: 'ok' })).status, 200);
  await until(() => d.mqtt.topics().includes('bad/after') && stream.names().includes('bad/after'), 3000, 'the good event');
  await rx.next('/bad');
  await b.webhooks.idle();
  assert.equal(d.mqtt.topics().filter((t) => t.startsWith('bad')), ['bad/after']);
  assert.equal(stream.names(), ['bad/after']);
  assert.equal(rx.requests.filter((r) => r.url === '/bad').length, 1);

  const counted = inbound.slice(before);
  assert.equal(counted.map((i) => [i.ok, i.code]), [
    ...cases.map(([, , code]) => [false, code]),
    [false, 'FORBIDDEN'], [false, 'UNAUTHORIZED'], [true, undefined],
  ]);
  assert.equal([counted[0]!.name, typeof counted[0]!.message], ['bad name!', 'string']);
  assert.is(counted.at(-1)!.name, 'bad/after');
});

test('product scope: POST /v1/products/:id/events publishes as the product; product streams and hooks filter on it', async () => {
  const seven = await b.call('POST', '/v1/products/7/integrations', { event: 'prod', url: `${rx.url}/p7` });
  const eight = await b.call('POST', '/v1/products/8/integrations', { event: 'prod', url: `${rx.url}/p8` });
  assert.equal([seven.status, eight.status], [201, 201]);
  const s7 = await sse('/v1/products/7/events/prod');
  const s8 = await sse('/v1/products/8/events');
  assert.equal((await b.call('POST', '/v1/products/7/events', { name: 'prod/seven', data: '7' })).body, { ok: true });
  assert.equal((await b.call('POST', '/v1/products/8/events', { name: 'prod/eight', data: '8' })).body, { ok: true });
  await until(() => s7.names().length === 1 && s8.names().length === 1, 3000, 'both streams');
  await b.webhooks.idle();
  assert.equal([s7.names(), s8.names()], [['prod/seven'], ['prod/eight']]);
  const at = (path: string) => rx.requests.filter((r) => r.url === path).map((r) => new URLSearchParams(r.body.toString()).get('event'));
  assert.equal([at('/p7'), at('/p8')], [['prod/seven'], ['prod/eight']]);
  const slug = await b.call('POST', '/v1/products/my-product/events', { name: 'prod/slug' });
  assert.equal([slug.status, slug.body.code], [404, 'PRODUCT_NOT_FOUND']);
});

test.run();
