// The board module's MQTT on the wire: the built dist/espruino/hookwire.js in the Espruino
// sandbox talks to a scripted broker that reads and writes with mqtt-packet, the reference
// parser and generator. Every packet the SDK writes parses to the fields it should have; every
// packet the broker writes, delivered one byte per data event, is read right and answered.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { Encoder } from 'cbor-x';
import { until } from '../helpers/bridge.ts';
import { board, type Board } from '../helpers/espruino.ts';
import { sleep } from '../helpers/mqtt.ts';

const ID = '0123456789abcdef01234567';
const TOKEN = 'hwd_wire-test-token';

interface Broker {
  port: number;
  /** Packets the device wrote, per connection, in order. */
  connections: Packet[][];
  all(): Packet[];
  /** Write to the latest connection. */
  send(p: Packet): void;
  /** The CONNACK return code for the next connections (default 0). */
  connack: number;
  /** While true, QoS 1 publishes get no PUBACK. */
  holdPubacks: boolean;
  /** Close every connection (the device sees the link drop). */
  cut(): void;
  close(): Promise<void>;
}

async function broker(): Promise<Broker> {
  const sockets: Socket[] = [];
  const connections: Packet[][] = [];
  const b: Broker = {
    port: 0, connections, connack: 0, holdPubacks: false,
    all: () => connections.flat(),
    send: (p) => sockets.at(-1)!.write(mqttPacket.generate(p)),
    cut: () => { for (const s of sockets) s.destroy(); },
    close: () => new Promise<void>((r) => { b.cut(); server.close(() => r()); }),
  };
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    const seen: Packet[] = [];
    connections.push(seen);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const answer = (p: Packet) => socket.write(mqttPacket.generate(p));
    parser.on('packet', (p: Packet) => {
      seen.push(p);
      if (p.cmd === 'connect') answer({ cmd: 'connack', returnCode: b.connack, sessionPresent: false });
      if (p.cmd === 'subscribe') answer({ cmd: 'suback', messageId: p.messageId!, granted: p.subscriptions.map((s) => (s.topic.includes('forbidden') ? 128 : 0)) });
      if (p.cmd === 'unsubscribe') answer({ cmd: 'unsuback', messageId: p.messageId! } as Packet);
      if (p.cmd === 'publish' && p.qos === 1 && !b.holdPubacks) answer({ cmd: 'puback', messageId: p.messageId! });
      if (p.cmd === 'pingreq') answer({ cmd: 'pingresp' });
    });
    parser.on('error', (e: Error) => seen.push({ cmd: 'parse-error', message: e.message } as unknown as Packet));
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as AddressInfo).port;
  return b;
}

const boards: Board[] = [];
const brokers: Broker[] = [];

async function setup(options: Record<string, unknown> = {}, sandbox: Record<string, unknown> = {}): Promise<{ sb: Board; br: Broker }> {
  const br = await broker();
  brokers.push(br);
  const sb = await board('bytes', { maxChunk: 1, ...sandbox });
  boards.push(sb);
  sb.run(`
    var log = [], got = [];
    var device = require("hookwire").connect(${JSON.stringify({ host: '127.0.0.1', port: br.port, deviceId: ID, token: TOKEN, reconnectMinMs: 20, reconnectMaxMs: 100, ...options })});
    device.on("connect", function () { log.push("connect"); });
    device.on("error", function (e) { log.push("error " + e.code); });`);
  return { sb, br };
}

test.after(async () => {
  for (const sb of boards) sb.close();
  for (const br of brokers) await br.close();
});

test('CONNECT: MQTT 3.1.1, clean session, client ID = user name = device ID, the token as password', async () => {
  const { sb, br } = await setup({ keepalive: 45 });
  await sb.waitFor('log.indexOf("connect") >= 0');
  const [connect] = br.connections[0]!;
  assert.is(connect!.cmd, 'connect');
  if (connect!.cmd !== 'connect') return;
  assert.equal(
    [connect.protocolId, connect.protocolVersion, connect.clean, connect.keepalive, connect.clientId, connect.username, String(connect.password)],
    ['MQTT', 4, true, 45, ID, ID, TOKEN]);
});

test('PUBLISH at QoS 0 and 1: text as UTF-8, bytes as they are, typed data tagged CBOR; PUBACK settles', async () => {
  const { sb, br } = await setup();
  await sb.waitFor('log.indexOf("connect") >= 0');
  const sizes = [0, 1, 127, 128, 1000, 16_384];
  sb.run(`
    var acks = [];
    device.publish("text/q0", "héllo € ${'x'.repeat(200)}");
    device.publish("typed", { t: 21.4, list: [1, "é"] }, { qos: 1 });
    ${JSON.stringify(sizes)}.forEach(function (n) {
      var bytes = new Uint8Array(n);
      for (var i = 0; i < n; i++) bytes[i] = (i * 7) & 255;
      device.publish("bin/" + n, bytes, { qos: 1 }, function (err) { acks.push([n, err ? err.code : "ok"]); });
    });`);
  await sb.waitFor(`acks.length === ${sizes.length}`, 5000);
  assert.equal(sb.read('acks'), sizes.map((n) => [n, 'ok']));
  const publishes = br.all().filter((p): p is Packet & { cmd: 'publish' } => p.cmd === 'publish');
  const text = publishes.find((p) => p.topic === 'text/q0')!;
  assert.equal([text.qos, text.dup, text.retain, (text.payload as Buffer).toString('utf8')], [0, false, false, `héllo € ${'x'.repeat(200)}`]);
  const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });
  assert.is((publishes.find((p) => p.topic === 'typed')!.payload as Buffer).toString('hex'), Buffer.concat([Buffer.from('d9d9f7', 'hex'), encoder.encode({ t: 21.4, list: [1, 'é'] })]).toString('hex'));
  for (const n of sizes) {
    const p = publishes.find((x) => x.topic === `bin/${n}`)!;
    assert.is(p.qos, 1);
    assert.ok(p.messageId! > 0);
    assert.ok((p.payload as Buffer).equals(Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) & 255))), `payload of ${n} bytes`);
  }
  assert.is(new Set(publishes.filter((p) => p.qos === 1).map((p) => p.messageId)).size, sizes.length + 1, 'a packet identifier each');
});

test('SUBSCRIBE to the narrowest filter; SUBACK 0x80 is SUBSCRIBE_FORBIDDEN; UNSUBSCRIBE', async () => {
  const { sb, br } = await setup();
  await sb.waitFor('log.indexOf("connect") >= 0');
  sb.run(`
    var subs = {};
    device.subscribe("${ID}/hook-response/wea", function () {}, function (err) { subs.ok = err ? err.code : "ok"; });
    device.subscribe("forbidden/x", function () {}, function (err) { subs.forbidden = err ? err.code : "ok"; });`);
  await sb.waitFor('subs.ok && subs.forbidden');
  assert.equal(sb.read('subs'), { ok: 'ok', forbidden: 'SUBSCRIBE_FORBIDDEN' });
  sb.run(`device.unsubscribe("${ID}/hook-response/wea");`);
  await until(() => br.all().some((p) => p.cmd === 'unsubscribe'));
  const subscribe = br.all().filter((p) => p.cmd === 'subscribe').map((p) => p.cmd === 'subscribe' && [p.subscriptions[0]!.topic, p.subscriptions[0]!.qos]);
  assert.equal(subscribe, [[`${ID}/hook-response/#`, 0], ['forbidden/#', 0]]);
  const unsub = br.all().find((p) => p.cmd === 'unsubscribe')!;
  assert.equal(unsub.cmd === 'unsubscribe' && unsub.unsubscriptions, [`${ID}/hook-response/#`]);
});

test('what the broker sends, one byte per data event: PUBLISH at QoS 0 and 1 (PUBACK with its identifier), up to 16 KB', async () => {
  const { sb, br } = await setup();
  await sb.waitFor('log.indexOf("connect") >= 0');
  sb.run('device.subscribe("in/", function (name, data) { got.push([name, typeof data == "string" ? data : [data.length, data[0], data[data.length - 1]]]); });');
  await until(() => br.all().some((p) => p.cmd === 'subscribe'));
  const big = Buffer.from(Array.from({ length: 16_384 }, (_, i) => (i % 251) + 1)).fill(0xff, 0, 1);
  br.send({ cmd: 'publish', topic: 'in/text', payload: Buffer.from('ça va €'), qos: 1, messageId: 40_000, dup: false, retain: false });
  br.send({ cmd: 'publish', topic: 'in/big', payload: big, qos: 0, dup: false, retain: false });
  br.send({ cmd: 'publish', topic: 'in/empty', payload: Buffer.alloc(0), qos: 1, messageId: 7, dup: true, retain: false });
  await sb.waitFor('got.length === 3', 10_000);
  assert.equal(sb.read('got'), [['in/text', 'ça va €'], ['in/big', [16_384, 0xff, big.at(-1)]], ['in/empty', '']]);
  await until(() => br.all().filter((p) => p.cmd === 'puback').length === 2);
  assert.equal(br.all().filter((p) => p.cmd === 'puback').map((p) => p.cmd === 'puback' && p.messageId), [40_000, 7]);
});

test('a QoS 1 PUBLISH unacknowledged when the link drops goes again with DUP and the same identifier', async () => {
  const { sb, br } = await setup();
  await sb.waitFor('log.indexOf("connect") >= 0');
  br.holdPubacks = true;
  sb.run('var settled = []; device.publish("again", "1", { qos: 1 }, function (err) { settled.push(err ? err.code : "ok"); });');
  await until(() => br.all().some((p) => p.cmd === 'publish'));
  br.holdPubacks = false;
  br.cut();
  await sb.waitFor('settled.length', 3000);
  await sleep(50);
  assert.equal(sb.read('settled'), ['ok']);
  const copies = br.all().filter((p) => p.cmd === 'publish' && p.topic === 'again');
  assert.equal(copies.map((p) => p.cmd === 'publish' && [p.dup, p.messageId]), [[false, (copies[0] as { messageId: number }).messageId], [true, (copies[0] as { messageId: number }).messageId]]);
  assert.is(br.connections.length, 2);
});

test('PINGREQ every keep-alive period; DISCONNECT when the app disconnects', async () => {
  const { sb, br } = await setup({ keepalive: 1 }, { timeScale: 0.05 }); // 1 s → 50 ms
  await sb.waitFor('log.indexOf("connect") >= 0');
  await until(() => br.all().filter((p) => p.cmd === 'pingreq').length >= 3, 2000, 'pings');
  sb.run('var closed = false; device.disconnect(function () { closed = true; });');
  await sb.waitFor('closed');
  await until(() => br.all().some((p) => p.cmd === 'disconnect'));
  assert.is(br.connections.length, 1, 'the pings were answered: no reconnect');
  assert.not.ok(br.all().some((p) => (p.cmd as string) === 'parse-error'));
});

test('CONNACK 5 (not authorized) ends in CONNECT_REFUSED for good; CONNACK 3 (unavailable) is tried again', async () => {
  const refused = await setup();
  refused.br.connack = 5;
  await refused.sb.waitFor('log.indexOf("error CONNECT_REFUSED") >= 0');
  await sleep(200);
  assert.is(refused.br.connections.length, 1, 'no retry loop');

  const unavailable = await broker();
  brokers.push(unavailable);
  unavailable.connack = 3;
  const sb = await board('bytes');
  boards.push(sb);
  sb.run(`var device = require("hookwire").connect({ host: "127.0.0.1", port: ${unavailable.port}, deviceId: "${ID}", token: "${TOKEN}", reconnectMinMs: 20 });`);
  await until(() => unavailable.connections.length >= 2, 2000, 'a second attempt');
  unavailable.connack = 0;
  await sb.waitFor('device.connected()', 3000);
});

test.run();
