// The SDK's MQTT 3.1.1 framing (firmware-sdk/src/mqtt.ts, used on Espruino) against
// mqtt-packet, the reference parser and generator: remaining lengths of every width, and a
// reader that gets every packet a broker sends right however the stream is cut, one byte at a
// time, several packets per chunk, or at random (a seeded fuzz up to 16 KB). The packets the
// board module writes are checked on the wire in espruino-wire.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { MALFORMED, field, packet, packetReader, readWord, word } from '../../firmware-sdk/src/mqtt.ts';

const byteString = (b: Buffer) => b.toString('latin1');

/** Parse whole packets with mqtt-packet. */
function reference(bytes: string): Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p: Packet) => out.push(p));
  parser.on('error', (e: Error) => errors.push(e));
  parser.parse(Buffer.from(bytes, 'latin1'));
  assert.equal(errors.map((e) => e.message), []);
  return out;
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

test('packet() writes the remaining length in 1 to 4 bytes, as mqtt-packet reads it', () => {
  for (const size of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
    const body = field('t') + byteString(payloadOf(size));
    const [p, ...rest] = reference(packet(0x30, body));
    assert.is(rest.length, 0);
    assert.is(p!.cmd, 'publish');
    assert.is(p!.cmd === 'publish' && (p.payload as Buffer).length, size, `payload of ${size} bytes`);
  }
});

test('word() and field() are big-endian 16-bit numbers and length-prefixed strings', () => {
  assert.equal([...Buffer.from(word(0x1234), 'latin1')], [0x12, 0x34]);
  assert.equal([...Buffer.from(field('ab'), 'latin1')], [0, 2, 0x61, 0x62]);
  assert.is(readWord(word(65_535) + word(513), 2), 513);
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

/** A packet as the reader hands it over, back in mqtt-packet's terms. */
function asPacket(r: Read): Packet {
  return reference(packet(r.first, r.body))[0]!;
}

function readAll(chunks: string[]): Read[] {
  const out: Read[] = [];
  const read = packetReader((first, body) => out.push({ first, body }));
  for (const c of chunks) read(c);
  return out;
}

const same = (got: Read[], want: Packet[], what: string) => assert.equal(got.map(asPacket), want.map((p) => reference(byteString(mqttPacket.generate(p)))[0]), what);

test('every packet a broker sends is read whole, cut at every byte position', () => {
  for (const p of brokerPackets()) {
    const whole = byteString(mqttPacket.generate(p));
    // Short packets at every position; long ones at every position of the header and near the ends.
    const cuts = whole.length < 300 ? Array.from({ length: whole.length + 1 }, (_, i) => i)
      : [0, 1, 2, 3, 4, 5, 6, 7, 100, whole.length - 2, whole.length - 1, whole.length];
    for (const at of cuts) same(readAll([whole.slice(0, at), whole.slice(at)]), [p], `${p.cmd} cut at ${at}`);
    if (whole.length < 300) same(readAll([...whole]), [p], `${p.cmd} one byte at a time`);
  }
});

test('several packets in one chunk come out in order', () => {
  const packets = brokerPackets();
  same(readAll([packets.map((p) => byteString(mqttPacket.generate(p))).join('')]), packets, 'all in one chunk');
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
    same(readAll(chunks), packets, `round ${round}`);
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
