// Broker throughput: simulated devices publishing to one service-client subscriber (`#`,
// QoS 0), for QoS 0 and QoS 1 publishes, in events/s received by the subscriber — against
// the bridge and, in the same run, against a bare aedes broker with no rules (the ceiling).
//
//   npx tsx scripts/bench-broker.ts [--seconds 5] [--warmup 1] [--devices 4] [--window 100]
//                                   [--rounds 3] [--generator auto|child|inline] [--cpu-prof]
//                                   [--tls [--key-type ec|rsa]]
//
// --tls: the cost of TLS instead of the bridge's own. The bridge serves a throwaway
// certificate (openssl, in a temp dir) on MQTTS beside plain MQTT, and the same load runs
// against both listeners of that one process (publishers and subscriber over TLS, then plain),
// alternating, so the ratio is TLS / plain MQTT on the same bridge in the same run.
//
// The broker under test (the bridge as users run it, or scripts/bare-broker.ts) runs in its
// own process; this one is the subscriber and the clock; the load generator
// (scripts/load-mqtt.ts) runs here too or in a child. On 2 cores, inline is the better
// choice, measured: with three busy processes the broker got 55-90 % of a core (the
// generator and subscriber took the rest); with two it gets a whole core (96-104 %), and
// this process stays under it. From 4 cores up each gets its own. Each case runs after a
// warm-up for a fixed window; the CPU each process used in the window is shown, to tell
// who the bottleneck was, and the broker's CPU time per event, its cost at any throughput.
// Results also go to .bench/broker.json.

import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import {
  cpuMeter, cpuProfArgs, fmt, fmtKb, intFlag, machineCpuMs, machineInfo, median, numberFlag, onCleanup, printMachine,
  printTable, registerDevices, runBench, selfCpuMs, sleep, spawnTs, startBridgeProcess, stopAndShowProfile, keyTypeFlag, keyTypeName, throwawayTls, tlsFlags, writeResults,
  UsageError, type Child, type DeviceCredentials,
} from './lib/bench.ts';
import { spawnLoad, startLoad, type Load, type LoadOptions, type RemoteLoad } from './load-mqtt.ts';

const EVENT = 'temp';
const DATA = '21.37'; // 5 bytes of text, a typical reading

/** CPU % (of all cores) taken by the rest of the machine above which a case counts as disturbed. */
const DISTURBED_PERCENT = 25;

const usage = `usage: npx tsx scripts/bench-broker.ts [options]
  --seconds S        measured window per case (5)
  --warmup S         publishing before the window opens (1)
  --devices N        publishing devices (4)
  --window N         publishes in flight per device (100)
  --rounds N         repeat every case; the median is reported (3)
  --generator MODE   child: the load generator in its own process; inline: in this one, with
                     the subscriber; auto: child from 4 cores up, inline below (auto)
  --cpu-prof         profile both brokers (node --cpu-prof) into .bench/profiles/
                     (it slows them: compare shares of time, not rates)
  --tls              the bridge over MQTTS against the same bridge over plain MQTT
                     (no bare aedes); a throwaway CA and certificate made by openssl
  --key-type ec|rsa  the certificate's key with --tls: ECDSA P-256 (certbot's default) or RSA 2048 (ec)`;

interface Target {
  name: 'bridge' | 'bare' | 'bridge over TLS';
  child: Child;
  url: string;
  /** The subscriber's credentials: a service client on the bridge; anything on bare aedes. */
  subscriber: { username: string; password: string };
  /** The CA's PEM that clients trust (mqtts://). */
  ca?: string | undefined;
}

interface CaseResult {
  target: Target['name'];
  qos: 0 | 1;
  round: number;
  /** Events the subscriber received per second in the window. */
  receivedPerSec: number;
  /** Publishes written (QoS 0) or acknowledged (QoS 1) per second in the window. */
  publishedPerSec: number;
  errors: number;
  /** CPU % in the window (100 = one core); `others`: the rest of the machine (kernel, other processes). */
  cpu: { broker: number; generator: number | null; bench: number; others: number };
  /** Broker CPU time per event received, µs: its cost, whatever the throughput. */
  brokerUsPerEvent: number;
  brokerRssKb: number;
}

/** The one subscriber: `#` at QoS 0, counting what arrives. */
async function subscribe(url: string, creds: Target['subscriber'], ca: string | undefined) {
  const client = mqtt.connect(url, {
    clientId: `bench-sub-${process.pid}`, username: creds.username, password: creds.password, ...(ca ? { ca } : {}),
    protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 10_000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const granted = await client.subscribeAsync('#', { qos: 0 });
  if (granted[0]?.qos !== 0) throw new Error(`subscription to # refused: ${JSON.stringify(granted)}`);
  let received = 0;
  client.on('message', () => received++);
  return {
    received: () => received,
    close: () => client.endAsync(true),
  };
}

/** Resolves true once `count()` has not changed for `quietMs`, false after `maxMs`. */
async function quiet(count: () => number, quietMs: number, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  let last = count();
  for (;;) {
    await sleep(quietMs);
    const now = count();
    if (now === last) return true;
    if (Date.now() > deadline) return false;
    last = now;
  }
}

await runBench(async () => {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      devices: { type: 'string', default: '4' },
      window: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '3' },
      generator: { type: 'string', default: 'auto' },
      'cpu-prof': { type: 'boolean', default: false },
      ...tlsFlags,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return console.log(usage);
  if (!['auto', 'child', 'inline'].includes(values.generator)) throw new UsageError('--generator must be auto, child or inline');
  const machine = machineInfo();
  printMachine(machine);
  const options = {
    seconds: numberFlag('seconds', values.seconds),
    warmupSec: numberFlag('warmup', values.warmup),
    devices: intFlag('devices', values.devices),
    window: intFlag('window', values.window),
    rounds: intFlag('rounds', values.rounds),
    generator: values.generator === 'auto' ? (machine.cores >= 4 ? 'child' : 'inline') : values.generator,
    cpuProf: values['cpu-prof'],
    tls: values.tls,
    keyType: keyTypeFlag(values['key-type']),
  };

  const nodeArgs = cpuProfArgs(options.cpuProf);
  const tls = options.tls ? await throwawayTls(options.keyType) : undefined;
  const bridge = await startBridgeProcess({ nodeArgs, ...(tls ? { tls } : {}) });
  const devices: DeviceCredentials[] = await registerDevices(bridge, options.devices);
  const asService = { username: 'bench', password: bridge.adminToken };

  // The subject and the baseline it is measured against, side by side in every round.
  let targets: [subject: Target, baseline: Target];
  let bare: Awaited<ReturnType<typeof spawnTs>> | undefined;
  if (tls) {
    targets = [
      { name: 'bridge over TLS', child: bridge, url: bridge.mqttsUrl!, subscriber: asService, ca: bridge.caPem },
      { name: 'bridge', child: bridge, url: bridge.mqttUrl, subscriber: asService },
    ];
    console.log(`bridge pid ${bridge.pid} (${bridge.mqttUrl} and ${bridge.mqttsUrl}, ${keyTypeName(options.keyType)} certificate); ` +
      `${options.devices} devices × ${options.window} in flight, generator: ${options.generator}`);
  } else {
    // The bare broker gets the bridge's socket options (no Nagle), so the ratio is about the
    // bridge's rules and ingress, not TCP settings.
    bare = await spawnTs({ name: 'bare-broker', script: 'scripts/bare-broker.ts', args: ['--no-delay'], nodeArgs, ready: (l) => typeof l.port === 'number' });
    const barePort = bare.line.port as number;
    targets = [
      { name: 'bridge', child: bridge, url: bridge.mqttUrl, subscriber: asService },
      { name: 'bare', child: bare.child, url: `mqtt://127.0.0.1:${barePort}`, subscriber: { username: 'bench', password: 'any' } },
    ];
    console.log(`bridge pid ${bridge.pid} (${bridge.mqttUrl}), bare aedes pid ${bare.child.pid} (port ${barePort}); ` +
      `${options.devices} devices × ${options.window} in flight, generator: ${options.generator}`);
  }
  const [subject, baseline] = targets;

  let running: { load: Load; close: () => Promise<unknown> } | undefined;
  onCleanup(async () => {
    if (!running) return;
    await running.load.stop();
    await running.close();
  });

  async function runCase(target: Target, qos: 0 | 1, round: number): Promise<CaseResult> {
    const sub = await subscribe(target.url, target.subscriber, target.ca);
    const loadOptions: LoadOptions = { url: target.url, devices, qos, window: options.window, topic: EVENT, payload: DATA, ca: target.ca };
    const load = options.generator === 'child' ? await spawnLoad(loadOptions) : await startLoad(loadOptions);
    running = { load, close: sub.close };
    const generatorChild = options.generator === 'child' ? (load as RemoteLoad).child : null;

    await sleep(options.warmupSec * 1000);
    const meter = cpuMeter({
      broker: () => target.child.cpuMs(),
      bench: selfCpuMs,
      machine: machineCpuMs,
      ...(generatorChild ? { generator: () => generatorChild.cpuMs() } : {}),
    });
    const start = performance.now();
    const received0 = sub.received();
    const sent0 = await load.stats();
    await sleep(options.seconds * 1000);
    const received1 = sub.received();
    const sent1 = await load.stats();
    const elapsedSec = (performance.now() - start) / 1000;
    const cpu = meter.read();
    const brokerRssKb = target.child.rssKb();
    const receivedPerSec = (received1 - received0) / elapsedSec;

    await load.stop();
    // Close the subscriber only once the broker has delivered its backlog: aedes' mqemitter
    // drains a queue it holds for no subscriber recursively and dies of a stack overflow
    // (mcollina/mqemitter#204). The next case starts on an idle broker too.
    const drained = await quiet(sub.received, 250, 15_000);
    await sub.close();
    running = undefined;
    if (!drained) console.error(`  (${target.name} was still delivering 15 s after the load stopped)`);
    return {
      target: target.name, qos, round,
      receivedPerSec,
      publishedPerSec: (sent1.done - sent0.done) / elapsedSec,
      errors: sent1.errors,
      cpu: {
        broker: cpu.broker!, generator: cpu.generator ?? null, bench: cpu.bench!,
        others: cpu.machine! - cpu.broker! - (cpu.generator ?? 0) - cpu.bench!,
      },
      brokerUsPerEvent: (cpu.broker! / 100) * 1e6 / receivedPerSec,
      brokerRssKb,
    };
  }

  const cases: CaseResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const qos of [0, 1] as const) {
      // The subject and its baseline side by side, so drift on the machine hits both.
      for (const target of targets) {
        const r = await runCase(target, qos, round);
        cases.push(r);
        console.log(`  round ${round} QoS ${qos} ${target.name.padEnd(15)} ${fmt(r.receivedPerSec).padStart(9)} events/s received`);
      }
    }
  }

  // On a shared machine, a case during which other processes took CPU is not comparable:
  // summarise the undisturbed cases when each target has some, all of them otherwise.
  const undisturbed = cases.filter((c) => c.cpu.others <= DISTURBED_PERCENT);
  const summary = ([0, 1] as const).map((qos) => {
    const pick = (target: Target['name']) => {
      const all = cases.filter((c) => c.target === target && c.qos === qos);
      const quiet = undisturbed.filter((c) => c.target === target && c.qos === qos);
      return quiet.length > 0 ? quiet : all;
    };
    const subjectCases = pick(subject.name);
    const baselineCases = pick(baseline.name);
    const subjectRate = median(subjectCases.map((c) => c.receivedPerSec));
    const baselineRate = median(baselineCases.map((c) => c.receivedPerSec));
    const subjectUs = median(subjectCases.map((c) => c.brokerUsPerEvent));
    const baselineUs = median(baselineCases.map((c) => c.brokerUsPerEvent));
    return {
      qos, subject: subject.name, baseline: baseline.name,
      // Kept under the names earlier results used: bridge = the subject, bare = the baseline.
      bridge: subjectRate, bare: baselineRate, ratio: subjectRate / baselineRate,
      bridgeUsPerEvent: subjectUs, bareUsPerEvent: baselineUs,
      cases: { bridge: subjectCases.length, bare: baselineCases.length },
    };
  });

  console.log('\nper case (CPU: 100 % = one core busy for the whole window):\n');
  printTable(['round', 'target', 'QoS', 'received/s', 'published/s', 'broker CPU', 'broker µs/event', 'generator CPU', 'bench CPU', 'rest of machine', 'broker RSS'],
    cases.map((c) => [String(c.round), c.target, String(c.qos), c.receivedPerSec, c.publishedPerSec,
      `${fmt(c.cpu.broker)} %`, fmt(c.brokerUsPerEvent, 1), c.cpu.generator === null ? 'in bench' : `${fmt(c.cpu.generator)} %`,
      `${fmt(c.cpu.bench)} %`, `${fmt(c.cpu.others)} %${c.cpu.others > DISTURBED_PERCENT ? ' (disturbed)' : ''}`, fmtKb(c.brokerRssKb)]));
  console.log(`(${machine.cores} cores = ${machine.cores * 100} %. "bench CPU": this process, the subscriber (and the generator when inline). ` +
    '"rest of machine": CPU used by the kernel and other processes; ' +
    `over ${DISTURBED_PERCENT} % marks a case disturbed by something else on the machine.)`);

  const used = summary.every((s) => s.cases.bridge + s.cases.bare === 2 * options.rounds) ? `all ${options.rounds} rounds` : 'undisturbed cases only where there were some';
  console.log(`\nevents/s received by the subscriber (median, ${used}; ${options.seconds} s windows):\n`);
  const [sName, bName] = tls ? ['TLS', 'plain'] : ['bridge', 'bare'];
  printTable(['publish QoS', `${subject.name} events/s`, `${baseline.name === 'bare' ? 'bare aedes' : baseline.name} events/s`, `${sName} / ${bName}`,
    `broker µs/event ${sName}`, bName, `${sName} / ${bName}`],
    summary.map((s) => [String(s.qos), s.bridge, s.bare, `${fmt(s.ratio * 100)} %`,
      fmt(s.bridgeUsPerEvent, 1), fmt(s.bareUsPerEvent, 1), `${fmt((s.bridgeUsPerEvent / s.bareUsPerEvent) * 100)} %`]));
  if (undisturbed.length < cases.length / 2) {
    console.error('\nwarning: most cases were disturbed by other load on the machine; the figures above are unreliable.');
  }
  const errors = cases.reduce((n, c) => n + c.errors, 0);
  if (errors > 0) console.error(`${errors} publish errors`);

  const path = await writeResults('broker', { machine, options, results: { summary, cases } });
  console.log(`\nresults: ${path}`);

  if (options.cpuProf) {
    await stopAndShowProfile(bridge);
    if (bare) await stopAndShowProfile(bare.child);
  }
});
