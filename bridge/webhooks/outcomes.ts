// Outcomes: what each attempt changes, settled in batches (one transaction every few ms):
// the delivery (done, failed, or pending again at its retry time), the
// integration's counters and state, the daily counts, and the logs (the last 10 successes
// and 10 errors, redacted). State changes are announced once the batch is committed.
// Counters go to the store as what the batch added to them, so bridges sharing a store add
// up their counts rather than overwrite each other's (store/types.ts, StatusUpdate).
//
// report() gathers each record into the open Batch in named steps (countAttempt,
// settleDelivery, keepLog, changeState); flush() commits the batch in one store call, then
// tells the scheduler about retries and the owners about state changes.

import { isoAt } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { DailyIncrement, DeliveryUpdate, LogEntry, Store } from '../store/index.ts';
import type { Integration } from './integration.ts';
import type { Code } from '../codes.ts';
import { attemptCode, type AttemptRecord, type AttemptResult, type Job } from './pipeline.ts';
import { toLog } from './delivery-log.ts';
import { decideRetry } from './retry.ts';
import { transition, type IntegrationState, type Outcome } from './state.ts';
import { noCounts, type Counter, type Counts, type IntegrationStatus } from './status.ts';

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

export interface Outcomes {
  /** Settle one attempt's record: synchronous, it joins the batch being gathered. */
  report(record: AttemptRecord): void;
  /** Resolves once everything reported so far is committed. */
  settled(): Promise<void>;
}

/** What one batch changes, gathered between two commits. */
class Batch {
  readonly updates: DeliveryUpdate[] = [];
  readonly retries: { host: string; at: number }[] = [];
  /** The integrations this batch changed, and what it added to each one's counters. */
  readonly touched = new Map<Entry, Counts>();
  readonly daily = new Map<string, DailyIncrement>();
  /** Attempts to log, by integration and kind; only the newest KEEP_LOGS of each are kept. */
  readonly logs = new Map<string, { entry: Entry; result: AttemptResult; at: Date }[]>();
  readonly notices: { entry: Entry; previous: IntegrationState }[] = [];

  /** An integration this batch changes; what it added to its counters so far. */
  touch(entry: Entry): Counts {
    let added = this.touched.get(entry);
    if (!added) this.touched.set(entry, (added = noCounts()));
    return added;
  }

  /** One more on an integration's counter: in memory now, and in what the batch adds in the store. */
  add(entry: Entry, counter: Counter): void {
    entry.status[counter]++;
    this.touch(entry)[counter]++;
  }

  count(integrationId: string, iso: string, kind: 'success' | 'error' | 'skipped'): void {
    const day = iso.slice(0, 10);
    const key = integrationId + day;
    let d = this.daily.get(key);
    if (!d) this.daily.set(key, (d = { integrationId, day, success: 0, error: 0, skipped: 0 }));
    d[kind]++;
  }

  finish(job: Job, status: 'done' | 'failed', attempts: number, code: string, now: number): void {
    this.updates.push({ id: job.id, status, attempts, nextAt: now, lastCode: code, finishedAt: now });
  }

  retry(job: Job, attempts: number, code: string, nextAt: number): void {
    this.updates.push({ id: job.id, status: 'pending', attempts, nextAt, lastCode: code, finishedAt: null });
    this.retries.push({ host: job.host, at: nextAt });
  }

  log(key: string, entry: Entry, result: AttemptResult, now: number): void {
    let list = this.logs.get(key);
    if (!list) this.logs.set(key, (list = []));
    list.push({ entry, result, at: new Date(now) });
    if (list.length > KEEP_LOGS) list.shift();
  }

  /** The batch as one store call; log entries are built (and redacted) only for those kept. */
  toSettlement() {
    const logs: LogEntry[] = [];
    for (const list of this.logs.values()) {
      for (const { entry, result, at } of list) {
        const l = toLog({ event: result.event, durationMs: result.durationMs, ...optional(result) }, at);
        logs.push({ integrationId: entry.integration.id, ok: l.ok, at: l.at, entry: l });
      }
    }
    return {
      deliveries: this.updates,
      statuses: [...this.touched].map(([e, add]) => ({ integrationId: e.integration.id, status: e.status, add: { ...add } })),
      daily: [...this.daily.values()],
      logs,
    };
  }
}

/** One record being settled: the attempt, its integration, and when. */
interface Settling {
  record: AttemptRecord;
  entry: Entry;
  now: number;
  iso: string;
  /** Attempts made, this one included. */
  attempts: number;
  code: Code;
}

/** Counters and daily counts: a success, an error, or a skip (a sleeping host). */
function countAttempt(batch: Batch, { record, entry, iso, code }: Settling): void {
  const s = entry.status;
  if (record.kind === 'success') {
    batch.add(entry, 'totalCalls');
    s.consecutiveErrors = 0;
    s.lastSuccessAt = iso;
    batch.count(entry.integration.id, iso, 'success');
  } else if (record.kind === 'skipped') {
    batch.add(entry, 'totalSkipped');
    batch.count(entry.integration.id, iso, 'skipped');
  } else {
    batch.add(entry, 'totalCalls');
    batch.add(entry, 'totalErrors');
    s.consecutiveErrors++;
    s.lastError = { code, message: record.failure!.message, at: iso };
    batch.count(entry.integration.id, iso, 'error');
  }
}

/** The delivery: done, pending again at its retry time, or given up; what that means for the state. */
function settleDelivery(batch: Batch, { record, entry, now, attempts, code }: Settling, timeScale: number): Outcome {
  const job = record.job;
  if (record.kind === 'success') {
    batch.finish(job, 'done', attempts, code, now);
    return { kind: 'success' };
  }
  const facts = record.retryAfterMs === undefined ? { code } : { code, retryAfterMs: record.retryAfterMs };
  const decision = decideRetry(entry.integration.retryPolicy, attempts, facts, timeScale);
  const kept: Outcome = record.kind === 'skipped' ? { kind: 'skipped' } : { kind: 'failure', code };
  if (decision.retry) {
    batch.retry(job, attempts, code, now + decision.delayMs);
    return kept;
  }
  batch.finish(job, 'failed', attempts, code, now);
  batch.add(entry, 'totalDropped');
  // Particle's policy drops and carries on; the others stop the integration when spent.
  return decision.reason === 'exhausted' && entry.integration.retryPolicy !== 'particle' ? { kind: 'exhausted', code } : kept;
}

/** The integration's state after this outcome: what it was, and whether it is now stopped, when it changed. */
function changeState({ entry, iso }: Settling, outcome: Outcome): { previous: IntegrationState; stopped: boolean } | null {
  const s = entry.status;
  const change = transition(s.state, outcome, entry.integration.disabled);
  if (!change) return null;
  const previous = s.state;
  s.state = change.state;
  s.reason = change.reason;
  s.changedAt = iso;
  if (change.disable) {
    s.disabledBy = 'hookwire';
    s.disabledAt = iso;
    s.disabledReason = change.reason;
  }
  return { previous, stopped: change.disable === true };
}

export function createOutcomes(deps: OutcomeDeps): Outcomes {
  const { store, timeScale } = deps;
  const log = deps.logger.child({ component: 'webhooks' });
  let batch = new Batch();
  /** The next flush, waiting for its time; resolves once it is committed. */
  let scheduled: Promise<void> | null = null;
  /** Flushes being committed (a store on a network takes a while; the next batch gathers meanwhile). */
  const committing = new Set<Promise<void>>();
  const lastSuccessLog = new Map<string, number>();

  /** Errors are always logged; successes at most once a second per integration. */
  function keepLog(entry: Entry, result: AttemptResult, now: number): void {
    const id = entry.integration.id;
    if (result.kind !== 'success') return batch.log(`${id}!`, entry, result, now);
    if (now - (lastSuccessLog.get(id) ?? 0) < SUCCESS_LOG_INTERVAL_MS) return;
    lastSuccessLog.set(id, now);
    batch.log(id, entry, result, now);
  }

  function report(record: AttemptRecord): void {
    const now = Date.now();
    const attempts = record.job.attempts + (record.kind === 'stopped' ? 0 : 1);
    const code = attemptCode(record) || '200';
    const entry = deps.entry(record.job.integrationId);
    if (!entry || record.kind === 'stopped') {
      // Deleted or disabled since the event was accepted: dropped.
      batch.finish(record.job, 'failed', attempts, code, now);
      if (entry) batch.add(entry, 'totalDropped');
    } else {
      const step: Settling = { record, entry, now, iso: isoAt(now), attempts, code };
      countAttempt(batch, step);
      const outcome = settleDelivery(batch, step, timeScale);
      if (record.kind !== 'skipped') keepLog(entry, record, now);
      const change = changeState(step, outcome);
      if (change) {
        const { state, reason } = entry.status;
        if (change.stopped) deps.stop(entry, reason!);
        batch.notices.push({ entry, previous: change.previous });
        log.info({ integrationId: entry.integration.id, state, previous: change.previous, reason }, 'integration state changed');
      }
      batch.touch(entry);
    }
    schedule();
  }

  function schedule(): void {
    scheduled ??= new Promise<void>((resolve) => setTimeout(() => {
      const flushed: Promise<void> = flush().finally(() => {
        committing.delete(flushed);
        resolve();
      });
      committing.add(flushed);
    }, SETTLE_EVERY_MS));
  }

  async function flush(): Promise<void> {
    scheduled = null;
    const done = batch;
    batch = new Batch();
    try {
      await store.deliveries.settle(done.toSettlement(), KEEP_LOGS);
    } catch (err) {
      // The deliveries stay running in the store: the next start makes them pending again.
      log.error({ err, deliveries: done.updates.length }, 'could not record delivery outcomes');
      return;
    }
    for (const r of done.retries) deps.pending(r.host, r.at);
    for (const n of done.notices) {
      if (deps.changed(n.entry, n.previous)) {
        n.entry.status.notifiedAt = new Date().toISOString();
        n.entry.status.notifiedState = n.entry.status.state;
        batch.touch(n.entry); // the next batch keeps when we emailed
        schedule();
      }
    }
  }

  return {
    report,
    async settled(): Promise<void> {
      // A flush under way counts too: what it holds is not committed until it resolves.
      while (scheduled || committing.size > 0) await (scheduled ?? Promise.all(committing));
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
