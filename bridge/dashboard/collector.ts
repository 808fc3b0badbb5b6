// Counts what the dashboard shows, as it happens (an Observer, observers.ts): every webhook
// attempt (outbound), every publish through the API (inbound), every device event accepted or
// refused by the broker (device). Counting is a Map increment on the hot path; the counts go to the store about
// once a second, one transaction for all of them, in hourly rows.

import { STATUS_CODES } from 'node:http';
import { isDeviceId } from '../../firmware-sdk/rules.ts';
import type { HookwireEvent, Inbound, BrokerRefusal } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { StatsRow, StatsType, Store } from '../store/index.ts';
import { guidanceOf } from '../codes.ts';
import type { Observer } from '../observers.ts';
import type { AttemptRecord } from '../webhooks/index.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface CollectorOptions {
  /** How often counts are written to the store, ms. */
  flushMs: number;
  /** Days of counts kept: two 30-day periods, so the oldest view still has its previous one. */
  keepDays: number;
}

export const collectorDefaults: CollectorOptions = { flushMs: 1000, keepDays: 61 };

export interface CollectorSources {
  store: Store;
  logger: Logger;
}

export interface Collector extends Observer {
  /** Write what is counted so far; resolves when it is in the store. */
  flush(): Promise<void>;
  /** Stop counting and write the rest. */
  close(): Promise<void>;
}

/**
 * A failure in words that stays the same from one occurrence to the next (no ports, IDs or
 * times), so the failures table groups them: the HTTP status and its reason, or the code's title.
 */
export function describeFailure(code: string): string {
  if (/^\d{3}$/.test(code)) return `HTTP ${code}${STATUS_CODES[code] ? ` ${STATUS_CODES[code]}` : ''}`;
  return guidanceOf(code).title;
}

export function createCollector(sources: CollectorSources, options: CollectorOptions = collectorDefaults): Collector {
  const { store } = sources;
  const log = sources.logger.child({ component: 'dashboard' });
  let pending = new Map<string, StatsRow>();
  let writing: Promise<void> = Promise.resolve();

  function count(type: StatsType, integrationId: string, code: string): void {
    const at = Date.now();
    const hour = at - (at % HOUR_MS);
    const key = `${hour}\n${type}\n${integrationId}\n${code}`;
    const row = pending.get(key);
    if (row) {
      row.count++;
      row.lastAt = at;
    } else {
      pending.set(key, { hour, type, integrationId, code, description: code && describeFailure(code), count: 1, firstAt: at, lastAt: at });
    }
  }


  function flush(): Promise<void> {
    writing = writing.then(async () => {
      if (pending.size === 0) return;
      const rows = [...pending.values()];
      pending = new Map();
      try {
        await store.stats.add(rows);
      } catch (err) {
        log.error({ err, rows: rows.length }, 'dashboard counts could not be stored; they are lost');
      }
    });
    return writing;
  }

  async function prune(): Promise<void> {
    try {
      const removed = await store.stats.prune(Date.now() - options.keepDays * DAY_MS);
      if (removed) log.debug({ removed }, 'old dashboard counts pruned');
    } catch (err) {
      log.error({ err }, 'dashboard counts could not be pruned');
    }
  }

  const flusher = setInterval(() => void flush(), options.flushMs).unref();
  const pruner = setInterval(() => void prune(), HOUR_MS).unref();
  void prune();

  return {
    attempt(record: AttemptRecord) {
      if (record.kind === 'success') count('outbound', record.job.integrationId, '');
      else if (record.kind === 'failure') count('outbound', record.job.integrationId, record.failure?.code ?? 'EREQUEST');
      else if (record.kind === 'skipped') count('outbound', record.job.integrationId, 'SLEEPING');
      // 'stopped': the integration was deleted or disabled meanwhile; nothing was attempted.
    },
    event(event: HookwireEvent) {
      if (isDeviceId(event.coreid)) count('device', '', '');
    },
    refused: (refusal: BrokerRefusal) => count('device', '', refusal.code),
    inbound: (inbound: Inbound) => count('inbound', '', inbound.ok ? '' : inbound.code ?? 'BAD_REQUEST'),
    flush,
    async close() {
      clearInterval(flusher);
      clearInterval(pruner);
      await flush();
    },
  };
}
