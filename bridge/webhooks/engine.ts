// The delivery engine. An accepted event becomes durable deliveries (inbox), which run in
// per-host lanes (lanes) through the attempt pipeline (pipeline); each attempt's record is
// settled in batches (outcomes) and shown to the observers (the `attempt` hook); failed
// attempts come back when their retry is due (scheduler), and so do deliveries that found
// their lane full.
//
//   accept ─► inbox ─► lanes ─► pipeline ─► outcomes ─► scheduler ─┐
//                        ▲                     └─► attempt hook     │
//                        └──────────── due, and room in the lane ◄──┘
//
// Each stage is built with the ports it calls, from the last stage back to the first, so every
// port exists when it is given; the one loop (the scheduler feeds the lanes, the lanes say
// when they have room) is closed once, at the end.

import type { EventBus, HookwireEvent } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Retention, Store, StoredEvent } from '../store/index.ts';
import { createInbox, type Target } from './inbox.ts';
import type { Integration } from './integration.ts';
import { Lanes, type LaneOptions } from './lanes.ts';
import type { Notifier } from './notify.ts';
import { createOutcomes } from './outcomes.ts';
import { createPipeline, type AttemptRecord, type DryRun, type Job, type Publish } from './pipeline.ts';
import type { Registry } from './registry.ts';
import type { EgressRules, ListenAddress } from './egress.ts';
import { createScheduler } from './scheduler.ts';
import { createSender } from './send.ts';
import { createSplitSender } from './send-thread.ts';
import type { SigningKeys } from './signing.ts';
import { HostThrottle, type ThrottleOptions } from './throttle.ts';

/** Sees each attempt's record as it happens; must not throw or block. */
export type AttemptObserver = (record: AttemptRecord) => void;

/** The engine's hooks (STYLE.md 15): observers attach to them where the bridge starts. */
export interface EngineHooks {
  attempt: AttemptObserver;
}

export interface EngineOptions {
  /** No connection or no answer within this many ms fails the attempt. */
  timeoutMs: number;
  /** Most of a response read and published, bytes. */
  maxResponseBytes: number;
  /** Largest rendered request (URL, headers, body), bytes; larger ones fail with REQUEST_TOO_LARGE. */
  maxRequestBytes: number;
  /** Where webhooks may connect (egress.ts). */
  egress: EgressRules;
  /** Connections per target origin. */
  connectionsPerOrigin: number;
  /** Requests beyond `mainInFlight` in flight go out from a second thread (send-thread.ts); 0: never. */
  sendThread: { mainInFlight: number };
  lanes: LaneOptions;
  throttle: ThrottleOptions;
  /** Multiplies retry waits (the schedule and Retry-After). */
  timeScale: number;
  retention: Retention;
  /** How often to prune, ms. */
  pruneEveryMs: number;
  /** On a store shared by several bridges: how often every integration is compared with the store, ms. */
  resyncMs: number;
}

export interface EngineDeps {
  store: Store;
  logger: Logger;
  registry: Registry;
  notifier: Notifier;
  /** Hosts this bridge puts to sleep are announced here ('host:asleep'); those announced by other bridges sleep here too. */
  bus?: EventBus | undefined;
  /** What devices hear back (hook-sent, hook-response, hook-error) goes out here. */
  publish: Publish;
  options: EngineOptions;
}

export interface Engine {
  /**
   * Start delivering: what a previous run left running or pending is taken up. Once, after
   * the engine's answers (hook-responses, state events) have somewhere to go.
   */
  start(): Promise<void>;
  /**
   * Accept an event: store it with the deliveries it triggers. Resolves once they are
   * durable; undefined when it triggers nothing (nothing to wait for).
   */
  accept(event: HookwireEvent): Promise<void> | undefined;
  /** A test attempt: render → send → classify, nothing recorded or published. */
  dryRun(integration: Integration, signing: SigningKeys | undefined, event: HookwireEvent): Promise<DryRun>;
  /** Deliveries to `host` became pending, due at `at` (a replay). */
  pending(host: string, at: number): void;
  /** The bridge's own API listens here: webhooks may not reach it, except its request bins. */
  addOwnApi(listening: ListenAddress[]): void;
  addHook<K extends keyof EngineHooks>(name: K, hook: EngineHooks[K]): () => void;
  /** Hosts asleep now (for the doctor and metrics). */
  sleepingHosts(): { host: string; until: number }[];
  /** Jobs in flight and waiting, per host. */
  lanes(): { host: string; active: number; waiting: number }[];
  /** Resolves once everything reported so far is committed. */
  settled(): Promise<void>;
  /** Resolves once accepted events are stored, the lanes are idle and outcomes committed. */
  idle(): Promise<void>;
  prune(): Promise<void>;
  close(): Promise<void>;
}

function fromStored(e: StoredEvent): HookwireEvent {
  const event: HookwireEvent = { ...e };
  if (e.type === 'typed') event.value = JSON.parse(e.data);
  return event;
}

export async function createEngine({ store, logger, registry, notifier, bus, publish, options }: EngineDeps): Promise<Engine> {
  const log = logger.child({ component: 'webhooks' });
  // A host asleep here is asleep on every bridge (bridge/cluster relays the notice): it failed
  // for all of them. A notice from another bridge puts it to sleep here.
  const throttle = new HostThrottle(options.throttle, (host) => bus?.emit('host:asleep', host));
  const asleepElsewhere = (host: string, from?: string) => {
    if (from !== undefined) throttle.sleep(host);
  };
  bus?.on('host:asleep', asleepElsewhere);
  const { mainInFlight } = options.sendThread;
  const sender = mainInFlight > 0 ? createSplitSender(options, mainInFlight) : createSender(options);
  const attemptHooks = new Set<AttemptObserver>();

  // Last stage first: each is given ports that exist already.
  const scheduler = createScheduler({ store, logger });
  const outcomes = createOutcomes({
    store, logger, timeScale: options.timeScale,
    entry: registry.lookup,
    pending: scheduler.pending,
    stop: registry.stop,
    changed: (entry, previous) => notifier.changed({ integration: entry.integration, status: entry.status, previous }),
  });
  const pipeline = createPipeline({
    integration: registry.lookup, throttle, sender, publish, logger, maxResponseBytes: options.maxResponseBytes, maxRequestBytes: options.maxRequestBytes,
    holds: store.deliveries.holds?.bind(store.deliveries),
    outcome: (record) => {
      outcomes.report(record);
      for (const observe of attemptHooks) observe(record);
    },
  });
  const lanes = new Lanes<Job>(options.lanes, { run: pipeline.attempt, room: scheduler.room });
  const inbox = createInbox({
    store, logger,
    reserve: (host) => lanes.reserve(host),
    release: (host) => lanes.release(host),
    start: (id, event, t) => lanes.push(t.host, { id, integrationId: t.integrationId, event, host: t.host, attempts: 0 }, true),
    wait: scheduler.pending,
  });
  // The loop: due deliveries (retries, and those that found their lane full) back into their lane.
  scheduler.feed({
    room: (host) => lanes.room(host),
    run: (d, e) => lanes.push(d.host, { id: d.id, integrationId: d.integrationId, event: fromStored(e), host: d.host, attempts: d.attempts }, false),
  });

  async function start(): Promise<void> {
    const requeued = await scheduler.start();
    if (requeued) log.info({ deliveries: requeued }, 'resuming deliveries left running by the last run');
  }

  async function prune(): Promise<void> {
    try {
      const removed = await store.deliveries.prune(Date.now(), options.retention);
      if (removed.deliveries || removed.events) log.debug(removed, 'pruned');
    } catch (err) {
      log.error({ err }, 'pruning failed');
    }
  }
  const pruner = setInterval(prune, options.pruneEveryMs);
  pruner.unref();

  async function idle(): Promise<void> {
    for (;;) {
      await inbox.settled();
      await outcomes.settled();
      if (lanes.busy === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await outcomes.settled();
  }

  return {
    start,
    accept(event) {
      const matched = registry.match(event);
      if (matched.length === 0) return undefined;
      const targets: Target[] = matched.map((i) => ({ integrationId: i.id, host: registry.hostOf(i, event) }));
      return inbox.add(event, targets);
    },
    dryRun: (integration, signing, event) => pipeline.dryRun(integration, signing, event),
    pending: scheduler.pending,
    addOwnApi: (listening) => sender.addOwnApi(listening),
    addHook(name, hook) {
      if (name !== 'attempt') throw new Error(`no hook ${String(name)}`);
      attemptHooks.add(hook);
      return () => attemptHooks.delete(hook);
    },
    sleepingHosts: () => throttle.sleeping(),
    lanes: () => lanes.depths(),
    settled: () => outcomes.settled(),
    idle,
    prune,
    async close() {
      bus?.off('host:asleep', asleepElsewhere);
      clearInterval(pruner);
      scheduler.stop();
      await Promise.race([idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await outcomes.settled();
      await sender.close();
    },
  };
}
