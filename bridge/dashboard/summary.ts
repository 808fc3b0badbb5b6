// The dashboard summary (Webex Connect's integrations dashboard, seed 003): for a period of
// 1, 7 or 30 days, successes and failures per integration type against the previous period
// of the same length, failures by code with guidance, trends, and the failures table.
//
// Periods are whole buckets: 1d is the last 24 hours, the current hour included, in hourly
// buckets; 7d and 30d are the last 7 or 30 UTC days, today (from 00:00 UTC) included, in
// daily buckets. A change is a percentage of the previous period's figure, null when that
// was zero (no percentage of nothing).

import type { StatsRow, StatsType } from '../store/index.ts';
import { guidanceOf, type Guidance } from '../codes.ts';
import { DAY_MS, HOUR_MS } from './collector.ts';

export const PERIODS = { '1d': { buckets: 24, bucketMs: HOUR_MS }, '7d': { buckets: 7, bucketMs: DAY_MS }, '30d': { buckets: 30, bucketMs: DAY_MS } } as const;
export type Period = keyof typeof PERIODS;
export const TYPES: readonly StatsType[] = ['outbound', 'inbound', 'device'];
/** Rows of the failures table shown at most (`total` says how many there are). */
export const MAX_FAILURE_ROWS = 100;

export interface Window {
  period: Period;
  /** Start of the period and of the previous one; end of the period (exclusive); ms. */
  from: number;
  previousFrom: number;
  until: number;
  bucketMs: number;
}

/** The period that ends with the bucket holding `at`. */
export function windowOf(period: Period, at: number): Window {
  const { buckets, bucketMs } = PERIODS[period];
  const until = at - (at % bucketMs) + bucketMs;
  const from = until - buckets * bucketMs;
  return { period, from, previousFrom: from - buckets * bucketMs, until, bucketMs };
}

interface Counts {
  successes: number;
  failures: number;
}

export interface TypeSummary extends Counts {
  previous: Counts;
  /** Percent change against the previous period, 1 decimal; null when the previous was 0. */
  change: { successes: number | null; failures: number | null };
}

export interface CodeSummary extends Guidance {
  code: string;
  count: number;
}

export interface FailureRow extends Guidance {
  integration_id: string | null;
  /** The integration's trigger, when it still exists. */
  event: string | null;
  type: StatsType;
  code: string;
  description: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

export interface Summary {
  period: Period;
  from: string;
  until: string;
  bucket: 'hour' | 'day';
  previous: { from: string; until: string };
  types: Record<StatsType, TypeSummary>;
  failures_by_code: CodeSummary[];
  trends: ({ at: string } & Record<StatsType, Counts>)[];
  failures: { total: number; rows: FailureRow[] };
}

const iso = (ms: number) => new Date(ms).toISOString();
const zero = (): Counts => ({ successes: 0, failures: 0 });

function change(now: number, before: number): number | null {
  return before === 0 ? null : Math.round(((now - before) / before) * 1000) / 10;
}

function add(counts: Counts, row: StatsRow): void {
  if (row.code === '') counts.successes += row.count;
  else counts.failures += row.count;
}

/**
 * The summary of `rows` (those of the period and the previous one) over `w`. `eventOf`
 * names an integration's trigger, undefined when it no longer exists.
 */
export function summarize(rows: StatsRow[], w: Window, eventOf: (integrationId: string) => string | undefined): Summary {
  const current = Object.fromEntries(TYPES.map((t) => [t, zero()])) as Record<StatsType, Counts>;
  const previous = Object.fromEntries(TYPES.map((t) => [t, zero()])) as Record<StatsType, Counts>;
  const buckets = Array.from({ length: (w.until - w.from) / w.bucketMs }, (_, i) =>
    ({ at: iso(w.from + i * w.bucketMs), ...Object.fromEntries(TYPES.map((t) => [t, zero()])) }) as { at: string } & Record<StatsType, Counts>);
  const byCode = new Map<string, number>();
  const groups = new Map<string, { type: StatsType; integrationId: string; code: string; description: string; count: number; first: number; last: number }>();

  for (const row of rows) {
    if (row.hour < w.from) {
      if (row.hour >= w.previousFrom) add(previous[row.type], row);
      continue;
    }
    if (row.hour >= w.until) continue;
    add(current[row.type], row);
    add(buckets[Math.floor((row.hour - w.from) / w.bucketMs)]![row.type], row);
    if (row.code === '') continue;
    byCode.set(row.code, (byCode.get(row.code) ?? 0) + row.count);
    const key = `${row.type}\n${row.integrationId}\n${row.description}`;
    const g = groups.get(key);
    if (g) {
      g.count += row.count;
      g.first = Math.min(g.first, row.firstAt);
      g.last = Math.max(g.last, row.lastAt);
    } else {
      groups.set(key, { type: row.type, integrationId: row.integrationId, code: row.code, description: row.description, count: row.count, first: row.firstAt, last: row.lastAt });
    }
  }

  const failures = [...groups.values()]
    .sort((a, b) => b.count - a.count || b.last - a.last)
    .map((g): FailureRow => ({
      integration_id: g.integrationId || null,
      event: (g.integrationId && eventOf(g.integrationId)) || null,
      type: g.type,
      code: g.code,
      description: g.description,
      count: g.count,
      first_seen: iso(g.first),
      last_seen: iso(g.last),
      ...guidanceOf(g.code),
    }));

  return {
    period: w.period,
    from: iso(w.from),
    until: iso(w.until),
    bucket: w.bucketMs === HOUR_MS ? 'hour' : 'day',
    previous: { from: iso(w.previousFrom), until: iso(w.from) },
    types: Object.fromEntries(TYPES.map((t) => [t, {
      ...current[t],
      previous: previous[t],
      change: { successes: change(current[t].successes, previous[t].successes), failures: change(current[t].failures, previous[t].failures) },
    }])) as Record<StatsType, TypeSummary>,
    failures_by_code: [...byCode]
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([code, count]) => ({ code, count, ...guidanceOf(code) })),
    trends: buckets,
    failures: { total: failures.length, rows: failures.slice(0, MAX_FAILURE_ROWS) },
  };
}
