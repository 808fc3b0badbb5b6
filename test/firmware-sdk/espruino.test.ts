// The SDK's board module (the built dist/espruino/hookwire.js) in the Espruino-like sandbox,
// against a real bridge, on both kinds of Espruino build (8-bit strings as ESP8266/ESP32,
// Unicode strings as the Linux build): connect, QoS 1 settled by the PUBACK, text and typed
// data both ways, refusals with their codes, a webhook's response reassembled from its parts,
// retransmission after a reconnect, a bridge restart, the offline queue, refused credentials,
// keep-alive, the CONNACK timeout, TLS, and data arriving one byte at a time.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createTcpServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder } from 'cbor-x';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import { startBridge, type Bridge } from '../../bridge/index.ts';
import type { HookwireEvent } from '../../bridge/events/index.ts';
import { createLogger } from '../../bridge/log.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { KINDS, board, deviceApp, type Board } from '../helpers/espruino.ts';
import { mqttClient, sleep, type TestClient } from '../helpers/mqtt.ts';
import { freePort } from '../helpers/net.ts';
import { mqttProxy, type MqttProxy } from '../helpers/proxy.ts';
import { receiver, type Receiver } from '../helpers/receiver.ts';

let b: TestBridge;
let proxy: MqttProxy;
let web: Receiver;
let watcher: TestClient;
const events: HookwireEvent[] = [];
const boards: Board[] = [];
const nodeDevices: Device[] = [];

async function newBoard(kind: (typeof KINDS)[number], connect: Record<string, unknown> = {}, options = {}): Promise<{ sb: Board; id: string; token: string }> {
  const creds = await b.addDevice();
  const sb = await board(kind, options);
  boards.push(sb);
  sb.run(deviceApp({ port: b.mqttPort, deviceId: creds.id, token: creds.token, ...connect }));
  return { sb, ...creds };
}

async function nodeDevice(): Promise<Device> {
  const creds = await b.addDevice();
  const d = await connectDevice({ url: b.mqttUrl, deviceId: creds.id, token: creds.token });
  nodeDevices.push(d);
  return d;
}

const eventOf = (name: string, coreid: string) => events.find((e) => e.name === name && e.coreid === coreid);

test.before(async () => {
  b = await testBridge();
  proxy = await mqttProxy(b.mqttPort);
  web = await receiver();
  b.bus.on('event', (e) => events.push(e));
  watcher = await mqttClient(b.mqttUrl, { clientId: 'espruino-watcher', username: 'watcher', password: b.token });
  await watcher.client.subscribeAsync('#');
});

test.after(async () => {
  for (const sb of boards) sb.close();
  await Promise.all(nodeDevices.map((d) => d.disconnect()));
  await watcher?.end();
  await web?.close();
  await proxy?.close();
  await b?.stop();
});

for (const kind of KINDS) {
  test(`${kind}: connects and a QoS 1 publish settles only on its PUBACK`, async () => {
    const { sb, id } = await newBoard(kind, { port: Number(new URL(proxy.url).port) });
    await sb.waitFor('has("connect")');
    proxy.holdAcks(true);
    sb.run('var acked = null; device.publish("acked", "1", { qos: 1 }, function (err) { acked = err ? err.code : "ok"; });');
    await until(() => Boolean(eventOf('acked', id)), 2000, 'the bridge to accept the event');
    await sleep(100);
    assert.is(sb.read('acked'), null, 'settled before the PUBACK');
    proxy.holdAcks(false);
    await sb.waitFor('acked');
    assert.is(sb.read('acked'), 'ok');
  });

  test(`${kind}: text both ways, multi-byte UTF-8 included, counted in bytes`, async () => {
    const { sb, id } = await newBoard(kind);
    const peer = await nodeDevice();
    await sb.waitFor('has("connect")');
    const text = 'héllo € 😀 ça';
    sb.run(`
      var got = [];
      device.subscribe("words/", function (name, data) { got.push([name, typeof data, data]); }, function () {
        device.publish("words/from-board", ${JSON.stringify(text)}, { qos: 1 });
      });`);
    await until(() => Boolean(eventOf('words/from-board', id)));
    const event = eventOf('words/from-board', id)!;
    assert.is(event.type, 'text');
    assert.is(event.data, text);
    await peer.publish('words/from-node', 'ça va €', { qos: 1 });
    await sb.waitFor('got.length >= 2');
    assert.equal(sb.read('got'), [['words/from-board', 'string', text], ['words/from-node', 'string', 'ça va €']]);
    // 512 × "é" is 1024 bytes: the limit. One more byte is refused before anything is sent.
    sb.run('var big; device.publish("big", Array(513).join("é"), { qos: 1 }); try { device.publish("big", Array(514).join("é")); } catch (e) { big = e.code; }');
    assert.is(sb.read('big'), 'EVENT_TOO_LARGE');
  });

  test(`${kind}: typed data is CBOR with the same bytes as on Node, and decodes on the board`, async () => {
    const { sb, id } = await newBoard(kind);
    const peer = await nodeDevice();
    await sb.waitFor('has("connect")');
    const value = { temp: 21.4, n: -3, big: 4294967296, small: -24, ok: true, none: null, s: 'é€', list: [1, [2, 'x']], nested: { a: 1.5 } };
    sb.run(`
      var typed = [];
      device.subscribe("${kind}-typed/", function (name, data) { typed.push(data); }, function () {
        device.publish("${kind}-typed/from-board", ${JSON.stringify(value)}, { qos: 1 });
        device.publish("${kind}-typed/bytes", { raw: new Uint8Array([0, 1, 255]) }, { qos: 1 });
      });`);
    await until(() => watcher.received.filter((r) => r.topic.startsWith(`${kind}-typed/`)).length >= 2);
    const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });
    const typedBytes = (v: unknown) => Buffer.concat([Buffer.from([0xd9, 0xd9, 0xf7]), encoder.encode(v)]);
    const sent = watcher.received.find((r) => r.topic === `${kind}-typed/from-board`)!.payload;
    assert.equal(sent.toString('hex'), typedBytes(value).toString('hex'), 'the same bytes cbor-x writes');
    assert.equal(watcher.received.find((r) => r.topic === `${kind}-typed/bytes`)!.payload.toString('hex'), typedBytes({ raw: new Uint8Array([0, 1, 255]) }).toString('hex'));
    assert.equal(JSON.parse(eventOf(`${kind}-typed/from-board`, id)!.data), value);
    await peer.publish(`${kind}-typed/from-node`, { temp: 19.25, where: 'cuisine é', list: [true, false, null], half: 0.5 }, { qos: 1 });
    await sb.waitFor('typed.length >= 3');
    assert.equal(sb.read('typed[2]'), { temp: 19.25, where: 'cuisine é', list: [true, false, null], half: 0.5 });
    assert.equal(sb.read('[].slice.call(typed[1].raw)'), [0, 1, 255], 'a byte string arrives as a Uint8Array');
  });

  test(`${kind}: refusals carry the bridge's codes; mistakes throw before anything is sent`, async () => {
    const { sb } = await newBoard(kind);
    const other = await b.addDevice();
    await sb.waitFor('has("connect")');
    sb.run(`
      var results = {};
      device.publish("bad-cbor", new Uint8Array([0xd9, 0xd9, 0xf7, 0xff, 0xff]), { qos: 1 }, function (err) { results.publish = err && [err.code, err.event]; });
      device.subscribe("${other.id}/", function () {}, function (err) { results.subscribe = err && err.code; });
      try { device.publish("spark/x", "1"); } catch (e) { results.reserved = e.code; }
      try { device.publish("${other.id}/x", "1"); } catch (e) { results.private = e.code; }
      try { device.publish("a+b", "1"); } catch (e) { results.invalid = e.code; }`);
    await sb.waitFor('results.publish && results.subscribe');
    assert.equal(sb.read('results'), {
      publish: ['EVENT_DATA_INVALID', 'bad-cbor'], subscribe: 'SUBSCRIBE_FORBIDDEN',
      reserved: 'EVENT_NAME_RESERVED', private: 'EVENT_PRIVATE_SPACE', invalid: 'EVENT_NAME_INVALID',
    });
    assert.ok(sb.read<string[][]>('log').some((l) => l[0] === 'refused' && l[1] === 'EVENT_DATA_INVALID'));
    sb.run('var after = null; device.publish("after-refusal", "ok", { qos: 1 }, function (err) { after = err ? err.code : "ok"; });');
    await sb.waitFor('after');
    assert.is(sb.read('after'), 'ok', 'the connection survives refusals');
  });

  test(`${kind}: subscribe is Particle's string prefix; unsubscribe stops it`, async () => {
    const { sb } = await newBoard(kind);
    const peer = await nodeDevice();
    await sb.waitFor('has("connect")');
    sb.run('var names = []; device.subscribe("temp", function (name) { names.push(name); }, function () { ready = true; }); var ready = false;');
    await sb.waitFor('ready');
    for (const name of ['temp', 'temperature', 'temperature/basement', 'high_temp', 'Temp']) await peer.publish(name, '1', { qos: 1 });
    await sb.waitFor('names.length >= 3');
    await sleep(50);
    assert.equal(sb.read('names'), ['temp', 'temperature', 'temperature/basement']);
    sb.run('device.unsubscribe("temp");');
    await sleep(50);
    await peer.publish('temp', '2', { qos: 1 });
    await sleep(100);
    assert.is(sb.read('names.length'), 3);
  });

  test(`${kind}: a webhook's response, 512/512/276 bytes with multi-byte UTF-8 at the edges, reassembled byte-exact${kind === 'bytes' ? ', data arriving byte by byte' : ''}`, async () => {
    // Parts end exactly on character boundaries: a 2-byte "é" ends each 512-byte part and a
    // 3-byte "€" starts the next. Then a "é" straddling byte 512 (the bridge ends that part a
    // byte early), and a binary body, cut at exactly 512.
    const edges = 'a'.repeat(510) + 'é' + '€' + 'b'.repeat(507) + 'é' + '€' + 'c'.repeat(273);
    const straddle = 'a'.repeat(511) + 'é' + 'z'.repeat(786);
    const binary = Buffer.from(Array.from({ length: 1300 }, (_, i) => (i * 7 + 0x80) & 255));
    assert.is(Buffer.byteLength(edges), 1300);
    const bodies: Record<string, Buffer> = { edges: Buffer.from(edges), straddle: Buffer.from(straddle), binary };
    web.on('/forecast/', (req, res) => res.end(bodies[req.url.split('/')[2]!.split('?')[0]!]));
    const hook = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', event: `forecast-${kind}`, url: `${web.url}/forecast/{{{PARTICLE_EVENT_VALUE}}}`, requestType: 'GET', noDefaults: true });
    assert.is(hook.status, 201);

    const { sb, id } = await newBoard(kind, {}, kind === 'bytes' ? { maxChunk: 1 } : {});
    await sb.waitFor('has("connect")');
    // The app keeps parts by index and joins them once none has come for 300 ms (Particle
    // sends no count; a part may be short of 512 bytes when the bridge keeps a character whole).
    sb.run(`
      var bodies = {}, parts = {}, quiet;
      function text(part) { return typeof part == "string" ? part : E.toString(part); }
      device.subscribe(device.deviceID() + "/hook-response/forecast-${kind}/", function (name, data) {
        parts[name.split("/").pop()] = data;
        if (quiet) clearTimeout(quiet);
        quiet = setTimeout(function () {
          var body = "", kindOf = "";
          for (var i = 0; parts[i] !== undefined; i++) { body += text(parts[i]); kindOf += typeof parts[i] == "string" ? "t" : "b"; }
          bodies[current] = { kinds: kindOf, body: body };
          parts = {}; quiet = undefined;
          next();
        }, 300);
      });
      var order = ["edges", "straddle", "binary"], current;
      function next() { current = order.shift(); if (current) device.publish("forecast-${kind}", current, { qos: 1 }); }
      setTimeout(next, 100);`);
    await sb.waitFor('bodies.binary', 8000);
    const partSizes = () => watcher.received.filter((r) => r.topic.startsWith(`${id}/hook-response/forecast-${kind}/`)).map((r) => r.payload.length);
    assert.equal(partSizes().slice(0, 3), [512, 512, 276], 'the bridge cut the first body into 512/512/276');
    const got = sb.read<Record<string, { kinds: string; body: string }>>('bodies');
    assert.is(got.edges!.kinds, 'ttt');
    assert.is(got.edges!.body, edges, 'edges reassembled byte-exact');
    assert.is(got.straddle!.body, straddle, 'a straddling character reassembled');
    // The binary body's parts are bytes; joined, they are its bytes exactly.
    assert.is(got.binary!.kinds, 'bbb');
    const binaryBytes = sb.evaluate<string>('bodies.binary.body');
    assert.ok(Buffer.from(binaryBytes, 'latin1').equals(binary), 'binary reassembled byte-exact');
  });

  test(`${kind}: a QoS 1 publish unacknowledged when the link drops is sent again with DUP, and settles once`, async () => {
    const { sb, id } = await newBoard(kind, { port: Number(new URL(proxy.url).port) });
    await sb.waitFor('has("connect")');
    proxy.holdAcks(true);
    const before = proxy.publishes.length;
    sb.run('var settled = []; device.publish("resent", "1", { qos: 1 }, function (err) { settled.push(err ? err.code : "ok"); });');
    await until(() => Boolean(eventOf('resent', id)), 2000, 'the first copy');
    proxy.cut();
    proxy.holdAcks(false);
    await sb.waitFor('settled.length', 3000);
    await sleep(100);
    assert.equal(sb.read('settled'), ['ok']);
    const copies = proxy.publishes.slice(before).filter((p) => p.cmd === 'publish' && p.topic === 'resent');
    assert.is(copies.length, 2);
    assert.equal(copies.map((p) => p.cmd === 'publish' && [p.dup, p.messageId === (copies[0] as { messageId?: number }).messageId]), [[false, true], [true, true]]);
    assert.ok(sb.read<string[][]>('log').filter((l) => l[0] === 'connect').length >= 2, 'reconnected');
  });

  test(`${kind}: past the offline queue's limit a publish fails with QUEUE_FULL`, async () => {
    const port = await freePort();
    const creds = await b.addDevice();
    const sb = await board(kind);
    boards.push(sb);
    sb.run(deviceApp({ port, deviceId: creds.id, token: creds.token, queueLimit: 2 }));
    sb.run('var results = []; ["q/1", "q/2", "q/3"].forEach(function (n) { device.publish(n, "x", { qos: 1 }, function (err) { results.push([n, err && err.code]); }); });');
    await sb.waitFor('results.length');
    assert.equal(sb.read('results'), [['q/3', 'QUEUE_FULL']]);
    assert.is(sb.read('device.queued()'), 2);
  });

  test(`${kind}: a wrong token ends in CONNECT_REFUSED with no retry loop`, async () => {
    const creds = await b.addDevice();
    const sb = await board(kind);
    boards.push(sb);
    sb.run(deviceApp({ port: b.mqttPort, deviceId: creds.id, token: 'hwd_wrong', reconnectMinMs: 10 }));
    await sb.waitFor('has("error,CONNECT_REFUSED")');
    const attempts = () => b.logs.filter((l) => l.code === 'AUTH_FAILED' && l.deviceId === creds.id).length;
    const seen = attempts();
    await sleep(300);
    assert.is(attempts(), seen, 'no retry loop');
    assert.is(seen, 1);
  });

  test(`${kind}: a link that goes silent is noticed by the keep-alive, and the device reconnects`, async () => {
    const { sb } = await newBoard(kind, { port: Number(new URL(proxy.url).port), keepalive: 1 }, { timeScale: 0.2 });
    await sb.waitFor('has("connect")');
    proxy.mute(true);
    try {
      await sb.waitFor('has("disconnect")', 3000);
    } finally {
      proxy.mute(false);
    }
    await sb.waitFor('log.filter(function (l) { return l[0] == "connect"; }).length >= 2', 3000);
  });
}

test('bytes: no CONNACK within 10 s ends the attempt, and the device tries again', async () => {
  // A server that accepts and never answers; it keeps every attempt's socket.
  const attempts: Socket[] = [];
  const silent = createTcpServer((s) => {
    attempts.push(s);
    s.resume(); // reads (and ignores) the CONNECT, so the client's close is seen
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const creds = await b.addDevice();
    const sb = await board('bytes', { timeScale: 0.01 }); // 10 s → 100 ms
    boards.push(sb);
    sb.run(deviceApp({ port: (silent.address() as AddressInfo).port, deviceId: creds.id, token: creds.token, reconnectMinMs: 1000 }));
    await until(() => attempts.length >= 2, 3000, 'a second attempt');
    await until(() => attempts[0]!.readableEnded, 2000, 'the device to close the first');
    assert.not.ok(sb.read<string[][]>('log').some((l) => l[0] === 'connect'));
  } finally {
    for (const s of attempts) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('unicode: the bridge restarts; a publish made while it was down is delivered once it is back', async () => {
  const [mqttPort, dataDir] = [await freePort(), await mkdtemp(join(tmpdir(), 'hookwire-restart-'))];
  const logger = createLogger({ level: 'silent', pretty: false });
  const start = () => startBridge({ host: '127.0.0.1', mqttPort, httpPort: 0, dataDir }, { logger });
  let bridge: Bridge = await start();
  // The event is seen where it is delivered, an integration's receiver: the restarted bridge
  // listens before startBridge returns, so the device may publish before a bus listener is on.
  const rx = await receiver();
  try {
    const admin = { authorization: `Bearer ${bridge.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${bridge.url}/v1/devices`, { method: 'POST', headers: admin, body: '{}' });
    const creds = await created.json() as { id: string; token: string };
    const hook = await fetch(`${bridge.url}/v1/integrations`, { method: 'POST', headers: admin, body: JSON.stringify({ event: 'while-down', url: `${rx.url}/down` }) });
    assert.is(hook.status, 201);
    const sb = await board('unicode');
    boards.push(sb);
    sb.run(deviceApp({ port: mqttPort, deviceId: creds.id, token: creds.token }));
    await sb.waitFor('has("connect")');
    await bridge.close();
    await sb.waitFor('has("disconnect")');
    sb.run('var delivered = null; device.publish("while-down", "kept", { qos: 1 }, function (err) { delivered = err ? err.code : "ok"; });');
    await sleep(300); // several refused attempts
    assert.is(sb.read('delivered'), null);
    bridge = await start();
    await sb.waitFor('delivered', 5000);
    assert.is(sb.read('delivered'), 'ok');
    const sent = (r: { body: Buffer }) => new URLSearchParams(r.body.toString());
    await until(() => rx.requests.some((r) => sent(r).get('event') === 'while-down' && sent(r).get('data') === 'kept' && sent(r).get('coreid') === creds.id), 5000, 'the event delivered');
  } finally {
    await rx.close();
    await bridge.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('bytes: tls: true connects through TLS, checking the bridge\'s certificate against `ca`', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hookwire-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const [key, cert] = [await readFile(join(dir, 'key.pem')), await readFile(join(dir, 'cert.pem'), 'utf8')];
  // TLS in front of the bridge's broker, as a TLS-terminating proxy would be.
  const sockets = new Set<Socket>();
  const front: Server = createTlsServer({ key, cert }, (s) => {
    const up = tcpConnect(b.mqttPort, '127.0.0.1');
    sockets.add(s).add(up);
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  try {
    const { sb, id } = await newBoard('bytes', { port: (front.address() as AddressInfo).port, tls: true, ca: cert });
    await sb.waitFor('has("connect")');
    sb.run('device.publish("over-tls", "1", { qos: 1 });');
    await until(() => Boolean(eventOf('over-tls', id)));
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => front.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('connect without a host (or socket) throws OPTIONS_INVALID at once', async () => {
  const sb = await board('bytes');
  boards.push(sb);
  sb.run('var code; try { require("hookwire").connect({ deviceId: "x", token: "y" }); } catch (e) { code = e.code; }');
  assert.is(sb.read('code'), 'OPTIONS_INVALID');
});

test.run();
