// The embedded store: SQLite through better-sqlite3. WAL, statements prepared once,
// schema versioned with PRAGMA user_version.

import Database from 'better-sqlite3';
import { ConflictError } from '../errors.ts';
import { startCheckpointer } from './checkpointer.ts';
import { deliveriesMigration, sqliteDeliveries } from './sqlite-deliveries.ts';
import { sqliteStats, statsMigration } from './sqlite-stats.ts';
import type {
  ApiTokenRecord, DevicePatch, DeviceRecord, DeviceRepo, IntegrationRecord, IntegrationRepo, NewApiToken, NewDevice,
  JsonObject, SessionRecord, SessionRepo, Store, TokenRepo,
} from './types.ts';

/** Schema migrations, in order; migration i brings user_version from i to i + 1. */
const migrations: string[] = [
  `CREATE TABLE devices (
     id               TEXT PRIMARY KEY,
     name             TEXT UNIQUE,
     product_id       INTEGER,
     firmware_version INTEGER,
     token_hash       TEXT NOT NULL,
     created_at       TEXT NOT NULL,
     last_heard       TEXT
   );
   CREATE INDEX devices_product ON devices(product_id);
   CREATE TABLE api_tokens (
     id          TEXT PRIMARY KEY,
     name        TEXT NOT NULL,
     scope       TEXT NOT NULL CHECK (scope IN ('admin', 'read')),
     token_hash  TEXT NOT NULL UNIQUE,
     created_at  TEXT NOT NULL,
     revoked_at  TEXT
   );`,
  `CREATE TABLE integrations (
     id          TEXT PRIMARY KEY,
     product_id  INTEGER,
     template    TEXT NOT NULL,  -- the webhook template, JSON
     created_at  TEXT NOT NULL,
     updated_at  TEXT NOT NULL
   );`,
  deliveriesMigration,
  statsMigration,
  `CREATE TABLE console_sessions (
     id_hash     TEXT PRIMARY KEY,
     token_id    TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
     csrf        TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     expires_at  INTEGER NOT NULL
   );
   CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);`,
];

interface DeviceRow {
  id: string;
  name: string | null;
  product_id: number | null;
  firmware_version: number | null;
  token_hash: string;
  created_at: string;
  last_heard: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  scope: 'admin' | 'read';
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

interface SessionRow {
  id_hash: string;
  token_id: string;
  csrf: string;
  created_at: string;
  expires_at: number;
}

interface IntegrationRow {
  id: string;
  product_id: number | null;
  template: string;
  created_at: string;
  updated_at: string;
  status: string | null;
  signing: string | null;
}

const toIntegration = (r: IntegrationRow): IntegrationRecord => ({
  id: r.id,
  productId: r.product_id,
  template: JSON.parse(r.template) as JsonObject,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  status: r.status === null ? null : JSON.parse(r.status),
  signing: r.signing === null ? null : JSON.parse(r.signing),
});

const json = (v: JsonObject | null | undefined) => (v === null || v === undefined ? null : JSON.stringify(v));

const toDevice = (r: DeviceRow): DeviceRecord => ({
  id: r.id,
  name: r.name,
  productId: r.product_id,
  firmwareVersion: r.firmware_version,
  tokenHash: r.token_hash,
  createdAt: r.created_at,
  lastHeard: r.last_heard,
});

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  tokenHash: r.token_hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function nameTaken(err: unknown, name: string | null | undefined): never {
  if (err instanceof Error && 'code' in err && err.code === 'SQLITE_CONSTRAINT_UNIQUE') {
    throw new ConflictError('NAME_TAKEN', `a device named "${name}" already exists`, { field: 'name' });
  }
  throw err;
}

/**
 * How hard a commit is pushed to disk. `normal` (WAL + synchronous=NORMAL): a commit survives
 * a crash of this process (kill -9); a power loss can lose the last moments. `full`: each
 * commit is fsynced, surviving power loss too, at the cost of a disk flush per group commit.
 */
export type StoreSync = 'normal' | 'full';

/** Open (creating if needed) the SQLite store at `path`, or in memory for ':memory:'. */
export function openSqliteStore(path: string, sync: StoreSync = 'normal'): Store {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  // A file's WAL is copied into it on another thread (checkpointer.ts); memory has no WAL.
  const checkpointer = path === ':memory:' || path === '' ? undefined : startCheckpointer(db, path);

  const q = {
    insertDevice: db.prepare<[string, string | null, number | null, number | null, string, string]>(
      'INSERT INTO devices (id, name, product_id, firmware_version, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    device: db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?'),
    deviceByName: db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE name = ?'),
    devices: db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY created_at, id'),
    deleteDevice: db.prepare<[string]>('DELETE FROM devices WHERE id = ?'),
    insertToken: db.prepare<[string, string, string, string, string]>(
      'INSERT INTO api_tokens (id, name, scope, token_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    tokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL'),
    token: db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE id = ?'),
    tokens: db.prepare<[], TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id'),
    revokeToken: db.prepare<[string, string]>('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    insertSession: db.prepare<[string, string, string, string, number]>(
      'INSERT INTO console_sessions (id_hash, token_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
    session: db.prepare<[string, number], SessionRow>(
      'SELECT s.* FROM console_sessions s JOIN api_tokens t ON t.id = s.token_id WHERE s.id_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL'),
    touchSession: db.prepare<[number, string]>('UPDATE console_sessions SET expires_at = ? WHERE id_hash = ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM console_sessions WHERE id_hash = ?'),
    pruneSessions: db.prepare<[number]>('DELETE FROM console_sessions WHERE expires_at <= ?'),
    insertIntegration: db.prepare<[string, number | null, string, string, string, string | null, string | null]>(
      'INSERT INTO integrations (id, product_id, template, created_at, updated_at, status, signing) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    integration: db.prepare<[string], IntegrationRow>('SELECT * FROM integrations WHERE id = ?'),
    integrations: db.prepare<[], IntegrationRow>('SELECT * FROM integrations ORDER BY created_at, id'),
    updateIntegration: db.prepare<[number | null, string, string, string]>(
      'UPDATE integrations SET product_id = ?, template = ?, updated_at = ? WHERE id = ?'),
    updateIntegrationStatus: db.prepare<[string | null, string]>('UPDATE integrations SET status = ? WHERE id = ?'),
    updateIntegrationSigning: db.prepare<[string | null, string]>('UPDATE integrations SET signing = ? WHERE id = ?'),
    deleteIntegration: db.prepare<[string]>('DELETE FROM integrations WHERE id = ?'),
  };
  const deviceColumns: Record<keyof DevicePatch, string> = {
    name: 'name', productId: 'product_id', firmwareVersion: 'firmware_version', tokenHash: 'token_hash', lastHeard: 'last_heard',
  };
  // One prepared UPDATE per set of columns, made on first use.
  const updates = new Map<string, Database.Statement>();

  const devices: DeviceRepo = {
    async create(d: NewDevice) {
      const createdAt = new Date().toISOString();
      try {
        q.insertDevice.run(d.id, d.name, d.productId, d.firmwareVersion, d.tokenHash, createdAt);
      } catch (err) {
        nameTaken(err, d.name);
      }
      return { ...d, createdAt, lastHeard: null };
    },
    async get(id) {
      const row = q.device.get(id);
      return row && toDevice(row);
    },
    async getByName(name) {
      const row = q.deviceByName.get(name);
      return row && toDevice(row);
    },
    async list() {
      return q.devices.all().map(toDevice);
    },
    async update(id, patch) {
      const keys = (Object.keys(patch) as (keyof DevicePatch)[]).filter((k) => patch[k] !== undefined).sort();
      if (keys.length > 0) {
        const sig = keys.join(',');
        let stmt = updates.get(sig);
        if (!stmt) {
          stmt = db.prepare(`UPDATE devices SET ${keys.map((k) => `${deviceColumns[k]} = ?`).join(', ')} WHERE id = ?`);
          updates.set(sig, stmt);
        }
        try {
          stmt.run(...keys.map((k) => patch[k]), id);
        } catch (err) {
          nameTaken(err, patch.name);
        }
      }
      const row = q.device.get(id);
      return row && toDevice(row);
    },
    async remove(id) {
      return q.deleteDevice.run(id).changes > 0;
    },
  };

  const tokens: TokenRepo = {
    async create(t: NewApiToken) {
      const createdAt = new Date().toISOString();
      q.insertToken.run(t.id, t.name, t.scope, t.tokenHash, createdAt);
      return { ...t, createdAt, revokedAt: null };
    },
    async findByHash(hash) {
      const row = q.tokenByHash.get(hash);
      return row && toToken(row);
    },
    async list() {
      return q.tokens.all().map(toToken);
    },
    async revoke(id) {
      return q.revokeToken.run(new Date().toISOString(), id).changes > 0 && q.token.get(id) !== undefined;
    },
  };

  const sessions: SessionRepo = {
    async create(s: SessionRecord) {
      q.insertSession.run(s.idHash, s.tokenId, s.csrf, s.createdAt, s.expiresAt);
    },
    async find(idHash, now) {
      const row = q.session.get(idHash, now);
      const token = row && q.token.get(row.token_id);
      if (!row || !token) return undefined;
      return {
        session: { idHash: row.id_hash, tokenId: row.token_id, csrf: row.csrf, createdAt: row.created_at, expiresAt: row.expires_at },
        token: toToken(token),
      };
    },
    async touch(idHash, expiresAt) {
      q.touchSession.run(expiresAt, idHash);
    },
    async remove(idHash) {
      return q.deleteSession.run(idHash).changes > 0;
    },
    async prune(now) {
      return q.pruneSessions.run(now).changes;
    },
  };

  const updateIntegration = db.transaction((r: IntegrationRecord) => {
    const found = q.updateIntegration.run(r.productId, JSON.stringify(r.template), r.updatedAt, r.id).changes > 0;
    if (found && r.status !== undefined) q.updateIntegrationStatus.run(json(r.status), r.id);
    if (found && r.signing !== undefined) q.updateIntegrationSigning.run(json(r.signing), r.id);
    return found;
  });

  const integrations: IntegrationRepo = {
    async create(r) {
      q.insertIntegration.run(r.id, r.productId, JSON.stringify(r.template), r.createdAt, r.updatedAt, json(r.status), json(r.signing));
    },
    async get(id) {
      const row = q.integration.get(id);
      return row && toIntegration(row);
    },
    async list() {
      return q.integrations.all().map(toIntegration);
    },
    async update(r) {
      return updateIntegration(r);
    },
    async remove(id) {
      return q.deleteIntegration.run(id).changes > 0;
    },
  };

  return {
    backend: 'sqlite',
    devices,
    tokens,
    sessions,
    integrations,
    deliveries: sqliteDeliveries(db),
    stats: sqliteStats(db),
    async close() {
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
