// The shared store: PostgreSQL through postgres.js, for several bridges acting as one
// (HOOKWIRE_STORE=postgres://…). Same records as the SQLite store, so both pass one
// conformance suite; deliveries are claimed with leases so each attempt runs on one bridge
// (postgres-deliveries.ts). Statements are prepared by the driver on first use per
// connection; batches go as arrays (unnest), so a batch of any size is one statement.

import { randomUUID } from 'node:crypto';
import postgres, { type Sql } from 'postgres';
import { ConflictError, HookwireError } from '../errors.ts';
import { postgresBins } from './postgres-bins.ts';
import { postgresDeliveries } from './postgres-deliveries.ts';
import { migratePostgres } from './postgres-schema.ts';
import { postgresStats } from './postgres-stats.ts';
import type {
  ApiTokenRecord, DevicePatch, DeviceRecord, DeviceRepo, IntegrationRecord, IntegrationRepo, JsonObject, NewApiToken, NewDevice,
  SessionRecord, SessionRepo, Store, TokenRepo,
} from './types.ts';

export interface PostgresStoreOptions {
  /**
   * Who holds the deliveries this store claims, unique among the bridges sharing the
   * database and, ideally, the same across restarts of one bridge (it then takes back its
   * own claims at once instead of after their lease). Default: random per process.
   */
  owner?: string;
  /** How long a claim holds without being renewed, ms; a stopped bridge's claims go to others after it. Default 60 s. */
  leaseMs?: number;
  /** Connections in the pool. Default 10. */
  maxConnections?: number;
  /** Called when renewing leases fails (it is retried at the next renewal). Default: ignored. */
  onError?: (err: unknown) => void;
}

export const postgresDefaults = {
  leaseMs: 60_000, // 60 s
  maxConnections: 10,
};

/** Is this HOOKWIRE_STORE value a PostgreSQL URL (rather than a SQLite file)? */
export function isPostgresUrl(location: string | undefined): location is string {
  return location !== undefined && /^postgres(ql)?:\/\//i.test(location);
}

/** The URL without its password, for logs and messages. */
export function postgresLabel(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The driver, with bigint (ids, ms times, counts) read as numbers: every value the store keeps fits in 2^53. */
export function connectPostgres(url: string, max = postgresDefaults.maxConnections): Sql<{}> {
  return postgres(url, {
    max,
    connect_timeout: 10, // s
    onnotice: () => {}, // "already exists, skipping" and the like
    connection: { application_name: 'hookwire' },
    transform: { undefined: null },
    types: {
      bigint: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (text: string) => Number(text) },
    },
  }) as unknown as Sql<{}>;
}

interface DeviceRow {
  id: string;
  name: string | null;
  product_id: number | null;
  firmware_version: number | null;
  token_hash: string;
  created_at: Date;
  last_heard: Date | null;
}

interface TokenRow {
  id: string;
  name: string;
  scope: 'admin' | 'read';
  token_hash: string;
  created_at: Date;
  revoked_at: Date | null;
}

interface IntegrationRow {
  id: string;
  product_id: number | null;
  template: JsonObject;
  created_at: Date;
  updated_at: Date;
  status: JsonObject | null;
  signing: JsonObject | null;
}

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d === null ? null : d.toISOString());

const toDevice = (r: DeviceRow): DeviceRecord => ({
  id: r.id,
  name: r.name,
  productId: r.product_id,
  firmwareVersion: r.firmware_version,
  tokenHash: r.token_hash,
  createdAt: iso(r.created_at),
  lastHeard: isoOrNull(r.last_heard),
});

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  tokenHash: r.token_hash,
  createdAt: iso(r.created_at),
  revokedAt: isoOrNull(r.revoked_at),
});

const toIntegration = (r: IntegrationRow): IntegrationRecord => ({
  id: r.id,
  productId: r.product_id,
  template: r.template,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  status: r.status,
  signing: r.signing,
});

/** The OID of PostgreSQL's json type: such a parameter is sent as JSON.stringify writes it, keys in order. */
export const JSON_OID = 114;

function nameTaken(err: unknown, name: string | null | undefined): never {
  if (err instanceof postgres.PostgresError && err.code === '23505' && err.constraint_name === 'devices_name_key') {
    throw new ConflictError('NAME_TAKEN', `a device named "${name}" already exists`, { field: 'name' });
  }
  throw err;
}

const deviceColumns: Record<keyof DevicePatch, string> = {
  name: 'name', productId: 'product_id', firmwareVersion: 'firmware_version', tokenHash: 'token_hash', lastHeard: 'last_heard',
};

/**
 * Open the store at `url` (postgres:// or postgresql://), migrating its schema first. Throws
 * a HookwireError CONFIG_INVALID naming the setting when the database cannot be reached.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const sql = connectPostgres(url, options.maxConnections);
  try {
    await migratePostgres(sql);
  } catch (err) {
    await sql.end({ timeout: 0 });
    if (err instanceof postgres.PostgresError) throw err; // the database answered: its own message says more
    throw new HookwireError('CONFIG_INVALID', `cannot reach PostgreSQL at ${postgresLabel(url)} (storePath, HOOKWIRE_STORE): ${(err as Error).message}`,
      { field: 'storePath', cause: err });
  }

  const jsonParam = (v: JsonObject | null | undefined) => sql.typed(v ?? null, JSON_OID);

  const devices: DeviceRepo = {
    async create(d: NewDevice) {
      try {
        const [row] = await sql<DeviceRow[]>`
          INSERT INTO devices (id, name, product_id, firmware_version, token_hash, created_at)
          VALUES (${d.id}, ${d.name}, ${d.productId}, ${d.firmwareVersion}, ${d.tokenHash}, ${new Date().toISOString()}) RETURNING *`;
        return toDevice(row!);
      } catch (err) {
        nameTaken(err, d.name);
      }
    },
    async get(id) {
      const [row] = await sql<DeviceRow[]>`SELECT * FROM devices WHERE id = ${id}`;
      return row && toDevice(row);
    },
    async getByName(name) {
      const [row] = await sql<DeviceRow[]>`SELECT * FROM devices WHERE name = ${name}`;
      return row && toDevice(row);
    },
    async list() {
      return (await sql<DeviceRow[]>`SELECT * FROM devices ORDER BY created_at, id`).map(toDevice);
    },
    async update(id, patch) {
      const keys = (Object.keys(patch) as (keyof DevicePatch)[]).filter((k) => patch[k] !== undefined).sort();
      if (keys.length === 0) return this.get(id);
      const values = Object.fromEntries(keys.map((k) => [deviceColumns[k], patch[k] ?? null]));
      try {
        const [row] = await sql<DeviceRow[]>`UPDATE devices SET ${sql(values)} WHERE id = ${id} RETURNING *`;
        return row && toDevice(row);
      } catch (err) {
        nameTaken(err, patch.name);
      }
    },
    async remove(id) {
      return (await sql`DELETE FROM devices WHERE id = ${id}`).count > 0;
    },
  };

  const tokens: TokenRepo = {
    async create(t: NewApiToken) {
      const [row] = await sql<TokenRow[]>`
        INSERT INTO api_tokens (id, name, scope, token_hash, created_at)
        VALUES (${t.id}, ${t.name}, ${t.scope}, ${t.tokenHash}, ${new Date().toISOString()}) RETURNING *`;
      return toToken(row!);
    },
    async findByHash(hash) {
      const [row] = await sql<TokenRow[]>`SELECT * FROM api_tokens WHERE token_hash = ${hash} AND revoked_at IS NULL`;
      return row && toToken(row);
    },
    async list() {
      return (await sql<TokenRow[]>`SELECT * FROM api_tokens ORDER BY created_at, id`).map(toToken);
    },
    async revoke(id) {
      return (await sql`UPDATE api_tokens SET revoked_at = ${new Date().toISOString()} WHERE id = ${id} AND revoked_at IS NULL`).count > 0;
    },
  };

  const sessions: SessionRepo = {
    async create(s: SessionRecord) {
      await sql`INSERT INTO console_sessions (id_hash, token_id, csrf, created_at, expires_at)
                VALUES (${s.idHash}, ${s.tokenId}, ${s.csrf}, ${s.createdAt}, ${s.expiresAt})`;
    },
    async find(idHash, now) {
      const [row] = await sql<(TokenRow & { id_hash: string; csrf: string; session_created_at: Date; expires_at: number })[]>`
        SELECT t.*, s.id_hash, s.csrf, s.created_at AS session_created_at, s.expires_at
        FROM console_sessions s JOIN api_tokens t ON t.id = s.token_id
        WHERE s.id_hash = ${idHash} AND s.expires_at > ${now} AND t.revoked_at IS NULL`;
      if (!row) return undefined;
      return {
        session: { idHash: row.id_hash, tokenId: row.id, csrf: row.csrf, createdAt: iso(row.session_created_at), expiresAt: row.expires_at },
        token: toToken(row),
      };
    },
    async touch(idHash, expiresAt) {
      await sql`UPDATE console_sessions SET expires_at = ${expiresAt} WHERE id_hash = ${idHash}`;
    },
    async remove(idHash) {
      return (await sql`DELETE FROM console_sessions WHERE id_hash = ${idHash}`).count > 0;
    },
    async prune(now) {
      return (await sql`DELETE FROM console_sessions WHERE expires_at <= ${now}`).count;
    },
  };

  const integrations: IntegrationRepo = {
    async create(r) {
      await sql`INSERT INTO integrations (id, product_id, template, created_at, updated_at, status, signing)
                VALUES (${r.id}, ${r.productId}, ${jsonParam(r.template)}, ${r.createdAt}, ${r.updatedAt}, ${jsonParam(r.status)}, ${jsonParam(r.signing)})`;
    },
    async get(id) {
      const [row] = await sql<IntegrationRow[]>`SELECT * FROM integrations WHERE id = ${id}`;
      return row && toIntegration(row);
    },
    async list() {
      return (await sql<IntegrationRow[]>`SELECT * FROM integrations ORDER BY created_at, id`).map(toIntegration);
    },
    async update(r) {
      // One statement: status and signing change only when given.
      const result = await sql`
        UPDATE integrations SET product_id = ${r.productId}, template = ${jsonParam(r.template)}, updated_at = ${r.updatedAt},
          status = CASE WHEN ${r.status !== undefined} THEN ${jsonParam(r.status)}::json ELSE status END,
          signing = CASE WHEN ${r.signing !== undefined} THEN ${jsonParam(r.signing)}::json ELSE signing END
        WHERE id = ${r.id}`;
      return result.count > 0;
    },
    async remove(id) {
      return (await sql`DELETE FROM integrations WHERE id = ${id}`).count > 0;
    },
  };

  const deliveries = postgresDeliveries(sql, {
    owner: options.owner ?? randomUUID(),
    leaseMs: options.leaseMs ?? postgresDefaults.leaseMs,
    onError: options.onError ?? (() => {}),
  });

  let closing: Promise<void> | undefined;
  return {
    backend: 'postgres',
    devices,
    tokens,
    sessions,
    integrations,
    deliveries,
    stats: postgresStats(sql),
    bins: postgresBins(sql),
    close() {
      closing ??= (async () => {
        await deliveries.release().catch(() => {}); // what a lease renewal would have kept; others take it at once
        await sql.end({ timeout: 5 });
      })();
      return closing;
    },
  };
}
