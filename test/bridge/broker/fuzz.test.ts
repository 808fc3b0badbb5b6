// Fuzzing the broker (seeded, bounded): packets from mqtt-packet's generator, mutated (bytes
// flipped, cut, inserted, lengths lied about), and random byte streams, each on its own
// connection, some after a real device's CONNECT. Meanwhile a healthy device publishes at
// QoS 1: every publish is acknowledged, the bridge stays up, and every refusal put on the
// bus has a known code.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { isCode } from '../../../bridge/codes.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { connectPacket, sleep } from '../../helpers/mqtt.ts';
import { FUZZ_SEED, rng, type Rng } from '../../helpers/fuzz.ts';

const CONNECTIONS = 2_000;
const BUDGET_MS = 6_000;

let b: TestBridge;
test.before(async () => {
  // Fuzzed CONNECTs fail by the hundred from one address: the login limit would soon refuse the
  // real CONNECTs too, and the fuzz would no longer reach what comes after them.
  b = await testBridge({}, { loginLimit: { maxFailures: 1_000_000, windowMs: 60_000, blockMs: 60_000 } });
});
test.after(async () => {
  await b?.stop();
});

/** A packet mqtt-packet can write, with random fields. */
function randomPacket(r: Rng, deviceId: string): Packet {
  const topic = r.pick([`${deviceId}/x`, 'temp', r.text(30), '#', '+/x', '$SYS/x', 'a'.repeat(70), `${'b'.repeat(24)}/x`, 'hook-response/x']);
  switch (r.int(9)) {
    case 0: return { cmd: 'connect', protocolId: r.pick(['MQTT', 'MQIsdp', 'XXXX']) as 'MQTT', protocolVersion: r.pick([3, 4, 5, 4, 4]) as 4, clean: r.chance(0.5), clientId: r.text(30), keepalive: r.int(70000) % 65536, username: r.text(30), password: r.bytes(r.int(40)) };
    case 1: case 2: return { cmd: 'publish', topic, payload: r.chance(0.5) ? r.bytes(r.int(2000)) : Buffer.from(r.text(100)), qos: r.pick([0, 1, 2]) as 0, messageId: 1 + r.int(65535), retain: r.chance(0.3), dup: r.chance(0.2) };
    case 3: return { cmd: 'subscribe', messageId: 1 + r.int(65535), subscriptions: Array.from({ length: 1 + r.int(3) }, () => ({ topic, qos: r.pick([0, 1, 2]) as 0 })) };
    case 4: return { cmd: 'unsubscribe', messageId: 1 + r.int(65535), unsubscriptions: [topic] };
    case 5: return { cmd: 'puback', messageId: 1 + r.int(65535) };
    case 6: return { cmd: 'pingreq' };
    case 7: return { cmd: r.pick(['pubrec', 'pubrel', 'pubcomp']) as 'pubrec', messageId: 1 + r.int(65535) };
    default: return { cmd: 'disconnect' };
  }
}

/** Break a packet's bytes the ways a bad client or a bad link would. */
function mutate(r: Rng, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  switch (r.int(5)) {
    case 0: // flip a few bytes
      for (let i = 0; i < 1 + r.int(4); i++) if (out.length) out[r.int(out.length)] = r.int(256);
      return out;
    case 1: return out.subarray(0, r.int(out.length + 1)); // cut short
    case 2: return Buffer.concat([out.subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0x7f]), out.subarray(1)]); // a huge length
    case 3: return Buffer.concat([out, r.bytes(r.int(50))]); // trailing garbage
    default: return out; // as generated
  }
}

function generate(p: Packet): Buffer | undefined {
  try {
    return mqttPacket.generate(p, { protocolVersion: 4 });
  } catch {
    return undefined; // a field mqtt-packet refuses to write: not a packet
  }
}

/** One connection: maybe a real CONNECT first, then a few fuzzed packets or random bytes. */
async function fuzzOne(r: Rng, port: number, device: { id: string; token: string }): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()).once('error', () => resolve()));
  if (r.chance(0.5)) socket.write(mqttPacket.generate(connectPacket(device)));
  for (let i = 0; i < 1 + r.int(5) && !socket.destroyed; i++) {
    const bytes = r.chance(0.15) ? r.bytes(1 + r.int(300)) : generate(randomPacket(r, device.id));
    if (bytes) socket.write(r.chance(0.7) ? mutate(r, bytes) : bytes);
  }
  await sleep(r.int(3));
  socket.destroy();
}

test(`${CONNECTIONS} fuzzed connections (seed ${FUZZ_SEED}): the healthy device's publishes are all acknowledged, every refusal has a code`, async () => {
  const codes = new Set<string>();
  b.bus.on('refused', (refusal) => codes.add(refusal.code));
  const h = await b.addDevice({ name: 'healthy' });
  const healthy: Device = await connectDevice({ url: b.mqttUrl, deviceId: h.id, token: h.token });
  const victims = await Promise.all(Array.from({ length: 3 }, () => b.addDevice()));
  let sent = 0;
  let acked = 0;
  const pump = setInterval(() => {
    sent++;
    healthy.publish('heartbeat', String(sent), { qos: 1 })!.then(() => acked++, () => {});
  }, 10);
  const r = rng();
  const started = Date.now();
  let done = 0;
  try {
    for (; done < CONNECTIONS && Date.now() - started < BUDGET_MS; done += 4) {
      await Promise.all(Array.from({ length: 4 }, () => fuzzOne(r, b.mqttPort, r.pick(victims))));
    }
  } finally {
    clearInterval(pump);
  }
  await until(() => acked === sent, 5000, `all ${sent} heartbeats acknowledged (${acked})`);
  assert.ok(healthy.connected(), `the healthy device was cut off: ${JSON.stringify(b.logs.filter((l) => JSON.stringify(l).includes(h.id)).slice(-3))}`);
  await healthy.disconnect();
  assert.ok(done >= 500, `only ${done} connections in the time allowed`);
  assert.ok(sent > 20, `only ${sent} heartbeats`);
  for (const code of codes) assert.ok(isCode(code), `a refusal with an unknown code: ${code}`);
  assert.is((await b.call('GET', '/health')).status, 200);
});

test.run();
