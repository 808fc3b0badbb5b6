// Bad input on the broker: each case is refused with a logged reason code, and a healthy
// device on the same broker keeps publishing and receiving throughout.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode } from 'cbor-x';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { connectPacket, rawClient, type RawClient } from '../../helpers/mqtt.ts';
import type { Packet } from 'mqtt-packet';

let b: TestBridge;
let healthy: Device;
let listener: Device;
let sent = 0;
let acked = 0;
let heard = 0;
let pump: NodeJS.Timeout;
const events: HookwireEvent[] = [];

test.before(async () => {
  b = await testBridge();
  const h = await b.addDevice({ name: 'healthy' });
  const l = await b.addDevice({ name: 'listener' });
  b.bus.on('event', (e) => events.push(e));
  healthy = await connectDevice({ url: b.mqttUrl, deviceId: h.id, token: h.token });
  listener = await connectDevice({ url: b.mqttUrl, deviceId: l.id, token: l.token });
  await listener.subscribe('heartbeat', () => heard++);
  pump = setInterval(() => {
    sent++;
    healthy.publish('heartbeat', String(sent), { qos: 1 })!.then(() => acked++, () => {});
  }, 5);
});

test.after(async () => {
  clearInterval(pump);
  await healthy?.disconnect();
  await listener?.disconnect();
  await b?.stop();
});

/** Run `bad`, then check the healthy device kept publishing and receiving meanwhile. */
async function whileHealthy(bad: () => Promise<void>): Promise<void> {
  const [ackedBefore, heardBefore] = [acked, heard];
  await bad();
  await until(() => acked > ackedBefore + 5 && heard > heardBefore + 5, 3000, 'the healthy device to keep going');
  assert.ok(healthy.connected() && listener.connected());
}

function logged(code: string): boolean {
  return b.logs.some((l) => l.code === code);
}

async function deviceSession(): Promise<RawClient> {
  const raw = await rawClient(b.mqttPort);
  raw.send(connectPacket(await b.addDevice()));
  const connack = await raw.next((p) => p.cmd === 'connack') as { returnCode: number };
  assert.is(connack.returnCode, 0);
  return raw;
}

const noticeFrom = (raw: RawClient, code: string) => raw.next((p) => p.cmd === 'publish' && p.topic.endsWith('/hookwire/error') && JSON.parse(String(p.payload)).code === code);

test('garbage bytes on the MQTT socket close that connection only', () => whileHealthy(async () => {
  const raw = await rawClient(b.mqttPort);
  raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  raw.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x13]));
  await raw.closed;
  await until(() => logged('PROTOCOL_ERROR'), 2000, 'PROTOCOL_ERROR in the log');
}));

test('an oversized CONNECT is refused as soon as its header arrives', () => whileHealthy(async () => {
  const raw = await rawClient(b.mqttPort);
  // CONNECT announcing 10 MB: the broker must not wait for (or buffer) it.
  raw.socket.write(Buffer.from([0x10, 0x80, 0xad, 0xe2, 0x04, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]));
  await raw.closed;
  await until(() => b.logs.some((l) => l.code === 'PACKET_TOO_LARGE' && /10000000 bytes/.test(String(l.reason))), 2000, 'PACKET_TOO_LARGE in the log');
}));

test('an oversized PUBLISH from a device closes its connection', () => whileHealthy(async () => {
  const raw = await deviceSession();
  raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(64 * 1024, 0x61), qos: 0, retain: false, dup: false });
  await raw.closed;
  assert.not.ok(events.some((e) => e.name === 'big'));
}));

for (const [label, topic] of [['65 characters', 'x'.repeat(65)], ['a leading $', '$SYS/x'], ['a space', 'bad name'], ['a non-ASCII character', 'température']] as const) {
  test(`an event name with ${label} is refused, the device stays connected`, () => whileHealthy(async () => {
    const raw = await deviceSession();
    raw.send({ cmd: 'publish', topic, payload: Buffer.from('1'), qos: 1, messageId: 11, retain: false, dup: false });
    const notice = await noticeFrom(raw, 'EVENT_NAME_INVALID') as { payload: Buffer };
    assert.is(JSON.parse(String(notice.payload)).messageId, 11);
    await raw.next((p) => p.cmd === 'puback' && (p as { messageId: number }).messageId === 11);
    assert.ok(b.logs.some((l) => l.code === 'EVENT_NAME_INVALID' && l.topic === topic));
    assert.not.ok(events.some((e) => e.name === topic));
    raw.socket.destroy();
  }));
}

for (const [label, bytes] of [
  ['empty', [0x30, 0x03, 0x00, 0x00, 0x31]],
  ['with +', [0x30, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x2b, 0x31]],
  ['with #', [0x30, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x23, 0x31]],
] as const) {
  test(`an event name ${label} (invalid MQTT) closes that connection with a reason code`, () => whileHealthy(async () => {
    const raw = await deviceSession();
    const count = b.logs.filter((l) => l.code === 'EVENT_NAME_INVALID').length;
    raw.socket.write(Buffer.from(bytes));
    await raw.closed;
    await until(() => b.logs.filter((l) => l.code === 'EVENT_NAME_INVALID').length > count, 2000, 'EVENT_NAME_INVALID in the log');
  }));
}

const tagged = (value: unknown) => Buffer.concat([Buffer.from([0xd9, 0xd9, 0xf7]), encode(value)]);

for (const [label, payload, code] of [
  ['1025 bytes of text', Buffer.alloc(1025, 0x61), 'EVENT_TOO_LARGE'],
  ['16385 bytes of typed data', tagged({ blob: 'b'.repeat(16_400) }), 'EVENT_TOO_LARGE'],
  ['16385 bytes of binary data', Buffer.alloc(16_385, 0xff), 'EVENT_TOO_LARGE'],
  ['typed data that is not CBOR', Buffer.from([0xd9, 0xd9, 0xf7, 0xff, 0xff]), 'EVENT_DATA_INVALID'],
] as const) {
  test(`a payload of ${label} is refused with ${code}, the device stays connected`, () => whileHealthy(async () => {
    const raw = await deviceSession();
    raw.send({ cmd: 'publish', topic: 'payload-test', payload, qos: 1, messageId: 5, retain: false, dup: false });
    await noticeFrom(raw, code);
    await raw.next((p) => p.cmd === 'puback');
    raw.send({ cmd: 'pingreq' });
    await raw.next((p: Packet) => p.cmd === 'pingresp');
    assert.not.ok(events.some((e) => e.name === 'payload-test'));
    raw.socket.destroy();
  }));
}

test('data at the limits is accepted: 1024 bytes of text, 16384 of binary, typed data decoded', async () => {
  const raw = await deviceSession();
  const typed = tagged({ temp: 21.5, tags: ['a', 'b'], raw: new Uint8Array([1, 2, 3]) });
  raw.send({ cmd: 'publish', topic: 'limit/text', payload: Buffer.alloc(1024, 0x61), qos: 0, retain: false, dup: false });
  raw.send({ cmd: 'publish', topic: 'limit/binary', payload: Buffer.alloc(16_384, 0xff), qos: 0, retain: false, dup: false });
  raw.send({ cmd: 'publish', topic: 'limit/typed', payload: typed, qos: 0, retain: false, dup: false });
  await until(() => ['limit/text', 'limit/binary', 'limit/typed'].every((n) => events.some((e) => e.name === n)));
  const byName = (n: string) => events.find((e) => e.name === n)!;
  assert.is(byName('limit/text').data.length, 1024);
  assert.is(byName('limit/binary').type, 'binary');
  assert.is(Buffer.from(byName('limit/binary').data, 'base64').length, 16_384);
  assert.is(byName('limit/typed').type, 'typed');
  assert.equal(JSON.parse(byName('limit/typed').data), { temp: 21.5, tags: ['a', 'b'], raw: 'AQID' });
  raw.socket.destroy();
});

test.run();
