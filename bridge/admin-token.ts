// The admin API token the bridge makes for its owner on first start, kept in the data dir.

import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret, newSecret } from './ids.ts';
import type { Store } from './store/index.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

export interface AdminToken {
  path: string;
  /** Set when this start made the token (first start, or the file was missing or stale). */
  created?: string;
}

/**
 * Make sure `<dataDir>/admin-token` holds a valid admin token: if the file is missing or its
 * token is not in the store (a new or in-memory store), make one and write it, mode 0600.
 */
export async function ensureAdminToken(store: Store, dataDir: string): Promise<AdminToken> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await readFile(path, 'utf8').then((s) => s.trim(), () => '');
  if (existing && (await store.tokens.findByHash(hashSecret(existing)))?.scope === 'admin') return { path };
  const token = newSecret('hwt_');
  await store.tokens.create({ id: randomUUID(), name: 'admin', scope: 'admin', tokenHash: hashSecret(token) });
  await writeFile(path, token + '\n', { mode: 0o600 });
  return { path, created: token };
}
