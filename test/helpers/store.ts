// A real SQLite store in a temporary folder, for the tests of the modules that use one
// (inbox, scheduler, outcomes), with a logger that writes nowhere and the records they need.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventFrom, isRefused, type HookwireEvent } from '../../bridge/events/index.ts';
import { createLogger, type Logger } from '../../bridge/log.ts';
import { openSqliteStore, type Store } from '../../bridge/store/index.ts';
import { parseTemplate, type Integration } from '../../bridge/webhooks/index.ts';

export interface TempStore {
  store: Store;
  /** The database file. */
  path: string;
  close(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'hookwire-unit-'));
  const path = join(dir, 'hookwire.db');
  const store = openSqliteStore(path);
  return {
    store,
    path,
    /** Closes the store (if a test has not) and removes its folder. */
    async close() {
      try {
        await store.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export const quietLogger = (): Logger => createLogger({ level: 'silent', pretty: false });

export const DEVICE = 'aaaaaaaaaaaaaaaaaaaaaaaa';

/** An event as a device publishes it. */
export function deviceEvent(name: string, data = '21.5', coreid = DEVICE): HookwireEvent {
  const event = eventFrom(name, Buffer.from(data), { coreid, productId: null, firmwareVersion: null }, 'device');
  if (isRefused(event)) throw new Error(`${name}: ${event.code}`);
  return event;
}

let n = 0;

/** An integration from a template (Particle's fields), stored so its status can be written. */
export async function storedIntegration(store: Store, template: Record<string, unknown>): Promise<Integration> {
  const now = new Date().toISOString();
  const integration: Integration = { ...parseTemplate(template), id: `int${String(++n).padStart(21, '0')}`, productId: null, createdAt: now, updatedAt: now };
  await store.integrations.create({ id: integration.id, productId: null, template, createdAt: now, updatedAt: now });
  return integration;
}
