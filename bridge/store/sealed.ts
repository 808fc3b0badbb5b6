// Secrets at rest. With HOOKWIRE_SECRET_KEY set, an integration's template (its URL, headers,
// auth and bodies: where credentials live) and its signing secrets are sealed with
// AES-256-GCM before they reach the store, and opened when read; a copy of hookwire.db (a
// backup, a stolen disk) then holds no usable credential. The integration's ID is the
// additional data, so a sealed template cannot be moved to another row.
//
// Rotation: set the new key in HOOKWIRE_SECRET_KEY and the old one(s) in
// HOOKWIRE_SECRET_KEY_PREVIOUS; at start every record not sealed with the current key (sealed
// with an old one, or stored in clear before a key was set) is sealed again with it. A store
// with sealed records and no key that opens them refuses to start, saying so.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { IntegrationRecord, IntegrationRepo, JsonObject, Store } from './types.ts';

export interface SecretKeys {
  /** Seals everything written. */
  current: Buffer;
  /** Open what older keys sealed (rotation). */
  previous: Buffer[];
}

/** How a sealed value is stored in a JSON column. */
interface Sealed {
  sealed: 'aes-256-gcm';
  /** Which key: the first 8 hex characters of its SHA-256. */
  key: string;
  iv: string;
  tag: string;
  data: string;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** A key as given: 64 hex characters, or base64 of 32 bytes (openssl rand -base64 32). */
function parseKey(text: string, field: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new ConfigError(`${field} must be 32 bytes: 64 hex characters, or base64 (openssl rand -base64 32)`, field);
  return key;
}

/** The keys from their settings; undefined when no key is set. */
export function parseSecretKeys(current: string | undefined, previous: string | undefined): SecretKeys | undefined {
  if (!current) {
    if (previous) throw new ConfigError('secretKeyPrevious needs secretKey: the previous keys only open what they sealed', 'secretKeyPrevious');
    return undefined;
  }
  return {
    current: parseKey(current, 'secretKey'),
    previous: (previous ?? '').split(',').filter((k) => k.trim()).map((k) => parseKey(k, 'secretKeyPrevious')),
  };
}

function isSealed(value: unknown): value is Sealed {
  return typeof value === 'object' && value !== null && (value as Sealed).sealed === 'aes-256-gcm';
}

export function seal(value: JsonObject, key: Buffer, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
  const data = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
  return { sealed: 'aes-256-gcm', key: keyId(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

function open(value: Sealed, keys: SecretKeys | undefined, aad: string): JsonObject {
  const key = keys && [keys.current, ...keys.previous].find((k) => keyId(k) === value.key);
  if (!key) {
    throw new ConfigError(`the store holds integrations sealed with a key that is not set (key ${value.key}): set HOOKWIRE_SECRET_KEY (or HOOKWIRE_SECRET_KEY_PREVIOUS) to it`, 'secretKey');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(value.iv, 'base64')).setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(value.tag, 'base64'));
  return JSON.parse(Buffer.concat([decipher.update(Buffer.from(value.data, 'base64')), decipher.final()]).toString('utf8')) as JsonObject;
}

function sealRecord(r: IntegrationRecord, key: Buffer): IntegrationRecord {
  return { ...r, template: seal(r.template, key, r.id), signing: r.signing ? seal(r.signing, key, `${r.id}/signing`) : r.signing };
}

function openRecord(r: IntegrationRecord, keys: SecretKeys | undefined): IntegrationRecord {
  const out = { ...r };
  if (isSealed(r.template)) out.template = open(r.template, keys, r.id);
  if (isSealed(r.signing)) out.signing = open(r.signing, keys, `${r.id}/signing`);
  return out;
}

/** Is this record sealed with the current key (nothing to redo)? */
function sealedWith(r: IntegrationRecord, key: Buffer): boolean {
  const id = keyId(key);
  return isSealed(r.template) && r.template.key === id && (!r.signing || (isSealed(r.signing) && r.signing.key === id));
}

/**
 * The store, with integrations sealed on the way in and opened on the way out. Records not
 * sealed with the current key are sealed again now; returns how many were. Throws a
 * ConfigError when a sealed record has no key to open it.
 */
export async function sealIntegrations(store: Store, keys: SecretKeys | undefined): Promise<{ store: Store; resealed: number }> {
  const repo = store.integrations;
  let resealed = 0;
  for (const record of await repo.list()) {
    const plain = openRecord(record, keys); // throws without the key
    if (keys && !sealedWith(record, keys.current)) {
      await repo.update(sealRecord(plain, keys.current));
      resealed++;
    }
  }
  if (!keys) return { store, resealed };
  const sealed: IntegrationRepo = {
    create: (r) => repo.create(sealRecord(r, keys.current)),
    update: (r) => repo.update(sealRecord(r, keys.current)),
    get: async (id) => {
      const r = await repo.get(id);
      return r && openRecord(r, keys);
    },
    list: async () => (await repo.list()).map((r) => openRecord(r, keys)),
    remove: (id) => repo.remove(id),
  };
  return { store: { ...store, integrations: sealed }, resealed };
}
