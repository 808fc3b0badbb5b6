// Outcomes: what each attempt changes, settled in batches (one transaction every few ms):
// the delivery (done, failed, or pending again at its retry time), the
// integration's counters and state, the daily counts, and the logs (the last 10 successes
// and 10 errors, redacted). State changes are announced once the batch is committed.

import { isoAt } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { DailyIncrement, DeliveryUpdate, LogEntry, Store } from '../store/index.ts';
import type { Integration } from './integration.ts';
import type { AttemptRecord, AttemptResult, Job } from './pipeline.ts';
import { toLog } from './delivery-log.ts';
import { decideRetry } from './retry.ts';
import { transition, type IntegrationState, type Outcome } from './state.ts';
import type { IntegrationStatus } from './status.ts';

/** Logs kept per integration, of each kind (Particle: the last 10 successes and 10 errors). */
export const KEEP_LOGS = 10;
/** Under load, successes are logged at most this often per integration, ms; errors always. */
const SUCCESS_LOG_INTERVAL_MS = 1000;
/**
 * Outcomes are settled this often, ms. Nothing waits on them (the device already heard back),
 * so a wider batch costs nothing and saves transactions; a crash in between only means those
 * deliveries run again after the restart (at least once, with the same webhook-id).
 */
const SETTLE_EVERY_MS = 10;

export interface Entry {
  integration: Integration;
  status: IntegrationStatus;
}

export interface OutcomeDeps {
  store: Store;
  logger: Logger;
  entry: (integrationId: string) => Entry | undefined;
  /** Multiplies every retry delay (tests compress hours into milliseconds). */
  timeScale: number;
  /** A delivery is pending again, due at `at` (committed). */
  pending: (host: string, at: number) => void;
  /** The schedule ran out: stop the integration (committed by the caller). */
  stop: (entry: Entry, reason: string) => void;
  /** A state changed (committed); returns true when its owner was emailed. */
  changed: (entry: Entry, previous: IntegrationState) => boolean;
}

const day = (iso: string) => iso.slice(0, 10);

export function createOutcomes(deps: OutcomeDeps) {
  const { store, timeScale } = deps;
  const log = deps.logger.child({ component: 'webhooks' });

  let updates: DeliveryUpdate[] = [];
  let retries: { host: string; at: number }[] = [];
  let touched = new Set<Entry>();
  let daily = new Map<string, DailyIncrement>();
  /** Attempts to log, by integration and kind; only the newest KEEP_LOGS of each are written. */
  let logs = new Map<string, { entry: Entry; result: AttemptResult; at: Date }[]>();
  let notices: { entry: Entry; previous: IntegrationState }[] = [];
  let scheduled: Promise<void> | null = null;
  const lastSuccessLog = new Map<string, number>();

  function count(integrationId: string, at: string, kind: 'success' | 'error' | 'skipped'): void {
    const key = integrationId + at.slice(0, 10);
    let d = daily.get(key);
    if (!d) daily.set(key, (d = { integrationId, day: day(at), success: 0, error: 0, skipped: 0 }));
    d[kind]++;
  }

  function finish(job: Job, status: 'done' | 'failed', attempts: number, code: string, now: number): void {
    updates.push({ id: job.id, status, attempts, nextAt: now, lastCode: code, finishedAt: now });
  }

  function addLog(entry: Entry, result: AttemptResult, now: number): void {
    const ok = result.kind === 'success';
    const id = entry.integration.id;
    if (ok) {
      if (now - (lastSuccessLog.get(id) ?? 0) < SUCCESS_LOG_INTERVAL_MS) return;
      lastSuccessLog.set(id, now);
    }
    const key = ok ? id : `${id}!`;
    let list = logs.get(key);
    if (!list) logs.set(key, (list = []));
    list.push({ entry, result, at: new Date(now) });
    if (list.length > KEEP_LOGS) list.shift();
  }

  /** The redacted log entries of a batch: built only for those that are kept. */
  function logEntries(batch: typeof logs): LogEntry[] {
    const out: LogEntry[] = [];
    for (const list of batch.values()) {
      for (const { entry, result, at } of list) {
        const l = toLog({ event: result.event, durationMs: result.durationMs, ...optional(result) }, at);
        out.push({ integrationId: entry.integration.id, ok: l.ok, at: l.at, entry: l as unknown as Record<string, unknown> });
      }
    }
    return out;
  }

  /** Settle one attempt's record. Synchronous: it joins the batch being gathered. */
  function report(result: AttemptRecord): void {
    const job = result.job;
    const now = Date.now();
    const iso = isoAt(now);
    const attempts = job.attempts + (result.kind === 'stopped' ? 0 : 1);
    const code = result.failure?.code ?? String(result.response?.status ?? 200);
    const entry = deps.entry(job.integrationId);

    if (!entry || result.kind === 'stopped') {
      finish(job, 'failed', attempts, code, now);
      if (entry) {
        entry.status.totalDropped++;
        touched.add(entry);
      }
      schedule();
      return;
    }

    const s = entry.status;
    let outcome: Outcome;
    if (result.kind === 'success') {
      s.totalCalls++;
      s.consecutiveErrors = 0;
      s.lastSuccessAt = iso;
      count(entry.integration.id, iso, 'success');
      finish(job, 'done', attempts, code, now);
      outcome = { kind: 'success' };
    } else {
      if (result.kind === 'skipped') {
        s.totalSkipped++;
        count(entry.integration.id, iso, 'skipped');
      } else {
        s.totalCalls++;
        s.totalErrors++;
        s.consecutiveErrors++;
        s.lastError = { code, message: result.failure!.message, at: iso };
        count(entry.integration.id, iso, 'error');
      }
      const facts = result.retryAfterMs === undefined ? { code } : { code, retryAfterMs: result.retryAfterMs };
      const decision = decideRetry(entry.integration.retryPolicy, attempts, facts, timeScale);
      if (decision.retry) {
        const nextAt = now + decision.delayMs;
        updates.push({ id: job.id, status: 'pending', attempts, nextAt, lastCode: code, finishedAt: null });
        retries.push({ host: job.host, at: nextAt });
        outcome = result.kind === 'skipped' ? { kind: 'skipped' } : { kind: 'failure', code };
      } else {
        finish(job, 'failed', attempts, code, now);
        s.totalDropped++;
        // Particle's policy drops and carries on; the others stop the integration when spent.
        const spent = decision.reason === 'exhausted' && entry.integration.retryPolicy !== 'particle';
        outcome = spent ? { kind: 'exhausted', code } : result.kind === 'skipped' ? { kind: 'skipped' } : { kind: 'failure', code };
      }
    }
    if (result.kind !== 'skipped') addLog(entry, result, now);

    const change = transition(s.state, outcome, entry.integration.disabled);
    if (change) {
      const previous = s.state;
      s.state = change.state;
      s.reason = change.reason;
      s.changedAt = iso;
      if (change.disable) {
        s.disabledBy = 'hookwire';
        s.disabledAt = iso;
        s.disabledReason = change.reason;
        deps.stop(entry, change.reason);
      }
      notices.push({ entry, previous });
      log.info({ integrationId: entry.integration.id, state: s.state, previous, reason: s.reason }, 'integration state changed');
    }
    touched.add(entry);
    schedule();
  }

  function schedule(): void {
    scheduled ??= new Promise<void>((resolve) => setTimeout(() => flush().finally(resolve), SETTLE_EVERY_MS));
  }

  async function flush(): Promise<void> {
    scheduled = null;
    const batch = { updates, retries, touched, daily, logs, notices };
    updates = [];
    retries = [];
    touched = new Set();
    daily = new Map();
    logs = new Map();
    notices = [];
    try {
      await store.deliveries.settle({
        deliveries: batch.updates,
        statuses: [...batch.touched].map((e) => ({ integrationId: e.integration.id, status: e.status as unknown as Record<string, unknown> })),
        daily: [...batch.daily.values()],
        logs: logEntries(batch.logs),
      }, KEEP_LOGS);
    } catch (err) {
      // The deliveries stay running in the store: the next start makes them pending again.
      log.error({ err, deliveries: batch.updates.length }, 'could not record delivery outcomes');
      return;
    }
    for (const r of batch.retries) deps.pending(r.host, r.at);
    for (const n of batch.notices) {
      if (deps.changed(n.entry, n.previous)) {
        n.entry.status.notifiedAt = new Date().toISOString();
        n.entry.status.notifiedState = n.entry.status.state;
        touched.add(n.entry); // the next batch keeps when we emailed
        schedule();
      }
    }
  }

  return {
    report,
    /** Resolves once everything reported so far is committed. */
    async settled(): Promise<void> {
      while (scheduled) await scheduled;
    },
  };
}

function optional(r: AttemptResult) {
  const out: { request?: AttemptResult['request']; response?: AttemptResult['response']; failure?: AttemptResult['failure']; note?: string } = {};
  if (r.request) out.request = r.request;
  if (r.response) out.response = r.response;
  if (r.failure) out.failure = r.failure;
  if (r.note) out.note = r.note;
  return out;
}

export type Outcomes = ReturnType<typeof createOutcomes>;
