// Several bridges sharing PostgreSQL and Redis, measured: `npm run bench:cluster`.
//
//   npx tsx scripts/bench-cluster.ts [--only throughput,devices,takeover] [--setups sqlite,1,2,3]
//        [--seconds 10] [--warmup 3] [--inflight 128] [--rate 500] [--devices 60]
//        [--fleet 30000] [--fleet-bridges 3] [--concurrency 100] [--settle 2]
//        [--held 200] [--lease-sec 5] [--takeover-max-sec 60] [--cpu-prof]
//
// PostgreSQL and Redis are started here as the tests start theirs (test/helpers/postgres.ts,
// redis.ts: free ports on 127.0.0.1, data in temporary folders, durability off, nothing saved);
// every bridge is a child process (`node bridge/cli/bin.js start`, its own data dir, the store
// and Redis given by HOOKWIRE_STORE and HOOKWIRE_REDIS), so the CPU time of each process is read
// from /proc: the bridges, PostgreSQL (the postmaster, its backends, and those that exited),
// Redis, the devices' process (load), the receiver, this process (bench).
//
// 1. throughput  The same load on each setup: `sqlite` (one bridge, the default store, no
//                Redis) and N bridges on one PostgreSQL database and one Redis (a fresh database
//                and an emptied Redis per setup). The devices (scripts/load-webhooks.ts: SDK
//                devices, QoS 1, one process) are spread evenly over the bridges, device k on
//                bridge k mod N; 10 integrations (one matches: POST to scripts/receiver.ts,
//                which records publish → arrival from the event's own timestamp). Two windows:
//                  closed loop  --inflight events published and not yet delivered (hook-sent
//                               seen by a service client on bridge 1: through the shared broker
//                               it sees every bridge's), for the most the machine does;
//                  fixed rate   --rate events/s (open loop, round robin over the devices), the
//                               same offered load on every setup, well under saturation: CPU per
//                               event compares the cost of the same work, and latency is not
//                               the queueing a saturated loop adds (Little's law).
//                Reported: events/s, publish → webhook at the receiver p50/p99, and CPU time per
//                event of the bridges, PostgreSQL, Redis, the devices and the receiver.
// 2. devices     --fleet devices (SDK, plain MQTT) connected over --fleet-bridges bridges on
//                PostgreSQL + Redis, spread evenly, each bridge's share from a process of its
//                own (scripts/lib/fleet.ts; one process could not open that many sockets):
//                time until all are connected, RSS of each bridge before and after and per
//                device, Redis INFO memory before and after, CPU per connect. Limits: every
//                process needs a file descriptor per connection (its soft `ulimit -n`, checked
//                first; raise it in the shell that runs the bench), and a destination address
//                and port takes at most ip_local_port_range connections from one source address
//                (28,232 here): each bridge listens on its own port, so that limit is per
//                bridge, and Linux reuses a source port towards different destinations.
// 3. takeover    Three bridges; bridge A holds --held deliveries: its devices' events go to an
//                integration whose target accepts connections and never answers (32 requests
//                hang there, the rest wait in A's lane, all leased to A; A's webhook timeout is
//                raised so none gives up). A is SIGKILLed, the target is replaced by the
//                receiver on the same port, and the survivors, once A's leases end, claim and
//                deliver them: time from the kill to the first and to the last delivery at the
//                receiver. Once with the default lease (60 s), and with --lease-sec when the
//                bridge has HOOKWIRE_DELIVERY_LEASE_SEC. A lease is renewed every quarter of
//                it, so it ends 0.75-1 lease after the kill; the survivors look for such work
//                every few seconds.
//
// Results go to .bench/cluster.json and are printed as tables and a JSON summary. On a shared
// machine, the load average at the start and end of each part is printed beside its figures.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import {
  cpuMeter, cpuProfArgs, fmt, fmtKb, intFlag, machineCpuMs, machineInfo, numberFlag, onCleanup, printMachine, printTable, registerDevices, ROOT,
  runBench, selfCpuMs, sleep, spawnTs, UsageError, writeResults, type BridgeProcess, type DeviceCredentials,
} from './lib/bench.ts';
import {
  bridgeKnowsEnv, clusterAvailable, clusterInstall, ephemeralPorts, openFilesLimit, startBridges, startServers, type RedisMemory, type Servers,
} from './lib/cluster.ts';
import { startBlackhole } from './lib/delivery.ts';
import type { FleetResult } from './lib/fleet.ts';
import { remote } from './lib/ipc.ts';
import { matchFixtures } from './lib/match-fixtures.ts';
import {
  addIntegrations, benchStack, benchTemplate, closedWindow, consistent, EVENT, latencyRow, latencyWindow, printProfile, profileOf, spawnDevices,
  spawnReceiver, until,
  type LatencyRow, type ReceiverStats, type Stack,
} from './lib/stack.ts';
import type { ClosedStats } from './load-webhooks.ts';

const PARTS = ['throughput', 'devices', 'takeover'] as const;
type Part = (typeof PARTS)[number];

/** The lease setting another bridge's claims run out by (bridge/config.ts). */
const LEASE_ENV = 'HOOKWIRE_DELIVERY_LEASE_SEC';
/** A fixed-rate window whose median latency is above this was not keeping up (a backlog, not a cost), ms. */
const KEPT_UP_P50_MS = 100;
const DEFAULT_LEASE_SEC = 60;

const usage = `usage: npx tsx scripts/bench-cluster.ts [options]   (npm run bench:cluster -- [options])
  --only PARTS          throughput, devices, takeover, comma-separated (all)
  throughput:
  --setups LIST         sqlite (one bridge on SQLite) and/or numbers of bridges on PostgreSQL + Redis
                        (sqlite,1,2,3)
  --seconds S           each measured window (10)
  --warmup S            load before each window (3)
  --inflight N          closed loop: events published and not yet delivered (128)
  --rate N              fixed rate: events/s over all devices (500: below what 3 bridges, PostgreSQL,
                        Redis, the devices and the receiver sustain together on 2 cores)
  --devices N           devices, spread evenly over the bridges (60)
  devices:
  --fleet N             devices to connect (30000)
  --fleet-bridges N     bridges they connect to, evenly (3)
  --concurrency N       connects in progress at once per bridge (100)
  --settle S            wait before each memory reading (2)
  takeover:
  --held N              deliveries held by the bridge that is killed (200; at most 1,032: the
                        32 requests in flight and 1,000 waiting in its lane)
  --lease-sec S         the short lease, when the bridge has ${LEASE_ENV} (5; 0: only the default)
  --takeover-max-sec S  give up this long after the lease has run out (60)
  --cpu-prof            throughput: profile every bridge into .bench/profiles/ and summarise its
                        closed-loop window (it slows the bridges: compare shares of time, not rates)`;

interface Options {
  only: Set<Part>;
  setups: string[];
  seconds: number;
  warmupSec: number;
  inflight: number;
  rate: number;
  devices: number;
  fleet: number;
  fleetBridges: number;
  concurrency: number;
  settleSec: number;
  held: number;
  leaseSec: number;
  takeoverMaxSec: number;
  cpuProf: boolean;
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const us = (cpuPercent: number, perSec: number) => (perSec > 0 ? ((cpuPercent / 100) * 1e6) / perSec : NaN);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const ms = (ns: bigint) => Number(ns) / 1e6;

/** Stop bridges (last first), never failing the bench. */
async function stopAll(bridges: BridgeProcess[]): Promise<void> {
  for (const b of [...bridges].reverse()) await b.stop().catch(() => {});
}

/** A fresh database and an empty Redis for one setup. */
async function freshServers(servers: Servers): Promise<string> {
  await servers.redis.restart(50);
  return servers.createDatabase();
}

// ---------------------------------------------------------------------------------------
// 1. Throughput

interface Cpu {
  /** CPU %, 100 = one core: all bridges, each bridge, PostgreSQL, Redis, devices, receiver, this process, the rest of the machine. */
  bridges: number;
  perBridge: number[];
  postgres: number | null;
  redis: number | null;
  load: number;
  receiver: number;
  bench: number;
  rest: number;
}

interface PerEvent {
  /** CPU µs per event. */
  bridges: number;
  postgres: number | null;
  redis: number | null;
  /** bridges + PostgreSQL + Redis */
  server: number;
  load: number;
  receiver: number;
}

interface SetupResult {
  setup: string;
  label: string;
  bridges: number;
  closed: {
    perSec: number;
    receiverPerSec: number;
    latency: LatencyRow;
    cpu: Cpu;
    usPerEvent: PerEvent;
    bridgeRssKb: number[];
    consistent: boolean;
  };
  rate: {
    offered: number;
    /** Published per second in the window, and delivered (requests at the receiver). */
    achieved: number;
    receiverPerSec: number;
    /** Delivered what was published, no backlog growing: its CPU per event is the cost of the work. */
    keptUp: boolean;
    receiver: LatencyRow;
    device: LatencyRow;
    cpu: Cpu;
    usPerEvent: PerEvent;
    /** Every event measured reached the receiver once and its answer its device. */
    complete: boolean;
  };
  loadAverage: { start: string; end: string };
}

function perEvent(cpu: Cpu, perSec: number): PerEvent {
  const pg = cpu.postgres === null ? null : us(cpu.postgres, perSec);
  const redis = cpu.redis === null ? null : us(cpu.redis, perSec);
  const bridges = us(cpu.bridges, perSec);
  return { bridges, postgres: pg, redis, server: bridges + (pg ?? 0) + (redis ?? 0), load: us(cpu.load, perSec), receiver: us(cpu.receiver, perSec) };
}

function setupLabel(setup: string): string {
  if (setup === 'sqlite') return '1 bridge, SQLite';
  return `${setup} bridge${setup === '1' ? '' : 's'}, PostgreSQL + Redis`;
}

async function runSetup(setup: string, o: Options, servers: Servers | null, receiver: Awaited<ReturnType<typeof spawnReceiver>>): Promise<SetupResult> {
  const shared = setup !== 'sqlite';
  const n = shared ? Number(setup) : 1;
  const label = setupLabel(setup);
  const load0 = loadAverage();
  console.log(`\n### ${label} (load average ${load0})`);
  const storeUrl = shared ? await freshServers(servers!) : undefined;
  const env: Record<string, string> = shared ? { HOOKWIRE_STORE: storeUrl!, HOOKWIRE_REDIS: servers!.redis.url } : {};
  const bridges: BridgeProcess[] = [];
  try {
    // Bridge 1 with the devices and the 10 integrations (scripts/bench.ts' stack); the others on the same store.
    const stack: Stack = await benchStack({ devices: o.devices, cpuProf: o.cpuProf, bridge: { name: 'bridge 1', env } }, receiver.port, matchFixtures());
    bridges.push(stack.bridge);
    if (n > 1) {
      const more = await startBridges(n - 1, { storeUrl, redisUrl: servers!.redis.url, firstNumber: 2, nodeArgs: cpuProfArgs(o.cpuProf) });
      bridges.push(...more);
    }
    const first = bridges[0]!;
    const mqttUrls = bridges.map((b) => b.mqttUrl);
    console.log(`bridges: ${bridges.map((b) => `${b.name} pid ${b.pid} ${b.mqttUrl}`).join('; ')}`);

    const sources: Record<string, () => number> = Object.fromEntries(bridges.map((b, i) => [`bridge${i}`, () => b.cpuMs()]));
    if (shared) Object.assign(sources, { postgres: servers!.postgresCpuMs, redis: servers!.redisCpuMs });
    const all = { cpuMs: () => sum(bridges.map((b) => b.cpuMs())), rssKb: () => sum(bridges.map((b) => b.rssKb())) };
    const cpuOf = (parts: Record<string, number>, base: { load: number; receiver: number; bench: number; machine: number }): Cpu => {
      const perBridge = bridges.map((_, i) => parts[`bridge${i}`]!);
      const pg = shared ? parts.postgres! : null;
      const redis = shared ? parts.redis! : null;
      const bridgesCpu = sum(perBridge);
      return {
        bridges: bridgesCpu, perBridge, postgres: pg, redis, load: base.load, receiver: base.receiver, bench: base.bench,
        rest: Math.max(0, base.machine - bridgesCpu - (pg ?? 0) - (redis ?? 0) - base.load - base.receiver - base.bench),
      };
    };

    // Closed loop.
    const devices = await spawnDevices({
      mqttUrl: first.mqttUrl, mqttUrls, devices: stack.devices, event: EVENT, mode: 'closed', inflight: o.inflight, rate: 0,
      service: { username: 'bench', password: first.adminToken },
    }, 'load (closed loop)');
    let samples: { ids: number[]; latencyNs: number[] } = { ids: [], latencyNs: [] };
    const closed = await closedWindow({
      name: label, bridge: all, parts: { ...sources, machine: machineCpuMs }, integrations: stack.integrations, devices, receiver,
      warmupSec: o.warmupSec, seconds: o.seconds,
      atWindowStart: async () => {
        await receiver.rpc.call('record', true); // forget the warm-up's samples
      },
      atWindowEnd: async () => {
        samples = await receiver.rpc.call('samples');
      },
    });
    const closedRssKb = bridges.map((b) => b.rssKb());
    await devices.rpc.call('close');
    await devices.child.stop();
    const closedCpu = cpuOf(closed.cpuParts!, { ...closed.cpu, machine: closed.cpuParts!.machine! });
    const closedLatency = latencyRow('publish → webhook at the receiver (closed loop)', samples.latencyNs, samples.latencyNs.length);
    console.log(`  closed loop: ${fmt(closed.perSec)} events/s, p50 ${fmt(closedLatency.p50, 2)} ms, p99 ${fmt(closedLatency.p99, 2)} ms`);

    // Fixed rate.
    await receiver.rpc.call('record', true); // IDs start again at 0 in the new devices' process
    let rateMeter: ReturnType<typeof cpuMeter> | undefined;
    let rateParts: Record<string, number> = {};
    const received = { from: 0, to: 0, start: 0, sec: 0 };
    const lw = await latencyWindow({
      bridge: { ...first, cpuMs: all.cpuMs }, devices: stack.devices, receiver, rate: o.rate, warmupSec: o.warmupSec, seconds: o.seconds,
      name: 'load (fixed rate)', mqttUrls,
      atWindowStart: async () => {
        rateMeter = cpuMeter(sources);
        received.from = await receiver.count();
        received.start = performance.now();
      },
      atWindowEnd: async () => {
        rateParts = rateMeter!.read();
        received.to = await receiver.count();
        received.sec = (performance.now() - received.start) / 1000;
      },
    });
    const rateCpu = cpuOf(rateParts, { load: lw.cpu.load!, receiver: lw.cpu.receiver!, bench: lw.cpu.bench!, machine: lw.cpu.machine! });
    const achieved = lw.result.achievedRate;
    const receiverRow = latencyRow('publish → webhook at the receiver', lw.receiverNs, lw.expected);
    const deviceRow = latencyRow('publish → hook-response at the device', lw.result.rttNs, lw.expected);
    const complete = lw.receiverNs.length === lw.expected && lw.duplicates === 0 && lw.result.responses >= lw.expected && lw.bad === 0;
    const receiverPerSec = (received.to - received.from) / received.sec;
    // Kept up: delivered in the window what was published, without a backlog growing (its latency would).
    const keptUp = receiverPerSec >= 0.95 * achieved && receiverRow.p50 < KEPT_UP_P50_MS;
    console.log(`  fixed rate: ${fmt(achieved)} events/s, receiver p50 ${fmt(receiverRow.p50, 2)} ms, p99 ${fmt(receiverRow.p99, 2)} ms` +
      `${complete ? '' : ` (INCOMPLETE: ${lw.receiverNs.length} of ${lw.expected} received, ${lw.result.responses} answered, ${lw.duplicates} twice)`}` +
      `${keptUp ? '' : ` (BEHIND: ${fmt(receiverPerSec)} delivered/s in the window: a lower --rate measures the cost)`}`);

    if (o.cpuProf) {
      for (const b of bridges) for (const p of await profileOf(b, [{ name: `${label}, ${b.name}, closed loop`, window: closed.window }])) printProfile(p);
    }
    return {
      setup, label, bridges: n,
      closed: {
        perSec: closed.perSec, receiverPerSec: closed.receiverPerSec, latency: closedLatency, cpu: closedCpu, usPerEvent: perEvent(closedCpu, closed.perSec),
        bridgeRssKb: closedRssKb, consistent: consistent(closed),
      },
      rate: { offered: o.rate, achieved, receiverPerSec, keptUp, receiver: receiverRow, device: deviceRow, cpu: rateCpu, usPerEvent: perEvent(rateCpu, achieved), complete },
      loadAverage: { start: load0, end: loadAverage() },
    };
  } finally {
    await stopAll(bridges);
  }
}

async function runThroughput(o: Options, servers: Servers | null): Promise<SetupResult[]> {
  console.log(`\n## Throughput: the same load on ${o.setups.map(setupLabel).join('; ')}. ${o.devices} devices (QoS 1) spread evenly over ` +
    `the bridges, 10 integrations (one matches). Each setup: a closed loop (${o.inflight} events in flight) for the most the machine ` +
    `does, then a fixed rate (${fmt(o.rate)} events/s) for the cost of the same work; ${o.seconds} s windows after ${o.warmupSec} s warm-up.`);
  const receiver = await spawnReceiver(true);
  const results: SetupResult[] = [];
  try {
    for (const setup of o.setups) results.push(await runSetup(setup, o, servers, receiver));
  } finally {
    await receiver.child.stop();
  }
  const cores = machineInfo().cores;
  const cell = (v: number | null, digits = 0) => (v === null ? '-' : fmt(v, digits));
  const pct = (v: number | null) => (v === null ? '-' : `${fmt(v)} %`);

  console.log(`\nclosed loop, ${o.inflight} events in flight (the most this machine does; CPU: 100 % = one core, ${cores * 100} % in all; ` +
    'latency: publish → webhook request at the receiver):\n');
  printTable(['setup', 'events/s', 'p50 ms', 'p99 ms', 'bridges CPU', 'each bridge', 'PostgreSQL CPU', 'Redis CPU', 'devices + receiver CPU', 'rest of machine', 'consistent'],
    results.map((r) => {
      const c = r.closed;
      return [r.label, c.perSec, fmt(c.latency.p50, 2), fmt(c.latency.p99, 2), pct(c.cpu.bridges), c.cpu.perBridge.map((v) => fmt(v)).join(' / '),
        pct(c.cpu.postgres), pct(c.cpu.redis), pct(c.cpu.load + c.cpu.receiver), pct(c.cpu.rest), c.consistent ? 'yes' : 'NO'];
    }));
  console.log(`\nfixed rate, ${fmt(o.rate)} events/s offered (the same work on every setup):\n`);
  printTable(['setup', 'published/s', 'delivered/s', 'receiver p50 ms', 'receiver p99 ms', 'device p50 ms', 'device p99 ms', 'bridges CPU', 'PostgreSQL CPU',
    'Redis CPU', 'rest of machine', 'kept up', 'complete'],
  results.map((r) => {
    const c = r.rate;
    return [r.label, c.achieved, c.receiverPerSec, fmt(c.receiver.p50, 2), fmt(c.receiver.p99, 2), fmt(c.device.p50, 2), fmt(c.device.p99, 2), pct(c.cpu.bridges),
      pct(c.cpu.postgres), pct(c.cpu.redis), pct(c.cpu.rest), c.keptUp ? 'yes' : 'NO', c.complete ? 'yes' : 'NO'];
  }));
  console.log('\nCPU time per event, µs (user + system, from /proc; server = bridges + PostgreSQL + Redis):\n');
  printTable(['setup', 'window', 'bridges', 'PostgreSQL', 'Redis', 'server', 'devices', 'receiver', 'events/s per core of bridge'],
    results.flatMap((r) => (['closed', 'rate'] as const).map((w) => {
      const e = r[w].usPerEvent;
      return [r.label, w === 'closed' ? 'closed loop' : 'fixed rate', cell(e.bridges, 1), cell(e.postgres, 1), cell(e.redis, 1), cell(e.server, 1),
        cell(e.load, 1), cell(e.receiver, 1), fmt(1e6 / e.bridges)];
    })));
  console.log('(events/s per core of bridge: 1 s of CPU / the bridges\' µs per event, PostgreSQL and Redis on cores of their own. ' +
    'The closed loop saturates this 2-core machine, where the bridges, PostgreSQL, Redis, the devices and the receiver share the ' +
    'same 2 cores, so more bridges cannot add events/s here; its CPU per event is the cost when work comes in batches (group ' +
    'commits, writes gathered per event-loop turn), so its per-core figure is a bridge\'s capacity. The fixed rate offers every ' +
    'setup the same work below saturation, for latency and for the cost at a modest load, where events come one at a time and ' +
    'each pays for its own commits and socket writes.)');
  if (results.some((r) => !r.closed.consistent || !r.rate.complete)) console.error('\nwarning: a window lost or repeated events (consistent/complete: NO): its figures are suspect.');
  if (results.some((r) => !r.rate.keptUp)) console.error(`\nwarning: a setup did not keep up with ${fmt(o.rate)} events/s (kept up: NO): its fixed-rate CPU per event counts a backlog's publishes; run with a lower --rate.`);
  return results;
}

// ---------------------------------------------------------------------------------------
// 2. Connected devices

interface DevicesResult {
  devices: number;
  bridges: number;
  registerMs: number;
  connectMs: number;
  connectsPerSec: number;
  connected: number;
  failed: number;
  drops: number;
  perBridge: {
    name: string; devices: number; connected: number; bridgeCount: number; rssBeforeKb: number; rssAfterKb: number; perDeviceKb: number;
    connectMs: number; p50Ms: number; p99Ms: number; cpuPercent: number; cpuUsPerConnect: number;
  }[];
  redis: { before: RedisMemory; after: RedisMemory; perDeviceBytes: number };
  cpuPercent: { bridges: number; postgres: number; redis: number; fleets: number; rest: number };
  cpuUsPerConnect: { bridges: number; postgres: number; redis: number; fleets: number };
  fleetProcesses: { rssKb: number; heapUsedKb: number }[];
  limits: { openFilesSoft: number; openFilesHard: number; ephemeralPorts: number };
  loadAverage: { start: string; end: string };
}

/**
 * The devices a bridge counts as connected to it (GET /health: `devices_connected_here` on a
 * shared broker, where `devices_connected` counts every bridge's), once it reaches `expected` or after 10 s.
 */
async function connectedCount(bridge: BridgeProcess, expected: number): Promise<number> {
  let count = 0;
  await until(async () => {
    const health = (await bridge.api<{ devices_connected: number; devices_connected_here?: number }>('GET', '/health')).body;
    count = health.devices_connected_here ?? health.devices_connected;
    return count >= expected;
  }, 10_000, 200);
  return count;
}

async function runDevices(o: Options, servers: Servers): Promise<DevicesResult> {
  const n = o.fleetBridges;
  const share = (k: number) => Math.floor(o.fleet / n) + (k < o.fleet % n ? 1 : 0);
  const most = share(0);
  const limits = { ...openFilesLimit(), ports: ephemeralPorts() };
  // A bridge: a descriptor per device, plus its store, Redis, HTTP and files; a fleet process: one per device, plus its own.
  const needFiles = most + 500;
  if (limits.soft < needFiles) {
    throw new UsageError(`${fmt(most)} devices per bridge need about ${fmt(needFiles)} open files per process, and the soft limit is ` +
      `${fmt(limits.soft)} (hard ${fmt(limits.hard)}): raise it in the shell that runs the bench (ulimit -n ${limits.hard === Infinity ? 65536 : limits.hard}), or use more --fleet-bridges`);
  }
  if (limits.ports < most + 500) {
    throw new UsageError(`${fmt(most)} connections to one bridge's port need as many local ports, and net.ipv4.ip_local_port_range has ` +
      `${fmt(limits.ports)}: widen it or use more --fleet-bridges`);
  }
  const load0 = loadAverage();
  console.log(`\n## Connected devices: ${fmt(o.fleet)} over ${n} bridges on PostgreSQL + Redis (${fmt(most)} per bridge, each bridge's from a ` +
    `process of its own, ${o.concurrency} connects in progress per bridge); open files: soft ${fmt(limits.soft)}, hard ${fmt(limits.hard)}; ` +
    `${fmt(limits.ports)} local ports per destination; load average ${load0}`);
  const storeUrl = await freshServers(servers);
  const bridges = await startBridges(n, { storeUrl, redisUrl: servers.redis.url });
  const fleets: { child: Awaited<ReturnType<typeof spawnTs>>['child']; rpc: ReturnType<typeof remote> }[] = [];
  const closeFleets = async () => {
    for (const f of fleets.splice(0)) {
      await f.rpc.call('close').catch(() => {});
      await f.child.stop();
    }
  };
  onCleanup(closeFleets);
  try {
    console.log(`registering ${fmt(o.fleet)} devices through the bridges' API…`);
    const registerStart = performance.now();
    const creds: DeviceCredentials[][] = await Promise.all(bridges.map((b, k) => registerDevices(b, share(k))));
    const registerMs = performance.now() - registerStart;
    console.log(`  registered in ${fmt(registerMs / 1000, 1)} s`);
    for (let k = 0; k < n; k++) {
      const { child } = await spawnTs({ name: `fleet ${k + 1}`, script: 'scripts/lib/fleet.ts', ipc: true, ready: (l) => l.ready === true });
      fleets.push({ child, rpc: remote(child) });
    }

    await sleep(o.settleSec * 1000);
    const rssBefore = bridges.map((b) => b.rssKb());
    const redisBefore = await servers.redisMemory();
    const sources: Record<string, () => number> = {
      ...Object.fromEntries(bridges.map((b, i) => [`bridge${i}`, () => b.cpuMs()])),
      ...Object.fromEntries(fleets.map((f, i) => [`fleet${i}`, () => f.child.cpuMs()])),
      postgres: servers.postgresCpuMs, redis: servers.redisCpuMs, bench: selfCpuMs, machine: machineCpuMs,
    };
    console.log(`connecting ${fmt(o.fleet)} devices…`);
    const meter = cpuMeter(sources);
    const start = performance.now();
    const results = await Promise.all(fleets.map((f, k) => f.rpc.call<FleetResult>('connect', { url: bridges[k]!.mqttUrl, devices: creds[k], concurrency: o.concurrency })));
    const connectMs = performance.now() - start;
    const cpu = meter.read();
    const connected = sum(results.map((r) => r.connected));
    const failed = sum(results.map((r) => r.failed));
    console.log(`  ${fmt(connected)} connected in ${fmt(connectMs / 1000, 2)} s${failed ? `, ${fmt(failed)} failed (first: ${results.find((r) => r.firstError)?.firstError})` : ''}`);

    await sleep(o.settleSec * 1000);
    const counts = await Promise.all(bridges.map((b, k) => connectedCount(b, results[k]!.connected)));
    const rssAfter = bridges.map((b) => b.rssKb());
    const redisAfter = await servers.redisMemory();
    const status = await Promise.all(fleets.map((f) => f.rpc.call<{ connected: number; drops: number }>('status')));
    const connectS = connectMs / 1000;
    const perConnect = (percent: number, count: number) => us(percent, count / connectS);
    const bridgeCpu = bridges.map((_, i) => cpu[`bridge${i}`]!);
    const fleetCpu = sum(fleets.map((_, i) => cpu[`fleet${i}`]!));
    const result: DevicesResult = {
      devices: o.fleet, bridges: n, registerMs, connectMs, connectsPerSec: connected / connectS, connected, failed,
      drops: sum(status.map((s) => s.drops)),
      perBridge: bridges.map((b, k) => ({
        name: b.name, devices: share(k), connected: results[k]!.connected, bridgeCount: counts[k]!,
        rssBeforeKb: rssBefore[k]!, rssAfterKb: rssAfter[k]!, perDeviceKb: (rssAfter[k]! - rssBefore[k]!) / Math.max(1, results[k]!.connected),
        connectMs: results[k]!.ms, p50Ms: results[k]!.latencyMs.p50, p99Ms: results[k]!.latencyMs.p99,
        cpuPercent: bridgeCpu[k]!, cpuUsPerConnect: ((bridgeCpu[k]! / 100) * connectMs * 1000) / Math.max(1, results[k]!.connected),
      })),
      redis: { before: redisBefore, after: redisAfter, perDeviceBytes: ((redisAfter.usedKb - redisBefore.usedKb) * 1024) / Math.max(1, connected) },
      cpuPercent: {
        bridges: sum(bridgeCpu), postgres: cpu.postgres!, redis: cpu.redis!, fleets: fleetCpu,
        rest: Math.max(0, cpu.machine! - sum(bridgeCpu) - cpu.postgres! - cpu.redis! - fleetCpu - cpu.bench!),
      },
      cpuUsPerConnect: {
        bridges: perConnect(sum(bridgeCpu), connected), postgres: perConnect(cpu.postgres!, connected), redis: perConnect(cpu.redis!, connected),
        fleets: perConnect(fleetCpu, connected),
      },
      fleetProcesses: results.map((r) => ({ rssKb: r.rssKb, heapUsedKb: r.heapUsedKb })),
      limits: { openFilesSoft: limits.soft, openFilesHard: limits.hard, ephemeralPorts: limits.ports },
      loadAverage: { start: load0, end: loadAverage() },
    };

    console.log(`\n${fmt(o.fleet)} devices over ${n} bridges (RSS after a ${o.settleSec} s settle; connect time from the first connect to the last CONNACK):\n`);
    printTable(['bridge', 'devices', 'connected (devices / bridge)', 'RSS before', 'RSS after', 'per device', 'connect time', 'connect p50 / p99 ms', 'bridge CPU', 'µs per connect'],
      result.perBridge.map((b) => [b.name, fmt(b.devices), `${fmt(b.connected)} / ${fmt(b.bridgeCount)}`, fmtKb(b.rssBeforeKb), fmtKb(b.rssAfterKb),
        `${fmt(b.perDeviceKb, 1)} KB`, `${fmt(b.connectMs / 1000, 2)} s`, `${fmt(b.p50Ms, 1)} / ${fmt(b.p99Ms, 1)}`, `${fmt(b.cpuPercent)} %`, fmt(b.cpuUsPerConnect)]));
    console.log();
    printTable(['measure', 'value'], [
      ['devices connected / failed / dropped after connecting', `${fmt(connected)} / ${fmt(failed)} / ${fmt(result.drops)}`],
      ['time until all connected', `${fmt(connectS, 2)} s (${fmt(result.connectsPerSec)} connects/s)`],
      ['bridge RSS per device (all bridges)', `${fmt((sum(rssAfter) - sum(rssBefore)) / Math.max(1, connected), 1)} KB`],
      ['Redis used_memory before / after', `${fmtKb(redisBefore.usedKb)} / ${fmtKb(redisAfter.usedKb)} (${fmt(result.redis.perDeviceBytes)} bytes per device)`],
      ['Redis RSS before / after', `${fmtKb(redisBefore.rssKb)} / ${fmtKb(redisAfter.rssKb)}`],
      ['Redis keys before / after', `${fmt(redisBefore.keys)} / ${fmt(redisAfter.keys)}`],
      ['CPU while connecting: bridges / PostgreSQL / Redis / device processes / rest', `${fmt(result.cpuPercent.bridges)} % / ${fmt(result.cpuPercent.postgres)} % / ` +
        `${fmt(result.cpuPercent.redis)} % / ${fmt(result.cpuPercent.fleets)} % / ${fmt(result.cpuPercent.rest)} %`],
      ['CPU per connect: bridges / PostgreSQL / Redis / devices', `${fmt(result.cpuUsPerConnect.bridges)} / ${fmt(result.cpuUsPerConnect.postgres)} / ` +
        `${fmt(result.cpuUsPerConnect.redis)} / ${fmt(result.cpuUsPerConnect.fleets)} µs`],
      ['registration through the API (not timed above)', `${fmt(registerMs / 1000, 1)} s`],
    ]);
    if (failed > 0 || result.drops > 0 || result.perBridge.some((b) => b.bridgeCount !== b.connected)) console.error('\nwarning: devices failed, dropped, or the bridges count differently.');
    return result;
  } finally {
    await closeFleets();
    await stopAll(bridges);
  }
}

// ---------------------------------------------------------------------------------------
// 3. Takeover

interface TakeoverResult {
  leaseSec: number;
  /** The lease was set (HOOKWIRE_DELIVERY_LEASE_SEC), or left at the bridge's default. */
  leaseSet: boolean;
  held: number;
  /** Deliveries in the store at the kill: status → holder → count. */
  atKill: { status: string; holder: string; n: number }[];
  /** Requests hanging at the target at the kill. */
  hanging: number;
  /** From the kill, ms: the receiver listening on the target's port; the first and the last of A's deliveries at the receiver. */
  receiverReadyMs: number;
  firstMs: number | null;
  lastMs: number | null;
  delivered: number;
  duplicates: number;
  loadAverage: { start: string; end: string };
}

async function takeoverOnce(o: Options, servers: Servers, leaseSec: number, leaseSet: boolean): Promise<TakeoverResult> {
  const load0 = loadAverage();
  console.log(`\n### lease ${leaseSec} s${leaseSet ? ` (${LEASE_ENV}=${leaseSec})` : ' (the default)'} (load average ${load0})`);
  const storeUrl = await freshServers(servers);
  const hole = await startBlackhole('127.0.0.1');
  let holeOpen = true;
  const bridges = await startBridges(3, {
    storeUrl, redisUrl: servers.redis.url, env: leaseSet ? { [LEASE_ENV]: String(leaseSec) } : {},
    // A: its requests to the hung target never time out while it holds them.
    envOf: (i): Record<string, string> => (i === 0 ? { HOOKWIRE_WEBHOOK_TIMEOUT_MS: '600000' } : {}),
  });
  const a = bridges[0]!;
  const sql = postgres(storeUrl, { max: 1, onnotice: () => {} });
  let receiver: Awaited<ReturnType<typeof spawnReceiver>> | undefined;
  try {
    const stack: Stack = { bridge: a, devices: await registerDevices(a, 10), integrations: 0, ids: [] };
    await addIntegrations(stack, [{ body: benchTemplate(hole.port), productId: null }]);
    const devices = await spawnDevices({
      mqttUrl: a.mqttUrl, devices: stack.devices, event: EVENT, mode: 'count', inflight: o.held, total: o.held, rate: 0,
      service: { username: 'bench', password: a.adminToken },
    }, 'load (takeover)');
    await devices.rpc.call('start');
    const acked = await until(async () => (await devices.rpc.call<ClosedStats>('stats')).acked >= o.held, 60_000);
    if (!acked) throw new Error(`takeover: bridge A did not acknowledge ${o.held} events in 60 s`);
    await until(async () => hole.open() >= Math.min(32, o.held), 10_000);
    await devices.child.kill(); // idle now; it must not reconnect anywhere
    const atKill = (await sql<{ status: string; lease_owner: string | null; n: number }[]>`
      SELECT status, lease_owner, count(*)::int AS n FROM deliveries GROUP BY 1, 2 ORDER BY 1, 2`)
      .map((r) => ({ status: r.status, holder: r.lease_owner ?? '(none)', n: r.n }));
    const hanging = hole.open();
    console.log(`  A (pid ${a.pid}) holds: ${atKill.map((r) => `${fmt(r.n)} ${r.status} (${r.holder})`).join(', ')}; ${hanging} requests hanging at the target`);

    const killed = process.hrtime.bigint();
    await a.kill();
    await hole.close();
    holeOpen = false;
    receiver = await spawnReceiver(true, { host: '127.0.0.1', port: hole.port });
    const receiverReadyMs = ms(process.hrtime.bigint() - killed);
    let stats: ReceiverStats = { requests: 0, bad: 0, firstNs: null };
    let lastMs: number | null = null;
    const limitMs = (leaseSec + o.takeoverMaxSec) * 1000;
    await until(async () => {
      stats = await receiver!.rpc.call<ReceiverStats>('stats');
      if (stats.requests >= o.held) lastMs = ms(process.hrtime.bigint() - killed);
      return lastMs !== null;
    }, limitMs, 20);
    const firstMs = stats.firstNs === null ? null : ms(BigInt(stats.firstNs) - killed);
    const { ids } = await receiver.rpc.call<{ ids: number[] }>('samples');
    const duplicates = ids.length - new Set(ids).size;
    console.log(`  receiver listening after ${fmt(receiverReadyMs)} ms; first delivery ${firstMs === null ? 'never' : `after ${fmt(firstMs / 1000, 2)} s`}, ` +
      `last ${lastMs === null ? `not within ${fmt(limitMs / 1000)} s (${fmt(stats.requests)} of ${fmt(o.held)})` : `after ${fmt(lastMs / 1000, 2)} s`}`);
    return {
      leaseSec, leaseSet, held: o.held, atKill, hanging, receiverReadyMs, firstMs, lastMs, delivered: new Set(ids).size, duplicates,
      loadAverage: { start: load0, end: loadAverage() },
    };
  } finally {
    await sql.end({ timeout: 1 });
    if (holeOpen) await hole.close();
    await stopAll(bridges.slice(1));
    await receiver?.child.stop();
  }
}

async function runTakeover(o: Options, servers: Servers): Promise<{ leaseSetting: boolean; runs: TakeoverResult[] }> {
  const leaseSetting = bridgeKnowsEnv(LEASE_ENV, ROOT);
  console.log(`\n## Takeover: 3 bridges on PostgreSQL + Redis; bridge A holds ${fmt(o.held)} deliveries to a target that accepts and never ` +
    'answers, and is SIGKILLed; the receiver takes the target\'s port; time from the kill until the survivors have delivered them.' +
    (leaseSetting ? '' : ` The bridge has no ${LEASE_ENV}: the default lease only.`));
  const runs = [await takeoverOnce(o, servers, DEFAULT_LEASE_SEC, false)];
  if (leaseSetting && o.leaseSec > 0) runs.push(await takeoverOnce(o, servers, o.leaseSec, true));
  console.log('\ntakeover (from the SIGKILL of the bridge holding the deliveries):\n');
  printTable(['lease', 'held by A', 'hanging at the target', 'receiver listening', 'first delivered', 'all delivered', 'delivered / twice', 'expected from the lease'],
    runs.map((r) => [`${r.leaseSec} s${r.leaseSet ? '' : ' (default)'}`, fmt(r.held), fmt(r.hanging), `${fmt(r.receiverReadyMs / 1000, 2)} s`,
      r.firstMs === null ? 'never' : `${fmt(r.firstMs / 1000, 2)} s`, r.lastMs === null ? `not in ${fmt(r.leaseSec + o.takeoverMaxSec)} s` : `${fmt(r.lastMs / 1000, 2)} s`,
      `${fmt(r.delivered)} / ${fmt(r.duplicates)}`, `${fmt(r.leaseSec * 0.75, 2)}-${fmt(r.leaseSec, 2)} s + the survivors' next look`]));
  console.log('(A renews its leases every quarter lease, so they end 0.75-1 lease after the kill; a survivor claims them at its next look ' +
    'for pending work after that. "twice": deliveries the receiver got more than once.)');
  return { leaseSetting, runs };
}

// ---------------------------------------------------------------------------------------

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: PARTS.join(',') },
      setups: { type: 'string', default: 'sqlite,1,2,3' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      inflight: { type: 'string', default: '128' },
      rate: { type: 'string', default: '500' },
      devices: { type: 'string', default: '60' },
      fleet: { type: 'string', default: '30000' },
      'fleet-bridges': { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '100' },
      settle: { type: 'string', default: '2' },
      held: { type: 'string', default: '200' },
      'lease-sec': { type: 'string', default: '5' },
      'takeover-max-sec': { type: 'string', default: '60' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return null;
  }
  const only = new Set(values.only.split(',').map((s) => s.trim()).filter(Boolean));
  for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new UsageError(`--only: ${p} is not one of ${PARTS.join(', ')}`);
  const setups = values.setups.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of setups) if (s !== 'sqlite' && !(Number.isInteger(Number(s)) && Number(s) >= 1)) throw new UsageError(`--setups: ${s} is neither sqlite nor a number of bridges`);
  const held = intFlag('held', values.held);
  if (held > 1032) throw new UsageError('--held: at most 1,032 (32 in flight and 1,000 waiting in the lane; more would wait in the store, unleased)');
  return {
    only: only as Set<Part>, setups,
    seconds: numberFlag('seconds', values.seconds), warmupSec: numberFlag('warmup', values.warmup),
    inflight: intFlag('inflight', values.inflight), rate: intFlag('rate', values.rate), devices: intFlag('devices', values.devices),
    fleet: intFlag('fleet', values.fleet), fleetBridges: intFlag('fleet-bridges', values['fleet-bridges']),
    concurrency: intFlag('concurrency', values.concurrency), settleSec: numberFlag('settle', values.settle),
    held, leaseSec: intFlag('lease-sec', values['lease-sec'], 0), takeoverMaxSec: numberFlag('takeover-max-sec', values['takeover-max-sec']),
    cpuProf: values['cpu-prof'],
  };
}

await runBench(async () => {
  const o = parseOptions();
  if (!o) return;
  const machine = machineInfo();
  printMachine(machine);
  console.log(`load average at the start: ${loadAverage()}`);
  const needServers = o.only.has('devices') || o.only.has('takeover') || (o.only.has('throughput') && o.setups.some((s) => s !== 'sqlite'));
  if (needServers && !clusterAvailable()) throw new UsageError(`PostgreSQL and redis-server are needed: ${clusterInstall()}`);
  const servers = needServers ? await startServers() : null;
  if (servers) console.log(`PostgreSQL ${servers.postgres.url} (pid ${servers.postgresPid}); Redis ${servers.redis.url} (pid ${servers.redisPid()})`);

  const results: Record<string, unknown> = {};
  if (o.only.has('throughput')) results.throughput = await runThroughput(o, servers);
  if (o.only.has('devices')) results.devices = await runDevices(o, servers!);
  if (o.only.has('takeover')) results.takeover = await runTakeover(o, servers!);
  results.loadAverageAtEnd = loadAverage();

  const { only, ...rest } = o;
  const path = await writeResults('cluster', { machine, options: { ...rest, only: [...only] }, results });
  console.log(`\nsummary (JSON):\n${JSON.stringify(summary(results), null, 1)}\n\nresults: ${path}`);
});

/** The figures the docs quote, in one small JSON object. */
function summary(results: Record<string, unknown>): unknown {
  const r3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);
  const throughput = results.throughput as SetupResult[] | undefined;
  const devices = results.devices as DevicesResult | undefined;
  const takeover = results.takeover as { runs: TakeoverResult[] } | undefined;
  return {
    ...(throughput ? {
      throughput: throughput.map((t) => ({
        setup: t.label,
        closedLoop: { eventsPerSec: Math.round(t.closed.perSec), p50Ms: r3(t.closed.latency.p50), p99Ms: r3(t.closed.latency.p99), usPerEvent: mapValues(t.closed.usPerEvent, r3), consistent: t.closed.consistent },
        fixedRate: { eventsPerSec: Math.round(t.rate.achieved), keptUp: t.rate.keptUp, p50Ms: r3(t.rate.receiver.p50), p99Ms: r3(t.rate.receiver.p99), usPerEvent: mapValues(t.rate.usPerEvent, r3), complete: t.rate.complete },
        loadAverage: t.loadAverage,
      })),
    } : {}),
    ...(devices ? {
      devices: {
        devices: devices.devices, bridges: devices.bridges, connected: devices.connected, failed: devices.failed, connectSec: r3(devices.connectMs / 1000),
        perBridge: devices.perBridge.map((b) => ({ rssBeforeMb: r3(b.rssBeforeKb / 1024), rssAfterMb: r3(b.rssAfterKb / 1024), kbPerDevice: r3(b.perDeviceKb) })),
        redisUsedMb: { before: r3(devices.redis.before.usedKb / 1024), after: r3(devices.redis.after.usedKb / 1024) }, redisBytesPerDevice: Math.round(devices.redis.perDeviceBytes),
        cpuUsPerConnect: mapValues(devices.cpuUsPerConnect, r3), loadAverage: devices.loadAverage,
      },
    } : {}),
    ...(takeover ? {
      takeover: takeover.runs.map((t) => ({ leaseSec: t.leaseSec, held: t.held, firstSec: r3(t.firstMs === null ? null : t.firstMs / 1000), allSec: r3(t.lastMs === null ? null : t.lastMs / 1000), duplicates: t.duplicates, loadAverage: t.loadAverage })),
    } : {}),
  };
}

function mapValues<T extends object>(o: T, f: (v: number | null) => number | null): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as number | null)]));
}
