// The PostgreSQL schema and its migrations. Each migration runs in its own transaction and is
// recorded in schema_migrations; bridges that start together take turns through an advisory
// lock, and each re-reads what is applied once it holds the lock, so a migration runs once.

import type { Sql } from 'postgres';

/**
 * Times of things (created, heard, published) are timestamptz and come back as ISO-8601
 * text, as the SQLite store returns them; times the engine computes with (due, finished,
 * expiry, stats hours) are ms since the epoch in bigint. JSON columns are `json`, not
 * `jsonb`: a template's keys keep their order, which is the order its body is rendered in.
 */
export const postgresMigrations: string[] = [
  `CREATE TABLE devices (
     id               text PRIMARY KEY,
     name             text UNIQUE,
     product_id       integer,
     firmware_version integer,
     token_hash       text NOT NULL,
     created_at       timestamptz NOT NULL,
     last_heard       timestamptz
   );
   CREATE INDEX devices_product ON devices (product_id);
   CREATE TABLE api_tokens (
     id          text PRIMARY KEY,
     name        text NOT NULL,
     scope       text NOT NULL CHECK (scope IN ('admin', 'read')),
     token_hash  text NOT NULL UNIQUE,
     created_at  timestamptz NOT NULL,
     revoked_at  timestamptz
   );
   CREATE TABLE console_sessions (
     id_hash     text PRIMARY KEY,
     token_id    text NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
     csrf        text NOT NULL,
     created_at  timestamptz NOT NULL,
     expires_at  bigint NOT NULL
   );
   CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
   CREATE TABLE integrations (
     id          text PRIMARY KEY,
     product_id  integer,
     template    json NOT NULL,
     created_at  timestamptz NOT NULL,
     updated_at  timestamptz NOT NULL,
     status      json,
     signing     json
   );
   CREATE TABLE events (
     id           text PRIMARY KEY,
     name         text NOT NULL,
     data         text NOT NULL,
     type         text NOT NULL,
     published_at timestamptz NOT NULL,
     coreid       text NOT NULL,
     product_id   integer,
     fw_version   integer
   );
   -- Retention walks events by age, a slice at a time.
   CREATE INDEX events_published ON events (published_at);
   CREATE TABLE deliveries (
     id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     event_id       text NOT NULL,
     integration_id text NOT NULL,
     host           text NOT NULL,
     status         text NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
     attempts       integer NOT NULL DEFAULT 0,
     -- pending: when it is due; running: when its lease ends and another bridge may take it.
     next_at        bigint NOT NULL,
     created_at     bigint NOT NULL,
     finished_at    bigint,
     last_code      text,
     -- running: the bridge holding it.
     lease_owner    text
   );
   -- One index answers "what may be claimed for this host by now?": due pending deliveries
   -- and running ones whose lease ended. Delivered jobs are deleted, so the table holds only
   -- pending, running and failed ones.
   CREATE INDEX deliveries_due ON deliveries (host, next_at) WHERE status IN ('pending', 'running');
   CREATE INDEX deliveries_failed ON deliveries (integration_id, finished_at) WHERE status = 'failed';
   -- Retention keeps the events a delivery still needs.
   CREATE INDEX deliveries_event ON deliveries (event_id);
   CREATE TABLE delivery_logs (
     id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     integration_id text NOT NULL,
     ok             boolean NOT NULL,
     at             text NOT NULL,
     entry          json NOT NULL   -- secrets already redacted
   );
   CREATE INDEX delivery_logs_integration ON delivery_logs (integration_id, ok, id);
   CREATE TABLE daily_counts (
     integration_id text NOT NULL,
     day            date NOT NULL,  -- UTC
     success        integer NOT NULL DEFAULT 0,
     error          integer NOT NULL DEFAULT 0,
     skipped        integer NOT NULL DEFAULT 0,
     PRIMARY KEY (integration_id, day)
   );
   CREATE TABLE stats_hourly (
     hour           bigint NOT NULL,           -- start of the UTC hour, ms since the epoch
     type           text NOT NULL,             -- outbound | inbound | device
     integration_id text NOT NULL DEFAULT '',  -- '' when the row is not about an integration
     code           text NOT NULL DEFAULT '',  -- '' for successes
     description    text NOT NULL DEFAULT '',
     count          bigint NOT NULL,
     first_at       bigint NOT NULL,           -- ms since the epoch
     last_at        bigint NOT NULL,
     PRIMARY KEY (hour, type, integration_id, code, description)
   );`,
  // Request bins shared by the bridges (postgres-bins.ts): a bin's answer, and its requests.
  `CREATE SEQUENCE bin_use;
   CREATE TABLE bins (
     name             text PRIMARY KEY,
     created_at       timestamptz NOT NULL,
     last_request_at  timestamptz,
     used             bigint NOT NULL,            -- from bin_use: larger is more recently used
     total            bigint NOT NULL DEFAULT 0,  -- captured since made, dropped and cleared ones too
     bytes            bigint NOT NULL DEFAULT 0,  -- the sizes of its requests kept
     response         json                        -- null: the default answer
   );
   CREATE INDEX bins_used ON bins (used);
   CREATE TABLE bin_requests (
     id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     bin      text NOT NULL REFERENCES bins (name) ON DELETE CASCADE,
     size     integer NOT NULL,
     request  json NOT NULL
   );
   CREATE INDEX bin_requests_bin ON bin_requests (bin, id);`,
];

/** The advisory lock bridges take turns on while migrating (any constant; "hookwire" in ASCII). */
const MIGRATION_LOCK = 0x686f6f6b77697265n;

/** Bring the schema up to date; returns the migrations this call applied. */
export async function migratePostgres(sql: Sql<{}>, migrations = postgresMigrations): Promise<number> {
  let applied = 0;
  for (;;) {
    const ran = await sql.begin(async (tx) => {
      // Held until this transaction ends; a bridge starting meanwhile waits here.
      await tx`SELECT pg_advisory_xact_lock(${String(MIGRATION_LOCK)}::bigint)`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
      const [row] = await tx<{ version: number }[]>`SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations`;
      const version = row!.version;
      if (version > migrations.length) {
        throw new Error(`the database's schema is version ${version}, newer than this bridge knows (${migrations.length}): upgrade the bridge`);
      }
      if (version === migrations.length) return false;
      await tx.unsafe(migrations[version]!);
      await tx`INSERT INTO schema_migrations (version) VALUES (${version + 1})`;
      return true;
    });
    if (!ran) return applied;
    applied++;
  }
}
