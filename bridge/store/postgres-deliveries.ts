// The durable delivery queue in PostgreSQL, shared by every bridge on the database.
//
// Accepting is one statement (events and their deliveries together), so it commits before
// it resolves: the group commit a QoS 1 PUBACK waits for. Claiming leases deliveries to this
// bridge (its owner ID): `claimDue` locks due rows with FOR UPDATE SKIP LOCKED, so bridges
// claiming at once each get different ones, marks them running with this owner and sets
// `next_at` to when the lease ends. While this store is open it renews its leases (every
// quarter lease), however long a claimed delivery waits in its lane; a bridge that dies
// stops renewing, and once its leases end any bridge's `claimDue` takes those deliveries
// back. Settling only touches deliveries this bridge holds (or nobody holds), so a bridge
// whose lease was taken over cannot undo the new holder's work.

import { toDelivery, type DeliveryRow } from './rows.ts';
import type { Sql, TransactionSql } from 'postgres';
import type {
  DailyCount, DailyIncrement, DeliveryRepo, DeliveryStatus, FailedDelivery, LogEntry, Retention, Settlement, StatusUpdate, StoredEvent,
} from './types.ts';

export interface LeaseOptions {
  /** This bridge, as the holder of its claims. */
  owner: string;
  /** How long a claim holds without renewal, ms. */
  leaseMs: number;
  /** A failed lease renewal (retried at the next one). */
  onError: (err: unknown) => void;
}

export interface PostgresDeliveryRepo extends DeliveryRepo {
  /** Hand back this bridge's claims (pending, due now) and stop renewing them: the store is closing. */
  release(): Promise<number>;
}

/** Rows each retention statement removes, so none holds locks or a transaction for long. */
const PRUNE_BATCH = 1_000;

/** A deadlock or serialization failure between bridges is retried this many times in all. */
const TRIES = 3;


interface ClaimRow extends DeliveryRow {
  due_at: number;
  e_name: string;
  e_data: string;
  e_type: StoredEvent['type'];
  e_published_at: Date;
  e_coreid: string;
  e_product_id: number | null;
  e_fw_version: number | null;
}


/** PostgreSQL's boolean: an array of booleans is declared as such, or the driver declares one boolean. */
const BOOL_OID = 16;

/** Objects for a json[] parameter: the server declares its type, and the driver writes each with JSON.stringify (keys in order). */
const jsonArray = (values: object[]) => values as never;

/** Postgres's deadlock_detected and serialization_failure. */
const retryable = (err: unknown) => typeof err === 'object' && err !== null && ['40P01', '40001'].includes((err as { code?: string }).code ?? '');

/** Daily increments with the same integration and day added up, in key order (rows are locked in one order by every bridge). */
function sumDaily(daily: DailyIncrement[]): DailyIncrement[] {
  const byKey = new Map<string, DailyIncrement>();
  for (const d of daily) {
    const key = `${d.integrationId}\n${d.day}`;
    const seen = byKey.get(key);
    if (seen) byKey.set(key, { ...seen, success: seen.success + d.success, error: seen.error + d.error, skipped: seen.skipped + d.skipped });
    else byKey.set(key, { ...d });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/**
 * One update per integration, in ID order (rows are locked in one order by every bridge): the
 * last status given for it is its status now, and what each update adds is added up.
 */
function mergeStatuses(updates: StatusUpdate[]): StatusUpdate[] {
  const byId = new Map<string, StatusUpdate>();
  for (const u of updates) {
    const seen = byId.get(u.integrationId);
    const add = { ...seen?.add };
    for (const [k, n] of Object.entries(u.add)) add[k] = (add[k] ?? 0) + n;
    byId.set(u.integrationId, { integrationId: u.integrationId, status: u.status, add });
  }
  return [...byId.values()].sort((a, b) => (a.integrationId < b.integrationId ? -1 : a.integrationId > b.integrationId ? 1 : 0));
}

export function postgresDeliveries(sql: Sql<{}>, lease: LeaseOptions): PostgresDeliveryRepo {
  const { owner, leaseMs } = lease;

  // What this bridge knows of its own leases, so that a delivery it lost (a pause longer than
  // the lease: another bridge took it over) is not attempted again when it resumes. Each
  // running delivery it holds: when it was claimed (or last confirmed). Renewals extend every
  // lease together; a chain of renewals each less than a lease after the one before keeps
  // every lease that had not ended when the chain began held until a lease after the last
  // one. Another bridge sees a lease end by its own clock: bridges' clocks must agree (NTP),
  // and a quarter lease is kept in hand.
  const claimedAt = new Map<number, number>();
  let renewedAt = 0;
  let chainSince = Infinity;
  const margin = leaseMs / 4;

  async function renew(): Promise<void> {
    const at = Date.now();
    await sql`UPDATE deliveries SET next_at = ${at + leaseMs} WHERE status = 'running' AND lease_owner = ${owner}`;
    if (at - renewedAt >= leaseMs) chainSince = at;
    renewedAt = at;
  }

  /** Until when the lease of a delivery claimed at `claimed` surely holds; 0 when unknown. */
  function heldUntil(claimed: number): number {
    if (renewedAt < claimed) return claimed + leaseMs;
    return claimed + leaseMs > chainSince ? renewedAt + leaseMs : 0;
  }

  /** Ask the store: renew the lease of `id` when this bridge still holds it. */
  async function confirm(id: number): Promise<boolean> {
    const at = Date.now();
    const rows = await sql`UPDATE deliveries SET next_at = ${at + leaseMs} WHERE id = ${id} AND status = 'running' AND lease_owner = ${owner} RETURNING id`;
    if (rows.length === 0) {
      claimedAt.delete(id);
      return false;
    }
    claimedAt.set(id, at);
    return true;
  }
  let renewing: Promise<void> | undefined;
  const renewal = setInterval(() => {
    renewing ??= renew().catch(lease.onError).finally(() => { renewing = undefined; });
  }, Math.max(10, Math.floor(leaseMs / 4)));
  renewal.unref();

  /** The settlement's statements, in one transaction. */
  async function settleOnce(s: Settlement, keepLogs: number): Promise<void> {
    const done = s.deliveries.filter((d) => d.status === 'done').map((d) => d.id).sort((a, b) => a - b);
    const updates = s.deliveries.filter((d) => d.status !== 'done').sort((a, b) => a.id - b.id);
    const statuses = mergeStatuses(s.statuses);
    const daily = sumDaily(s.daily);
    const trimmed = [...new Map(s.logs.map((l) => [`${l.integrationId}\n${l.ok}`, l])).values()];
    if (!done.length && !updates.length && !statuses.length && !daily.length && !s.logs.length) return;
    await sql.begin((tx: TransactionSql<{}>) => {
      // Sent together (pipelined); the transaction commits when all have run.
      const steps = [];
      if (done.length) {
        // Nothing reads a delivered job again: it goes now (its event once no delivery needs it).
        steps.push(tx`DELETE FROM deliveries WHERE id = ANY(${done}::bigint[]) AND (lease_owner IS NULL OR lease_owner = ${owner})`);
      }
      if (updates.length) {
        steps.push(tx`
          UPDATE deliveries d SET status = u.status, attempts = u.attempts, next_at = u.next_at, last_code = u.last_code,
            finished_at = u.finished_at, lease_owner = NULL
          FROM unnest(${updates.map((u) => u.id)}::bigint[], ${updates.map((u) => u.status)}::text[], ${updates.map((u) => u.attempts)}::int[],
                      ${updates.map((u) => u.nextAt)}::bigint[], ${updates.map((u) => u.lastCode)}::text[], ${updates.map((u) => u.finishedAt)}::bigint[])
            AS u (id, status, attempts, next_at, last_code, finished_at)
          WHERE d.id = u.id AND (d.lease_owner IS NULL OR d.lease_owner = ${owner})`);
      }
      if (statuses.length) {
        // Counters: the stored ones plus this batch's (the row is locked, so bridges settling
        // at once each add theirs); the other fields as given, unless the stored revision is
        // newer (types.ts, StatusUpdate).
        steps.push(tx`
          UPDATE integrations i SET status = (
            CASE WHEN coalesce((i.status->>'revision')::numeric, 0) > coalesce((u.status->>'revision')::numeric, 0)
                 THEN i.status::jsonb ELSE u.status::jsonb END
            || (SELECT coalesce(jsonb_object_agg(a.key, coalesce((i.status->>a.key)::numeric, 0) + a.value::numeric), '{}'::jsonb)
                FROM jsonb_each_text(u.add::jsonb) AS a)
          )::json
          FROM unnest(${statuses.map((x) => x.integrationId)}::text[], ${jsonArray(statuses.map((x) => x.status))}::json[],
                      ${jsonArray(statuses.map((x) => x.add))}::json[]) AS u (id, status, add)
          WHERE i.id = u.id`);
      }
      if (daily.length) {
        steps.push(tx`
          INSERT INTO daily_counts (integration_id, day, success, error, skipped)
          SELECT * FROM unnest(${daily.map((d) => d.integrationId)}::text[], ${daily.map((d) => d.day)}::date[],
                               ${daily.map((d) => d.success)}::int[], ${daily.map((d) => d.error)}::int[], ${daily.map((d) => d.skipped)}::int[])
          ON CONFLICT (integration_id, day) DO UPDATE SET success = daily_counts.success + excluded.success,
            error = daily_counts.error + excluded.error, skipped = daily_counts.skipped + excluded.skipped`);
      }
      if (s.logs.length) {
        steps.push(tx`
          INSERT INTO delivery_logs (integration_id, ok, at, entry)
          SELECT l.integration_id, l.ok, l.at, l.entry
          FROM unnest(${s.logs.map((l) => l.integrationId)}::text[], ${tx.array(s.logs.map((l) => l.ok), BOOL_OID)}::boolean[], ${s.logs.map((l) => l.at)}::text[],
                      ${jsonArray(s.logs.map((l) => l.entry))}::json[]) WITH ORDINALITY AS l (integration_id, ok, at, entry, n)
          ORDER BY l.n`);
        // Each integration keeps its last `keepLogs` successes and errors.
        steps.push(tx`
          DELETE FROM delivery_logs l USING (
            SELECT k.integration_id, k.ok, (SELECT id FROM delivery_logs x WHERE x.integration_id = k.integration_id AND x.ok = k.ok
                                            ORDER BY id DESC OFFSET ${keepLogs} LIMIT 1) AS cutoff
            FROM unnest(${trimmed.map((l) => l.integrationId)}::text[], ${tx.array(trimmed.map((l) => l.ok), BOOL_OID)}::boolean[]) AS k (integration_id, ok)) c
          WHERE l.integration_id = c.integration_id AND l.ok = c.ok AND l.id <= c.cutoff`);
      }
      return steps;
    });
  }

  return {
    async accept(batch) {
      if (batch.length === 0) return [];
      const now = Date.now();
      const events = batch.map((b) => b.event);
      const rows = batch.flatMap(({ event, deliveries }) => deliveries.map((d) => ({ event: event.id, ...d })));
      // A delivery accepted running is already this bridge's: leased from now.
      const running = (status: string) => status === 'running';
      const inserted = await sql<{ id: number }[]>`
        WITH accepted AS (
          INSERT INTO events (id, name, data, type, published_at, coreid, product_id, fw_version)
          SELECT * FROM unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.name)}::text[], ${events.map((e) => e.data)}::text[],
                               ${events.map((e) => e.type)}::text[], ${events.map((e) => e.published_at)}::timestamptz[], ${events.map((e) => e.coreid)}::text[],
                               ${events.map((e) => e.product_id)}::int[], ${events.map((e) => e.fw_version)}::int[])
          ON CONFLICT (id) DO NOTHING)
        INSERT INTO deliveries (event_id, integration_id, host, status, next_at, created_at, lease_owner)
        SELECT d.event_id, d.integration_id, d.host, d.status, d.next_at, ${now}, d.lease_owner
        FROM unnest(${rows.map((r) => r.event)}::text[], ${rows.map((r) => r.integrationId)}::text[], ${rows.map((r) => r.host)}::text[],
                    ${rows.map((r) => r.status)}::text[], ${rows.map((r) => (running(r.status) ? now + leaseMs : r.nextAt))}::bigint[],
                    ${rows.map((r) => (running(r.status) ? owner : null))}::text[])
          WITH ORDINALITY AS d (event_id, integration_id, host, status, next_at, lease_owner, n)
        ORDER BY d.n
        RETURNING id`;
      // Rows are numbered in the order they are inserted, which is the batch's order.
      const ids = inserted.map((r) => r.id).sort((a, b) => a - b);
      let next = 0;
      return batch.map(({ deliveries }) => deliveries.map((d) => {
        const id = ids[next++]!;
        if (running(d.status)) claimedAt.set(id, now);
        return id;
      }));
    },

    async settle(settlement, keepLogs) {
      for (const d of settlement.deliveries) claimedAt.delete(d.id);
      for (let tried = 1; ; tried++) {
        try {
          return await settleOnce(settlement, keepLogs);
        } catch (err) {
          if (tried >= TRIES || !retryable(err)) throw err;
        }
      }
    },

    async claimDue(host, now, limit) {
      // Due pending deliveries, and running ones another bridge stopped renewing, oldest due first.
      const rows = await sql<ClaimRow[]>`
        WITH due AS (
          SELECT id, next_at FROM deliveries
          WHERE host = ${host} AND status IN ('pending', 'running') AND next_at <= ${now}
            AND (status = 'pending' OR lease_owner IS DISTINCT FROM ${owner})
          ORDER BY next_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED),
        claimed AS (
          UPDATE deliveries d SET status = 'running', next_at = ${now + leaseMs}, lease_owner = ${owner}
          FROM due WHERE d.id = due.id
          RETURNING d.*, due.next_at AS due_at)
        SELECT c.*, e.name AS e_name, e.data AS e_data, e.type AS e_type, e.published_at AS e_published_at, e.coreid AS e_coreid,
               e.product_id AS e_product_id, e.fw_version AS e_fw_version
        FROM claimed c JOIN events e ON e.id = c.event_id
        ORDER BY c.due_at, c.id`;
      for (const r of rows) claimedAt.set(Number(r.id), now);
      return rows.map((r) => ({
        delivery: { ...toDelivery(r), nextAt: r.due_at },
        event: {
          id: r.event_id, name: r.e_name, data: r.e_data, type: r.e_type, published_at: r.e_published_at.toISOString(),
          coreid: r.e_coreid, product_id: r.e_product_id, fw_version: r.e_fw_version,
        },
      }));
    },

    async pendingHosts() {
      // Another bridge's claims count as due when their lease ends: this bridge takes them if it is not renewed.
      const rows = await sql<{ host: string; due: number }[]>`
        SELECT host, min(next_at) AS due FROM deliveries
        WHERE status IN ('pending', 'running') AND (status = 'pending' OR lease_owner IS DISTINCT FROM ${owner})
        GROUP BY host`;
      return new Map(rows.map((r) => [r.host, r.due]));
    },

    async nextDue(host) {
      const [row] = await sql<{ due: number | null }[]>`
        SELECT min(next_at) AS due FROM deliveries
        WHERE host = ${host} AND status IN ('pending', 'running') AND (status = 'pending' OR lease_owner IS DISTINCT FROM ${owner})`;
      return row?.due ?? undefined;
    },

    async requeueRunning(now) {
      // This bridge's claims from before (same owner), and any whose lease has ended; never
      // those another live bridge holds.
      const result = await sql`
        UPDATE deliveries SET status = 'pending', next_at = ${now}, lease_owner = NULL
        WHERE status = 'running' AND (lease_owner = ${owner} OR lease_owner IS NULL OR next_at <= ${now})`;
      return result.count;
    },

    holds(id) {
      const claimed = claimedAt.get(id);
      if (claimed !== undefined && Date.now() < heldUntil(claimed) - margin) return true;
      return confirm(id);
    },

    async release() {
      clearInterval(renewal);
      await renewing;
      claimedAt.clear();
      const result = await sql`
        UPDATE deliveries SET status = 'pending', next_at = ${Date.now()}, lease_owner = NULL
        WHERE status = 'running' AND lease_owner = ${owner}`;
      return result.count;
    },

    async prune(now, keep: Retention) {
      let deliveries = 0;
      let events = 0;
      // A slice at a time, each its own short transaction, skipping rows another bridge has locked.
      for (let n; (n = (await sql`
        DELETE FROM deliveries WHERE id IN (
          SELECT id FROM deliveries WHERE status = 'failed' AND finished_at < ${now - keep.failedMs}
          LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED)`).count) > 0;) deliveries += n;
      const before = new Date(now - keep.eventsMs).toISOString();
      for (let n; (n = (await sql`
        DELETE FROM events WHERE id IN (
          SELECT e.id FROM events e
          WHERE e.published_at < ${before} AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
          ORDER BY e.published_at LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED)`).count) > 0;) events += n;
      const firstDay = new Date(now - keep.dailyDays * 86_400_000).toISOString().slice(0, 10);
      const days = (await sql`DELETE FROM daily_counts WHERE day < ${firstDay}::date`).count;
      return { deliveries, events, days };
    },

    async counts() {
      const out: Record<DeliveryStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
      for (const r of await sql<{ status: DeliveryStatus; n: number }[]>`SELECT status, count(*) AS n FROM deliveries GROUP BY status`) out[r.status] = r.n;
      return out;
    },

    async logs(integrationId) {
      const rows = await sql<{ integration_id: string; ok: boolean; at: string; entry: object }[]>`
        SELECT integration_id, ok, at, entry FROM delivery_logs WHERE integration_id = ${integrationId} ORDER BY id DESC`;
      return rows.map((r): LogEntry => ({ integrationId: r.integration_id, ok: r.ok, at: r.at, entry: r.entry }));
    },

    async daily(integrationId, fromDay) {
      return [...await sql<DailyCount[]>`
        SELECT to_char(day, 'YYYY-MM-DD') AS day, success, error, skipped FROM daily_counts
        WHERE integration_id = ${integrationId} AND day >= ${fromDay}::date ORDER BY day`];
    },

    async failed(integrationId, { since = 0, limit }) {
      const [rows, [count]] = await Promise.all([
        sql<(DeliveryRow & { e_name: string; e_coreid: string; e_published_at: Date })[]>`
          SELECT d.*, e.name AS e_name, e.coreid AS e_coreid, e.published_at AS e_published_at
          FROM deliveries d JOIN events e ON e.id = d.event_id
          WHERE d.status = 'failed' AND d.integration_id = ${integrationId} AND d.finished_at >= ${since}
          ORDER BY d.finished_at DESC, d.id DESC LIMIT ${limit}`,
        sql<{ n: number }[]>`SELECT count(*) AS n FROM deliveries WHERE status = 'failed' AND integration_id = ${integrationId} AND finished_at >= ${since}`,
      ]);
      const deliveries = rows.map((r): FailedDelivery => ({
        ...toDelivery(r),
        event: { id: r.event_id, name: r.e_name, coreid: r.e_coreid, published_at: r.e_published_at.toISOString() },
      }));
      return { total: count!.n, deliveries };
    },

    async replayFailed(integrationId, which, now, host) {
      // last_code stays: it says why the delivery had failed until the replay's first attempt settles.
      const rows = 'deliveryId' in which
        ? await sql<{ host: string }[]>`
            UPDATE deliveries SET status = 'pending', next_at = ${now}, attempts = 0, finished_at = NULL, lease_owner = NULL, host = coalesce(${host ?? null}, host)
            WHERE id = ${which.deliveryId} AND integration_id = ${integrationId} AND status = 'failed' RETURNING host`
        : await sql<{ host: string }[]>`
            UPDATE deliveries SET status = 'pending', next_at = ${now}, attempts = 0, finished_at = NULL, lease_owner = NULL, host = coalesce(${host ?? null}, host)
            WHERE status = 'failed' AND integration_id = ${integrationId} AND finished_at >= ${which.since} RETURNING host`;
      const hosts = new Map<string, number>();
      for (const r of rows) hosts.set(r.host, (hosts.get(r.host) ?? 0) + 1);
      return hosts;
    },
  };
}
