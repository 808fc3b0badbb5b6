// Connected devices: how long N devices take to connect to a bridge, and the bridge's
// resident memory per connected device (target: ≤ 40 KB each, DESIGN.md Performance targets).
//
//   npx tsx scripts/bench-connect.ts [--devices 1000] [--concurrency 100] [--settle 2] [--cpu-prof]
//
// The bridge runs in its own process, as users run it; the devices are the SDK's
// (`connectDevice`), in this process. Registration through the API is not timed. Memory per
// device = (bridge RSS once all are connected and a settle wait has passed − bridge RSS just
// before connecting) / N, from /proc/<pid>/status. Results also go to .bench/connect.json.

import { parseArgs } from 'node:util';
import { connectDevice } from '../firmware-sdk/index.ts';
import type { Device } from '../firmware-sdk/index.ts';
import {
  cpuMeter, cpuProfArgs, fmt, fmtKb, intFlag, machineCpuMs, machineInfo, numberFlag, onCleanup, percentile, pool, printMachine, printTable,
  registerDevices, runBench, type BridgeProcess, selfCpuMs, sleep, startBridgeProcess, stopAndShowProfile, writeResults,
} from './lib/bench.ts';

/** DESIGN.md: 10,000 connected devices with ≤ 40 KB resident memory each. */
const TARGET_KB_PER_DEVICE = 40;
/** A device not connected by then counts as failed (the SDK itself retries forever). */
const CONNECT_TIMEOUT_MS = 30_000;

const usage = 'usage: npx tsx scripts/bench-connect.ts [--devices N (1000)] [--concurrency N (100)] [--settle SECONDS (2)] [--cpu-prof]';

/** The bridge's count of connected devices (GET /health), once it reaches `expected` or after 5 s. */
async function bridgeDeviceCount(bridge: BridgeProcess, expected: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await bridge.api<{ devices_connected: number }>('GET', '/health');
    if (res.body.devices_connected === expected || Date.now() > deadline) return res.body.devices_connected;
    await sleep(100);
  }
}

await runBench(async () => {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '100' },
      settle: { type: 'string', default: '2' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return console.log(usage);
  const options = {
    devices: intFlag('devices', values.devices),
    /** Connections in progress at once. */
    concurrency: intFlag('concurrency', values.concurrency),
    /** Wait before each RSS reading, seconds (nothing forces a GC: this is what runs). */
    settleSec: numberFlag('settle', values.settle),
    /** Profile the bridge (node --cpu-prof) into .bench/profiles/. */
    cpuProf: values['cpu-prof'],
  };
  const machine = machineInfo();
  printMachine(machine);

  const bridge = await startBridgeProcess({ nodeArgs: cpuProfArgs(options.cpuProf) });
  console.log(`bridge pid ${bridge.pid}, MQTT ${bridge.mqttUrl}; registering ${fmt(options.devices)} devices…`);
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

  await sleep(options.settleSec * 1000);
  const bridgeBeforeKb = bridge.rssKb();
  const selfBefore = process.memoryUsage();

  console.log(`connecting ${fmt(options.devices)} devices, ${options.concurrency} at a time…`);
  const latencies: number[] = [];
  let failed = 0;
  let drops = 0; // connections lost after connecting (the SDK reconnects them)
  let firstError: unknown;
  const cpu = cpuMeter({ bridge: () => bridge.cpuMs(), generator: selfCpuMs, machine: machineCpuMs });
  const start = performance.now();
  await pool(options.devices, options.concurrency, async (i) => {
    const c = creds[i]!;
    const t = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const device = connectDevice({ url: bridge.mqttUrl, deviceId: c.id, token: c.token });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not connected in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      });
      const connected = await Promise.race([device, timeout]);
      connected.on('disconnect', () => drops++);
      devices.push(connected);
      latencies.push(performance.now() - t);
    } catch (err) {
      failed++;
      firstError ??= err;
    } finally {
      clearTimeout(timer);
    }
  });
  const connectMs = performance.now() - start;
  const cpuPct = cpu.read();
  if (failed > 0) console.error(`${failed} devices failed to connect; first error:`, firstError);

  await sleep(options.settleSec * 1000);
  // The bridge's own count, to be sure the connections are all there (it counts a device on
  // aedes' clientReady, which may come a little after the device saw its CONNACK).
  const bridgeCount = await bridgeDeviceCount(bridge, devices.length);
  const bridgeAfterKb = bridge.rssKb();
  const selfAfter = process.memoryUsage();
  const connected = devices.length;
  const perDeviceKb = (bridgeAfterKb - bridgeBeforeKb) / Math.max(1, connected);
  const selfPerDeviceKb = (selfAfter.rss - selfBefore.rss) / 1024 / Math.max(1, connected);
  const ok = perDeviceKb <= TARGET_KB_PER_DEVICE;

  console.log();
  printTable(['measure', 'value', 'target'], [
    ['devices connected (SDK count / bridge count)', `${fmt(connected)} / ${fmt(bridgeCount)}`, `${fmt(options.devices)}`],
    ['failed connects / dropped after connecting', `${fmt(failed)} / ${fmt(drops)}`, '0 / 0'],
    ['time until all connected', `${fmt(connectMs / 1000, 2)} s`, ''],
    ['connect rate', `${fmt((connected / connectMs) * 1000)} /s`, ''],
    ['connect latency p50 / p99 / max', `${fmt(percentile(latencies, 50), 1)} / ${fmt(percentile(latencies, 99), 1)} / ${fmt(percentile(latencies, 100), 1)} ms`, ''],
    ['CPU while connecting: bridge / load generator / rest of machine',
      `${fmt(cpuPct.bridge!)} % / ${fmt(cpuPct.generator!)} % / ${fmt(cpuPct.machine! - cpuPct.bridge! - cpuPct.generator!)} %`, `of ${machine.cores * 100} %`],
    ['bridge RSS before connecting', fmtKb(bridgeBeforeKb), ''],
    ['bridge RSS, all connected, after settle', fmtKb(bridgeAfterKb), ''],
    ['bridge RSS per connected device', `${fmt(perDeviceKb, 1)} KB`, `≤ ${TARGET_KB_PER_DEVICE} KB ${ok ? '(met)' : '(MISSED)'}`],
    ['load generator RSS per device (info)', `${fmt(selfPerDeviceKb, 1)} KB`, ''],
    ['load generator RSS / heap used after', `${fmtKb(selfAfter.rss / 1024)} / ${fmtKb(selfAfter.heapUsed / 1024)}`, ''],
  ]);
  console.log(`(registration of ${fmt(options.devices)} devices through the API, not timed above: ${fmt(registerMs / 1000, 2)} s)`);

  const path = await writeResults('connect', {
    machine,
    options,
    results: {
      devices: options.devices,
      connected,
      bridgeCount,
      failed,
      drops,
      connectMs,
      connectsPerSec: (connected / connectMs) * 1000,
      cpuPercentWhileConnecting: cpuPct,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      bridgeRssKb: { before: bridgeBeforeKb, after: bridgeAfterKb, perDevice: perDeviceKb },
      targetKbPerDevice: TARGET_KB_PER_DEVICE,
      targetMet: ok,
      loadGenerator: { rssKbBefore: selfBefore.rss / 1024, rssKbAfter: selfAfter.rss / 1024, heapUsedKbAfter: selfAfter.heapUsed / 1024, perDeviceKb: selfPerDeviceKb },
      registerMs,
    },
  });
  console.log(`results: ${path}`);
  if (options.cpuProf) {
    await disconnectAll();
    await stopAndShowProfile(bridge);
  }
  if (failed > 0 || drops > 0 || bridgeCount !== options.devices) process.exitCode = 1;
});
