// The durable delivery queue in SQLite: accepted events, their deliveries (jobs), attempt
// logs and daily counts. Writes come in batches, one transaction each (group commit): the
// webhook engine gathers a turn of the event loop's worth of work and hands it over here.

import type Database from 'better-sqlite3';
import { toDelivery, type DeliveryRow } from './rows.ts';
import type {
  DailyCount, DeliveryRecord, DeliveryRepo, DeliveryStatus, FailedDelivery, LogEntry, NewDelivery, Retention, Settlement, StoredEvent,
} from './types.ts';

export const deliveriesMigration = `
  CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    data         TEXT NOT NULL,
    type         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    coreid       TEXT NOT NULL,
    product_id   INTEGER,
    fw_version   INTEGER
  ) WITHOUT ROWID;
  CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    host           TEXT NOT NULL,
    status         TEXT NOT NULL,   -- pending | running | done | failed
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL, -- ms since the epoch
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    last_code      TEXT
  );
  -- Every index costs each insert and delete on the hot path, so only two: the scheduler's
  -- "what is due for this host?", and failed deliveries by integration (kept for replay).
  -- Delivered jobs are deleted, so the table holds only pending, running and failed ones.
  CREATE INDEX deliveries_pending ON deliveries(host, next_at) WHERE status = 'pending';
  CREATE INDEX deliveries_failed ON deliveries(integration_id, finished_at) WHERE status = 'failed';
  CREATE TABLE delivery_logs (
    id             INTEGER PRIMARY KEY,
    integration_id TEXT NOT NULL,
    ok             INTEGER NOT NULL,
    at             TEXT NOT NULL,
    entry          TEXT NOT NULL    -- JSON, secrets already redacted
  );
  CREATE INDEX delivery_logs_integration ON delivery_logs(integration_id, ok, id);
  CREATE TABLE daily_counts (
    integration_id TEXT NOT NULL,
    day            TEXT NOT NULL,    -- UTC, YYYY-MM-DD
    success        INTEGER NOT NULL DEFAULT 0,
    error          INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (integration_id, day)
  ) WITHOUT ROWID;
  ALTER TABLE integrations ADD COLUMN status TEXT;
  ALTER TABLE integrations ADD COLUMN signing TEXT;
`;


type EventRow = StoredEvent;


/** Rows per multi-row INSERT: one statement for many rows saves most of the per-row cost. */
const ROWS_PER_INSERT = 64;

/** `INSERT ... VALUES (?, ...), (?, ...)` statements, prepared once per row count. */
function multiInsert(db: Database.Database, head: string, columns: number) {
  const prepared = new Map<number, Database.Statement>();
  const row = `(${Array(columns).fill('?').join(', ')})`;
  return (rows: number): Database.Statement => {
    let stmt = prepared.get(rows);
    if (!stmt) prepared.set(rows, (stmt = db.prepare(`${head} VALUES ${Array(rows).fill(row).join(', ')}`)));
    return stmt;
  };
}

export function sqliteDeliveries(db: Database.Database): DeliveryRepo {
  const insertEvents = multiInsert(db, 'INSERT OR IGNORE INTO events (id, name, data, type, published_at, coreid, product_id, fw_version)', 8);
  const insertDeliveries = multiInsert(db, 'INSERT INTO deliveries (event_id, integration_id, host, status, next_at, created_at)', 6);
  const q = {
    updateDelivery: db.prepare<[string, number, number, string, number | null, number]>(
      'UPDATE deliveries SET status = ?, attempts = ?, next_at = ?, last_code = ?, finished_at = ? WHERE id = ?'),
    deleteDelivery: db.prepare<[number]>('DELETE FROM deliveries WHERE id = ?'),
    // The stored counters plus what this batch adds; the other fields as given, unless the
    // stored revision is newer (types.ts, StatusUpdate).
    mergeStatus: db.prepare<[{ id: string; status: string; add: string }]>(
      `UPDATE integrations SET status = json_patch(
         CASE WHEN coalesce(json_extract(status, '$.revision'), 0) > coalesce(json_extract(@status, '$.revision'), 0) THEN status ELSE @status END,
         (SELECT json_group_object(a.key, coalesce(json_extract(integrations.status, '$.' || a.key), 0) + a.value) FROM json_each(@add) AS a))
       WHERE id = @id`),
    addDaily: db.prepare<[string, string, number, number, number]>(
      `INSERT INTO daily_counts (integration_id, day, success, error, skipped) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (integration_id, day) DO UPDATE SET success = success + excluded.success, error = error + excluded.error, skipped = skipped + excluded.skipped`),
    insertLog: db.prepare<[string, number, string, string]>('INSERT INTO delivery_logs (integration_id, ok, at, entry) VALUES (?, ?, ?, ?)'),
    trimLogs: db.prepare<[string, number, string, number, number]>(
      `DELETE FROM delivery_logs WHERE integration_id = ? AND ok = ? AND id < (
         SELECT id FROM delivery_logs WHERE integration_id = ? AND ok = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
    due: db.prepare<[string, number, number], DeliveryRow>(
      `SELECT * FROM deliveries WHERE status = 'pending' AND host = ? AND next_at <= ? ORDER BY next_at LIMIT ?`),
    markRunning: db.prepare<[number]>(`UPDATE deliveries SET status = 'running' WHERE id = ?`),
    event: db.prepare<[string], EventRow>('SELECT * FROM events WHERE id = ?'),
    pendingHosts: db.prepare<[], { host: string; due: number }>(
      `SELECT host, MIN(next_at) AS due FROM deliveries WHERE status = 'pending' GROUP BY host`),
    nextDue: db.prepare<[string], { due: number | null }>(
      `SELECT MIN(next_at) AS due FROM deliveries WHERE status = 'pending' AND host = ?`),
    requeue: db.prepare<[number]>(`UPDATE deliveries SET status = 'pending', next_at = ? WHERE status = 'running'`),
    pruneFailed: db.prepare<[number]>(
      `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE status = 'failed' AND finished_at < ? LIMIT 10000)`),
    // The deliveries left are the pending and failed ones: a small set to keep events for.
    pruneEvents: db.prepare<[string]>(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE published_at < ? AND id NOT IN (SELECT event_id FROM deliveries) LIMIT 10000)`),
    pruneDays: db.prepare<[string]>('DELETE FROM daily_counts WHERE day < ?'),
    counts: db.prepare<[], { status: DeliveryStatus; n: number }>('SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status'),
    logs: db.prepare<[string], { integration_id: string; ok: number; at: string; entry: string }>(
      'SELECT * FROM delivery_logs WHERE integration_id = ? ORDER BY id DESC'),
    daily: db.prepare<[string, string], DailyCount>(
      'SELECT day, success, error, skipped FROM daily_counts WHERE integration_id = ? AND day >= ? ORDER BY day'),
  };

  const accept = db.transaction((batch: { event: StoredEvent; deliveries: NewDelivery[] }[], now: number) => {
    for (let from = 0; from < batch.length; from += ROWS_PER_INSERT) {
      const slice = batch.slice(from, from + ROWS_PER_INSERT);
      const params: unknown[] = [];
      for (const { event: e } of slice) params.push(e.id, e.name, e.data, e.type, e.published_at, e.coreid, e.product_id, e.fw_version);
      insertEvents(slice.length).run(params);
    }
    const rows: unknown[][] = [];
    for (const { event: e, deliveries } of batch) for (const d of deliveries) rows.push([e.id, d.integrationId, d.host, d.status, d.nextAt, now]);
    const ids: number[] = [];
    for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
      const slice = rows.slice(from, from + ROWS_PER_INSERT);
      // The rows of one INSERT get consecutive rowids: the last one, counted back.
      const last = Number(insertDeliveries(slice.length).run(slice.flat()).lastInsertRowid);
      for (let k = slice.length - 1; k >= 0; k--) ids.push(last - k);
    }
    let next = 0;
    return batch.map(({ deliveries }) => deliveries.map(() => ids[next++]!));
  });

  const settle = db.transaction((s: Settlement, keepLogs: number) => {
    for (const d of s.deliveries) {
      // Nothing reads a delivered job again: it goes now (its event once no delivery needs it).
      if (d.status === 'done') q.deleteDelivery.run(d.id);
      else q.updateDelivery.run(d.status, d.attempts, d.nextAt, d.lastCode, d.finishedAt, d.id);
    }
    for (const u of s.statuses) q.mergeStatus.run({ id: u.integrationId, status: JSON.stringify(u.status), add: JSON.stringify(u.add) });
    for (const d of s.daily) q.addDaily.run(d.integrationId, d.day, d.success, d.error, d.skipped);
    const trimmed = new Set<string>();
    for (const l of s.logs) {
      q.insertLog.run(l.integrationId, l.ok ? 1 : 0, l.at, JSON.stringify(l.entry));
      trimmed.add(`${l.integrationId}:${l.ok ? 1 : 0}`);
    }
    for (const key of trimmed) {
      const [id, ok] = key.split(':') as [string, string];
      q.trimLogs.run(id, Number(ok), id, Number(ok), keepLogs - 1);
    }
  });

  const claim = db.transaction((host: string, now: number, limit: number) => {
    const rows = q.due.all(host, now, limit);
    const out: { delivery: DeliveryRecord; event: StoredEvent }[] = [];
    const events = new Map<string, StoredEvent | undefined>();
    for (const row of rows) {
      q.markRunning.run(row.id);
      if (!events.has(row.event_id)) events.set(row.event_id, q.event.get(row.event_id));
      const event = events.get(row.event_id);
      if (event) out.push({ delivery: { ...toDelivery(row), status: 'running' }, event });
    }
    return out;
  });

  // Failed deliveries, for listing and replay (both use the deliveries_failed index).
  const failedQ = {
    list: db.prepare<[string, number, number], DeliveryRow & { e_name: string; e_coreid: string; e_published_at: string }>(
      `SELECT d.*, e.name AS e_name, e.coreid AS e_coreid, e.published_at AS e_published_at
       FROM deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.status = 'failed' AND d.integration_id = ? AND d.finished_at >= ?
       ORDER BY d.finished_at DESC, d.id DESC LIMIT ?`),
    count: db.prepare<[string, number], { n: number }>(
      `SELECT COUNT(*) AS n FROM deliveries WHERE status = 'failed' AND integration_id = ? AND finished_at >= ?`),
    // last_code stays: it says why the delivery had failed until the replay's first attempt settles.
    replayOne: db.prepare<[number, string | null, number, string], { host: string }>(
      `UPDATE deliveries SET status = 'pending', next_at = ?, attempts = 0, finished_at = NULL, host = COALESCE(?, host)
       WHERE id = ? AND integration_id = ? AND status = 'failed' RETURNING host`),
    replaySince: db.prepare<[number, string | null, string, number], { host: string }>(
      `UPDATE deliveries SET status = 'pending', next_at = ?, attempts = 0, finished_at = NULL, host = COALESCE(?, host)
       WHERE status = 'failed' AND integration_id = ? AND finished_at >= ? RETURNING host`),
  };

  return {
    async accept(batch) {
      return accept(batch, Date.now());
    },
    async settle(settlement, keepLogs) {
      settle(settlement, keepLogs);
    },
    async claimDue(host, now, limit) {
      return claim(host, now, limit);
    },
    async pendingHosts() {
      return new Map(q.pendingHosts.all().map((r) => [r.host, r.due]));
    },
    async nextDue(host) {
      return q.nextDue.get(host)?.due ?? undefined;
    },
    async requeueRunning(now) {
      return q.requeue.run(now).changes;
    },
    async prune(now, keep: Retention) {
      let deliveries = 0;
      let events = 0;
      // In slices of 10,000 rows, so no single transaction holds the database for long.
      for (let n; (n = q.pruneFailed.run(now - keep.failedMs).changes) > 0;) deliveries += n;
      for (let n; (n = q.pruneEvents.run(new Date(now - keep.eventsMs).toISOString()).changes) > 0;) events += n;
      const days = q.pruneDays.run(new Date(now - keep.dailyDays * 86_400_000).toISOString().slice(0, 10)).changes;
      return { deliveries, events, days };
    },
    async counts() {
      const out: Record<DeliveryStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
      for (const r of q.counts.all()) out[r.status] = r.n;
      return out;
    },
    async logs(integrationId) {
      return q.logs.all(integrationId).map((r): LogEntry => ({ integrationId: r.integration_id, ok: r.ok === 1, at: r.at, entry: JSON.parse(r.entry) }));
    },
    async daily(integrationId, fromDay) {
      return q.daily.all(integrationId, fromDay);
    },
    async failed(integrationId, { since = 0, limit }) {
      const deliveries = failedQ.list.all(integrationId, since, limit).map((r): FailedDelivery => ({
        ...toDelivery(r),
        event: { id: r.event_id, name: r.e_name, coreid: r.e_coreid, published_at: r.e_published_at },
      }));
      return { total: failedQ.count.get(integrationId, since)!.n, deliveries };
    },
    async replayFailed(integrationId, which, now, host) {
      const rows = 'deliveryId' in which
        ? failedQ.replayOne.all(now, host ?? null, which.deliveryId, integrationId)
        : failedQ.replaySince.all(now, host ?? null, integrationId, which.since);
      const hosts = new Map<string, number>();
      for (const r of rows) hosts.set(r.host, (hosts.get(r.host) ?? 0) + 1);
      return hosts;
    },
  };
}
