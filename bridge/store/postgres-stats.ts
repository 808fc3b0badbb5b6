// Usage statistics in PostgreSQL: hourly counts per integration type, integration, failure
// code and description, shared by every bridge on the database (each adds its own counts).

import type { Sql } from 'postgres';
import { toStats, type StatsTableRow } from './rows.ts';
import type { StatsRepo, StatsRow } from './types.ts';

/** Rows with the same key as one (one statement may not change a row twice), in key order (rows are locked in one order by every bridge). */
function merge(rows: StatsRow[]): StatsRow[] {
  const byKey = new Map<string, StatsRow>();
  for (const r of rows) {
    const key = [r.hour, r.type, r.integrationId, r.code, r.description].join('\n');
    const seen = byKey.get(key);
    byKey.set(key, seen
      ? { ...seen, count: seen.count + r.count, firstAt: Math.min(seen.firstAt, r.firstAt), lastAt: Math.max(seen.lastAt, r.lastAt) }
      : { ...r });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

export function postgresStats(sql: Sql<{}>): StatsRepo {
  return {
    async add(rows) {
      if (rows.length === 0) return;
      const m = merge(rows);
      await sql`
        INSERT INTO stats_hourly (hour, type, integration_id, code, description, count, first_at, last_at)
        SELECT * FROM unnest(${m.map((r) => r.hour)}::bigint[], ${m.map((r) => r.type)}::text[], ${m.map((r) => r.integrationId)}::text[],
                             ${m.map((r) => r.code)}::text[], ${m.map((r) => r.description)}::text[], ${m.map((r) => r.count)}::bigint[],
                             ${m.map((r) => r.firstAt)}::bigint[], ${m.map((r) => r.lastAt)}::bigint[])
        ON CONFLICT (hour, type, integration_id, code, description) DO UPDATE SET
          count = stats_hourly.count + excluded.count,
          first_at = least(stats_hourly.first_at, excluded.first_at),
          last_at = greatest(stats_hourly.last_at, excluded.last_at)`;
    },
    async range(from, until) {
      return (await sql<StatsTableRow[]>`SELECT * FROM stats_hourly WHERE hour >= ${from} AND hour < ${until}`).map(toStats);
    },
    async prune(before) {
      return (await sql`DELETE FROM stats_hourly WHERE hour < ${before}`).count;
    },
  };
}
