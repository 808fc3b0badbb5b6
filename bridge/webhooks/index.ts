// The webhook engine. An accepted event becomes durable deliveries (inbox), which run in
// per-host lanes (lanes) through the attempt pipeline (pipeline); outcomes are settled in
// batches (outcomes), failed attempts come back when their retry is due (scheduler), and
// state changes are announced (notify). It is given a `publish` for what devices hear back;
// it never reaches into the broker or the API.

import { randomBytes } from 'node:crypto';
import type { HookwireEvent } from '../events/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { DailyCount, FailedDelivery, FailedQuery, IntegrationRecord, ReplaySelector, Retention, Store, StoredEvent } from '../store/index.ts';
import { testEvent, testResult, type TestInput, type TestResult } from './dry-run.ts';
import { createInbox, type Target } from './inbox.ts';
import { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
import { Lanes, laneDefaults, type LaneOptions } from './lanes.ts';
import { MatchIndex } from './match.ts';
import { createNotifier, notifyDefaults, type NotifyOptions } from './notify.ts';
import { createOutcomes, type Entry } from './outcomes.ts';
import { createPipeline, type AttemptResult, type Job, type Publish } from './pipeline.ts';
import type { DeliveryLog } from './record.ts';
import { render, eventView } from './render.ts';
import { createScheduler } from './scheduler.ts';
import { createSender } from './send.ts';
import { rotate, type SigningKeys } from './signing.ts';
import { transition } from './state.ts';
import { newStatus, readStatus, type IntegrationStatus } from './status.ts';
import { HostThrottle, throttleDefaults, type ThrottleOptions } from './throttle.ts';

export { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
export { MatchIndex } from './match.ts';
export { USER_AGENT } from './render.ts';
export { stateEventName } from './notify.ts';
export { webhookId } from './pipeline.ts';
export type { DeliveryLog, IntegrationStatus, Publish, Job, AttemptResult, TestInput, TestResult, FailedDelivery, ReplaySelector };

/** Sees each attempt's outcome (the job and what happened); must not throw or block. */
export type AttemptObserver = (job: Job, result: AttemptResult) => void;

export interface WebhookOptions {
  /** No connection or no answer within this many ms fails the attempt. Default 20 s, as Particle. */
  timeoutMs: number;
  /** Most of a response read and published, bytes. Default 100 KB, as Particle. */
  maxResponseBytes: number;
  /** Connections per target origin. */
  connectionsPerOrigin: number;
  lanes: LaneOptions;
  throttle: ThrottleOptions;
  /** Multiplies retry waits (the schedule and Retry-After); tests compress hours into milliseconds. */
  timeScale: number;
  retention: Retention;
  /** How often to prune, ms. Default 1 minute. */
  pruneEveryMs: number;
  notify: NotifyOptions;
}

export const webhookDefaults: WebhookOptions = {
  timeoutMs: 20_000, // 20 s, as Particle
  maxResponseBytes: 100 * 1024, // Particle publishes at most the first 100 KB
  connectionsPerOrigin: 64,
  lanes: laneDefaults,
  throttle: throttleDefaults,
  timeScale: 1,
  retention: {
    eventsMs: 3_600_000, // events whose deliveries are all finished: 1 hour
    failedMs: 30 * 86_400_000, // given up: 30 days, for replay
    dailyDays: 31, // daily counts: 30 days and today
  },
  pruneEveryMs: 60_000,
  notify: notifyDefaults,
};

export interface WebhooksDeps {
  store: Store;
  publish: Publish;
  logger: Logger;
  options?: Partial<WebhookOptions>;
}

interface Registered extends Entry {
  signing?: SigningKeys;
}

function fromStored(e: StoredEvent): HookwireEvent {
  const event: HookwireEvent = { ...e };
  if (e.type === 'typed') event.value = JSON.parse(e.data);
  return event;
}

/** The hostname in a URL template, when it has no tags (most do not). */
function staticHost(url: string): string | undefined {
  const authority = /^https?:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (!authority || authority.includes('{{')) return undefined;
  return new URL(`http://${authority}`).hostname;
}

export async function createWebhooks(deps: WebhooksDeps) {
  const { store, logger } = deps;
  const options = { ...webhookDefaults, ...deps.options };
  const log = logger.child({ component: 'webhooks' });
  const registry = new Map<string, Registered>();
  const hosts = new Map<string, string | undefined>(); // integration → static host
  const index = new MatchIndex();
  const throttle = new HostThrottle(options.throttle);
  const sender = createSender(options);
  /** Told of every attempt's outcome as it happens (statistics, metrics). */
  const observers = new Set<AttemptObserver>();
  const notifier = createNotifier(options.notify, (name, data) => deps.publish(name, Buffer.from(data), 1), logger);

  const pipeline = createPipeline({
    integration: (id) => registry.get(id),
    throttle,
    sender,
    publish: deps.publish,
    record: (job, result) => {
      outcomes.report(job, result);
      for (const observe of observers) observe(job, result);
    },
    logger,
    maxResponseBytes: options.maxResponseBytes,
  });
  const lanes = new Lanes<Job>(options.lanes, (job) => pipeline.attempt(job), (host) => scheduler.room(host));
  const scheduler = createScheduler({
    store,
    logger,
    room: (host) => lanes.room(host),
    run: (d, e) => lanes.push(d.host, { id: d.id, integrationId: d.integrationId, event: fromStored(e), host: d.host, attempts: d.attempts }, false),
  });
  const outcomes = createOutcomes({
    store,
    logger,
    entry: (id) => registry.get(id),
    timeScale: options.timeScale,
    pending: (host, at) => scheduler.pending(host, at),
    stop: (entry) => {
      entry.integration = { ...entry.integration, disabled: true };
      void save(entry as Registered, false);
    },
    changed: (entry, previous) => notifier.changed({ integration: entry.integration, status: entry.status, previous }),
  });
  const inbox = createInbox({
    store,
    logger,
    reserve: (host) => lanes.reserve(host),
    release: (host) => lanes.release(host),
    start: (id, event, t) => lanes.push(t.host, { id, integrationId: t.integrationId, event, host: t.host, attempts: 0 }, true),
    wait: (host, at) => scheduler.pending(host, at),
  });

  function register(r: Registered): void {
    registry.set(r.integration.id, r);
    hosts.set(r.integration.id, staticHost(r.integration.url));
    index.set(r.integration);
  }

  for (const record of await store.integrations.list()) {
    try {
      const integration: Integration = { ...parseTemplate(record.template), id: record.id, productId: record.productId, createdAt: record.createdAt, updatedAt: record.updatedAt };
      const r: Registered = { integration, status: readStatus(record.status) };
      if (record.signing) r.signing = record.signing as unknown as SigningKeys;
      register(r);
    } catch (err) {
      log.error({ err, integrationId: record.id }, 'stored integration is invalid; skipped');
    }
  }
  const requeued = await scheduler.start();
  if (requeued) log.info({ deliveries: requeued }, 'resuming deliveries left running by the last run');

  const prune = async () => {
    try {
      const removed = await store.deliveries.prune(Date.now(), options.retention);
      if (removed.deliveries || removed.events) log.debug(removed, 'pruned');
    } catch (err) {
      log.error({ err }, 'pruning failed');
    }
  };
  const pruner = setInterval(prune, options.pruneEveryMs);
  pruner.unref();

  function hostOf(integration: Integration, event: HookwireEvent): string {
    const fixed = hosts.get(integration.id);
    if (fixed !== undefined) return fixed;
    try {
      return new URL(render(integration.url, eventView(event))).hostname;
    } catch {
      return ''; // the attempt will fail with TEMPLATE_INVALID
    }
  }

  function toRecord(r: Registered): IntegrationRecord {
    const i = r.integration;
    return {
      id: i.id, productId: i.productId, template: templateOf(i) as unknown as Record<string, unknown>, createdAt: i.createdAt, updatedAt: i.updatedAt,
      status: r.status as unknown as Record<string, unknown>, signing: (r.signing ?? null) as unknown as Record<string, unknown> | null,
    };
  }

  async function save(r: Registered, isNew: boolean): Promise<Registered> {
    if (isNew) await store.integrations.create(toRecord(r));
    else await store.integrations.update(toRecord(r));
    register(r);
    return r;
  }

  function mustGet(id: string, productId?: number | null): Registered {
    const r = registry.get(id);
    // A product-scoped request only sees that product's integrations.
    if (!r || (productId !== undefined && productId !== null && r.integration.productId !== productId)) {
      throw new NotFoundError('INTEGRATION_NOT_FOUND', `no integration ${id}`);
    }
    return r;
  }

  /** Apply a person's enable or disable, with who and why. */
  function applyAdmin(r: Registered, outcome: { kind: 'enabled'; by: string } | { kind: 'disabled'; by: string; reason: string }): void {
    const change = transition(r.status.state, outcome, r.integration.disabled);
    if (!change) return;
    const now = new Date().toISOString();
    const previous = r.status.state;
    r.status = { ...r.status, state: change.state, reason: change.reason, changedAt: now };
    if (outcome.kind === 'disabled') {
      r.status.disabledBy = outcome.by;
      r.status.disabledAt = now;
      r.status.disabledReason = outcome.reason || null;
    } else {
      r.status.disabledBy = r.status.disabledAt = r.status.disabledReason = null;
      r.status.consecutiveErrors = 0;
    }
    r.integration = { ...r.integration, disabled: outcome.kind === 'disabled', updatedAt: now };
    if (notifier.changed({ integration: r.integration, status: r.status, previous })) {
      r.status.notifiedAt = now;
      r.status.notifiedState = r.status.state;
    }
  }

  /** A new template for an existing integration; switching `disabled` records who did it. */
  async function change(r: Registered, template: WebhookTemplate, by: string): Promise<Integration> {
    const wasDisabled = r.integration.disabled;
    const i = r.integration;
    r.integration = { ...template, disabled: wasDisabled, id: i.id, productId: i.productId, createdAt: i.createdAt, updatedAt: new Date().toISOString() };
    if (template.disabled !== wasDisabled) applyAdmin(r, template.disabled ? { kind: 'disabled', by, reason: '' } : { kind: 'enabled', by });
    return (await save(r, false)).integration;
  }

  return {
    /**
     * Accept an event: store it and the deliveries it triggers. Resolves once they are
     * durable; undefined when it triggers nothing (nothing to wait for).
     */
    accept(event: HookwireEvent): Promise<void> | undefined {
      const matched = index.match(event);
      if (matched.length === 0) return undefined;
      const targets: Target[] = matched.map((i) => ({ integrationId: i.id, host: hostOf(i, event) }));
      return inbox.add(event, targets);
    },

    /** Validate and store a pasted Particle template; throws naming the field at fault. */
    async create(input: unknown, productId: number | null): Promise<Integration> {
      const template = parseTemplate(input);
      const now = new Date().toISOString();
      const integration = { ...template, id: randomBytes(12).toString('hex'), productId, createdAt: now, updatedAt: now };
      return (await save({ integration, status: newStatus() }, true)).integration;
    },
    /** Replace the whole template (Particle's PUT); state, counters and signing stay. */
    async replace(id: string, input: unknown, by: string, productId?: number | null): Promise<Integration> {
      const r = mustGet(id, productId);
      return change(r, parseTemplate(input), by);
    },
    /** Change some template fields, keep the rest. */
    async patch(id: string, fields: Record<string, unknown>, by: string, productId?: number | null): Promise<Integration> {
      const r = mustGet(id, productId);
      return change(r, parseTemplate({ ...templateOf(r.integration), ...fields }), by);
    },
    async setEnabled(id: string, enabled: boolean, by: string, reason = '', productId?: number | null): Promise<Integration> {
      const r = mustGet(id, productId);
      applyAdmin(r, enabled ? { kind: 'enabled', by } : { kind: 'disabled', by, reason });
      return (await save(r, false)).integration;
    },
    /** A new signing secret (the old one keeps signing for `overlapMs`); returns the secret. */
    async rotateSecret(id: string, overlapMs: number, productId?: number | null): Promise<string> {
      const r = mustGet(id, productId);
      r.signing = rotate(r.signing, overlapMs);
      await save(r, false);
      return r.signing.current;
    },
    async removeSecret(id: string, productId?: number | null): Promise<void> {
      const r = mustGet(id, productId);
      delete r.signing;
      await save(r, false);
    },
    async remove(id: string, productId?: number | null): Promise<void> {
      mustGet(id, productId);
      await store.integrations.remove(id);
      registry.delete(id);
      hosts.delete(id);
      index.delete(id);
    },
    get: (id: string, productId?: number | null): Integration => mustGet(id, productId).integration,
    list(productId?: number | null): Integration[] {
      const all = [...registry.values()].map((r) => r.integration);
      return productId === undefined || productId === null ? all : all.filter((i) => i.productId === productId);
    },
    status: (id: string): IntegrationStatus => ({ ...mustGet(id).status }),
    signing(id: string): { enabled: boolean; previousValidUntil: string | null } {
      const s = mustGet(id).signing;
      return { enabled: !!s, previousValidUntil: s?.previousUntil && s.previousUntil > Date.now() ? new Date(s.previousUntil).toISOString() : null };
    },
    /** The last 10 successes and 10 errors, newest first. */
    async logs(id: string): Promise<DeliveryLog[]> {
      await outcomes.settled();
      return (await store.deliveries.logs(id)).map((l) => l.entry as unknown as DeliveryLog);
    },
    /** Daily success, error and skipped counts for the last `days` days (today from 00:00 UTC). */
    async daily(id: string, days: number): Promise<DailyCount[]> {
      await outcomes.settled();
      const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
      return store.deliveries.daily(id, from);
    },
    /**
     * Send a synthetic event through render → send → classify (POST /v1/integrations/:id/test).
     * Changes nothing: no delivery, counters, state, logs or throttle score; nothing published.
     */
    async test(id: string, input: TestInput = {}, productId?: number | null): Promise<TestResult> {
      const r = mustGet(id, productId);
      const event = testEvent(r.integration, input);
      const run = await pipeline.dryRun(r.integration, r.signing, event);
      const host = run.request ? new URL(run.request.url).hostname : hostOf(r.integration, event);
      return testResult(run, { hostSleeping: throttle.sleeping().some((h) => h.host === host), disabled: r.integration.disabled });
    },
    /** Failed deliveries kept for replay (30 days), newest failure first. */
    async failures(id: string, query: FailedQuery, productId?: number | null): Promise<{ total: number; deliveries: FailedDelivery[] }> {
      mustGet(id, productId);
      await outcomes.settled();
      return store.deliveries.failed(id, query);
    },
    /**
     * Replay failed deliveries: pending again, due now, their retry policy started over. They
     * keep their event, so the webhook-id (the receiver's idempotency key) stays the same.
     * Returns how many were replayed.
     */
    async replay(id: string, which: ReplaySelector, productId?: number | null): Promise<number> {
      const r = mustGet(id, productId);
      // A disabled integration drops what it is given ('stopped'): a replay would be lost.
      if (r.integration.disabled) {
        throw new ConflictError('INTEGRATION_DISABLED', `integration ${id} is disabled: enable it before replaying its deliveries`);
      }
      await outcomes.settled(); // a delivery that failed a moment ago is in the store
      const now = Date.now();
      const requeued = await store.deliveries.replayFailed(id, which, now, hosts.get(id));
      let replayed = 0;
      for (const [host, count] of requeued) {
        scheduler.pending(host, now);
        replayed += count;
      }
      if (replayed === 0 && 'deliveryId' in which) {
        throw new NotFoundError('DELIVERY_NOT_FOUND', `integration ${id} has no failed delivery ${which.deliveryId} (see its failures)`);
      }
      if (replayed) log.info({ integrationId: id, replayed }, 'failed deliveries replayed');
      return replayed;
    },
    /** Be told of every attempt's outcome; returns a function that stops it. */
    onAttempt(observe: AttemptObserver): () => void {
      observers.add(observe);
      return () => observers.delete(observe);
    },
    /** Hosts asleep now (for the doctor and metrics). */
    sleepingHosts: () => throttle.sleeping(),
    lanes: () => lanes.depths(),
    /** Resolves once accepted events are stored, the lanes are idle and outcomes committed. */
    async idle(): Promise<void> {
      for (;;) {
        await inbox.settled();
        await outcomes.settled();
        if (lanes.busy === 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await outcomes.settled();
    },
    prune,
    async close(): Promise<void> {
      clearInterval(pruner);
      scheduler.stop();
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await outcomes.settled();
      await sender.close();
      notifier.close();
    },
  };
}

export type Webhooks = Awaited<ReturnType<typeof createWebhooks>>;
