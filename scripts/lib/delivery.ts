// The durable-delivery measures of scripts/bench.ts (DESIGN.md, Performance targets):
//
// 4. durable    End to end with durable acceptance (event and deliveries committed to SQLite
//               before the PUBACK) against the previous in-memory path, the bridge as it was
//               at --baseline (ab5bfff), checked out in a git worktree and run in the same run:
//               both bridges up, the same closed-loop load (QoS 1, --inflight in flight, 10
//               integrations of which one matches) on each in turn, baseline then current,
//               --rounds times, so drift hits both. Target: current / baseline ≥ 0.8.
// 5. blackhole  A healthy receiver (127.0.0.1) beside a black hole (127.0.0.2: accepts
//               connections, never answers): two integrations on the same event, a host each
//               (lanes and throttling are per hostname). Healthy completions/s against a run
//               with the healthy integration alone, same load, fresh bridge each, alternating.
//               The default 20 s webhook timeout outlasts warm-up + window, so the black-holed
//               requests hang throughout. Target: ≥ 0.9 of alone.
// 6. restart    --backlog QoS 1 events published (acknowledged = stored) for an integration
//               (retryPolicy "durable") whose receiver is down, the bridge SIGKILLed (so the
//               deliveries in its lane are left running), the receiver started on that port,
//               the bridge restarted on the same data: time from spawn to accepting MQTT
//               connections, to /health, to the first delivery at the receiver (resumed), the
//               backlog's drain rate, RSS. Target: ready (and resumed) ≤ 5 s. --down says how
//               the receiver is down while the backlog builds:
//                 hung     its port accepts connections and never answers (a hung server, or
//                          a load balancer before a dead one): 32 requests hang, 1,000 wait in
//                          the lane, the rest wait in the store, all due now; the build run has
//                          HOOKWIRE_WEBHOOK_TIMEOUT_MS=600000 so nothing times out meanwhile.
//                 refused  nothing listens on the port: attempts fail at once, the host sleeps,
//                          deliveries are skipped and retried. HOOKWIRE_TIME_SCALE (--time-scale)
//                          compresses the schedule in both runs so the backlog is due at the
//                          restart, which also makes the bridge re-attempt (skip) the whole
//                          backlog every few ms while it builds: slow (minutes).

import { copyFile, stat } from 'node:fs/promises';
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import {
  fmt, fmtKb, freePort, median, printTable, registerDevices, ROOT, sleep, startBridgeProcess, tempDir, type BridgeProcess, type LogLine,
} from './bench.ts';
import { matchFixtures } from './match-fixtures.ts';
import {
  addIntegrations, benchStack, benchTemplate, closedDevices, closedWindow, consistent, EVENT, othersCell, printProfile, profileOf,
  spawnDevices, spawnReceiver, startStack, until, verdict, type Devices, type ReceiverStats, type Stack, type ThroughputRun, type WindowProfile,
} from './stack.ts';
import { checkoutWorktree } from './worktree.ts';
import type { ClosedStats } from '../load-webhooks.ts';

export const DELIVERY_TARGET = {
  /** Durable acceptance costs at most a fifth of the in-memory path's throughput. */
  durableRatio: 0.8,
  /** DESIGN.md: one black-holed endpoint costs healthy endpoints ≤ 10 % throughput. */
  blackholeRatio: 0.9,
  /** DESIGN.md: restart with 100,000 pending deliveries: ready in ≤ 5 s. */
  restartMs: 5_000,
};

export interface DeliveryOptions {
  seconds: number;
  warmupSec: number;
  devices: number;
  inflight: number;
  cpuProf: boolean;
  /** durable and blackhole: rounds of (baseline, current) or (alone, with black hole). */
  rounds: number;
  /** durable: the commit of the in-memory path. */
  baseline: string;
  /** restart: events (each one delivery) left pending. */
  backlog: number;
  /** restart: how the receiver is down while the backlog builds. */
  down: 'hung' | 'refused';
  /** restart, --down refused: HOOKWIRE_TIME_SCALE of both runs. */
  timeScale: number;
  /** restart: how long the restarted bridge is watched, s. */
  restartSec: number;
}

const fmtMs = (ms: number | null) => (ms === null ? '-' : `${fmt(ms)} ms`);

/** Deliveries by host and status, from a bridge's SQLite file, opened read-only beside it (WAL: readers never block the writer). */
function deliveryCounts(dbPath: string): { host: string; status: string; n: number }[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT host, status, COUNT(*) AS n FROM deliveries GROUP BY host, status ORDER BY host, status').all() as { host: string; status: string; n: number }[];
  } finally {
    db.close();
  }
}

async function fileKb(path: string): Promise<number> {
  try {
    return (await stat(path)).size / 1024;
  } catch {
    return 0;
  }
}

interface IntegrationDetail {
  state: string;
  counters: { total_calls: number; total_errors: number; total_skipped: number; total_dropped: number; consecutive_errors: number };
}

async function integrationDetail(bridge: BridgeProcess, id: string): Promise<IntegrationDetail> {
  const res = await bridge.api<{ integration: IntegrationDetail }>('GET', `/v1/integrations/${id}`);
  if (res.status !== 200) throw new Error(`GET /v1/integrations/${id}: ${res.status}`);
  return res.body.integration;
}

// ---------------------------------------------------------------------------------------
// 4. Durable acceptance against the in-memory path

type DurableRun = ThroughputRun & { bridgeName: 'baseline' | 'current'; round: number };

export async function runDurable(o: DeliveryOptions) {
  console.log(`\n## Durable acceptance: the working tree's bridge against ${o.baseline} (in-memory path), same run; ` +
    `${o.rounds} rounds of ${o.seconds} s windows after ${o.warmupSec} s warm-up, alternating; ${o.inflight} in flight, 10 integrations, ${o.devices} devices`);
  const tree = await checkoutWorktree(o.baseline);
  if (!tree) {
    const reason = `commit ${o.baseline} is not in this repository (a shallow clone?): measure skipped`;
    console.log(reason);
    return { skipped: true, reason };
  }
  console.log(`baseline: ${tree.commit.slice(0, 7)} "${tree.subject}", checked out in ${tree.dir}`);
  const stacks: { name: 'baseline' | 'current'; label: string; stack: Stack; devices: Devices }[] = [];
  try {
    const receiver = await spawnReceiver(false);
    const fixtures = matchFixtures();
    for (const [name, root, label] of [['baseline', tree.dir, `in-memory (${tree.commit.slice(0, 7)})`], ['current', ROOT, 'durable (working tree)']] as const) {
      const stack = await benchStack({ devices: o.devices, cpuProf: o.cpuProf, bridge: { root, name: `bridge ${name}` } }, receiver.port, fixtures);
      stacks.push({ name, label, stack, devices: await closedDevices(stack, o.inflight, `load-${name}`) });
    }
    const runs: DurableRun[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const s of stacks) {
        const run = await closedWindow({
          name: `${s.label}, round ${round}`, bridge: s.stack.bridge, integrations: s.stack.integrations, devices: s.devices, receiver,
          warmupSec: o.warmupSec, seconds: o.seconds,
        });
        runs.push({ ...run, bridgeName: s.name, round });
        console.log(`  ${run.name.padEnd(36)} ${fmt(run.perSec).padStart(7)} /s  ${fmt(run.bridgeUsPerEvent ?? NaN, 1)} µs/event`);
      }
    }
    const profile: WindowProfile[] = [];
    for (const s of stacks) {
      await s.devices.rpc.call('close');
      await s.devices.child.stop();
      if (o.cpuProf) profile.push(...await profileOf(s.stack.bridge, runs.filter((r) => r.bridgeName === s.name)));
      await s.stack.bridge.stop();
    }
    await receiver.child.stop();

    console.log(`\ndurable acceptance (per second over each ${o.seconds} s window; CPU: 100 % = one core):\n`);
    printTable(['run', 'completed/s', 'receiver req/s', 'acked/s', 'bridge CPU', 'load CPU', 'receiver CPU', 'rest of machine', 'bridge µs/event', 'bridge RSS', 'consistent'],
      runs.map((r) => [r.name, r.perSec, r.receiverPerSec, fmt(r.ackedPerSec ?? NaN), `${fmt(r.cpu.bridge ?? NaN)} %`, `${fmt(r.cpu.load)} %`,
        `${fmt(r.cpu.receiver)} %`, othersCell(r.cpu.others), fmt(r.bridgeUsPerEvent ?? NaN, 1), fmtKb(r.bridgeRssKb ?? NaN), consistent(r) ? 'yes' : 'NO']));
    const of = (name: string) => runs.filter((r) => r.bridgeName === name);
    const pairs = Array.from({ length: o.rounds }, (_, k) => {
      const [b, c] = [of('baseline')[k]!, of('current')[k]!];
      return { round: k + 1, ratio: c.perSec / b.perSec, usRatio: c.bridgeUsPerEvent! / b.bridgeUsPerEvent! };
    });
    const ratio = median(pairs.map((p) => p.ratio));
    const baselinePerSec = median(of('baseline').map((r) => r.perSec));
    const currentPerSec = median(of('current').map((r) => r.perSec));
    const baselineUs = median(of('baseline').map((r) => r.bridgeUsPerEvent!));
    const currentUs = median(of('current').map((r) => r.bridgeUsPerEvent!));
    console.log('\nsummary (medians of the rounds):\n');
    printTable(['measure', 'in-memory (baseline)', 'durable (current)', 'current / baseline', 'target', 'result'], [
      ['end to end, events/s', fmt(baselinePerSec), fmt(currentPerSec), fmt(ratio, 2), `≥ ${DELIVERY_TARGET.durableRatio}`, verdict(ratio >= DELIVERY_TARGET.durableRatio)],
      ['bridge CPU µs per event', fmt(baselineUs, 1), fmt(currentUs, 1), fmt(median(pairs.map((p) => p.usRatio)), 2), '', ''],
    ]);
    console.log(`(ratio per round: ${pairs.map((p) => fmt(p.ratio, 2)).join(', ')}; the ratio is the median of the rounds' current / baseline)`);
    if (runs.some((r) => !consistent(r))) console.error('\nwarning: a run is not consistent (published, acked, completed, receiver differ): its figures are suspect.');
    for (const p of profile) printProfile(p);
    return {
      baseline: { commit: tree.commit, subject: tree.subject },
      runs, pairs, baselinePerSec, currentPerSec, baselineUsPerEvent: baselineUs, currentUsPerEvent: currentUs,
      ratio, target: DELIVERY_TARGET.durableRatio, targetMet: ratio >= DELIVERY_TARGET.durableRatio, profile,
    };
  } finally {
    await Promise.all(stacks.map((s) => s.stack.bridge.stop()));
    await tree.remove();
  }
}

// ---------------------------------------------------------------------------------------
// 5. A black-holed endpoint beside a healthy one

/** A TCP server that accepts connections and reads what comes, never answering. */
export async function startBlackhole(host: string) {
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    let seen = false;
    socket.on('data', () => {
      // undici sends one request per connection at a time: a connection that sent bytes holds one.
      if (!seen) requests++;
      seen = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
  return {
    host, port,
    /** Connections open now with a request on them (each waits for an answer that never comes). */
    open: () => [...sockets].filter((s) => s.bytesRead > 0).length,
    totals: () => ({ connections, requests }),
    /** Stop listening and drop every connection: what hung fails at once. */
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

interface BlackholeSnapshot {
  /** Requests hanging at the black hole (in flight). */
  inFlight: number;
  /** Deliveries to the black hole by store status: running = in its lane (in flight or waiting in memory), pending = waiting in the store. */
  store: Record<string, number>;
  waitingInLane: number;
  waitingInStore: number;
  counters: IntegrationDetail['counters'];
  state: string;
  rssKb: number;
}

type BlackholeRun = ThroughputRun & { variant: 'alone' | 'with black hole'; round: number; blackhole: BlackholeSnapshot | null };

const BLACKHOLE_HOST = '127.0.0.2';

export async function runBlackhole(o: DeliveryOptions) {
  console.log(`\n## Black hole: healthy receiver on 127.0.0.1 beside a black hole on ${BLACKHOLE_HOST} (accepts, never answers); ` +
    `${o.rounds} rounds of (alone, with black hole), fresh bridge each, ${o.seconds} s windows after ${o.warmupSec} s warm-up; ` +
    `${o.inflight} in flight, ${o.devices} devices; default webhook timeout (20 s), so black-holed requests hang throughout`);
  const receiver = await spawnReceiver(false, { host: '127.0.0.1' });
  const runs: BlackholeRun[] = [];
  const profile: WindowProfile[] = [];
  try {
    for (let round = 1; round <= o.rounds; round++) {
      for (const variant of ['alone', 'with black hole'] as const) {
        const hole = await startBlackhole(BLACKHOLE_HOST);
        const healthy = { body: benchTemplate(receiver.port, '127.0.0.1'), productId: null };
        const black = { body: { ...benchTemplate(hole.port, hole.host), name: 'black hole' }, productId: null };
        const stack = await startStack({ devices: o.devices, cpuProf: o.cpuProf }, variant === 'alone' ? [healthy] : [healthy, black]);
        const devices = await closedDevices(stack, o.inflight);
        let snapshot: BlackholeSnapshot | null = null;
        const run = await closedWindow({
          name: `${variant}, round ${round}`, bridge: stack.bridge, integrations: stack.integrations, devices, receiver,
          warmupSec: o.warmupSec, seconds: o.seconds,
          atWindowEnd: async () => {
            if (variant === 'alone') return;
            const inFlight = hole.open();
            const detail = await integrationDetail(stack.bridge, stack.ids[1]!);
            const counts = deliveryCounts(join(stack.bridge.dataDir, 'hookwire.db')).filter((c) => c.host === hole.host);
            const store = Object.fromEntries(counts.map((c) => [c.status, c.n]));
            snapshot = {
              inFlight, store, waitingInLane: Math.max(0, (store.running ?? 0) - inFlight), waitingInStore: store.pending ?? 0,
              counters: detail.counters, state: detail.state, rssKb: stack.bridge.rssKb(),
            };
          },
        });
        runs.push({ ...run, variant, round, blackhole: snapshot });
        console.log(`  ${run.name.padEnd(28)} ${fmt(run.perSec).padStart(7)} /s healthy`);
        await devices.rpc.call('close');
        await devices.child.stop();
        // Hanging deliveries would hold a graceful stop for 5 s: without the black hole they fail at once.
        await hole.close();
        if (o.cpuProf) profile.push(...await profileOf(stack.bridge, [{ name: run.name, window: run.window }]));
        else await stack.bridge.kill();
      }
    }
  } finally {
    await receiver.child.stop();
  }

  console.log(`\nhealthy endpoint beside a black hole (per second over each ${o.seconds} s window):\n`);
  printTable(['run', 'healthy completed/s', 'receiver req/s', 'acked/s', 'bridge CPU', 'rest of machine', 'bridge µs/event', 'bridge RSS', 'consistent'],
    runs.map((r) => [r.name, r.perSec, r.receiverPerSec, fmt(r.ackedPerSec ?? NaN), `${fmt(r.cpu.bridge ?? NaN)} %`, othersCell(r.cpu.others),
      fmt(r.bridgeUsPerEvent ?? NaN, 1), fmtKb(r.bridgeRssKb ?? NaN), consistent(r) ? 'yes' : 'NO']));
  const withHole = runs.filter((r) => r.blackhole);
  console.log(`\ndeliveries to the black hole at the end of each window (in flight: requests hanging at the black hole; ` +
    `in the lane: store status running; in the store: pending; the bridge's lanes are not exposed by its API):\n`);
  printTable(['run', 'accepted for it', 'in flight', 'waiting in lane', 'waiting in store', 'total_calls', 'total_errors', 'total_skipped', 'state', 'bridge RSS'],
    withHole.map((r) => {
      const b = r.blackhole!;
      const accepted = Object.values(b.store).reduce((n, v) => n + v, 0);
      return [r.name, accepted, b.inFlight, b.waitingInLane, b.waitingInStore, b.counters.total_calls, b.counters.total_errors, b.counters.total_skipped, b.state, fmtKb(b.rssKb)];
    }));
  const pairs = Array.from({ length: o.rounds }, (_, k) => {
    const alone = runs.find((r) => r.round === k + 1 && r.variant === 'alone')!;
    const hole2 = runs.find((r) => r.round === k + 1 && r.variant === 'with black hole')!;
    return { round: k + 1, ratio: hole2.perSec / alone.perSec, receiverRatio: hole2.receiverPerSec / alone.receiverPerSec };
  });
  const ratio = median(pairs.map((p) => p.ratio));
  const alonePerSec = median(runs.filter((r) => r.variant === 'alone').map((r) => r.perSec));
  const holePerSec = median(withHole.map((r) => r.perSec));
  console.log('\nsummary (medians of the rounds):\n');
  printTable(['measure', 'alone', 'with black hole', 'ratio', 'target', 'result'], [
    ['healthy completed/s (hook-sent)', fmt(alonePerSec), fmt(holePerSec), fmt(ratio, 2), `≥ ${DELIVERY_TARGET.blackholeRatio}`, verdict(ratio >= DELIVERY_TARGET.blackholeRatio)],
    ['healthy receiver req/s', fmt(median(runs.filter((r) => r.variant === 'alone').map((r) => r.receiverPerSec))),
      fmt(median(withHole.map((r) => r.receiverPerSec))), fmt(median(pairs.map((p) => p.receiverRatio)), 2), '', ''],
  ]);
  console.log(`(ratio per round: ${pairs.map((p) => fmt(p.ratio, 2)).join(', ')})`);
  if (runs.some((r) => !consistent(r))) console.error('\nwarning: a run is not consistent (published, acked, completed, receiver differ): its figures are suspect.');
  for (const p of profile) printProfile(p);
  return { runs, pairs, alonePerSec, withBlackholePerSec: holePerSec, ratio, target: DELIVERY_TARGET.blackholeRatio, targetMet: ratio >= DELIVERY_TARGET.blackholeRatio, profile };
}

// ---------------------------------------------------------------------------------------
// 6. Restart with a backlog

interface StartTimes {
  /** ms from spawn: the MQTT port accepts a TCP connection. */
  mqttAcceptMs: number | null;
  /** A client's CONNECT answered with CONNACK (restart only: it needs the admin token). */
  connackMs: number | null;
  /** The listening line logged (the bridge thinks it is up). */
  listeningMs: number;
  /** GET /health answered 200. */
  healthMs: number | null;
  /** RSS at the listening line, KB. */
  rssAtReadyKb: number;
}

/**
 * Spawn a bridge on fixed ports and time, from the spawn, when its MQTT port accepts a
 * connection, a client gets its CONNACK, it logs that it listens, and /health answers.
 */
async function timedStart(options: { dataDir?: string; env: Record<string, string>; adminToken?: string; onLine?: (line: LogLine) => void; name: string }) {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const t0Ns = process.hrtime.bigint();
  const t0 = performance.now();
  const since = () => performance.now() - t0;
  let done = false;
  let mqttAcceptMs: number | null = null;
  let connackMs: number | null = null;
  let healthMs: number | null = null;

  const tcpProbe = async () => {
    while (!done && mqttAcceptMs === null) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = tcpConnect(mqttPort, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      });
      if (ok) mqttAcceptMs = since();
      else await sleep(2);
    }
    if (!options.adminToken || done) return;
    // A real client: CONNECT, authenticated, answered.
    const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: `bench-restart-${process.pid}`, username: 'bench', password: options.adminToken, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 30_000,
    });
    await new Promise<void>((resolve) => {
      client.once('connect', () => { connackMs = since(); resolve(); });
      client.once('error', () => resolve());
      client.once('close', () => resolve());
    });
    client.end(true);
  };
  const healthProbe = async () => {
    while (!done && healthMs === null) {
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
        await res.text();
        if (res.ok) healthMs = since();
      } catch {
        await sleep(5);
      }
    }
  };
  const probes = Promise.all([tcpProbe(), healthProbe()]);
  let bridge: BridgeProcess;
  try {
    bridge = await startBridgeProcess({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}), env: options.env, mqttPort, httpPort, name: options.name,
      ...(options.onLine ? { onLine: options.onLine } : {}),
    });
  } catch (err) {
    done = true;
    throw err;
  }
  const listeningMs = since();
  const rssAtReadyKb = bridge.rssKb();
  await Promise.race([probes, sleep(30_000)]);
  done = true;
  const times: StartTimes = { mqttAcceptMs, connackMs, listeningMs, healthMs, rssAtReadyKb };
  return { bridge, times, t0Ns };
}

export async function runRestart(o: DeliveryOptions) {
  const scale = String(o.timeScale);
  const hung = o.down === 'hung';
  console.log(`\n## Restart with ${fmt(o.backlog)} pending deliveries (retryPolicy "durable"), receiver down while they build: ` + (hung
    ? 'its port accepts connections and never answers, so the deliveries wait in the lane and the store, due now ' +
      '(HOOKWIRE_WEBHOOK_TIMEOUT_MS=600000 while building, so none times out; defaults on restart)'
    : `nothing listens on its port; HOOKWIRE_TIME_SCALE=${scale} in both runs (the durable policy's first retry, 60 s, comes after ` +
      `${fmt(60_000 * o.timeScale)} ms), so the backlog is due when the bridge restarts`));
  const env: Record<string, string> = hung ? {} : { HOOKWIRE_TIME_SCALE: scale };
  const buildEnv: Record<string, string> = hung ? { HOOKWIRE_WEBHOOK_TIMEOUT_MS: '600000' } : env;
  const hole = hung ? await startBlackhole('127.0.0.1') : null;
  const deadPort = hole?.port ?? await freePort();

  // A fresh bridge, timed the same way: the baseline for the restart.
  const fresh = await timedStart({ env: buildEnv, name: 'bridge (backlog)' });
  const bridge = fresh.bridge;
  const stack: Stack = { bridge, devices: await registerDevices(bridge, o.devices), integrations: 0, ids: [] };
  await addIntegrations(stack, [{ body: benchTemplate(deadPort, '127.0.0.1', { retryPolicy: 'durable' }), productId: null }]);
  const dbPath = join(bridge.dataDir, 'hookwire.db');

  // The backlog: QoS 1 events through the devices, at most --inflight × 8 not yet acknowledged.
  const inflight = o.inflight * 8;
  console.log(`building: ${fmt(o.backlog)} events from ${o.devices} devices, ≤ ${fmt(inflight)} unacknowledged; ` +
    `receiver down (127.0.0.1:${deadPort}, ${hung ? 'hung' : 'refusing connections'})`);
  const devices = await spawnDevices({
    mqttUrl: bridge.mqttUrl, devices: stack.devices, event: EVENT, mode: 'count', inflight, rate: 0, total: o.backlog,
    service: { username: 'bench', password: bridge.adminToken },
  }, 'load-backlog');
  const stats = () => devices.rpc.call<ClosedStats>('stats');
  const buildStart = performance.now();
  await devices.rpc.call('start');
  let lastShown = buildStart;
  const built = await until(async () => {
    const s = await stats();
    if (performance.now() - lastShown > 5000) {
      lastShown = performance.now();
      console.log(`  ${fmt(s.acked)} acknowledged after ${fmt((lastShown - buildStart) / 1000, 1)} s`);
    }
    return s.acked + s.errors >= o.backlog;
  }, 240_000, 20);
  const buildSec = (performance.now() - buildStart) / 1000;
  const built1 = await stats();
  const buildRssKb = bridge.rssKb();
  const before = await integrationDetail(bridge, stack.ids[0]!);
  const hanging = hole?.open() ?? 0;
  // A crash: nothing flushed, deliveries in the lane left running.
  await bridge.kill();
  await devices.child.kill();
  await hole?.close();
  if (!built) throw new Error(`restart: only ${built1.acked} of ${o.backlog} events acknowledged in 240 s`);
  if (built1.errors > 0) console.error(`warning: ${built1.errors} publishes failed while building the backlog`);

  // What the restart starts from: a copy of the files (opening the original would checkpoint its WAL).
  const copy = await tempDir('hookwire-restart-copy-');
  const files = { dbKb: await fileKb(dbPath), walKb: await fileKb(`${dbPath}-wal`) };
  await copyFile(dbPath, join(copy, 'hookwire.db'));
  await copyFile(`${dbPath}-wal`, join(copy, 'hookwire.db-wal')).catch(() => {});
  const atKill = Object.fromEntries(deliveryCounts(join(copy, 'hookwire.db')).map((c) => [c.status, c.n]));
  const backlog = (atKill.pending ?? 0) + (atKill.running ?? 0);

  // The receiver comes back on the port the deliveries go to; then the bridge restarts.
  const receiver = await spawnReceiver(false, { host: '127.0.0.1', port: deadPort });
  const logged: { requeued: number | null } = { requeued: null };
  const restart = await timedStart({
    dataDir: bridge.dataDir, env, adminToken: bridge.adminToken, name: 'bridge (restart)',
    onLine: (line) => {
      if (typeof line.deliveries === 'number' && String(line.msg).startsWith('resuming')) logged.requeued = line.deliveries;
    },
  });
  const restarted = restart.bridge;
  let resumedMs: number | null = null;
  await until(async () => {
    const { firstNs } = await receiver.rpc.call<ReceiverStats>('stats');
    if (firstNs === null) return false;
    // The receiver's hrtime and ours read the same clock (CLOCK_MONOTONIC).
    resumedMs = Number(BigInt(firstNs) - restart.t0Ns) / 1e6;
    return true;
  }, 30_000, 5);

  // The drain: requests at the receiver per second, and memory, for --restart-seconds.
  const drain: { second: number; requests: number; rssKb: number }[] = [];
  let previous = await receiver.count();
  for (let s = 1; s <= o.restartSec; s++) {
    await sleep(1000);
    const n = await receiver.count();
    drain.push({ second: s, requests: n - previous, rssKb: restarted.rssKb() });
    previous = n;
  }
  const rssLaterKb = restarted.rssKb();
  const peakKb = restarted.peakRssKb();
  const after = await integrationDetail(restarted, stack.ids[0]!);
  const delivered = await receiver.count();
  await restarted.kill();
  await receiver.child.stop();

  const freshTimes = fresh.times;
  const t = restart.times;
  console.log(`\nbacklog: ${fmt(built1.acked)} events acknowledged in ${fmt(buildSec, 1)} s (${fmt(built1.acked / buildSec)} /s, receiver down; ` +
    `${hung ? `${fmt(hanging)} requests hanging at the receiver's port, ` : ''}` +
    `${fmt(before.counters.total_calls)} attempts made and ${fmt(before.counters.total_skipped)} skipped by then, state ${before.state}); ` +
    `bridge RSS ${fmtKb(buildRssKb)}; SIGKILLed\n`);
  printTable(['deliveries in the store at the kill', 'count'], [
    ...Object.entries(atKill).map(([status, n]) => [status, n] as [string, number]),
    ['pending + running (the backlog)', backlog],
  ]);
  console.log(`\nSQLite at the kill: hookwire.db ${fmtKb(files.dbKb)}, hookwire.db-wal ${fmtKb(files.walKb)}` +
    `${logged.requeued === null ? '' : `; on restart the bridge logged ${fmt(logged.requeued)} running deliveries made pending again`}\n`);
  const ok = (ms: number | null) => ms !== null && ms <= DELIVERY_TARGET.restartMs;
  printTable(['from spawn to', 'fresh start (empty store)', `restart (${fmt(backlog)} pending)`, 'target', 'result'], [
    ['MQTT port accepts a connection', fmtMs(freshTimes.mqttAcceptMs), fmtMs(t.mqttAcceptMs), `≤ ${fmt(DELIVERY_TARGET.restartMs)} ms`, verdict(ok(t.mqttAcceptMs))],
    ['MQTT CONNECT answered (CONNACK)', '-', fmtMs(t.connackMs), '', ''],
    ['listening line logged', fmtMs(freshTimes.listeningMs), fmtMs(t.listeningMs), '', ''],
    ['HTTP /health answers', fmtMs(freshTimes.healthMs), fmtMs(t.healthMs), `≤ ${fmt(DELIVERY_TARGET.restartMs)} ms`, verdict(ok(t.healthMs))],
    ['first delivery at the receiver (resumed)', '-', fmtMs(resumedMs), `≤ ${fmt(DELIVERY_TARGET.restartMs)} ms`, verdict(ok(resumedMs))],
  ]);
  console.log();
  printTable(['bridge memory', 'fresh start', 'restart'], [
    ['RSS at the listening line', fmtKb(freshTimes.rssAtReadyKb), fmtKb(t.rssAtReadyKb)],
    [`RSS ${o.restartSec} s later (draining)`, '-', fmtKb(rssLaterKb)],
    ['peak RSS (VmHWM)', '-', fmtKb(peakKb)],
  ]);
  console.log(`\ndrain after the restart (receiver requests per second):\n`);
  printTable(['second', 'requests', 'bridge RSS'], drain.map((d) => [String(d.second), d.requests, fmtKb(d.rssKb)]));
  const drainRate = drain.length > 1 ? median(drain.slice(1).map((d) => d.requests)) : drain[0]?.requests ?? 0;
  console.log(`(${fmt(delivered)} of ${fmt(backlog)} delivered after ${o.restartSec} s; median ${fmt(drainRate)} /s after the first second, ` +
    `i.e. ${fmt(backlog / Math.max(1, drainRate))} s for the whole backlog; integration ${after.state}, total_calls ${fmt(after.counters.total_calls)})`);

  const ready = Math.max(t.mqttAcceptMs ?? Infinity, t.healthMs ?? Infinity);
  const targetMet = ok(ready) && ok(resumedMs);
  return {
    down: o.down, timeScale: hung ? null : o.timeScale, backlogEvents: built1.acked, buildAckedPerSec: built1.acked / buildSec, hanging,
    attemptsWhileBuilding: before.counters, buildSec, buildRssKb, atKill, backlog, sqlite: files,
    requeued: logged.requeued, fresh: freshTimes, restart: { ...t, resumedMs, rssLaterKb, peakKb }, drain, drainRate, delivered,
    target: DELIVERY_TARGET.restartMs, targetMet,
  };
}
