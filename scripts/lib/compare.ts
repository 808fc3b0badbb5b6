// The before/after measure of scripts/bench.ts (--compare REV):
//
// 8. compare  REV checked out in a git worktree (scripts/lib/worktree.ts: node_modules linked
//             from this repository, as the durable measure does) and the working tree, both
//             bridges up for the whole run with the throughput measure's stack (10
//             integrations, one matching, --devices devices) and one receiver. Each of --rounds
//             rounds runs, REV then working tree: a throughput window (closed loop, --inflight
//             in flight), then a latency window (--rate events/s, open loop). Per window: events/s,
//             the bridge's CPU µs per event, publish → request at the receiver and publish →
//             hook-response at the device (p50, p99, p99.9), and the bridge's event-loop delay
//             (GET /metrics scraped just before the window, which resets prom-client's histogram,
//             and at its end: stack.ts scrapeLoopDelay says what the figures mean). Each window
//             has fresh devices (a device's second connection would take over its first); the
//             receiver records only during latency windows (scripts/receiver.ts `record`).

import { fmt, median, printTable, ROOT } from './bench.ts';
import { matchFixtures } from './match-fixtures.ts';
import {
  benchStack, closedDevices, closedWindow, consistent, latencyRow, latencyWindow, loopDelayNote, loopDelayProbe, othersCell,
  printProfile, profileOf, spawnReceiver, type LatencyRow, type LoopDelay, type Stack, type ThroughputRun, type WindowProfile,
} from './stack.ts';
import { checkoutWorktree } from './worktree.ts';

export interface CompareOptions {
  /** The revision to compare the working tree with. */
  compare: string;
  rounds: number;
  seconds: number;
  latencySec: number;
  warmupSec: number;
  rate: number;
  devices: number;
  inflight: number;
  cpuProf: boolean;
}

type Side = 'rev' | 'current';

interface CompareThroughput {
  side: Side;
  round: number;
  run: ThroughputRun;
  loopDelay: LoopDelay | null;
}

interface CompareLatency {
  side: Side;
  round: number;
  achievedRate: number;
  rows: LatencyRow[];
  bridgeCpu: number;
  bridgeUsPerEvent: number;
  others: number;
  loopDelay: LoopDelay | null;
  /** Every measured event reached the receiver and its answer the device, none twice, no bad body. */
  complete: boolean;
  window: [number, number];
}

const ms = (v: number | undefined) => (v === undefined ? '-' : fmt(v, 2));
const loopP99 = (d: LoopDelay | null) => (d === null ? '-' : fmt(d.p99, 1));

export async function runCompare(o: CompareOptions) {
  console.log(`\n## Before/after: ${o.compare} against the working tree, same run; ${o.rounds} rounds, each: a throughput window ` +
    `(${o.seconds} s, closed loop, ${o.inflight} in flight) and a latency window (${fmt(o.rate)} events/s, ${o.latencySec} s), ` +
    `${o.warmupSec} s warm-up each, REV then working tree; 10 integrations, ${o.devices} devices`);
  const tree = await checkoutWorktree(o.compare);
  if (!tree) {
    const reason = `${o.compare} is not a commit of this repository (a typo, or a shallow clone?): measure skipped`;
    console.log(reason);
    return { skipped: true, reason };
  }
  const short = tree.commit.slice(0, 7);
  console.log(`REV: ${short} "${tree.subject}", checked out in ${tree.dir}`);
  const stacks: { side: Side; label: string; stack: Stack }[] = [];
  try {
    const receiver = await spawnReceiver(false);
    const fixtures = matchFixtures();
    for (const [side, root, label] of [['rev', tree.dir, short], ['current', ROOT, 'working tree']] as const) {
      const stack = await benchStack({ devices: o.devices, cpuProf: o.cpuProf, bridge: { root, name: `bridge ${label}` } }, receiver.port, fixtures);
      stacks.push({ side, label, stack });
    }

    const throughput: CompareThroughput[] = [];
    const latency: CompareLatency[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const s of stacks) {
        const loop = loopDelayProbe(s.stack.bridge);
        const devices = await closedDevices(s.stack, o.inflight, `load-${s.side}`);
        const run = await closedWindow({
          name: `${s.label}, round ${round}`, bridge: s.stack.bridge, integrations: s.stack.integrations, devices, receiver,
          warmupSec: o.warmupSec, seconds: o.seconds, atWindowStart: loop.start, atWindowEnd: loop.end,
        });
        await devices.rpc.call('close');
        await devices.child.stop();
        throughput.push({ side: s.side, round, run, loopDelay: loop.delay });
        console.log(`  throughput ${run.name.padEnd(26)} ${fmt(run.perSec).padStart(7)} /s  ${fmt(run.bridgeUsPerEvent ?? NaN, 1)} µs/event  ` +
          `loop p99 ${loopP99(loop.delay)} ms`);
      }
      for (const s of stacks) {
        const loop = loopDelayProbe(s.stack.bridge);
        await receiver.rpc.call('record', true);
        const w = await latencyWindow({
          bridge: s.stack.bridge, devices: s.stack.devices, receiver, rate: o.rate, warmupSec: o.warmupSec, seconds: o.latencySec,
          name: `load-rate-${s.side}`, atWindowStart: loop.start, atWindowEnd: loop.end,
        });
        await receiver.rpc.call('record', false);
        const rows = [
          latencyRow('publish → request at the receiver', w.receiverNs, w.expected),
          latencyRow('publish → hook-response at the device', w.result.rttNs, w.expected),
        ];
        const complete = rows.every((r) => r.met) && w.duplicates === 0 && w.bad === 0 && w.result.errors === 0 && w.result.unexpected === 0;
        latency.push({
          side: s.side, round, achievedRate: w.result.achievedRate, rows, bridgeCpu: w.cpu.bridge!,
          bridgeUsPerEvent: (w.cpu.bridge! / 100) * 1e6 / w.result.achievedRate, others: w.cpu.others, loopDelay: loop.delay, complete, window: w.window,
        });
        console.log(`  latency    ${`${s.label}, round ${round}`.padEnd(26)} receiver p99 ${ms(rows[0]!.p99)} ms, device p99 ${ms(rows[1]!.p99)} ms  ` +
          `loop p99 ${loopP99(loop.delay)} ms`);
      }
    }

    const profile: WindowProfile[] = [];
    for (const s of stacks) {
      if (o.cpuProf) {
        profile.push(...await profileOf(s.stack.bridge, [
          ...throughput.filter((t) => t.side === s.side).map((t) => ({ name: `throughput, ${t.run.name}`, window: t.run.window })),
          ...latency.filter((l) => l.side === s.side).map((l) => ({ name: `latency, ${s.label}, round ${l.round}`, window: l.window })),
        ]));
      }
      await s.stack.bridge.stop();
    }
    await receiver.child.stop();

    const labelOf = (side: Side) => stacks.find((s) => s.side === side)!.label;
    console.log(`\nthroughput (closed loop, 10 integrations; per second over each ${o.seconds} s window; CPU: 100 % = one core; ` +
      `loop delay: ${loopDelayNote}):\n`);
    printTable(['round', 'checkout', 'events/s', 'bridge CPU', 'bridge µs/event', 'loop delay p50', 'p99', 'max', 'rest of machine', 'consistent'],
      throughput.map((t) => [String(t.round), labelOf(t.side), t.run.perSec, `${fmt(t.run.cpu.bridge ?? NaN)} %`, fmt(t.run.bridgeUsPerEvent ?? NaN, 1),
        t.loopDelay === null ? '-' : fmt(t.loopDelay.p50, 1), loopP99(t.loopDelay), t.loopDelay === null ? '-' : fmt(t.loopDelay.max, 1),
        othersCell(t.run.cpu.others), consistent(t.run) ? 'yes' : 'NO']));
    console.log(`\nlatency at ${fmt(o.rate)} events/s (ms; receiver: publish → request at the receiver; device: publish → hook-response at the device):\n`);
    printTable(['round', 'checkout', 'events/s', 'receiver p50', 'p99', 'p99.9', 'device p50', 'p99', 'p99.9', 'bridge µs/event', 'loop delay p99', 'max',
      'rest of machine', 'complete'],
    latency.map((l) => {
      const [rx, dev] = l.rows;
      return [String(l.round), labelOf(l.side), l.achievedRate, ms(rx?.p50), ms(rx?.p99), ms(rx?.p999), ms(dev?.p50), ms(dev?.p99), ms(dev?.p999),
        fmt(l.bridgeUsPerEvent, 1), loopP99(l.loopDelay), l.loopDelay === null ? '-' : fmt(l.loopDelay.max, 1), othersCell(l.others), l.complete ? 'yes' : 'NO'];
    }));

    // Medians of the rounds, per checkout, and the working tree against REV.
    const med = <T extends { side: Side }>(items: T[], side: Side, value: (t: T) => number | undefined) =>
      median(items.filter((t) => t.side === side).map(value).filter((v): v is number => v !== undefined && Number.isFinite(v)));
    const measures: [string, (side: Side) => number, number][] = [
      ['throughput: events/s', (side) => med(throughput, side, (t) => t.run.perSec), 0],
      ['throughput: bridge µs/event', (side) => med(throughput, side, (t) => t.run.bridgeUsPerEvent ?? undefined), 1],
      ['throughput: loop delay p99 (ms)', (side) => med(throughput, side, (t) => t.loopDelay?.p99), 1],
      ['latency: receiver p50 (ms)', (side) => med(latency, side, (l) => l.rows[0]?.p50), 2],
      ['latency: receiver p99 (ms)', (side) => med(latency, side, (l) => l.rows[0]?.p99), 2],
      ['latency: receiver p99.9 (ms)', (side) => med(latency, side, (l) => l.rows[0]?.p999), 2],
      ['latency: device p50 (ms)', (side) => med(latency, side, (l) => l.rows[1]?.p50), 2],
      ['latency: device p99 (ms)', (side) => med(latency, side, (l) => l.rows[1]?.p99), 2],
      ['latency: device p99.9 (ms)', (side) => med(latency, side, (l) => l.rows[1]?.p999), 2],
      ['latency: bridge µs/event', (side) => med(latency, side, (l) => l.bridgeUsPerEvent), 1],
      ['latency: loop delay p99 (ms)', (side) => med(latency, side, (l) => l.loopDelay?.p99), 1],
    ];
    const summary = measures.map(([name, value, digits]) => {
      const rev = value('rev');
      const current = value('current');
      return { measure: name, rev, current, ratio: current / rev, digits };
    });
    console.log(`\nsummary (medians of the rounds):\n`);
    printTable(['measure', short, 'working tree', 'working tree / REV'],
      summary.map((m) => [m.measure, fmt(m.rev, m.digits), fmt(m.current, m.digits), fmt(m.ratio, 2)]));
    if (throughput.some((t) => !consistent(t.run)) || latency.some((l) => !l.complete)) {
      console.error('\nwarning: a window is not consistent or complete (see the tables): its figures are suspect.');
    }
    for (const p of profile) printProfile(p);
    return {
      rev: { asked: o.compare, commit: tree.commit, subject: tree.subject },
      throughput: throughput.map((t) => ({ ...t, checkout: labelOf(t.side) })),
      latency: latency.map((l) => ({ ...l, checkout: labelOf(l.side) })),
      summary, profile,
    };
  } finally {
    await Promise.all(stacks.map((s) => s.stack.bridge.stop()));
    await tree.remove();
  }
}
