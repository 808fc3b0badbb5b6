// What the doctor watches while the bridge runs, in memory and bounded: which event names
// were published recently (by whom, from which products, the last one of each), what each
// integration's attempts showed (errors by code, skipped, response sizes in parts), and
// which publishes the broker or the API refused, and which devices failed to log in. The hot
// path only bumps counters in Maps; the doctor reads and judges the figures when asked.

import { isDeviceId, isReservedName } from '../../firmware-sdk/rules.ts';
import type { HookwireEvent, Inbound, BrokerRefusal } from '../events/index.ts';
import type { Observer } from '../observers.ts';
import { PART_BYTES, splitParts, type AttemptRecord } from '../webhooks/index.ts';

export interface TrackerOptions {
  /** Distinct event names remembered. Default 500. */
  maxNames: number;
  /** Publishing devices remembered per name. Default 20. */
  devicesPerName: number;
  /** Product IDs remembered per name. Default 20. */
  productsPerName: number;
  /** Target hosts remembered per integration (templated URLs may have several). Default 5. */
  hostsPerIntegration: number;
  /** Distinct refused (code, event name) pairs remembered. Default 100. */
  maxRefusals: number;
  /** Error codes remembered per integration. Default 20. */
  codesPerIntegration: number;
  /** Device IDs whose failed logins are remembered. Default 100. */
  maxLoginFailures: number;
}

export const trackerDefaults: TrackerOptions = {
  maxNames: 500,
  devicesPerName: 20,
  productsPerName: 20,
  hostsPerIntegration: 5,
  maxRefusals: 100,
  codesPerIntegration: 20,
  maxLoginFailures: 100,
};

/** Particle advises keeping responses to at most this many 512-byte parts (data operations). */
export const ADVISED_MAX_PARTS = 10;

/** An event name as published recently. */
export interface NameSeen {
  name: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** Publishers: device IDs, or `api` / `hookwire` for cloud publishes (up to devicesPerName). */
  devices: string[];
  productIds: (number | null)[];
  /** The most recent event of this name, for rendering templates. */
  last: HookwireEvent;
}

export interface CodeSeen {
  count: number;
  lastAt: number;
  message: string;
}

/** What the replies an integration sent back looked like. */
export interface RepliesSeen {
  /** Successes whose body reached (or would reach) the device: non-empty. */
  answered: number;
  /** Chunked replies over ADVISED_MAX_PARTS parts. */
  overParts: number;
  maxParts: number;
  maxBytes: number;
  /** Parts published in all (each one a data operation). */
  totalParts: number;
  /** Unchunked responses discarded for being over the device limit. */
  discarded: number;
  /** The largest discarded response body, bytes. */
  discardedMaxBytes: number;
  /** The pipeline's note on the last one (it names the bytes after any responseTemplate). */
  discardedNote: string;
}

export interface IntegrationSeen {
  attempts: number;
  successes: number;
  failures: number;
  skipped: number;
  stopped: number;
  lastAttemptAt: number;
  /** Failures by code (an HTTP status, ECONNREFUSED, TEMPLATE_INVALID, ...). */
  codes: Map<string, CodeSeen>;
  hosts: string[];
  replies: RepliesSeen;
}

export interface RefusalSeen {
  code: string;
  /** The event name refused. */
  name: string;
  message: string;
  count: number;
  lastAt: number;
  devices: string[];
}

/** MQTT logins refused for one device ID. */
export interface LoginFailuresSeen {
  deviceId: string;
  /** Refused for its credentials (AUTH_FAILED: an unknown device, a wrong or missing token). */
  failures: number;
  /** Refused because its address was over the failed-login limit (LOGIN_LIMITED). */
  limited: number;
  firstAt: number;
  lastAt: number;
  /** The broker's reason for the last one. */
  reason: string;
  /** The address of the last one, when the broker gives it. */
  lastRemote: string | undefined;
  /** When the device last logged in (with its right token), since these failures began. */
  loggedInAt?: number | undefined;
  /** Addresses seen (up to devicesPerName). */
  remotes: string[];
}


/** Login refusals the doctor reports per device. */
const LOGIN_REFUSALS = new Set(['AUTH_FAILED', 'LOGIN_LIMITED']);

export interface Tracker extends Observer {
  startedAt: number;
  names(): Iterable<NameSeen>;
  integration(id: string): IntegrationSeen | undefined;
  refusals(): Iterable<RefusalSeen>;
  /** Device IDs refused at login since the start. */
  loginFailures(): Iterable<LoginFailuresSeen>;
  /** Forget integrations that no longer exist. */
  retain(ids: Set<string>): void;
}

/** Codes of publishes refused for the event itself (not for a connection or a subscription). */
const PUBLISH_REFUSALS = new Set(['EVENT_NAME_INVALID', 'EVENT_NAME_RESERVED', 'EVENT_PRIVATE_SPACE', 'EVENT_TOO_LARGE', 'EVENT_DATA_INVALID']);

function pushBounded<T>(list: T[], value: T, max: number): void {
  if (list.length < max && !list.includes(value)) list.push(value);
}

/** Make room in a full map: drop the least recently seen tenth, so eviction is rare. */
function evictOldest<V extends { lastSeen?: number; lastAt?: number }>(map: Map<string, V>): void {
  const byAge = [...map.entries()].sort((a, b) => (a[1].lastSeen ?? a[1].lastAt ?? 0) - (b[1].lastSeen ?? b[1].lastAt ?? 0));
  const drop = Math.max(1, Math.floor(map.size / 10));
  for (let i = 0; i < drop; i++) map.delete(byAge[i]![0]);
}

function newIntegrationSeen(): IntegrationSeen {
  return {
    attempts: 0, successes: 0, failures: 0, skipped: 0, stopped: 0, lastAttemptAt: 0, codes: new Map(), hosts: [],
    replies: { answered: 0, overParts: 0, maxParts: 0, maxBytes: 0, totalParts: 0, discarded: 0, discardedMaxBytes: 0, discardedNote: '' },
  };
}

/** Parts a chunked reply is published in; exact (UTF-8 boundaries) only near the advised limit. */
export function partsOf(data: Buffer, whole: boolean): number {
  if (whole || data.length === 0) return 1;
  const estimate = Math.ceil(data.length / PART_BYTES);
  return estimate < ADVISED_MAX_PARTS - 1 ? estimate : splitParts(data).length;
}

export function createTracker(options: Partial<TrackerOptions> = {}): Tracker {
  const o = { ...trackerDefaults, ...options };
  const startedAt = Date.now();
  const names = new Map<string, NameSeen>();
  const integrations = new Map<string, IntegrationSeen>();
  const refused = new Map<string, RefusalSeen>();
  const logins = new Map<string, LoginFailuresSeen>();

  function onEvent(event: HookwireEvent): void {
    // The cloud's own events (hook-*, state events) say nothing about what devices publish.
    if (isReservedName(event.name)) return;
    const now = Date.now();
    const seen = names.get(event.name);
    if (seen) {
      seen.count++;
      seen.lastSeen = now;
      seen.last = event;
      pushBounded(seen.devices, event.coreid, o.devicesPerName);
      pushBounded(seen.productIds, event.product_id, o.productsPerName);
      return;
    }
    if (names.size >= o.maxNames) evictOldest(names);
    names.set(event.name, { name: event.name, count: 1, firstSeen: now, lastSeen: now, devices: [event.coreid], productIds: [event.product_id], last: event });
  }

  function refusal(code: string, name: string, message: string, from: string): void {
    const key = `${code} ${name}`;
    const seen = refused.get(key);
    if (seen) {
      seen.count++;
      seen.lastAt = Date.now();
      pushBounded(seen.devices, from, o.devicesPerName);
      return;
    }
    if (refused.size >= o.maxRefusals) evictOldest(refused);
    refused.set(key, { code, name, message, count: 1, lastAt: Date.now(), devices: [from] });
  }

  /** A device ID refused at login: counted per ID, with when and from where. */
  function loginRefused(r: BrokerRefusal): void {
    const now = Date.now();
    let seen = logins.get(r.clientId);
    if (!seen) {
      if (logins.size >= o.maxLoginFailures) evictOldest(logins);
      logins.set(r.clientId, (seen = { deviceId: r.clientId, failures: 0, limited: 0, firstAt: now, lastAt: now, reason: '', lastRemote: undefined, remotes: [] }));
    }
    if (r.code === 'LOGIN_LIMITED') seen.limited++;
    else {
      seen.failures++;
      seen.reason = r.message;
    }
    seen.lastAt = now;
    if (r.remote) {
      seen.lastRemote = r.remote;
      pushBounded(seen.remotes, r.remote, o.devicesPerName);
    }
  }

  const onRefused = (r: BrokerRefusal) => {
    if (r.topic && PUBLISH_REFUSALS.has(r.code)) refusal(r.code, r.topic, r.message, r.clientId);
    // Only device IDs: a client that is no device (a scanner, a service client) says nothing of the fleet.
    else if (LOGIN_REFUSALS.has(r.code) && isDeviceId(r.clientId)) loginRefused(r);
  };
  const onInbound = (i: Inbound) => {
    if (!i.ok && i.name && i.code) refusal(i.code, i.name, i.message ?? '', 'api');
  };

  function onAttempt(result: AttemptRecord): void {
    const job = result.job;
    let s = integrations.get(job.integrationId);
    if (!s) integrations.set(job.integrationId, (s = newIntegrationSeen()));
    const now = Date.now();
    s.attempts++;
    s.lastAttemptAt = now;
    if (job.host) pushBounded(s.hosts, job.host, o.hostsPerIntegration);
    switch (result.kind) {
      case 'skipped':
        s.skipped++;
        return;
      case 'stopped':
        s.stopped++;
        return;
      case 'failure': {
        s.failures++;
        const code = result.failure?.code ?? 'EREQUEST';
        const c = s.codes.get(code);
        if (c) {
          c.count++;
          c.lastAt = now;
          c.message = result.failure?.message ?? '';
        } else if (s.codes.size < o.codesPerIntegration) {
          s.codes.set(code, { count: 1, lastAt: now, message: result.failure?.message ?? '' });
        }
        return;
      }
      case 'success': {
        s.successes++;
        const r = s.replies;
        if (result.reply) {
          const parts = partsOf(result.reply.data, result.reply.whole);
          r.answered++;
          r.totalParts += parts;
          if (parts > r.maxParts) r.maxParts = parts;
          if (result.reply.data.length > r.maxBytes) r.maxBytes = result.reply.data.length;
          if (parts > ADVISED_MAX_PARTS) r.overParts++;
        } else if (result.note) {
          // classify's only note on a success: an unchunked response over the device limit, discarded.
          r.discarded++;
          r.discardedNote = result.note;
          const bytes = result.response?.body.length ?? 0;
          if (bytes > r.discardedMaxBytes) r.discardedMaxBytes = bytes;
        }
      }
    }
  }

  return {
    attempt: onAttempt,
    event: onEvent,
    refused: onRefused,
    inbound: onInbound,
    online(deviceId) {
      const seen = logins.get(deviceId);
      if (seen) seen.loggedInAt = Date.now();
    },
    startedAt,
    names: () => names.values(),
    integration: (id) => integrations.get(id),
    refusals: () => refused.values(),
    loginFailures: () => logins.values(),
    retain(ids) {
      for (const id of integrations.keys()) if (!ids.has(id)) integrations.delete(id);
    },
  };
}
