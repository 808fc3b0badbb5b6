// Connected devices: how long N devices take to connect to a bridge, and the bridge's
// resident memory per connected device (target: ≤ 40 KB each, DESIGN.md Performance targets).
//
//   npx tsx scripts/bench-connect.ts [--devices 1000] [--concurrency 100] [--settle 2] [--cpu-prof]
//                                    [--tls [--key-type ec|rsa]]
//
// --tls: the cost of TLS, in one run. The bridge serves a throwaway certificate (a CA and a
// server certificate made by openssl in a temp dir; ECDSA P-256, what certbot asks Let's
// Encrypt for, or RSA 2048) on MQTTS beside plain MQTT; the same N devices connect over plain
// MQTT, then over MQTTS (the SDK with the CA), each phase on a fresh bridge process over the
// same data directory (so neither inherits the other's heap), and both phases are shown side
// by side with their ratio.
//
// The bridge runs in its own process, as users run it; the devices are the SDK's
// (`connectDevice`), in this process. Registration through the API is not timed. Memory per
// device = (bridge RSS once all are connected and a settle wait has passed − bridge RSS just
// before connecting) / N, from /proc/<pid>/status. Results also go to .bench/connect.json.

import { parseArgs } from 'node:util';
import type { Device } from '../firmware-sdk/index.ts';
import {
  cpuMeter, cpuProfArgs, fmt, fmtKb, intFlag, machineCpuMs, machineInfo, numberFlag, onCleanup, percentile, pool, printMachine, printTable,
  registerDevices, runBench, type BridgeProcess, type DeviceCredentials, selfCpuMs, sleep, startBridgeProcess, stopAndShowProfile,
  keyTypeFlag, keyTypeName, throwawayTls, tlsFlags, UsageError, writeResults,
} from './lib/bench.ts';
import { connectMany } from './lib/fleet.ts';

/** DESIGN.md: 10,000 connected devices with ≤ 40 KB resident memory each. */
const TARGET_KB_PER_DEVICE = 40;

const usage = 'usage: npx tsx scripts/bench-connect.ts [--devices N (1000)] [--concurrency N (100)] [--settle SECONDS (2)] [--cpu-prof] [--tls [--key-type ec|rsa]]';

/** The bridge's count of connected devices (GET /health), once it reaches `expected` or after 5 s. */
async function bridgeDeviceCount(bridge: BridgeProcess, expected: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await bridge.api<{ devices_connected: number }>('GET', '/health');
    if (res.body.devices_connected === expected || Date.now() > deadline) return res.body.devices_connected;
    await sleep(100);
  }
}

interface Options {
  devices: number;
  /** Connections in progress at once. */
  concurrency: number;
  /** Wait before each RSS reading, seconds (nothing forces a GC: this is what runs). */
  settleSec: number;
  /** Profile the bridge (node --cpu-prof) into .bench/profiles/. */
  cpuProf: boolean;
  /** Plain MQTT, then MQTTS, in the same run. */
  tls: boolean;
  keyType: 'ec' | 'rsa';
}

/** One fleet connecting: over plain MQTT, or over TLS. */
interface Phase {
  name: 'plain MQTT' | 'MQTT over TLS';
  url: string;
  /** The CA's PEM the devices trust (TLS). */
  ca: string | undefined;
}

interface PhaseResult {
  phase: Phase['name'];
  connected: number;
  bridgeCount: number;
  failed: number;
  /** Connections lost after connecting (the SDK reconnects them). */
  drops: number;
  connectMs: number;
  connectsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** CPU % while connecting (100 = one core). */
  cpu: { bridge: number; generator: number; rest: number };
  bridgeRssKb: { before: number; after: number; perDevice: number };
  loadGenerator: { rssKbBefore: number; rssKbAfter: number; heapUsedKbAfter: number; perDeviceKb: number };
}

/** Connect every device (`concurrency` at a time), settle, and read the bridge's memory and count. */
async function connectFleet(bridge: BridgeProcess, creds: DeviceCredentials[], phase: Phase, options: Options, devices: Device[]): Promise<PhaseResult> {
  await sleep(options.settleSec * 1000);
  const bridgeBeforeKb = bridge.rssKb();
  const selfBefore = process.memoryUsage();

  console.log(`connecting ${fmt(creds.length)} devices over ${phase.name}, ${options.concurrency} at a time…`);
  const cpu = cpuMeter({ bridge: () => bridge.cpuMs(), generator: selfCpuMs, machine: machineCpuMs });
  const start = performance.now();
  const { latencies, failed, firstError, drops } = await connectMany(creds, { url: phase.url, ca: phase.ca, concurrency: options.concurrency }, devices);
  const connectMs = performance.now() - start;
  const cpuPct = cpu.read();
  if (failed > 0) console.error(`${failed} devices failed to connect over ${phase.name}; first error:`, firstError);

  await sleep(options.settleSec * 1000);
  // The bridge's own count, to be sure the connections are all there (it counts a device on
  // aedes' clientReady, which may come a little after the device saw its CONNACK).
  const bridgeCount = await bridgeDeviceCount(bridge, devices.length);
  const bridgeAfterKb = bridge.rssKb();
  const selfAfter = process.memoryUsage();
  const connected = devices.length;
  return {
    phase: phase.name,
    connected,
    bridgeCount,
    failed,
    drops: drops(),
    connectMs,
    connectsPerSec: (connected / connectMs) * 1000,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
    cpu: { bridge: cpuPct.bridge!, generator: cpuPct.generator!, rest: cpuPct.machine! - cpuPct.bridge! - cpuPct.generator! },
    bridgeRssKb: { before: bridgeBeforeKb, after: bridgeAfterKb, perDevice: (bridgeAfterKb - bridgeBeforeKb) / Math.max(1, connected) },
    loadGenerator: {
      rssKbBefore: selfBefore.rss / 1024, rssKbAfter: selfAfter.rss / 1024, heapUsedKbAfter: selfAfter.heapUsed / 1024,
      perDeviceKb: (selfAfter.rss - selfBefore.rss) / 1024 / Math.max(1, connected),
    },
  };
}

/** One phase, as the table has always been printed. */
function printPhase(r: PhaseResult, options: Options, cores: number): void {
  const ok = r.bridgeRssKb.perDevice <= TARGET_KB_PER_DEVICE;
  printTable(['measure', 'value', 'target'], [
    ['devices connected (SDK count / bridge count)', `${fmt(r.connected)} / ${fmt(r.bridgeCount)}`, `${fmt(options.devices)}`],
    ['failed connects / dropped after connecting', `${fmt(r.failed)} / ${fmt(r.drops)}`, '0 / 0'],
    ['time until all connected', `${fmt(r.connectMs / 1000, 2)} s`, ''],
    ['connect rate', `${fmt(r.connectsPerSec)} /s`, ''],
    ['connect latency p50 / p99 / max', `${fmt(r.latencyMs.p50, 1)} / ${fmt(r.latencyMs.p99, 1)} / ${fmt(r.latencyMs.max, 1)} ms`, ''],
    ['CPU while connecting: bridge / load generator / rest of machine',
      `${fmt(r.cpu.bridge)} % / ${fmt(r.cpu.generator)} % / ${fmt(r.cpu.rest)} %`, `of ${cores * 100} %`],
    ['bridge RSS before connecting', fmtKb(r.bridgeRssKb.before), ''],
    ['bridge RSS, all connected, after settle', fmtKb(r.bridgeRssKb.after), ''],
    ['bridge RSS per connected device', `${fmt(r.bridgeRssKb.perDevice, 1)} KB`, `≤ ${TARGET_KB_PER_DEVICE} KB ${ok ? '(met)' : '(MISSED)'}`],
    ['load generator RSS per device (info)', `${fmt(r.loadGenerator.perDeviceKb, 1)} KB`, ''],
    ['load generator RSS / heap used after', `${fmtKb(r.loadGenerator.rssKbAfter)} / ${fmtKb(r.loadGenerator.heapUsedKbAfter)}`, ''],
  ]);
}

/** Plain and TLS side by side, with TLS / plain for each figure. */
function printComparison(plain: PhaseResult, tls: PhaseResult, cores: number): void {
  const ratio = (a: number, b: number) => (b > 0 ? `${fmt(a / b, 2)}×` : '');
  const row = (measure: string, p: number, t: number, unit: string, digits = 0): string[] =>
    [measure, `${fmt(p, digits)} ${unit}`, `${fmt(t, digits)} ${unit}`, ratio(t, p)];
  printTable(['measure', 'plain MQTT', 'MQTT over TLS', 'TLS / plain'], [
    ['devices connected (SDK / bridge)', `${fmt(plain.connected)} / ${fmt(plain.bridgeCount)}`, `${fmt(tls.connected)} / ${fmt(tls.bridgeCount)}`, ''],
    row('time until all connected', plain.connectMs / 1000, tls.connectMs / 1000, 's', 2),
    row('connect rate', plain.connectsPerSec, tls.connectsPerSec, '/s'),
    row('connect latency p50', plain.latencyMs.p50, tls.latencyMs.p50, 'ms', 1),
    row('connect latency p99', plain.latencyMs.p99, tls.latencyMs.p99, 'ms', 1),
    row('bridge CPU while connecting', plain.cpu.bridge, tls.cpu.bridge, '%'),
    row('bridge CPU per connect', (plain.cpu.bridge / 100) * plain.connectMs * 1000 / Math.max(1, plain.connected),
      (tls.cpu.bridge / 100) * tls.connectMs * 1000 / Math.max(1, tls.connected), 'µs'),
    row('load generator CPU while connecting', plain.cpu.generator, tls.cpu.generator, '%'),
    [`rest of machine (of ${cores * 100} %)`, `${fmt(plain.cpu.rest)} %`, `${fmt(tls.cpu.rest)} %`, ''],
    row('bridge RSS per connected device', plain.bridgeRssKb.perDevice, tls.bridgeRssKb.perDevice, 'KB', 1),
  ]);
}

await runBench(async () => {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '100' },
      settle: { type: 'string', default: '2' },
      'cpu-prof': { type: 'boolean', default: false },
      ...tlsFlags,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return console.log(usage);
  const options: Options = {
    devices: intFlag('devices', values.devices),
    concurrency: intFlag('concurrency', values.concurrency),
    settleSec: numberFlag('settle', values.settle),
    cpuProf: values['cpu-prof'],
    tls: values.tls,
    keyType: keyTypeFlag(values['key-type']),
  };
  const machine = machineInfo();
  printMachine(machine);

  const tls = options.tls ? await throwawayTls(options.keyType) : undefined;
  const bridge = await startBridgeProcess({ nodeArgs: cpuProfArgs(options.cpuProf), ...(tls ? { tls } : {}) });
  console.log(`bridge pid ${bridge.pid}, MQTT ${bridge.mqttUrl}${bridge.mqttsUrl ? `, MQTTS ${bridge.mqttsUrl} (${keyTypeName(options.keyType)} certificate)` : ''}; ` +
    `registering ${fmt(options.devices)} devices…`);
  const registerStart = performance.now();
  const creds = await registerDevices(bridge, options.devices);
  const registerMs = performance.now() - registerStart;

  const devices: Device[] = [];
  // Disconnect before the bridge stops: an SDK device whose bridge goes away reconnects,
  // with backoff, forever.
  const disconnectAll = async () => {
    const all = devices.splice(0);
    await pool(all.length, 200, (i) => all[i]!.disconnect() ?? Promise.resolve());
  };
  onCleanup(disconnectAll);

  const phases: ((b: BridgeProcess) => Phase)[] = [(b) => ({ name: 'plain MQTT', url: b.mqttUrl, ca: undefined })];
  if (tls) phases.push((b) => ({ name: 'MQTT over TLS', url: b.mqttsUrl!, ca: b.caPem }));
  const results: PhaseResult[] = [];
  let current = bridge;
  for (const phaseOf of phases) {
    if (results.length > 0) {
      // A fresh bridge on the same data (the same devices), so this phase's memory starts clean.
      await disconnectAll();
      await current.stop();
      current = await startBridgeProcess({ nodeArgs: cpuProfArgs(options.cpuProf), dataDir: bridge.dataDir, ...(tls ? { tls } : {}) });
    }
    const phase = phaseOf(current);
    const r = await connectFleet(current, creds, phase, options, devices);
    results.push(r);
    console.log(`\n${phase.name}:\n`);
    printPhase(r, options, machine.cores);
  }
  if (results.length === 2) {
    console.log('\nthe cost of TLS (the same devices and data, in the same run):\n');
    printComparison(results[0]!, results[1]!, machine.cores);
  }
  console.log(`(registration of ${fmt(options.devices)} devices through the API, not timed above: ${fmt(registerMs / 1000, 2)} s)`);

  const main = results[0]!;
  const path = await writeResults('connect', {
    machine,
    options,
    results: {
      // The plain phase at the top level, as before; every phase under `phases`.
      devices: options.devices,
      connected: main.connected,
      bridgeCount: main.bridgeCount,
      failed: main.failed,
      drops: main.drops,
      connectMs: main.connectMs,
      connectsPerSec: main.connectsPerSec,
      cpuPercentWhileConnecting: main.cpu,
      latencyMs: main.latencyMs,
      bridgeRssKb: main.bridgeRssKb,
      targetKbPerDevice: TARGET_KB_PER_DEVICE,
      targetMet: main.bridgeRssKb.perDevice <= TARGET_KB_PER_DEVICE,
      loadGenerator: main.loadGenerator,
      registerMs,
      phases: results,
      ...(results.length === 2 ? { tlsOverPlain: { connectMs: results[1]!.connectMs / main.connectMs, bridgeRssPerDevice: results[1]!.bridgeRssKb.perDevice / main.bridgeRssKb.perDevice } } : {}),
    },
  });
  console.log(`results: ${path}`);
  if (options.cpuProf) {
    await disconnectAll();
    await stopAndShowProfile(current);
  }
  if (results.some((r) => r.failed > 0 || r.drops > 0 || r.bridgeCount !== options.devices)) process.exitCode = 1;
});
