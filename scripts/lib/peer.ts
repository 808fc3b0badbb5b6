// The peer measure of scripts/bench.ts (--only forwarder): Hookwire against what a user would
// otherwise write, in the same run.
//
// 7. forwarder  Mosquitto (/usr/sbin/mosquitto, its own process on a free port: a listener on
//               127.0.0.1, allow_anonymous, no persistence) and scripts/forwarder.ts (its own
//               process: mqtt.js subscribed to `+/bench`, one undici POST per event to the same
//               receiver, hook-sent and the hook-response published back). The same devices
//               script (scripts/load-webhooks.ts: SDK devices, QoS 1, closed loop, --inflight
//               in flight, completions counted by a service client on `hook-sent/bench`) and the
//               same receiver drive Hookwire (the throughput measure's stack: 10 integrations,
//               one matching) and the peer, in alternating windows, --rounds times. On
//               Mosquitto the devices publish `<deviceID>/bench` (a plain broker does not say who
//               published; the forwarder needs the device for its reply) with made-up IDs and
//               tokens (anonymous access ignores them); the service client's credentials too.
//               What the peer leaves out is the point of the comparison: Hookwire acknowledges a
//               publish once the event and its deliveries are in SQLite, renders a template,
//               keeps per-host lanes, retries, logs and counters; the forwarder does none of it.
//               The forwarder turns Nagle's algorithm off on its MQTT socket, as Hookwire's
//               broker does on its own: left on (mqtt.js's default), the forwarder's small writes
//               wait for ACKs and it made 2,300-2,500 events/s where it makes 5,300-6,100 without
//               (A/B on the 2-core VM, same load); Mosquitto's set_tcp_nodelay changed nothing
//               measurable, so its config stays minimal.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import {
  fmt, fmtKb, freePort, median, printTable, spawnProgram, spawnTs, tempDir, type Child, type DeviceCredentials,
} from './bench.ts';
import { matchFixtures } from './match-fixtures.ts';
import {
  benchStack, closedDevices, closedWindow, consistent, EVENT, othersCell, printProfile, profileOf, spawnDevices, spawnReceiver, until,
  type ThroughputRun, type WindowProfile,
} from './stack.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_INSTALL = 'apt-get update && apt-get install -y mosquitto';

export interface PeerOptions {
  seconds: number;
  warmupSec: number;
  devices: number;
  inflight: number;
  rounds: number;
  cpuProf: boolean;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Mosquitto on a free port of 127.0.0.1 with the smallest config that serves the devices, once it accepts connections. */
export async function startMosquitto(): Promise<Child & { url: string }> {
  const dir = await tempDir('hookwire-mosquitto-');
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  // Default logging (stderr, kept for a failed start): a line per connection, nothing per message.
  await writeFile(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = await spawnProgram({ name: 'mosquitto', command: MOSQUITTO, args: ['-c', config] });
  if (!await until(() => accepts(port), 10_000, 20)) {
    await child.stop();
    throw new Error(`mosquitto did not listen on ${port} in 10 s: ${child.output().trim()}`);
  }
  return { ...child, url: `mqtt://127.0.0.1:${port}` };
}

/** Devices for a plain broker: valid device IDs (the SDK checks them), made up, and any token. */
function madeUpDevices(count: number): DeviceCredentials[] {
  return Array.from({ length: count }, () => ({ id: randomBytes(12).toString('hex'), token: 'anonymous' }));
}

type PeerRun = ThroughputRun & { side: 'hookwire' | 'forwarder'; round: number };

export async function runForwarder(o: PeerOptions) {
  console.log(`\n## Hookwire against Mosquitto + a forwarder (scripts/forwarder.ts): ${o.rounds} rounds of ${o.seconds} s windows after ` +
    `${o.warmupSec} s warm-up, alternating; ${o.inflight} in flight, ${o.devices} devices, the same receiver`);
  if (!existsSync(MOSQUITTO)) {
    const reason = `Mosquitto is not installed (no ${MOSQUITTO}): the forwarder peer is skipped. Install it as root: ${MOSQUITTO_INSTALL}`;
    console.log(reason);
    return { skipped: true, reason };
  }
  const receiver = await spawnReceiver(false);
  const stack = await benchStack({ devices: o.devices, cpuProf: o.cpuProf }, receiver.port, matchFixtures());
  const hookwireDevices = await closedDevices(stack, o.inflight, 'load-hookwire');
  const mosquitto = await startMosquitto();
  const hookUrl = `http://127.0.0.1:${receiver.port}/hook`;
  const forwarder = await spawnTs({
    name: 'forwarder', script: 'scripts/forwarder.ts', args: ['--mqtt', mosquitto.url, '--url', hookUrl, '--event', EVENT], ipc: true,
    ready: (l) => l.ready === true,
  });
  const peerDevices = await spawnDevices({
    mqttUrl: mosquitto.url, devices: madeUpDevices(o.devices), event: EVENT, mode: 'closed', inflight: o.inflight, rate: 0, deviceSpace: true,
    service: { username: 'bench', password: 'anonymous' },
  }, 'load-forwarder');
  console.log(`mosquitto: ${mosquitto.url} (pid ${mosquitto.pid}); forwarder pid ${forwarder.child.pid} → POST ${hookUrl}`);

  const runs: PeerRun[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const hookwire = await closedWindow({
      name: `Hookwire, round ${round}`, bridge: stack.bridge, integrations: stack.integrations, devices: hookwireDevices, receiver,
      warmupSec: o.warmupSec, seconds: o.seconds,
    });
    runs.push({ ...hookwire, side: 'hookwire', round });
    console.log(`  ${hookwire.name.padEnd(36)} ${fmt(hookwire.perSec).padStart(7)} /s`);
    // The peer's two processes seen as one server side; each one's CPU reported too.
    const peer = await closedWindow({
      name: `Mosquitto + forwarder, round ${round}`, integrations: 1, devices: peerDevices, receiver, warmupSec: o.warmupSec, seconds: o.seconds,
      bridge: { cpuMs: () => mosquitto.cpuMs() + forwarder.child.cpuMs(), rssKb: () => mosquitto.rssKb() + forwarder.child.rssKb() },
      parts: { mosquitto: () => mosquitto.cpuMs(), forwarder: () => forwarder.child.cpuMs() },
    });
    runs.push({ ...peer, side: 'forwarder', round });
    console.log(`  ${peer.name.padEnd(36)} ${fmt(peer.perSec).padStart(7)} /s`);
  }

  for (const d of [hookwireDevices, peerDevices]) {
    await d.rpc.call('close');
    await d.child.stop();
  }
  const profile: WindowProfile[] = o.cpuProf ? await profileOf(stack.bridge, runs.filter((r) => r.side === 'hookwire')) : [];
  await stack.bridge.stop();
  await forwarder.child.stop();
  await mosquitto.stop();
  await receiver.child.stop();

  console.log(`\nHookwire and the forwarder peer (per second over each ${o.seconds} s window; CPU: 100 % = one core; ` +
    'server: the bridge, or mosquitto + forwarder):\n');
  const part = (r: PeerRun, k: string) => (r.cpuParts?.[k] === undefined ? '-' : `${fmt(r.cpuParts[k]!)} %`);
  printTable(['run', 'completed/s', 'receiver req/s', 'acked/s', 'server CPU', 'mosquitto CPU', 'forwarder CPU', 'load CPU', 'receiver CPU',
    'rest of machine', 'server µs/event', 'server RSS', 'consistent'],
  runs.map((r) => [r.name, r.perSec, r.receiverPerSec, fmt(r.ackedPerSec ?? NaN), `${fmt(r.cpu.bridge ?? NaN)} %`, part(r, 'mosquitto'), part(r, 'forwarder'),
    `${fmt(r.cpu.load)} %`, `${fmt(r.cpu.receiver)} %`, othersCell(r.cpu.others), fmt(r.bridgeUsPerEvent ?? NaN, 1), fmtKb(r.bridgeRssKb ?? NaN),
    consistent(r) ? 'yes' : 'NO']));

  const of = (side: PeerRun['side']) => runs.filter((r) => r.side === side);
  const rounds = of('hookwire').map((h, k) => {
    const f = of('forwarder')[k]!;
    return {
      round: h.round, hookwirePerSec: h.perSec, forwarderPerSec: f.perSec, ratio: h.perSec / f.perSec,
      bridgeCpu: h.cpu.bridge!, peerCpu: f.cpu.bridge!, bridgeUsPerEvent: h.bridgeUsPerEvent!, peerUsPerEvent: f.bridgeUsPerEvent!,
    };
  });
  console.log('\nper round:\n');
  printTable(['round', 'Hookwire events/s', 'bridge CPU', 'forwarder events/s', 'mosquitto + forwarder CPU', 'Hookwire / forwarder', 'µs/event: bridge', 'mosquitto + forwarder'],
    rounds.map((r) => [String(r.round), r.hookwirePerSec, `${fmt(r.bridgeCpu)} %`, r.forwarderPerSec, `${fmt(r.peerCpu)} %`, fmt(r.ratio, 2),
      fmt(r.bridgeUsPerEvent, 1), fmt(r.peerUsPerEvent, 1)]));
  const ratio = median(rounds.map((r) => r.ratio));
  console.log(`(Hookwire / forwarder, median of the rounds: ${fmt(ratio, 2)}. The forwarder's undici uses its defaults: ` +
    'no cap on connections per origin, so up to --inflight requests at once, where Hookwire\'s lane allows 32 per host.)');
  if (runs.some((r) => !consistent(r))) console.error('\nwarning: a run is not consistent (published, acked, completed, receiver differ): its figures are suspect.');
  for (const p of profile) printProfile(p);
  return { mosquitto: MOSQUITTO, runs, rounds, ratio, profile };
}
