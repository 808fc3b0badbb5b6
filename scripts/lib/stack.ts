// The pieces every webhook measure of scripts/bench.ts is built from: a bridge process with
// devices and integrations, the receiver, the devices' process, one closed-loop throughput
// window, one fixed-rate latency window, the bridge's event-loop delay over a window (GET
// /metrics), and the bridge's CPU profile summarised over chosen windows.

import {
  cpuMeter, cpuProfArgs, fmt, machineCpuMs, pool, printTable, registerDevices, selfCpuMs, sleep, spawnTs,
  percentile, startBridgeProcess, stopAndShowProfile, type BridgeProcess, type BridgeProcessOptions, type Child, type DeviceCredentials,
} from './bench.ts';
import { remote, type Remote } from './ipc.ts';
import type { Fixture } from './match-fixtures.ts';
import { summarizeProfile, type ProfileSummary } from './profile.ts';
import type { ClosedStats, LoadWebhooksOptions, RateResult } from '../load-webhooks.ts';

export const EVENT = 'bench';
/** A run whose deliveries have not all completed this long after the load stopped failed. */
export const DRAIN_MS = 10_000;
/** CPU % (of all cores) taken by the rest of the machine above which a window counts as disturbed. */
export const DISTURBED_PERCENT = 25;

export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
/** CLOCK_MONOTONIC in µs: the clock of V8 profiles and of process.hrtime in every process. */
export const hrUs = () => Number(process.hrtime.bigint() / 1000n);

/** The integration that triggers on EVENT: the event's t and i forwarded in the JSON body. */
export function benchTemplate(receiverPort: number, host = '127.0.0.1', extra: Record<string, unknown> = {}) {
  return {
    integration_type: 'Webhook', event: EVENT, url: `http://${host}:${receiverPort}/hook`, requestType: 'POST',
    json: { t: '{{{t}}}', i: '{{{i}}}' }, ...extra,
  };
}

export interface IntegrationBody {
  body: object;
  productId: number | null;
}

/** A fixture's integration (never matching EVENT), pointed at the receiver. */
export function fixtureBody(f: Fixture, receiverPort: number): IntegrationBody {
  return {
    body: { integration_type: 'Webhook', event: f.event, url: `http://127.0.0.1:${receiverPort}/never`, requestType: 'POST', ...(f.deviceID ? { deviceID: f.deviceID } : {}) },
    productId: f.productId,
  };
}

export interface Stack {
  bridge: BridgeProcess;
  devices: DeviceCredentials[];
  integrations: number;
  /** IDs of the integrations added, in the order given. */
  ids: string[];
}

export interface StackOptions {
  devices: number;
  cpuProf: boolean;
  /** Which checkout's bridge, its environment, its name in messages (startBridgeProcess). */
  bridge?: Omit<BridgeProcessOptions, 'nodeArgs'>;
}

/** A fresh bridge with devices, then `first` integrations (in order), then `rest`. */
export async function startStack(options: StackOptions, first: IntegrationBody[], rest: IntegrationBody[] = []): Promise<Stack> {
  const bridge = await startBridgeProcess({ ...options.bridge, nodeArgs: cpuProfArgs(options.cpuProf) });
  const devices = await registerDevices(bridge, options.devices);
  const stack: Stack = { bridge, devices, integrations: 0, ids: [] };
  for (const item of first) await addIntegrations(stack, [item]);
  await addIntegrations(stack, rest);
  return stack;
}

/** The closed-loop stack of the throughput measures: the bench integration and 9 that never match (10 in all). */
export function benchStack(options: StackOptions, receiverPort: number, fixtures: { core: Fixture[] }): Promise<Stack> {
  return startStack(options, [{ body: benchTemplate(receiverPort), productId: null }], fixtures.core.slice(0, 9).map((f) => fixtureBody(f, receiverPort)));
}

export async function addIntegrations(stack: Stack, items: IntegrationBody[]): Promise<void> {
  const ids = await pool(items.length, 16, async (i) => {
    const { body, productId } = items[i]!;
    const path = productId === null ? '/v1/integrations' : `/v1/products/${productId}/integrations`;
    const res = await stack.bridge.api<{ id: string }>('POST', path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  });
  stack.ids.push(...ids);
  stack.integrations += items.length;
}

export interface Receiver {
  child: Child;
  rpc: Remote;
  port: number;
  /** Requests counted so far. */
  count(): Promise<number>;
}

export interface ReceiverStats {
  requests: number;
  bad: number;
  /** process.hrtime.bigint() at the first request, as a string; null before it. */
  firstNs: string | null;
}

export async function spawnReceiver(record: boolean, listen: { host?: string; port?: number } = {}): Promise<Receiver> {
  const args = [...(record ? ['--record'] : []), ...(listen.host ? ['--host', listen.host] : []), ...(listen.port ? ['--port', String(listen.port)] : [])];
  const { child, line } = await spawnTs({
    name: 'receiver', script: 'scripts/receiver.ts', args, ipc: true,
    ready: (l) => typeof l.port === 'number',
  });
  const rpc = remote(child);
  return { child, rpc, port: line.port as number, count: async () => (await rpc.call<ReceiverStats>('stats')).requests };
}

export interface Devices {
  child: Child;
  rpc: Remote;
}

export async function spawnDevices(options: LoadWebhooksOptions, name = 'load-webhooks'): Promise<Devices> {
  const { child } = await spawnTs({
    name, script: 'scripts/load-webhooks.ts', args: ['--options', JSON.stringify(options)], ipc: true,
    ready: (l) => l.ready === true, timeoutMs: 60_000,
  });
  return { child, rpc: remote(child) };
}

/** The devices of a stack in closed-loop mode (QoS 1, `inflight` events not yet hook-sent). */
export function closedDevices(stack: Stack, inflight: number, name?: string): Promise<Devices> {
  return spawnDevices({
    mqttUrl: stack.bridge.mqttUrl, devices: stack.devices, event: EVENT, mode: 'closed', inflight, rate: 0,
    service: { username: 'bench', password: stack.bridge.adminToken },
  }, name);
}

/** Polls `done()` every `everyMs`; true once it holds, false after `maxMs`. */
export async function until(done: () => Promise<boolean>, maxMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------
// One closed-loop window

export interface Cpu {
  bridge: number | null;
  load: number;
  receiver: number;
  bench: number;
  others: number;
}

export interface ThroughputRun {
  name: string;
  integrations: number | null;
  /** Completions per second in the window: hook-sent (end to end) or responses read (raw). */
  perSec: number;
  /** Requests per second the receiver counted in the same window. */
  receiverPerSec: number;
  /** End to end: QoS 1 publishes acknowledged per second in the window. */
  ackedPerSec: number | null;
  cpu: Cpu;
  /** CPU % of each process of the server side when it has several (the peer: mosquitto, forwarder); `cpu.bridge` is their sum. */
  cpuParts?: Record<string, number>;
  /** Bridge CPU time per completion, µs. */
  bridgeUsPerEvent: number | null;
  bridgeRssKb: number | null;
  /** Totals from start to drained, for the cross-check. */
  totals: { published: number | null; acked: number | null; completed: number; failed: number; receiver: number };
  drained: boolean;
  window: [number, number];
}

export interface ClosedWindowOptions {
  name: string;
  /** What serves the devices: a bridge, or a peer's processes seen as one (their CPU and RSS summed). */
  bridge: Pick<Child, 'cpuMs' | 'rssKb'>;
  /** The server side's processes, when it has several: each one's CPU is reported too. */
  parts?: Record<string, () => number>;
  integrations: number;
  devices: Devices;
  receiver: Receiver;
  warmupSec: number;
  seconds: number;
  /** Called after the warm-up, just before the window opens (e.g. a scrape that resets the event-loop histogram). */
  atWindowStart?: () => Promise<void>;
  /** Called at the end of the window, before the load stops (snapshots of the bridge's state). */
  atWindowEnd?: () => Promise<void>;
}

/**
 * Start the devices' closed loop, warm up, measure one window (hook-sent/s, receiver
 * requests/s, PUBACKs/s, CPU of every process), stop the load and wait for it to drain.
 */
export async function closedWindow(o: ClosedWindowOptions): Promise<ThroughputRun> {
  const { bridge, devices, receiver } = o;
  const stats = () => devices.rpc.call<ClosedStats & { inflight: number }>('stats');
  const s0 = await stats();
  const r0 = await receiver.count();
  await devices.rpc.call('start');
  await sleep(o.warmupSec * 1000);
  await o.atWindowStart?.();
  const parts = new Map(Object.entries(o.parts ?? {}));
  const meter = cpuMeter({
    bridge: () => bridge.cpuMs(), load: () => devices.child.cpuMs(), receiver: () => receiver.child.cpuMs(), bench: selfCpuMs, machine: machineCpuMs,
    ...Object.fromEntries([...parts].map(([k, read]) => [`part:${k}`, read])),
  });
  const from = hrUs();
  const start = performance.now();
  const [a, ra] = await Promise.all([stats(), receiver.count()]);
  await sleep(o.seconds * 1000);
  const [b, rb] = await Promise.all([stats(), receiver.count()]);
  const sec = (performance.now() - start) / 1000;
  const to = hrUs();
  const cpu = meter.read();
  const bridgeRssKb = bridge.rssKb();
  await o.atWindowEnd?.();
  await devices.rpc.call('stop');
  const drained = await until(async () => (await stats()).inflight === 0, DRAIN_MS);
  const s1 = await stats();
  // The receiver counts a request on arrival, before the bridge publishes its hook-sent.
  const r1 = await receiver.count();
  const perSec = (b.hookSent - a.hookSent) / sec;
  return {
    name: o.name, integrations: o.integrations,
    perSec, receiverPerSec: (rb - ra) / sec, ackedPerSec: (b.acked - a.acked) / sec,
    cpu: {
      bridge: cpu.bridge!, load: cpu.load!, receiver: cpu.receiver!, bench: cpu.bench!,
      others: Math.max(0, cpu.machine! - cpu.bridge! - cpu.load! - cpu.receiver! - cpu.bench!),
    },
    ...(parts.size > 0 ? { cpuParts: Object.fromEntries([...parts.keys()].map((k) => [k, cpu[`part:${k}`]!])) } : {}),
    bridgeUsPerEvent: (cpu.bridge! / 100) * 1e6 / perSec,
    bridgeRssKb,
    totals: {
      published: s1.published - s0.published, acked: s1.acked - s0.acked,
      completed: s1.hookSent - s0.hookSent, failed: s1.hookError - s0.hookError + s1.errors - s0.errors, receiver: r1 - r0,
    },
    drained, window: [from, to],
  };
}

// ---------------------------------------------------------------------------------------
// One latency window

export interface LatencyWindowOptions {
  bridge: BridgeProcess;
  devices: DeviceCredentials[];
  /** A receiver in record mode (answers with the event's ID), with no samples of another run in the ID range. */
  receiver: Receiver;
  rate: number;
  warmupSec: number;
  seconds: number;
  /** The devices' process name in messages. */
  name?: string;
  /** Bridges sharing a Redis: the devices spread over these (LoadWebhooksOptions.mqttUrls). */
  mqttUrls?: string[];
  /** Called after the warm-up, just before the window opens, and when it closes (the load stopped, before the stragglers). */
  atWindowStart?: () => Promise<void>;
  atWindowEnd?: () => Promise<void>;
}

export interface LatencyWindow {
  /** Events published in the window (each must reach the receiver and its answer the device). */
  expected: number;
  result: RateResult;
  /** publish → request at the receiver, ns, one per measured event received. */
  receiverNs: number[];
  /** Measured events the receiver got more than once. */
  duplicates: number;
  /** Bodies the receiver could not read as the bench's JSON. */
  bad: number;
  /** CPU % in the window: bridge, devices (load), receiver, bench, rest of the machine (others). */
  cpu: Record<string, number> & { others: number };
  window: [number, number];
}

/**
 * Fresh SDK devices publish at `rate` events/s (open loop) to the bridge; after the warm-up,
 * `seconds` of publishes are timed (publish → request at the receiver, publish → hook-response
 * at the device), then the stragglers are waited for (DRAIN_MS) and the devices closed.
 */
export async function latencyWindow(o: LatencyWindowOptions): Promise<LatencyWindow> {
  const { bridge, receiver } = o;
  const devices = await spawnDevices({
    mqttUrl: bridge.mqttUrl, devices: o.devices, event: EVENT, mode: 'rate', inflight: 0, rate: o.rate,
    service: { username: 'bench', password: bridge.adminToken }, ...(o.mqttUrls ? { mqttUrls: o.mqttUrls } : {}),
  }, o.name);
  await devices.rpc.call('start');
  await sleep(o.warmupSec * 1000);
  await o.atWindowStart?.();
  const meter = cpuMeter({ bridge: () => bridge.cpuMs(), load: () => devices.child.cpuMs(), receiver: () => receiver.child.cpuMs(), bench: selfCpuMs, machine: machineCpuMs });
  const from = hrUs();
  await devices.rpc.call('measure');
  await sleep(o.seconds * 1000);
  await devices.rpc.call('stop');
  const to = hrUs();
  const cpu = meter.read();
  await o.atWindowEnd?.();

  // Wait for the stragglers: every measured event at the receiver, every response at its device.
  let result = await devices.rpc.call<RateResult>('result');
  const expected = result.lastId - result.firstId + 1;
  const inRange = (id: number) => id >= result.firstId && id <= result.lastId;
  let samples = await receiver.rpc.call<{ ids: number[]; latencyNs: number[] }>('samples');
  await until(async () => {
    result = await devices.rpc.call<RateResult>('result');
    samples = await receiver.rpc.call<{ ids: number[]; latencyNs: number[] }>('samples');
    return result.responses >= expected && samples.ids.filter(inRange).length >= expected;
  }, DRAIN_MS);
  const receiverNs: number[] = [];
  const seen = new Set<number>();
  samples.ids.forEach((id, k) => {
    if (!inRange(id)) return;
    seen.add(id);
    receiverNs.push(samples.latencyNs[k]!);
  });
  const { bad } = await receiver.rpc.call<{ bad: number }>('stats');
  await devices.rpc.call('close');
  await devices.child.stop();
  // Clock ticks of 10 ms round each reading: a small negative rest is noise.
  const others = Math.max(0, cpu.machine! - cpu.bridge! - cpu.load! - cpu.receiver! - cpu.bench!);
  return { expected, result, receiverNs, duplicates: receiverNs.length - seen.size, bad, cpu: { ...cpu, others }, window: [from, to] };
}

export interface LatencyRow {
  path: string;
  samples: number;
  expected: number;
  /** ms */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  targetP99Ms: number | null;
  /** Every event measured, and p99 within the target (when there is one). */
  met: boolean;
}

/** Percentiles (ms) of one latency path's samples (ns). */
export function latencyRow(path: string, ns: number[], expected: number, targetMs: number | null = null): LatencyRow {
  const ms = ns.map((v) => v / 1e6);
  const p99 = percentile(ms, 99);
  return {
    path, samples: ms.length, expected,
    p50: percentile(ms, 50), p90: percentile(ms, 90), p99, p999: percentile(ms, 99.9), max: percentile(ms, 100),
    targetP99Ms: targetMs, met: (targetMs === null || p99 <= targetMs) && ms.length === expected,
  };
}

// ---------------------------------------------------------------------------------------
// The bridge's event-loop delay

/** The bridge's event-loop delay over a window, ms (scrapeLoopDelay says what the figures mean). */
export interface LoopDelay {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The event-loop delay gauges of the bridge's GET /metrics (prom-client collectDefaultMetrics),
 * in ms. prom-client 15 fills them from a perf_hooks monitorEventLoopDelay histogram and resets
 * it on every scrape, so they describe the time since the previous scrape: scrape just before
 * a window (the reset), then at its end. The histogram samples a 10 ms timer
 * (monitorEventLoopDelay's default resolution) and records each interval between its firings,
 * the 10 ms included: an idle bridge shows p50 ≈ 10.2 ms, and a sample of 10 + d ms means the
 * loop was d ms late. Null when the bridge has no /metrics (an old checkout) or no such gauge.
 */
export async function scrapeLoopDelay(bridge: BridgeProcess): Promise<LoopDelay | null> {
  const res = await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${bridge.adminToken}` } });
  const text = await res.text();
  if (!res.ok) return null;
  const gauge = (name: string) => {
    const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) * 1000 : NaN;
  };
  const delay = { p50: gauge('p50'), p90: gauge('p90'), p99: gauge('p99'), max: gauge('max'), mean: gauge('mean') };
  return Number.isFinite(delay.p99) ? delay : null;
}

/** What the loop-delay figures are, for a table's note. */
export const loopDelayNote = 'intervals of a 10 ms timer, ms (idle ≈ 10.2; 10 + d = the loop d ms late; GET /metrics, reset just before the window)';

export const fmtLoopDelay = (d: LoopDelay | null) => (d === null ? 'no /metrics' : `p50 ${fmt(d.p50, 1)}, p90 ${fmt(d.p90, 1)}, p99 ${fmt(d.p99, 1)}, max ${fmt(d.max, 1)}`);

/** The event-loop delay over one window: `start` just before it opens, `end` when it closes; then `delay`. */
export function loopDelayProbe(bridge: BridgeProcess) {
  let delay: LoopDelay | null = null;
  return {
    start: async () => void (await scrapeLoopDelay(bridge)),
    end: async () => void (delay = await scrapeLoopDelay(bridge)),
    get delay() {
      return delay;
    },
  };
}

/** A run's totals agree: drained, nothing failed, every publish acknowledged and completed once. */
export function consistent(r: ThroughputRun): boolean {
  return r.drained && r.totals.failed === 0 && r.totals.completed === r.totals.receiver &&
    (r.totals.acked === null || (r.totals.acked === r.totals.published && r.totals.completed === r.totals.published));
}

export const othersCell = (others: number) => `${fmt(others)} %${others > DISTURBED_PERCENT ? ' (disturbed)' : ''}`;

// ---------------------------------------------------------------------------------------
// Profiles

export type WindowProfile = ProfileSummary & { window: string };

/**
 * Inclusive time of these, as % of the bridge's busy time: the webhook pipeline's steps, and
 * what the I/O and known-costly calls under them take (`name@module` picks the right `name`).
 */
const PATH_FUNCTIONS = [
  // ingress: MQTT in, the device's publish made an event and taken in (bridge/events/ingest.ts)
  'parse@mqtt-packet', 'authorizePublish@bridge/broker', 'eventFrom', 'take@events/ingest',
  // durable acceptance (bridge/webhooks/inbox.ts) and the store's group commits
  'accept@webhooks/engine', 'flush@webhooks/inbox', 'accept@store/sqlite-deliveries', 'settle@store/sqlite-deliveries',
  'flush@webhooks/outcomes', 'report@webhooks/outcomes', 'pass@webhooks/scheduler', 'claimDue@store/sqlite-deliveries',
  // the pipeline (bridge/webhooks/pipeline.ts) and its steps
  'attempt@webhooks/pipeline', 'match@webhooks/match', 'eventView', 'renderRequest', 'send@webhooks/send', 'readBody',
  'timeout@abort_controller', 'classify', 'record@webhooks/pipeline', 'toLog', 'respond@webhooks/pipeline', 'cloud@events/ingest',
  // I/O: MQTT packets written (PUBACK, hook-sent, ...), HTTP requests written, HTTP responses read
  'uncork@mqtt-packet', 'writeBuffer@undici', 'readMore@undici',
  '(garbage collector)',
];

/** Stop a bridge that ran with --cpu-prof and summarise its main thread's profile over each window. */
export async function profileOf(bridge: BridgeProcess, windows: { name: string; window: [number, number] }[]): Promise<WindowProfile[]> {
  const files = await stopAndShowProfile(bridge);
  // The main thread's profile (thread 0); tsx's loader thread has its own.
  const main = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
  if (!main) return [];
  return Promise.all(windows.map(async (w) => ({ ...(await summarizeProfile(main, { window: w.window, top: 30, inclusiveOf: PATH_FUNCTIONS })), window: w.name })));
}

export function printProfile(p: WindowProfile): void {
  console.log(`\nbridge profile, ${p.window}: busy ${fmt(p.busyMs)} ms of ${fmt(p.wallMs)} ms (${fmt(p.busyPercent)} % of a core); ${p.file}\n`);
  printTable(['self time: function', '% busy'], p.self.slice(0, 20).map((r) => [r.name, fmt(r.percent, 1)]));
  console.log();
  printTable(['self time: module', '% busy'], p.modules.slice(0, 15).map((r) => [r.name, fmt(r.percent, 1)]));
  console.log();
  printTable(['inclusive: webhook path', '% busy'], p.inclusive.filter((r) => r.percent > 0).map((r) => [r.name, fmt(r.percent, 1)]));
  console.log();
  printTable(['inclusive: repository function', '% busy'], p.ownInclusive.slice(0, 20).map((r) => [r.name, fmt(r.percent, 1)]));
}
