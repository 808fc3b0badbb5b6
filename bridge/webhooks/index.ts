// The webhook engine's public surface: `interface Webhooks`, what the rest of the bridge uses.
// It is two parts wired together: the registry (registry.ts: integrations, who changed what,
// signing secrets) and the delivery engine (engine.ts: accept → inbox → lanes → pipeline →
// outcomes → scheduler). This file composes them and answers the questions that need both
// (logs, history, failed deliveries, replay, test). It is given a `publish` for what devices
// hear back; it never reaches into the broker or the API.

import type { EventBus, HookwireEvent } from '../events/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { DailyCount, FailedDelivery, FailedQuery, ReplaySelector, Retention, Store } from '../store/index.ts';
import type { DeliveryLog } from './delivery-log.ts';
import { testEvent, testResult, type TestInput, type TestResult } from './dry-run.ts';
import { createEngine, type EngineHooks, type EngineOptions } from './engine.ts';
import { parseTemplate, templateOf, type Integration } from './integration.ts';
import { egressDefaults, type ListenAddress } from './egress.ts';
import { laneDefaults } from './lanes.ts';
import { MAX_REQUEST_BYTES } from './limits.ts';
import { createNotifier, notifyDefaults, type NotifyOptions } from './notify.ts';
import type { Publish } from './pipeline.ts';
import { createRegistry } from './registry.ts';
import { readStatus, type IntegrationStatus } from './status.ts';
import { throttleDefaults } from './throttle.ts';

export { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
export { MatchIndex } from './match.ts';
export { USER_AGENT, eventView, render, renderRequest, type View } from './render.ts';
export { DEVICE_LIMIT_BYTES, PART_BYTES, capBytes, responseData, splitParts } from './respond.ts';
export { stateEventName } from './notify.ts';
export { attemptCode, webhookId, type AttemptRecord, type AttemptResult, type Job, type Publish } from './pipeline.ts';
export { toLog, type DeliveryLog } from './delivery-log.ts';
export { previewRequest, testEvent, type Preview, type TestInput, type TestResult } from './dry-run.ts';
export type { AttemptObserver, EngineHooks } from './engine.ts';
export { EgressPolicy, EgressRuleError, egressDefaults, parseRangeList, rangeMatcher, type EgressRules, type ListenAddress } from './egress.ts';
export type { IntegrationStatus, FailedDelivery, ReplaySelector };

export interface WebhookOptions extends EngineOptions {
  notify: NotifyOptions;
}

export const webhookDefaults: WebhookOptions = {
  timeoutMs: 20_000, // 20 s, as Particle
  maxResponseBytes: 100 * 1024, // Particle publishes at most the first 100 KB
  maxRequestBytes: MAX_REQUEST_BYTES, // 1 MiB: a template cannot turn a small event into a huge request
  egress: egressDefaults, // the built-in denies only
  connectionsPerOrigin: 64,
  // Half a lane on the main thread: one busy host already uses both cores.
  sendThread: { mainInFlight: 16 },
  lanes: laneDefaults,
  throttle: throttleDefaults,
  timeScale: 1,
  retention: {
    eventsMs: 3_600_000, // events whose deliveries are all finished: 1 hour
    failedMs: 30 * 86_400_000, // given up: 30 days, for replay
    dailyDays: 31, // daily counts: 30 days and today
  } satisfies Retention,
  pruneEveryMs: 60_000,
  resyncMs: 30_000,
  notify: notifyDefaults,
};

/** What the rest of the bridge (the API, the doctor, the observers, ingest) uses of the webhooks. */
export interface Webhooks {
  /**
   * Start delivering, once the answers have somewhere to go (`publish` works): deliveries a
   * previous run left are taken up now. Nothing is sent before.
   */
  start(): Promise<void>;
  /**
   * Accept an event: store it and the deliveries it triggers. Resolves once they are
   * durable; undefined when it triggers nothing (nothing to wait for).
   */
  accept(event: HookwireEvent): Promise<void> | undefined;

  /** Validate and store a pasted Particle template; throws naming the field at fault. */
  create(input: unknown, productId: number | null): Promise<Integration>;
  /** Replace the whole template (Particle's PUT); state, counters and signing stay. */
  replace(id: string, input: unknown, by: string, productId?: number | null): Promise<Integration>;
  /** Change some template fields, keep the rest. */
  patch(id: string, fields: Record<string, unknown>, by: string, productId?: number | null): Promise<Integration>;
  setEnabled(id: string, enabled: boolean, by: string, reason?: string, productId?: number | null): Promise<Integration>;
  /** A new signing secret (the old one keeps signing for `overlapMs`); returns the secret. */
  rotateSecret(id: string, overlapMs: number, productId?: number | null): Promise<string>;
  removeSecret(id: string, productId?: number | null): Promise<void>;
  remove(id: string, productId?: number | null): Promise<void>;
  get(id: string, productId?: number | null): Integration;
  list(productId?: number | null): Integration[];
  /** Its state and counters as this bridge holds them (counters: what it settled, and what the store had when it last read it). */
  status(id: string): IntegrationStatus;
  /**
   * Its state and counters as every bridge sees them: on a shared store, read from it (every
   * bridge's counts added up); else what this bridge holds, which is the same.
   */
  currentStatus(id: string): Promise<IntegrationStatus>;
  /** Every integration's `currentStatus`, by ID, in one read. */
  currentStatuses(): Promise<Map<string, IntegrationStatus>>;
  signing(id: string): { enabled: boolean; previousValidUntil: string | null };

  /** The last 10 successes and 10 errors, newest first. */
  logs(id: string): Promise<DeliveryLog[]>;
  /** Daily success, error and skipped counts for the last `days` days (today from 00:00 UTC). */
  daily(id: string, days: number): Promise<DailyCount[]>;
  /**
   * Send a synthetic event through render → send → classify (POST /v1/integrations/:id/test).
   * Changes nothing: no delivery, counters, state, logs or throttle score; nothing published.
   */
  test(id: string, input?: TestInput, productId?: number | null): Promise<TestResult>;
  /** Failed deliveries kept for replay (30 days), newest failure first. */
  failures(id: string, query: FailedQuery, productId?: number | null): Promise<{ total: number; deliveries: FailedDelivery[] }>;
  /**
   * Replay failed deliveries: pending again, due now, their retry policy started over. They
   * keep their event, so the webhook-id (the receiver's idempotency key) stays the same.
   * Returns how many were replayed.
   */
  replay(id: string, which: ReplaySelector, productId?: number | null): Promise<number>;

  /** The bridge's own API listens here: webhooks may not reach it, except its request bins (/bin/...). */
  addOwnApi(listening: ListenAddress[]): void;
  /** Attach an observer to one of the engine's hooks; returns a function that detaches it. */
  addHook<K extends keyof EngineHooks>(name: K, hook: EngineHooks[K]): () => void;
  /** Hosts asleep now (for the doctor and metrics). */
  sleepingHosts(): { host: string; until: number }[];
  lanes(): { host: string; active: number; waiting: number }[];
  /** Resolves once accepted events are stored, the lanes are idle and outcomes committed. */
  idle(): Promise<void>;
  prune(): Promise<void>;
  close(): Promise<void>;
}

export interface WebhooksDeps {
  store: Store;
  publish: Publish;
  logger: Logger;
  options?: Partial<WebhookOptions>;
  /**
   * Integration changes ('integration:changed') and hosts put to sleep ('host:asleep') are
   * announced here, and those from other bridges (relayed by bridge/cluster) acted on.
   */
  bus?: EventBus | undefined;
  /** Other bridges share the store (PostgreSQL): statuses are read from it, changes made elsewhere read again. */
  sharedStore?: boolean | undefined;
}

export async function createWebhooks(deps: WebhooksDeps): Promise<Webhooks> {
  const { store, logger, bus } = deps;
  const shared = deps.sharedStore === true;
  const options = { ...webhookDefaults, ...deps.options };
  const log = logger.child({ component: 'webhooks' });
  const notifier = createNotifier(options.notify, (name, data) => deps.publish(name, Buffer.from(data), 1), logger);
  const registry = createRegistry({ store, logger, notifier, bus, shared });
  await registry.load();
  const engine = await createEngine({ store, logger, registry, notifier, bus, publish: deps.publish, options });
  // Bridges sharing a store hear of each other's changes at once (notices); this catches up on
  // any a Redis outage kept from arriving.
  const resyncing = shared ? setInterval(() => {
    registry.resync().catch((err: unknown) => log.warn({ err }, 'could not read the integrations again from the store: retrying'));
  }, options.resyncMs) : undefined;
  resyncing?.unref();

  return {
    start: engine.start,
    accept: engine.accept,

    create: (input, productId) => registry.create(input, productId),
    // A person's change starts from the integration as stored (fresh): another bridge may have changed it.
    async replace(id, input, by, productId) {
      return registry.change(await registry.fresh(id, productId), parseTemplate(input), by);
    },
    async patch(id, fields, by, productId) {
      const r = await registry.fresh(id, productId);
      return registry.change(r, parseTemplate({ ...templateOf(r.integration), ...fields }), by);
    },
    async setEnabled(id, enabled, by, reason = '', productId) {
      return registry.setEnabled(await registry.fresh(id, productId), enabled ? { kind: 'enabled', by } : { kind: 'disabled', by, reason });
    },
    async rotateSecret(id, overlapMs, productId) {
      return registry.rotateSecret(await registry.fresh(id, productId), overlapMs);
    },
    async removeSecret(id, productId) {
      return registry.removeSecret(await registry.fresh(id, productId));
    },
    async remove(id, productId) {
      registry.find(id, productId);
      await registry.remove(id);
    },
    get: (id, productId) => registry.find(id, productId).integration,
    list: (productId) => registry.list(productId),
    status: (id) => ({ ...registry.find(id).status }),
    async currentStatus(id) {
      const held = registry.find(id).status;
      if (!shared) return { ...held };
      await engine.settled(); // this bridge's own counts are in the store
      const record = await store.integrations.get(id);
      return record ? readStatus(record.status) : { ...held };
    },
    async currentStatuses() {
      if (!shared) return new Map(registry.list().map((i) => [i.id, { ...registry.find(i.id).status }]));
      await engine.settled();
      return new Map((await store.integrations.list()).map((r) => [r.id, readStatus(r.status)]));
    },
    signing(id) {
      const s = registry.find(id).signing;
      return { enabled: !!s, previousValidUntil: s?.previousUntil && s.previousUntil > Date.now() ? new Date(s.previousUntil).toISOString() : null };
    },

    async logs(id) {
      await engine.settled();
      return (await store.deliveries.logs(id)).map((l) => l.entry as DeliveryLog);
    },
    async daily(id, days) {
      await engine.settled();
      const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
      return store.deliveries.daily(id, from);
    },
    async test(id, input = {}, productId) {
      const r = registry.find(id, productId);
      const event = testEvent(r.integration, input);
      const run = await engine.dryRun(r.integration, r.signing, event);
      const host = run.request ? new URL(run.request.url).hostname : registry.hostOf(r.integration, event);
      return testResult(run, { hostSleeping: engine.sleepingHosts().some((h) => h.host === host), disabled: r.integration.disabled });
    },
    async failures(id, query, productId) {
      registry.find(id, productId);
      await engine.settled();
      return store.deliveries.failed(id, query);
    },
    async replay(id, which, productId) {
      const r = registry.find(id, productId);
      // A disabled integration drops what it is given ('stopped'): a replay would be lost.
      if (r.integration.disabled) {
        throw new ConflictError('INTEGRATION_DISABLED', `integration ${id} is disabled: enable it before replaying its deliveries`);
      }
      await engine.settled(); // a delivery that failed a moment ago is in the store
      const now = Date.now();
      const requeued = await store.deliveries.replayFailed(id, which, now, registry.staticHost(id));
      let replayed = 0;
      for (const [host, count] of requeued) {
        engine.pending(host, now);
        replayed += count;
      }
      if (replayed === 0 && 'deliveryId' in which) {
        throw new NotFoundError('DELIVERY_NOT_FOUND', `integration ${id} has no failed delivery ${which.deliveryId} (see its failures)`);
      }
      if (replayed) log.info({ integrationId: id, replayed }, 'failed deliveries replayed');
      return replayed;
    },

    addOwnApi: engine.addOwnApi,
    addHook: engine.addHook,
    sleepingHosts: engine.sleepingHosts,
    lanes: engine.lanes,
    idle: engine.idle,
    prune: engine.prune,
    async close() {
      clearInterval(resyncing);
      await engine.close();
      notifier.close();
    },
  };
}
