// Request bins in PostgreSQL, shared by every bridge on the database: a webhook captured by one
// bridge is seen through any other's API, a bin's answer set on one is used by all, and the
// bounds (requests per bin, bins, bytes) hold across all of them. Every change to the bins
// takes one advisory lock, so the bounds are applied to one state at a time and request IDs
// are kept in increasing order (a watcher asking for what came `after` an ID misses none).
// A capture is announced with NOTIFY, which PostgreSQL sends when its transaction commits:
// every bridge LISTENing wakes its long-polls for that bin.

import type { Sql, TransactionSql } from 'postgres';
import { JSON_OID } from './postgres.ts';
import type { BinLimits, BinRecord, BinRepo, BinRequestRecord, JsonObject } from './types.ts';

/** The channel captures are announced on (the payload is the bin's name). */
export const BIN_CHANNEL = 'hookwire_bins';

/** The advisory lock every change to the bins holds until it commits (any constant; "hwbins" in ASCII). */
const BINS_LOCK = 0x687762696e73n;

interface BinRow {
  name: string;
  created_at: Date;
  last_request_at: Date | null;
  total: number;
  count: number;
  response: JsonObject | null;
}

const toBin = (r: BinRow): BinRecord => ({
  name: r.name,
  createdAt: r.created_at.toISOString(),
  lastRequestAt: r.last_request_at === null ? null : r.last_request_at.toISOString(),
  count: r.count,
  total: r.total,
  response: r.response,
});

async function lock(tx: TransactionSql<{}>): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(${String(BINS_LOCK)}::bigint)`;
}

/** Drop the oldest requests of bin `name` beyond `max`, and count their bytes off the bin. */
async function keepNewest(tx: TransactionSql<{}>, name: string, max: number): Promise<void> {
  await tx`
    WITH gone AS (
      DELETE FROM bin_requests WHERE bin = ${name}
        AND id <= (SELECT id FROM bin_requests WHERE bin = ${name} ORDER BY id DESC OFFSET ${max} LIMIT 1)
      RETURNING size)
    UPDATE bins SET bytes = bytes - (SELECT coalesce(sum(size), 0) FROM gone) WHERE name = ${name}`;
}

/**
 * Over the byte budget: drop the oldest requests of the least recently used bins first, until
 * what is left fits, never the request `keep` (the one just captured).
 */
async function trimBytes(tx: TransactionSql<{}>, maxTotalBytes: number, keep: number): Promise<void> {
  const [row] = await tx<{ bytes: number }[]>`SELECT coalesce(sum(bytes), 0)::bigint AS bytes FROM bins`;
  const excess = row!.bytes - maxTotalBytes;
  if (excess <= 0) return;
  await tx`
    WITH queue AS (
      SELECT r.id, r.size, sum(r.size) OVER (ORDER BY b.used, r.id) AS freed
      FROM bin_requests r JOIN bins b ON b.name = r.bin
      WHERE r.id <> ${keep}),
    gone AS (
      DELETE FROM bin_requests WHERE id IN (SELECT id FROM queue WHERE freed - size < ${excess})
      RETURNING bin, size)
    UPDATE bins SET bytes = bins.bytes - g.freed
    FROM (SELECT bin, sum(size) AS freed FROM gone GROUP BY bin) g
    WHERE bins.name = g.bin`;
}

export function postgresBins(sql: Sql<{}>): BinRepo {
  const json = (v: JsonObject) => sql.typed(v, JSON_OID);
  const withCount = () => sql`(SELECT count(*) FROM bin_requests r WHERE r.bin = b.name)::int AS count`;

  async function get(name: string, tx: Sql<{}> | TransactionSql<{}> = sql): Promise<BinRecord | undefined> {
    const [row] = await tx<BinRow[]>`SELECT b.*, ${withCount()} FROM bins b WHERE b.name = ${name}`;
    return row && toBin(row);
  }

  return {
    async capture(name, request, limits: BinLimits) {
      return sql.begin(async (tx) => {
        await lock(tx);
        let [bin] = await tx<{ response: JsonObject | null }[]>`
          UPDATE bins SET used = nextval('bin_use'), total = total + 1, bytes = bytes + ${request.size}, last_request_at = ${request.at}
          WHERE name = ${name} RETURNING response`;
        if (!bin) {
          const [bins] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM bins`;
          if (bins!.n >= limits.maxBins) return undefined;
          [bin] = await tx<{ response: JsonObject | null }[]>`
            INSERT INTO bins (name, created_at, last_request_at, used, total, bytes)
            VALUES (${name}, ${request.at}, ${request.at}, nextval('bin_use'), 1, ${request.size}) RETURNING response`;
        }
        const [kept] = await tx<{ id: number }[]>`INSERT INTO bin_requests (bin, size, request) VALUES (${name}, ${request.size}, ${json(request.request)}) RETURNING id`;
        await keepNewest(tx, name, limits.maxRequests);
        await trimBytes(tx, limits.maxTotalBytes, kept!.id);
        await tx`SELECT pg_notify(${BIN_CHANNEL}, ${name})`;
        return { response: bin!.response };
      });
    },

    async configure(name, response, limits) {
      return sql.begin(async (tx) => {
        await lock(tx);
        await tx`
          INSERT INTO bins (name, created_at, used, response) VALUES (${name}, ${new Date().toISOString()}, nextval('bin_use'), ${json(response)})
          ON CONFLICT (name) DO UPDATE SET used = excluded.used, response = excluded.response`;
        // A bin made with a token may push out the least recently used ones.
        await tx`DELETE FROM bins WHERE name IN (SELECT name FROM bins ORDER BY used DESC OFFSET ${limits.maxBins})`;
        return (await get(name, tx))!;
      });
    },

    get: (name) => get(name),

    async requests(name, after) {
      return sql<BinRequestRecord[]>`SELECT id, request FROM bin_requests WHERE bin = ${name} AND id > ${after} ORDER BY id`;
    },

    async list() {
      return (await sql<BinRow[]>`SELECT b.*, ${withCount()} FROM bins b ORDER BY b.used DESC`).map(toBin);
    },

    async clear(name) {
      return sql.begin(async (tx) => {
        await lock(tx);
        const found = await tx`UPDATE bins SET bytes = 0 WHERE name = ${name} RETURNING name`;
        if (found.count === 0) return false;
        await tx`DELETE FROM bin_requests WHERE bin = ${name}`;
        return true;
      });
    },

    async watch(listener) {
      // postgres.js listens on a connection of its own, and listens again after a reconnect.
      const listening = await sql.listen(BIN_CHANNEL, listener);
      return () => listening.unlisten();
    },
  };
}
