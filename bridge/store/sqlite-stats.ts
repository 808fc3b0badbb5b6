// Usage statistics in SQLite: hourly counts of successes and failures per integration type,
// integration, failure code and description, written about once a second in one transaction
// (bridge/dashboard/collector.ts adds up in memory between writes).

import type Database from 'better-sqlite3';
import { toStats, type StatsTableRow } from './rows.ts';
import type { StatsRepo, StatsRow } from './types.ts';

export const statsMigration = `
  CREATE TABLE stats_hourly (
    hour           INTEGER NOT NULL,            -- start of the UTC hour, ms since the epoch
    type           TEXT NOT NULL,               -- outbound | inbound | device
    integration_id TEXT NOT NULL DEFAULT '',    -- '' when the row is not about an integration
    code           TEXT NOT NULL DEFAULT '',    -- '' for successes
    description    TEXT NOT NULL DEFAULT '',
    count          INTEGER NOT NULL,
    first_at       INTEGER NOT NULL,            -- ms since the epoch
    last_at        INTEGER NOT NULL,
    PRIMARY KEY (hour, type, integration_id, code, description)
  ) WITHOUT ROWID;
`;

export function sqliteStats(db: Database.Database): StatsRepo {
  const q = {
    add: db.prepare<[number, string, string, string, string, number, number, number]>(
      `INSERT INTO stats_hourly (hour, type, integration_id, code, description, count, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hour, type, integration_id, code, description) DO UPDATE SET
         count = count + excluded.count, first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)`),
    range: db.prepare<[number, number], StatsTableRow>('SELECT * FROM stats_hourly WHERE hour >= ? AND hour < ?'),
    prune: db.prepare<[number]>('DELETE FROM stats_hourly WHERE hour < ?'),
  };
  const add = db.transaction((rows: StatsRow[]) => {
    for (const r of rows) q.add.run(r.hour, r.type, r.integrationId, r.code, r.description, r.count, r.firstAt, r.lastAt);
  });
  return {
    async add(rows) {
      if (rows.length) add(rows);
    },
    async range(from, until) {
      return q.range.all(from, until).map(toStats);
    },
    async prune(before) {
      return q.prune.run(before).changes;
    },
  };
}
