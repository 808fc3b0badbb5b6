// Simulated devices are ordinary registered devices. Their credentials are kept between
// runs, so running the simulator again reuses the same devices instead of filling the
// registry with new ones.
//
// For each name: stored credentials whose device still exists are reused; a device that
// exists by name but whose token we do not know gets a new token; otherwise it is created.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApiError, apiClient, type ApiClient } from '../bridge/client/index.ts';
import { runPool } from './pool.ts';

export interface Credentials {
  id: string;
  token: string;
}

/** Where a device's credentials came from on this run. */
export type Origin = 'stored' | 'rotated' | 'created';

export interface SimDeviceCredentials extends Credentials {
  name: string;
  origin: Origin;
}

/** The credentials file: API base URL → device name → credentials. */
type CredentialsFile = Record<string, Record<string, Credentials>>;

/** `<dataDir>/simulator/devices.json`. */
export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'simulator', 'devices.json');
}

/**
 * `<prefix>-0001`, `<prefix>-0002`, ... Always at least four digits, so a name means the
 * same device whatever the fleet size of the run.
 */
export function deviceNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(4, '0')}`);
}

export interface RegistryOptions {
  apiUrl: string;
  /** API token (admin). */
  token: string;
  /** Holds `simulator/devices.json`. */
  dataDir: string;
  /** PEM file of the CA that signed the bridge's certificate (HOOKWIRE_CA), when Node's trusted roots did not. */
  ca?: string | undefined;
}

export interface EnsureOptions {
  concurrency: number;
  signal?: AbortSignal;
  /** Called as each device is ready. */
  onReady?: (device: SimDeviceCredentials) => void;
}

export interface Registry {
  /** The credentials file. */
  path: string;
  /**
   * Reuse, rotate or create the named devices, in order. Stops early when `signal` aborts
   * (returning the devices made ready so far); the file is saved either way.
   */
  ensure(names: readonly string[], options: EnsureOptions): Promise<SimDeviceCredentials[]>;
  /** A new token for a device whose stored token the broker refused (rotated elsewhere). */
  rotate(device: SimDeviceCredentials): Promise<SimDeviceCredentials>;
  /** Write the credentials file if anything changed. */
  save(): Promise<void>;
}

async function readCredentials(path: string): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    return JSON.parse(text) as CredentialsFile;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); delete it and the simulator will take new tokens for its devices`);
  }
}

export async function openRegistry(options: RegistryOptions): Promise<Registry> {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const api: ApiClient = apiClient({ HOOKWIRE_URL: apiUrl, HOOKWIRE_TOKEN: options.token, ...(options.ca ? { HOOKWIRE_CA: options.ca } : {}) });
  const path = credentialsPath(options.dataDir);
  const known = (await readCredentials(path))[apiUrl] ?? {};
  const changed: Record<string, Credentials> = {};

  /** The device with this ID or name, or undefined when the bridge has none. */
  async function lookup(idOrName: string): Promise<{ id: string; name: string | null } | undefined> {
    try {
      return await api.request('GET', `/v1/devices/${encodeURIComponent(idOrName)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  function remember(name: string, creds: Credentials, origin: Origin): SimDeviceCredentials {
    known[name] = changed[name] = { id: creds.id, token: creds.token };
    return { name, id: creds.id, token: creds.token, origin };
  }

  async function newToken(idOrName: string): Promise<Credentials> {
    return api.request<Credentials>('POST', `/v1/devices/${encodeURIComponent(idOrName)}/token`);
  }

  async function obtain(name: string): Promise<SimDeviceCredentials> {
    const stored = known[name];
    // The same ID *and* name: a device renamed since is no longer ours to drive.
    if (stored && (await lookup(stored.id))?.name === name) return { name, ...stored, origin: 'stored' };
    const existing = await lookup(name);
    if (existing) return remember(name, await newToken(existing.id), 'rotated');
    return remember(name, await api.request<Credentials>('POST', '/v1/devices', { name }), 'created');
  }

  async function save(): Promise<void> {
    if (Object.keys(changed).length === 0) return;
    // Merge into what is on disk now: another run may have saved other devices meanwhile.
    const file = await readCredentials(path).catch((): CredentialsFile => ({}));
    file[apiUrl] = { ...file[apiUrl], ...changed };
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Write then rename, so an interrupted write never leaves a truncated file behind.
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, path);
    for (const name of Object.keys(changed)) delete changed[name];
  }

  return {
    path,
    async ensure(names, { concurrency, signal, onReady }) {
      const ready: (SimDeviceCredentials | undefined)[] = new Array(names.length);
      try {
        await runPool(names, concurrency, async (name, i) => {
          ready[i] = await obtain(name);
          onReady?.(ready[i]!);
        }, signal);
      } finally {
        await save();
      }
      return ready.filter((d) => d !== undefined);
    },
    async rotate(device) {
      return remember(device.name, await newToken(device.id), 'rotated');
    },
    save,
  };
}
