// The SDK's own MQTT 3.1.1 codec (firmware-sdk/src/mqtt.ts, used on Espruino) against
// mqtt-packet, the reference parser and generator: every packet the SDK writes parses to the
// same fields; every packet a broker sends, as mqtt-packet writes it, is read right however
// the stream is cut; and a bounded random fuzz of cuts and payload sizes up to 16 KB.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import mqttPacket, { type Packet } from 'mqtt-packet';
import {
  CONNACK, DISCONNECT_PACKET, MALFORMED, PINGREQ_PACKET, PINGRESP, PUBACK, PUBLISH, SUBACK,
  asDuplicate, connectPacket, packetReader, parsePublish, pubackPacket, publishPacket, readWord,
  subscribePacket, unsubscribePacket,
} from '../firmware-sdk/src/mqtt.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const byteString = (b: Buffer) => b.toString('latin1');
const utf8 = (text: string) => byteString(Buffer.from(text, 'utf8'));

/** Parse one whole packet with mqtt-packet; fails unless exactly one comes out. */
function reference(packet: string): Packet {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p: Packet) => out.push(p));
  parser.on('error', (e: Error) => errors.push(e));
  parser.parse(bytes(packet));
  assert.equal(errors.map((e) => e.message), []);
  assert.is(out.length, 1);
  return out[0]!;
}

/** A deterministic pseudo-random source (the fuzz is repeatable). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const payloadOf = (size: number, seed = size) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) & 255));

test('CONNECT: protocol 3.1.1, clean session, credentials and keep-alive, lengths in bytes', () => {
  const p = reference(connectPacket(utf8('dévice-€'), utf8('0123456789abcdef01234567'), utf8('hwd_tøken'), 30));
  assert.is(p.cmd, 'connect');
  if (p.cmd !== 'connect') return;
  assert.equal([p.protocolId, p.protocolVersion, p.clean, p.keepalive], ['MQTT', 4, true, 30]);
  assert.equal([p.clientId, p.username, String(p.password)], ['dévice-€', '0123456789abcdef01234567', 'hwd_tøken']);
});

test('PUBLISH at QoS 0 and 1, every remaining-length width, multi-byte topics; DUP when sent again', () => {
  for (const size of [0, 1, 100, 122, 123, 124, 127, 128, 1024, 16_000, 16_376, 16_377, 16_384]) {
    for (const qos of [0, 1]) {
      const topic = 'tëmp/€/x';
      const payload = payloadOf(size);
      const packet = publishPacket(utf8(topic), byteString(payload), qos, 513);
      for (const [copy, dup] of [[packet, false], [asDuplicate(packet), true]] as const) {
        const p = reference(copy);
        assert.is(p.cmd, 'publish');
        if (p.cmd !== 'publish') return;
        assert.equal([p.topic, p.qos, p.dup, p.retain, p.messageId], [topic, qos, dup, false, qos ? 513 : undefined], `size ${size} qos ${qos}`);
        assert.ok(Buffer.from(p.payload as Buffer).equals(payload), `payload of ${size} bytes`);
      }
    }
  }
});

test('PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT', () => {
  const puback = reference(pubackPacket(65535));
  assert.equal([puback.cmd, puback.cmd === 'puback' && puback.messageId], ['puback', 65535]);
  const sub = reference(subscribePacket(7, utf8('0123456789abcdef01234567/hook-response/#'), 0));
  assert.is(sub.cmd, 'subscribe');
  if (sub.cmd === 'subscribe') {
    assert.is(sub.messageId, 7);
    assert.equal(sub.subscriptions.map((s) => [s.topic, s.qos]), [['0123456789abcdef01234567/hook-response/#', 0]]);
  }
  const unsub = reference(unsubscribePacket(8, utf8('wëather/#')));
  assert.is(unsub.cmd, 'unsubscribe');
  if (unsub.cmd === 'unsubscribe') assert.equal([unsub.messageId, unsub.unsubscriptions], [8, ['wëather/#']]);
  assert.is(reference(PINGREQ_PACKET).cmd, 'pingreq');
  assert.is(reference(DISCONNECT_PACKET).cmd, 'disconnect');
});

/** What a broker sends a device, as mqtt-packet writes it. */
function brokerPackets(): Packet[] {
  const out: Packet[] = [];
  for (const returnCode of [0, 1, 2, 3, 4, 5]) out.push({ cmd: 'connack', returnCode, sessionPresent: false });
  for (const size of [0, 5, 127, 128, 16_383, 16_384]) {
    out.push({ cmd: 'publish', topic: 'a/b', payload: payloadOf(size), qos: 0, dup: false, retain: false });
    out.push({ cmd: 'publish', topic: '0123456789abcdef01234567/hook-response/wéather/0', payload: payloadOf(size, 3), qos: 1, messageId: 40_000, dup: true, retain: false });
  }
  out.push({ cmd: 'puback', messageId: 1 });
  out.push({ cmd: 'suback', messageId: 2, granted: [0, 1, 128] });
  out.push({ cmd: 'unsuback', messageId: 3 } as Packet);
  out.push({ cmd: 'pingresp' });
  return out;
}

interface Read {
  first: number;
  body: string;
}

/** The fields the SDK reads from a packet, the way the Espruino transport reads them. */
function fields(r: Read): unknown {
  const type = r.first >> 4;
  if (type === PUBLISH) {
    const p = parsePublish(r.first, r.body);
    return ['publish', (r.first >> 1) & 3, Boolean(r.first & 8), Buffer.from(p.topic, 'latin1').toString('utf8'), p.id, p.payload];
  }
  if (type === CONNACK) return ['connack', r.body.charCodeAt(1)];
  if (type === SUBACK) return ['suback', readWord(r.body, 0), [...bytes(r.body.slice(2))]];
  if (type === PUBACK) return ['puback', readWord(r.body, 0)];
  if (type === PINGRESP) return ['pingresp'];
  return [type, readWord(r.body, 0)];
}

function expected(p: Packet): unknown {
  switch (p.cmd) {
    case 'publish': return ['publish', p.qos, p.dup, p.topic, p.qos ? p.messageId : 0, byteString(p.payload as Buffer)];
    case 'connack': return ['connack', p.returnCode];
    case 'suback': return ['suback', p.messageId, p.granted];
    case 'puback': return ['puback', p.messageId];
    case 'pingresp': return ['pingresp'];
    case 'unsuback': return [11, p.messageId];
    default: throw new Error(`unexpected ${p.cmd}`);
  }
}

function readAll(chunks: string[]): Read[] {
  const out: Read[] = [];
  const read = packetReader((first, body) => out.push({ first, body }));
  for (const c of chunks) read(c);
  return out;
}

test('every packet a broker sends is read right, cut at every byte position', () => {
  for (const p of brokerPackets()) {
    const whole = byteString(mqttPacket.generate(p));
    const want = expected(p);
    // Short packets at every position; long ones at every position of the header and near the ends.
    const cuts = whole.length < 300 ? Array.from({ length: whole.length + 1 }, (_, i) => i)
      : [0, 1, 2, 3, 4, 5, 6, 7, 100, whole.length - 2, whole.length - 1, whole.length];
    for (const at of cuts) {
      const got = readAll([whole.slice(0, at), whole.slice(at)]);
      assert.is(got.length, 1, `${p.cmd} cut at ${at}`);
      assert.equal(fields(got[0]!), want, `${p.cmd} cut at ${at}`);
    }
    if (whole.length < 300) assert.equal(readAll([...whole]).map(fields), [want], `${p.cmd} one byte at a time`);
  }
});

test('several packets in one chunk come out in order', () => {
  const packets = brokerPackets();
  const stream = packets.map((p) => byteString(mqttPacket.generate(p))).join('');
  assert.equal(readAll([stream]).map(fields), packets.map(expected));
});

test('fuzz: random packet sequences up to 16 KB, cut at random places', () => {
  const random = prng(0x5eed);
  for (let round = 0; round < 150; round++) {
    const packets: Packet[] = [];
    for (let n = 1 + random(6); n > 0; n--) {
      const qos = random(2) as 0 | 1;
      packets.push(random(5) === 0
        ? { cmd: 'puback', messageId: 1 + random(65535) }
        : { cmd: 'publish', topic: `t/${random(1000)}`, payload: payloadOf(random(16_385), round), qos, messageId: qos ? 1 + random(65535) : undefined, dup: false, retain: false } as Packet);
    }
    const stream = packets.map((p) => byteString(mqttPacket.generate(p))).join('');
    const chunks: string[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + random(random(4) === 0 ? 8 : 3000);
      chunks.push(stream.slice(at, at + size));
      at += size;
    }
    assert.equal(readAll(chunks).map(fields), packets.map(expected), `round ${round}`);
  }
});

test('a remaining length longer than 4 bytes is MALFORMED; what a handler throws passes through', () => {
  const read = packetReader(() => {});
  assert.throws(() => read('\x30\xff\xff\xff\xff\x01'), (e: unknown) => e === MALFORMED);
  let calls = 0;
  const throwing = packetReader(() => {
    calls++;
    throw new Error('handler');
  });
  const two = byteString(Buffer.concat([mqttPacket.generate({ cmd: 'pingresp' }), mqttPacket.generate({ cmd: 'pingresp' })]));
  assert.throws(() => throwing(two), /handler/);
  assert.throws(() => throwing(''), /handler/, 'the packet after it is read on the next call');
  assert.is(calls, 2);
});

test.run();
