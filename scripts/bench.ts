// The webhook benchmark (DESIGN.md, Performance targets; STYLE.md 10): `npm run bench`.
//
//   npx tsx scripts/bench.ts [--seconds 10] [--rate 1000] [--latency-seconds 10] [--devices 50]
//                            [--inflight 128] [--warmup 3] [--rounds 3] [--baseline ab5bfff]
//                            [--backlog 100000] [--down hung|refused] [--time-scale 0.001]
//                            [--restart-seconds 5]
//                            [--only throughput|latency|matching|egress|durable|blackhole|restart|forwarder]
//                            [--compare REV] [--cpu-prof]
//
// 1. Throughput. The bridge (as users run it), the devices (scripts/load-webhooks.ts, SDK
//    devices publishing at QoS 1) and the HTTP receiver (scripts/receiver.ts, node:http
//    answering 200 `ok`) each run in their own process. A delivery is complete when its
//    `hook-sent/bench` reaches a service client in the devices' process; at most --inflight
//    events are published and not complete (a closed loop, so the bridge is never buried
//    under a backlog it cannot clear). Completions are cross-checked against the receiver's
//    request count. Beside it, in the same run, the raw HTTP ceiling: the same receiver
//    process driven by undici from another process (scripts/load-http.ts) with the request
//    the bridge sends (bridge/webhooks/render.ts over the same event), the bridge's 64
//    connections per origin and the same number in flight; measured before and after the
//    end-to-end runs. End to end runs with 10 integrations (one matches), then 1,000
//    (999 never match).
// 2. Latency at a fixed --rate (events/s, spread round-robin over --devices devices, open
//    loop) for --latency-seconds after a warm-up: publish → request at the receiver, and
//    publish → hook-response at the device. Each event's data carries its publish time
//    (process.hrtime.bigint(): CLOCK_MONOTONIC, one clock for every process here) and an ID;
//    the integration forwards both, the receiver answers with the ID. Every event must reach
//    the receiver and every response its device. Beside them, the bridge's event-loop delay over
//    the window (GET /metrics; scripts/lib/stack.ts scrapeLoopDelay says what it means).
// 3. Matching: MatchIndex.match(event) in this process, ns per match with 10 and with 1,000
//    integrations (scripts/lib/match-fixtures.ts), same events, same matches.
// 3b. Egress (scripts/lib/egress-bench.ts): the egress policy's check of a connection's
//    address, in this process, ns per check.
// 4-6. Durable delivery (scripts/lib/delivery.ts): end to end with durable acceptance against
//    the in-memory path (--baseline, checked out in a git worktree, both run in turn); a
//    healthy endpoint's throughput beside a black-holed one; restart with a backlog of
//    --backlog pending deliveries (time to ready and to resumed, memory).
// 7. Forwarder (scripts/lib/peer.ts): Hookwire against what a user would otherwise write,
//    Mosquitto and a 20-line forwarder (scripts/forwarder.ts), each in its own process, driven
//    by the same devices script and receiver in alternating closed-loop windows (--rounds):
//    events/s of each, the ratio, the CPU of the bridge and of mosquitto + forwarder. Skipped,
//    saying how to install it, without /usr/sbin/mosquitto. A measure of its own rather than
//    part of 1: it needs rounds (two servers, alternating) and leaves 1's figures as they were.
// 8. Compare (--compare REV, scripts/lib/compare.ts; runs alone): REV in a git worktree against
//    the working tree, both bridges up, --rounds rounds of a throughput window (as 1, 10
//    integrations) and a latency window (as 2) on each: events/s, bridge CPU µs per event,
//    latency p50/p99/p99.9 at the receiver and at the device, event-loop delay.
//
// Each measure uses a fresh bridge (durable and compare: one per checkout for all their rounds;
// forwarder: one for all its rounds). --cpu-prof profiles the bridges (node --cpu-prof) and
// prints where their busy time went during each measured window. Results go to
// .bench/webhooks.json.

import { parseArgs } from 'node:util';
import { MatchIndex, parseTemplate, renderRequest, webhookDefaults } from '../bridge/webhooks/index.ts';
import {
  cpuMeter, fmt, fmtKb, intFlag, machineCpuMs, machineInfo, median, nsPerCall, numberFlag,
  printMachine, printTable, runBench, selfCpuMs, sleep, spawnTs, writeResults, UsageError,
} from './lib/bench.ts';
import { runCompare } from './lib/compare.ts';
import { runEgress } from './lib/egress-bench.ts';
import { runBlackhole, runDurable, runRestart, type DeliveryOptions } from './lib/delivery.ts';
import { remote } from './lib/ipc.ts';
import { benchEvent, matchFixtures, toEvents, toIntegration } from './lib/match-fixtures.ts';
import { runForwarder } from './lib/peer.ts';
import {
  addIntegrations, benchStack, benchTemplate, closedWindow, consistent, DISTURBED_PERCENT, EVENT, fixtureBody, fmtLoopDelay, hrUs, latencyRow,
  latencyWindow, loopDelayNote, loopDelayProbe, printProfile, profileOf, spawnDevices, spawnReceiver, verdict, type ThroughputRun,
} from './lib/stack.ts';
import type { Integration } from '../bridge/webhooks/index.ts';
import type { LoadHttpOptions, LoadHttpStats } from './load-http.ts';

const TARGET = {
  /** DESIGN.md, Performance targets: end to end ≥ 50 % of the raw HTTP ceiling. */
  ratio: 0.5,
  /** DESIGN.md: at 1,000 events/s, publish → request at the receiver p99 ≤ 10 ms. */
  receiverP99Ms: 10,
  /** DESIGN.md: publish → hook-response at the device p99 ≤ 15 ms. */
  deviceP99Ms: 15,
  /** Matching 1,000 integrations should cost what 10 do (~1×, bridge/webhooks/match.ts); 1.25× leaves room for noise. */
  matchRatio: 1.25,
};
/** What the bridge uses per origin (bridge/webhooks/index.ts). */
const CONNECTIONS = webhookDefaults.connectionsPerOrigin;

const usage = `usage: npx tsx scripts/bench.ts [options]
  --seconds S          throughput window per run (10)
  --rate N             latency: events/s over all devices (1000)
  --latency-seconds S  latency: measured window (10)
  --devices N          simulated devices (50)
  --inflight N         throughput: events (or raw requests) in flight (128)
  --warmup S           load before each window opens (3; the bridge's first seconds run
                       unoptimised code at a third of its speed)
  --only MEASURE       throughput, latency, matching, egress, durable, blackhole, restart or forwarder
                       (all; forwarder: Hookwire against Mosquitto + scripts/forwarder.ts, skipped
                       without /usr/sbin/mosquitto: apt-get update && apt-get install -y mosquitto)
  --rounds N           durable, blackhole, forwarder, compare: alternating rounds of the two
                       bridges, set-ups or servers (3)
  --compare REV        run only the before/after measure: REV (checked out in a git worktree)
                       against the working tree, --rounds rounds of a throughput window and a
                       latency window (--rate) on each: events/s, µs/event, p50/p99/p99.9,
                       event-loop delay
  --baseline REV       durable: the commit of the in-memory path (ab5bfff)
  --backlog N          restart: events left pending, one delivery each (100000)
  --down hung|refused  restart: how the receiver is down while the backlog builds (hung:
                       accepts, never answers; refused: nothing listens) (hung)
  --time-scale X       restart --down refused: HOOKWIRE_TIME_SCALE of both runs, so the
                       retries are due at the restart (0.001)
  --restart-seconds S  restart: how long the restarted bridge is watched draining (5)
  --cpu-prof           profile the bridges into .bench/profiles/ and summarise each window
                       (it slows the bridge: compare shares of time, not rates)`;

// ---------------------------------------------------------------------------------------
// 1. Throughput

async function runThroughput(options: Options, fixtures: ReturnType<typeof matchFixtures>) {
  console.log(`\n## Throughput: ${options.seconds} s windows after ${options.warmupSec} s warm-up; ${options.inflight} in flight, ` +
    `${CONNECTIONS} connections per origin, ${options.devices} devices`);
  const receiver = await spawnReceiver(false);
  const receiverCount = receiver.count;
  const stack = await benchStack(options, receiver.port, fixtures);
  const { bridge } = stack;

  // The request the bridge sends for such an event (same method, headers and body size).
  const template = parseTemplate(benchTemplate(receiver.port));
  const sample = benchEvent(EVENT, `{"t":"${process.hrtime.bigint()}","i":${123_456}}`,
    { coreid: stack.devices[0]!.id, productId: null, firmwareVersion: null });
  const request = renderRequest(template, sample);
  console.log(`request: ${request.method} ${request.url}, headers ${Object.keys(request.headers).join(', ')}, ` +
    `JSON body ${Buffer.byteLength(request.body ?? '')} bytes`);

  const runs: ThroughputRun[] = [];

  async function raw(name: string): Promise<ThroughputRun> {
    const loadOptions: LoadHttpOptions = { request: { ...request }, connections: CONNECTIONS, inflight: options.inflight };
    const { child } = await spawnTs({ name: 'load-http', script: 'scripts/load-http.ts', args: ['--options', JSON.stringify(loadOptions)], ipc: true, ready: (l) => l.ready === true });
    const rpc = remote(child);
    const r0 = await receiverCount();
    await rpc.call('start');
    await sleep(options.warmupSec * 1000);
    const meter = cpuMeter({ load: () => child.cpuMs(), receiver: () => receiver.child.cpuMs(), bench: selfCpuMs, machine: machineCpuMs });
    const from = hrUs();
    const start = performance.now();
    const [a, ra] = await Promise.all([rpc.call<LoadHttpStats>('stats'), receiverCount()]);
    await sleep(options.seconds * 1000);
    const [b, rb] = await Promise.all([rpc.call<LoadHttpStats>('stats'), receiverCount()]);
    const sec = (performance.now() - start) / 1000;
    const to = hrUs();
    const cpu = meter.read();
    const final = await rpc.call<LoadHttpStats>('stop');
    await child.stop();
    const r1 = await receiverCount();
    return {
      name, integrations: null,
      perSec: (b.done - a.done) / sec, receiverPerSec: (rb - ra) / sec, ackedPerSec: null,
      cpu: { bridge: null, load: cpu.load!, receiver: cpu.receiver!, bench: cpu.bench!, others: Math.max(0, cpu.machine! - cpu.load! - cpu.receiver! - cpu.bench!) },
      bridgeUsPerEvent: null, bridgeRssKb: null,
      totals: { published: null, acked: null, completed: final.done, failed: final.errors + final.non2xx, receiver: r1 - r0 },
      drained: true, window: [from, to],
    };
  }

  const devices = await spawnDevices({
    mqttUrl: bridge.mqttUrl, devices: stack.devices, event: EVENT, mode: 'closed', inflight: options.inflight, rate: 0,
    service: { username: 'bench', password: bridge.adminToken },
  });

  const e2e = (name: string) => closedWindow({
    name, bridge, integrations: stack.integrations, devices, receiver, warmupSec: options.warmupSec, seconds: options.seconds,
  });

  const show = (r: ThroughputRun) => console.log(`  ${r.name.padEnd(28)} ${fmt(r.perSec).padStart(7)} /s`);
  runs.push(await raw('raw HTTP ceiling (before)'));
  show(runs.at(-1)!);
  runs.push(await e2e('end to end, 10 integrations'));
  show(runs.at(-1)!);
  await addIntegrations(stack, fixtures.extra(1000 - stack.integrations).map((f) => fixtureBody(f, receiver.port)));
  runs.push(await e2e(`end to end, ${fmt(stack.integrations)} integrations`));
  show(runs.at(-1)!);
  runs.push(await raw('raw HTTP ceiling (after)'));
  show(runs.at(-1)!);

  // What the bridge actually sent, from its delivery log: the raw driver's request must match it.
  const list = await bridge.api<{ id: string; event: string }[]>('GET', '/v1/integrations');
  const benchId = list.body.find((i) => i.event === EVENT)!.id;
  const detail = await bridge.api<{ integration: { logs: { request?: { method: string; headers: Record<string, string>; body?: string } }[] } }>('GET', `/v1/integrations/${benchId}`);
  const logged = detail.body.integration.logs[0]?.request;
  const sentBytes = Buffer.byteLength(logged?.body ?? '');

  await devices.rpc.call('close');
  await devices.child.stop();
  const profile = options.cpuProf ? await profileOf(bridge, runs.filter((r) => r.integrations !== null)) : [];
  await bridge.stop();
  await receiver.child.stop();

  const raws = runs.filter((r) => r.integrations === null);
  const ceiling = raws.reduce((n, r) => n + r.perSec, 0) / raws.length;
  console.log(`\nthroughput (per second over each ${options.seconds} s window; CPU: 100 % = one core, ${machineInfo().cores * 100} % in all):\n`);
  printTable(['run', 'completed/s', 'receiver req/s', 'acked/s', 'vs raw ceiling', 'bridge CPU', 'load CPU', 'receiver CPU', 'bench CPU', 'rest of machine', 'bridge µs/event', 'bridge RSS'],
    runs.map((r) => [r.name, r.perSec, r.receiverPerSec, r.ackedPerSec === null ? '-' : fmt(r.ackedPerSec),
      r.integrations === null ? '-' : `${fmt((r.perSec / ceiling) * 100)} %`,
      r.cpu.bridge === null ? '-' : `${fmt(r.cpu.bridge)} %`, `${fmt(r.cpu.load)} %`, `${fmt(r.cpu.receiver)} %`, `${fmt(r.cpu.bench)} %`,
      `${fmt(r.cpu.others)} %${r.cpu.others > DISTURBED_PERCENT ? ' (disturbed)' : ''}`,
      r.bridgeUsPerEvent === null ? '-' : fmt(r.bridgeUsPerEvent, 1), r.bridgeRssKb === null ? '-' : fmtKb(r.bridgeRssKb)]));
  console.log('(completed: hook-sent events seen by the devices\' service client, end to end; responses read, raw. ' +
    'load: the devices\' process, end to end; the undici driver, raw.)');

  console.log('\ncross-check, whole run from start to drained:\n');
  const checks = runs.map((r) => ({ run: r.name, ok: consistent(r), ...r.totals }));
  printTable(['run', 'published', 'acked', 'completed', 'failed', 'receiver requests', 'consistent'],
    checks.map((c) => [c.run, c.published === null ? '-' : fmt(c.published), c.acked === null ? '-' : fmt(c.acked), c.completed, c.failed, c.receiver, c.ok ? 'yes' : 'NO']));
  console.log(`(request sent by the bridge, from its delivery log: ${logged?.method} ${Object.keys(logged?.headers ?? {}).join(', ')}, ` +
    `body ${sentBytes} bytes; by the raw driver: ${Buffer.byteLength(request.body ?? '')} bytes)`);

  const e2e10 = runs[1]!;
  const ratio = e2e10.perSec / ceiling;
  console.log('\nsummary:\n');
  printTable(['measure', 'value', 'target', 'result'], [
    ['raw HTTP ceiling (mean of before and after)', `${fmt(ceiling)} /s`, '', ''],
    ['end to end, 10 integrations', `${fmt(e2e10.perSec)} /s`, '', ''],
    ['end to end / raw', `${fmt(ratio * 100)} %`, `≥ ${TARGET.ratio * 100} %`, verdict(ratio >= TARGET.ratio)],
    ['end to end, 1,000 / 10 integrations', `${fmt((runs[2]!.perSec / e2e10.perSec) * 100)} %`, '~100 %', ''],
  ]);
  if (checks.some((c) => !c.ok)) console.error('\nwarning: a run is not consistent (see the cross-check): its figures are suspect.');
  for (const p of profile) printProfile(p);

  return { ceiling, ratio, targetMet: ratio >= TARGET.ratio, runs, checks, request: { sentByBridgeBytes: sentBytes, rawBytes: Buffer.byteLength(request.body ?? ''), headers: Object.keys(request.headers) }, profile };
}

// ---------------------------------------------------------------------------------------
// 2. Latency

async function runLatency(options: Options, fixtures: ReturnType<typeof matchFixtures>) {
  console.log(`\n## Latency: ${fmt(options.rate)} events/s over ${options.devices} devices, ${options.latencySec} s after ${options.warmupSec} s warm-up`);
  const receiver = await spawnReceiver(true);
  const stack = await benchStack(options, receiver.port, fixtures);
  const { bridge } = stack;
  const loop = loopDelayProbe(bridge);
  const w = await latencyWindow({
    bridge, devices: stack.devices, receiver, rate: options.rate, warmupSec: options.warmupSec, seconds: options.latencySec,
    atWindowStart: loop.start, atWindowEnd: loop.end,
  });
  const { expected, result, cpu, duplicates, bad } = w;
  const { others } = cpu;
  const profile = options.cpuProf ? await profileOf(bridge, [{ name: 'latency window', window: w.window }]) : [];
  await bridge.stop();
  await receiver.child.stop();

  const rows = [
    latencyRow('publish → request at the receiver', w.receiverNs, expected, TARGET.receiverP99Ms),
    latencyRow('publish → hook-response at the device', result.rttNs, expected, TARGET.deviceP99Ms),
  ];
  console.log(`\nlatency (ms), ${fmt(expected)} events published at ${fmt(result.achievedRate)} /s:\n`);
  printTable(['path', 'received', 'p50', 'p90', 'p99', 'p99.9', 'max', 'target p99', 'result'],
    rows.map((r) => [r.path, `${fmt(r.samples)} / ${fmt(r.expected)}`, fmt(r.p50, 2), fmt(r.p90, 2), fmt(r.p99, 2), fmt(r.p999, 2), fmt(r.max, 2),
      `≤ ${r.targetP99Ms}`, verdict(r.met)]));
  console.log(`(CPU in the window: bridge ${fmt(cpu.bridge!)} % = ${fmt((cpu.bridge! / 100) * 1e6 / result.achievedRate)} µs per event, devices ${fmt(cpu.load!)} %, receiver ${fmt(cpu.receiver!)} %, ` +
    `bench ${fmt(cpu.bench!)} %, rest of machine ${fmt(others)} %${others > DISTURBED_PERCENT ? ' (disturbed)' : ''}; publish errors ${result.errors}, ` +
    `unexpected responses ${result.unexpected}, duplicate requests ${duplicates}, bad bodies ${bad})`);
  console.log(`(bridge event loop in the window, ${loopDelayNote}: ${fmtLoopDelay(loop.delay)})`);
  for (const p of profile) printProfile(p);

  return {
    rate: options.rate, achievedRate: result.achievedRate, expected, rows,
    cpu, loopDelayMs: loop.delay, errors: result.errors, unexpected: result.unexpected, duplicates, badBodies: bad, profile,
    targetMet: rows.every((r) => r.met),
  };
}

// ---------------------------------------------------------------------------------------
// 3. Matching

function runMatching(fixtures: ReturnType<typeof matchFixtures>) {
  console.log('\n## Matching: MatchIndex.match(event), in this process');
  const small = new MatchIndex();
  const big = new MatchIndex();
  const core = fixtures.core.map((f) => toIntegration(f));
  for (const i of core) {
    small.set(i);
    big.set(i);
  }
  const extra = fixtures.extra(1000 - core.length).map((f) => toIntegration(f));
  for (const i of extra) big.set(i);
  const events = toEvents(fixtures.eventNames(4096), fixtures.deviceIds);
  const mask = events.length - 1;

  const indexes = [{ name: '10', index: small, triggers: core }, { name: '1,000', index: big, triggers: [...core, ...extra] }];
  const lengths = (triggers: Integration[]) => new Set(triggers.map((i) => i.event.length)).size;
  const matchCounts = indexes.map(({ index }) => events.map((e) => index.match(e).length));
  if (matchCounts[0]!.some((n, k) => n !== matchCounts[1]![k])) throw new Error('the 10 and 1,000 sets do not give the same matches');

  /** ns per match over ~`ms` of back-to-back calls. */
  const time = (index: MatchIndex, ms: number) => nsPerCall((k) => index.match(events[k & mask]!).length, ms, 10_000);
  for (const { index } of indexes) time(index, 300); // warm-up: optimised code for both
  // Short rounds, alternating, so drift and other processes hit both sizes alike.
  const rounds = 15;
  const ns = indexes.map(() => [] as number[]);
  const meter = cpuMeter({ bench: selfCpuMs, machine: machineCpuMs });
  for (let r = 0; r < rounds; r++) indexes.forEach(({ index }, k) => ns[k]!.push(time(index, 150)));
  const cpu = meter.read();

  const distribution = (counts: number[]) => {
    const n = counts.length;
    const share = (f: (c: number) => boolean) => `${fmt((counts.filter(f).length / n) * 100)} %`;
    return `${share((c) => c === 0)} / ${share((c) => c === 1)} / ${share((c) => c > 1)}`;
  };
  const rows = indexes.map(({ name, index, triggers }, k) => ({
    integrations: name, size: index.size, triggerLengths: lengths(triggers),
    matches: distribution(matchCounts[k]!),
    nsPerMatch: median(ns[k]!), min: Math.min(...ns[k]!), max: Math.max(...ns[k]!),
  }));
  const ratio = rows[1]!.nsPerMatch / rows[0]!.nsPerMatch;
  const minRatio = rows[1]!.min / rows[0]!.min;
  const others = Math.max(0, cpu.machine! - cpu.bench!);
  console.log(`\nmatching (${fmt(events.length)} events, names of 1-3 levels; ${rounds} rounds of 150 ms each, alternating):\n`);
  printTable(['integrations', 'distinct trigger lengths', 'events matching 0 / 1 / 2+', 'ns per match (median)', 'min', 'max', 'vs 10 (median)', 'vs 10 (min)'],
    rows.map((r) => [r.integrations, String(r.triggerLengths), r.matches, fmt(r.nsPerMatch, 0), fmt(r.min, 0), fmt(r.max, 0),
      `${fmt((r.nsPerMatch / rows[0]!.nsPerMatch) * 100)} %`, `${fmt((r.min / rows[0]!.min) * 100)} %`]));
  console.log(`(1,000 / 10 = ${fmt(ratio, 2)}× (median), ${fmt(minRatio, 2)}× (min); expected ~1×, i.e. ≤ ${TARGET.matchRatio}×: ` +
    `${verdict(ratio <= TARGET.matchRatio)}. Same events and same matches for both sets; the 990 extra integrations never match. ` +
    `Rest of machine: ${fmt(others)} % CPU${others > DISTURBED_PERCENT ? ' (disturbed)' : ''}.)`);
  return { rows, ratio, minRatio, cpu: { ...cpu, others }, targetMet: ratio <= TARGET.matchRatio };
}

// ---------------------------------------------------------------------------------------

interface Options extends DeliveryOptions {
  seconds: number;
  rate: number;
  latencySec: number;
  devices: number;
  inflight: number;
  warmupSec: number;
  only: string | null;
  /** The revision the compare measure runs against the working tree; null: no compare. */
  compare: string | null;
  cpuProf: boolean;
}

function downFlag(value: string | undefined): DeliveryOptions['down'] {
  if (value === 'hung' || value === 'refused') return value;
  throw new UsageError(`--down must be hung or refused, got ${JSON.stringify(value)}`);
}

await runBench(async () => {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '1000' },
      'latency-seconds': { type: 'string', default: '10' },
      devices: { type: 'string', default: '50' },
      inflight: { type: 'string', default: '128' },
      warmup: { type: 'string', default: '3' },
      only: { type: 'string' },
      compare: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      baseline: { type: 'string', default: 'ab5bfff' },
      backlog: { type: 'string', default: '100000' },
      down: { type: 'string', default: 'hung' },
      'time-scale': { type: 'string', default: '0.001' },
      'restart-seconds': { type: 'string', default: '5' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return console.log(usage);
  const measures = ['throughput', 'latency', 'matching', 'egress', 'durable', 'blackhole', 'restart', 'forwarder'];
  if (values.only !== undefined && !measures.includes(values.only)) throw new UsageError(`--only must be one of ${measures.join(', ')}`);
  // --compare asks for one measure, and a long one: it runs alone.
  if (values.compare !== undefined && values.only !== undefined) throw new UsageError('--compare runs alone: leave out --only');
  const options: Options = {
    seconds: numberFlag('seconds', values.seconds),
    rate: numberFlag('rate', values.rate),
    latencySec: numberFlag('latency-seconds', values['latency-seconds']),
    devices: intFlag('devices', values.devices),
    inflight: intFlag('inflight', values.inflight),
    warmupSec: numberFlag('warmup', values.warmup),
    only: values.compare !== undefined ? 'compare' : values.only ?? null,
    compare: values.compare ?? null,
    cpuProf: values['cpu-prof'],
    rounds: intFlag('rounds', values.rounds),
    baseline: values.baseline,
    backlog: intFlag('backlog', values.backlog),
    down: downFlag(values.down),
    timeScale: numberFlag('time-scale', values['time-scale']),
    restartSec: intFlag('restart-seconds', values['restart-seconds']),
  };
  const want = (m: string) => options.only === null || options.only === m;
  const machine = machineInfo();
  printMachine(machine);

  const results: Record<string, unknown> = {};
  // Each measure gets fixtures made the same way (seeded), whichever ran before it.
  if (want('matching')) results.matching = runMatching(matchFixtures());
  if (want('egress')) results.egress = runEgress();
  if (want('throughput')) results.throughput = await runThroughput(options, matchFixtures());
  if (want('latency')) results.latency = await runLatency(options, matchFixtures());
  if (want('durable')) results.durable = await runDurable(options);
  if (want('blackhole')) results.blackhole = await runBlackhole(options);
  if (want('restart')) results.restart = await runRestart(options);
  if (want('forwarder')) results.forwarder = await runForwarder(options);
  if (options.compare !== null) results.compare = await runCompare({ ...options, compare: options.compare });

  const path = await writeResults('webhooks', { machine, options, results });
  console.log(`\nresults: ${path}`);
});
