// What every check is given: the integrations to check, what the tracker saw since the bridge
// started, and the durable record (state, counters, logs, daily counts), read lazily and once.

import type { Broker } from '../broker/index.ts';
import type { Store } from '../store/index.ts';
import type { CertificateInfo, Exposure } from '../tls/index.ts';
import type { DeliveryLog, Integration, IntegrationStatus, Webhooks } from '../webhooks/index.ts';
import type { StorageWatch } from './storage.ts';
import type { SeenView } from './tracker.ts';
import type { Finding } from './types.ts';

export interface DoctorOptions {
  /** Probe each enabled target: a DNS lookup and a TCP connect, no HTTP request. Default true. */
  probe: boolean;
  /** Time allowed for the lookup and for the connect, each, ms. Default 2 s. */
  probeTimeoutMs: number;
  /** Targets probed at once. Default 8. */
  probeConcurrency: number;
}

export const doctorDefaults: DoctorOptions = {
  probe: true,
  probeTimeoutMs: 2_000,
  probeConcurrency: 8,
};

export type DoctorWebhooks = Pick<Webhooks, 'list' | 'get' | 'status' | 'logs' | 'daily' | 'failures' | 'sleepingHosts' | 'signing'>;
export type DoctorBroker = Pick<Broker, 'deviceSubscriptions' | 'isDeviceConnected'>;
/** The device records: whether a device ID that failed to log in is registered. */
export type DoctorDevices = Pick<Store['devices'], 'get'>;

/** How the bridge is reachable: its listeners, and the certificate it serves. */
export interface DoctorSecurity {
  exposure: Exposure;
  /** The certificate served now, when TLS is configured. */
  certificate?: (() => CertificateInfo) | undefined;
}

export interface SkippedCounts {
  today: number;
  last30Days: number;
}

export interface CheckContext {
  now: number;
  /** The integrations checked: all of them, or the one asked for. */
  integrations: Integration[];
  /** Every integration (a host, and its sleep, is shared by all the integrations calling it). */
  all: Integration[];
  seen: SeenView;
  options: DoctorOptions;
  status(id: string): IntegrationStatus;
  /** The last 10 successes and 10 errors, newest first. */
  logs(id: string): Promise<DeliveryLog[]>;
  skipped(id: string): Promise<SkippedCounts>;
  /** Failed deliveries kept for replay. */
  failedKept(id: string): Promise<number>;
  /** Hosts asleep now, and until when (ms). */
  sleeping: Map<string, number>;
  /** Each connected device's subscriptions (MQTT filters). */
  subscriptions: Map<string, string[]>;
  isConnected(deviceId: string): boolean;
  /** The target hosts an integration calls: its URL's host, or the hosts its attempts used. */
  hostsOf(i: Integration): string[];
  /** Never called, skipped or dropped: no attempt at all, now or before a restart. */
  neverFired(i: Integration): boolean;
  /** The bridge's listeners and certificate, when the doctor was given them. */
  security: DoctorSecurity | undefined;
  /** Whether a device ID is registered; undefined when the doctor has no device records. */
  deviceRegistered(id: string): Promise<boolean | undefined>;
  /** The data directory and store file as opened, when the doctor was told where they are. */
  storage: StorageWatch | undefined;
  /** Whether an integration signs its requests. */
  signed(id: string): boolean;
}

export type Check = (ctx: CheckContext) => Finding[] | Promise<Finding[]>;

/** The hostname in a URL template, when no tag stands in its authority; undefined otherwise. */
export function staticTarget(url: string): { host: string; port: number } | undefined {
  const m = /^(https?):\/\/([^/?#]*)/i.exec(url);
  if (!m || m[2]!.includes('{{')) return undefined;
  try {
    const u = new URL(`${m[1]!.toLowerCase()}://${m[2]}`);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // IPv6 literals come bracketed
    return { host, port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
  } catch {
    return undefined;
  }
}

function memo<T>(load: (id: string) => Promise<T>): (id: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (id) => {
    let p = cache.get(id);
    if (!p) cache.set(id, (p = load(id)));
    return p;
  };
}

export interface ContextSources {
  webhooks: DoctorWebhooks;
  broker: DoctorBroker;
  seen: SeenView;
  security?: DoctorSecurity | undefined;
  devices?: DoctorDevices | undefined;
  storage?: StorageWatch | undefined;
}

export function checkContext(sources: ContextSources, integrations: Integration[], options: DoctorOptions, now = Date.now()): CheckContext {
  const { webhooks, broker, seen } = sources;
  const all = webhooks.list();
  const today = new Date(now).toISOString().slice(0, 10);
  return {
    now,
    integrations,
    all,
    seen,
    options,
    status: (id) => webhooks.status(id),
    logs: memo((id) => webhooks.logs(id)),
    skipped: memo(async (id) => {
      const days = await webhooks.daily(id, 30);
      return { today: days.find((d) => d.day === today)?.skipped ?? 0, last30Days: days.reduce((n, d) => n + d.skipped, 0) };
    }),
    failedKept: memo(async (id) => (await webhooks.failures(id, { limit: 1 })).total),
    sleeping: new Map(webhooks.sleepingHosts().map((h) => [h.host, h.until])),
    subscriptions: broker.deviceSubscriptions(),
    isConnected: (deviceId) => broker.isDeviceConnected(deviceId),
    hostsOf(i) {
      const fixed = staticTarget(i.url)?.host;
      return fixed ? [fixed] : [...(seen.integration(i.id)?.hosts ?? [])];
    },
    neverFired(i) {
      const s = webhooks.status(i.id);
      return s.totalCalls === 0 && s.totalSkipped === 0 && s.totalDropped === 0 && !seen.integration(i.id)?.attempts;
    },
    security: sources.security,
    deviceRegistered: memo(async (id) => (sources.devices ? (await sources.devices.get(id)) !== undefined : undefined)),
    storage: sources.storage,
    signed: (id) => webhooks.signing(id).enabled,
  };
}

/** Checks walking many integrations let the event loop run (deliveries, MQTT) every so often. */
const BREATHE_EVERY = 10;

export async function breathe(k: number): Promise<void> {
  if (k > 0 && k % BREATHE_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
}

/** How an integration is named in messages: its name and trigger. */
export function label(i: Integration): string {
  return i.name ? `"${i.name}" (event "${i.event}")` : `event "${i.event}"`;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Up to `max` items, then how many more. */
export function some(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

/** `hookwire integrations update` flags of the template fields next steps change. */
const UPDATE_FLAGS: Record<string, string> = {
  event: '--event', url: '--url', deviceID: '--device-id', responseTopic: '--response-topic',
  responseTemplate: '--response-template', unchunked: '--unchunked', requestType: '--request-type',
};

/** A value as a shell word: quoted when it holds anything but plain characters. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * The CLI command that changes template fields, as a next step (it changes only the fields
 * given, as PATCH /v1/integrations/<id> does). null clears a field.
 */
export function updateStep(id: string, fields: Record<string, string | boolean | null>): string {
  const flags = Object.entries(fields).map(([field, value]) => `${UPDATE_FLAGS[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`} ${value === null ? "''" : shellWord(String(value))}`);
  return `hookwire integrations update ${id} ${flags.join(' ')}`;
}
