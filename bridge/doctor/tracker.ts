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

/** What the checks read: one bridge's tracker, or what several bridges saw, merged (mergeSeen). */
export interface SeenView {
  startedAt: number;
  names(): Iterable<NameSeen>;
  integration(id: string): IntegrationSeen | undefined;
  refusals(): Iterable<RefusalSeen>;
  /** Device IDs refused at login since the start. */
  loginFailures(): Iterable<LoginFailuresSeen>;
}

export interface Tracker extends Observer, SeenView {
  /** Forget integrations that no longer exist. */
  retain(ids: Set<string>): void;
  /** What it holds as plain JSON, for the doctors of other bridges. */
  snapshot(): SeenSnapshot;
}

/** A tracker's figures as JSON: what one bridge tells the others' doctors (bridge/doctor/peers.ts). */
export interface SeenSnapshot {
  startedAt: number;
  names: NameSeen[];
  integrations: [id: string, seen: Omit<IntegrationSeen, 'codes'> & { codes: [code: string, seen: CodeSeen][] }][];
  refusals: RefusalSeen[];
  logins: LoginFailuresSeen[];
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
    snapshot: () => ({
      startedAt,
      // A typed event's decoded value is its JSON text again on the other side (mergeSeen).
      names: [...names.values()].map((n) => ({ ...n, last: { ...n.last, value: undefined } })),
      integrations: [...integrations].map(([id, i]) => [id, { ...i, codes: [...i.codes] }]),
      refusals: [...refused.values()],
      logins: [...logins.values()],
    }),
  };
}

function union<T>(lists: T[][], max: number): T[] {
  const out: T[] = [];
  for (const list of lists) for (const v of list) pushBounded(out, v, max);
  return out;
}

/** The one seen last of several (by `at`), whose text and last values are kept. */
function latest<T>(items: T[], at: (t: T) => number): T {
  return items.reduce((a, b) => (at(b) > at(a) ? b : a));
}

/** Entries of several bridges with the same key, merged by `merge`. */
function byKey<T>(lists: T[][], key: (t: T) => string, merge: (same: T[]) => T): Map<string, T> {
  const groups = new Map<string, T[]>();
  for (const list of lists) for (const t of list) {
    const k = key(t);
    const group = groups.get(k);
    if (group) group.push(t);
    else groups.set(k, [t]);
  }
  return new Map([...groups].map(([k, same]) => [k, same.length === 1 ? same[0]! : merge(same)]));
}

const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((n, t) => n + f(t), 0);
const max = <T>(items: T[], f: (t: T) => number) => Math.max(...items.map(f));
const min = <T>(items: T[], f: (t: T) => number) => Math.min(...items.map(f));

function typedValue(event: HookwireEvent): HookwireEvent {
  if (event.type !== 'typed' || event.value !== undefined) return event;
  try {
    return { ...event, value: JSON.parse(event.data) };
  } catch {
    return event;
  }
}

/**
 * What several bridges saw, as one bridge's tracker would have seen it had every event,
 * attempt and refusal passed through it: counts add up, first and last times widen, lists
 * join (within the same bounds), texts and the last event come from the latest one.
 */
export function mergeSeen(snapshots: SeenSnapshot[], options: Partial<TrackerOptions> = {}): SeenView {
  const o = { ...trackerDefaults, ...options };
  const names = byKey(snapshots.map((s) => s.names), (n) => n.name, (same) => ({
    name: same[0]!.name,
    count: sum(same, (n) => n.count),
    firstSeen: min(same, (n) => n.firstSeen),
    lastSeen: max(same, (n) => n.lastSeen),
    devices: union(same.map((n) => n.devices), o.devicesPerName),
    productIds: union(same.map((n) => n.productIds), o.productsPerName),
    last: latest(same, (n) => n.lastSeen).last,
  }));
  for (const n of names.values()) n.last = typedValue(n.last);
  const integrations = byKey(snapshots.map((s) => s.integrations), ([id]) => id, (same) => {
    const all = same.map(([, i]) => i);
    const discardedNote = all.filter((i) => i.replies.discardedNote).map((i) => i.replies.discardedNote).at(-1) ?? '';
    return [same[0]![0], {
      attempts: sum(all, (i) => i.attempts),
      successes: sum(all, (i) => i.successes),
      failures: sum(all, (i) => i.failures),
      skipped: sum(all, (i) => i.skipped),
      stopped: sum(all, (i) => i.stopped),
      lastAttemptAt: max(all, (i) => i.lastAttemptAt),
      codes: all.flatMap((i) => i.codes),
      hosts: union(all.map((i) => i.hosts), o.hostsPerIntegration),
      replies: {
        answered: sum(all, (i) => i.replies.answered),
        overParts: sum(all, (i) => i.replies.overParts),
        maxParts: max(all, (i) => i.replies.maxParts),
        maxBytes: max(all, (i) => i.replies.maxBytes),
        totalParts: sum(all, (i) => i.replies.totalParts),
        discarded: sum(all, (i) => i.replies.discarded),
        discardedMaxBytes: max(all, (i) => i.replies.discardedMaxBytes),
        discardedNote,
      },
    }] as SeenSnapshot['integrations'][number];
  });
  const integrationSeen = new Map([...integrations.values()].map(([id, i]) => {
    const codes = byKey([i.codes], ([code]) => code, (same) => {
      const last = latest(same, ([, c]) => c.lastAt)[1];
      return [same[0]![0], { count: sum(same, ([, c]) => c.count), lastAt: last.lastAt, message: last.message }] as [string, CodeSeen];
    });
    return [id, { ...i, codes: new Map([...codes.values()]) }];
  }));
  const refusals = byKey(snapshots.map((s) => s.refusals), (r) => `${r.code} ${r.name}`, (same) => {
    const last = latest(same, (r) => r.lastAt);
    return { ...last, count: sum(same, (r) => r.count), devices: union(same.map((r) => r.devices), o.devicesPerName) };
  });
  const logins = byKey(snapshots.map((s) => s.logins), (f) => f.deviceId, (same) => {
    const last = latest(same, (f) => f.lastAt);
    const refused = same.filter((f) => f.failures > 0);
    const loggedIn = same.map((f) => f.loggedInAt).filter((t): t is number => t !== undefined);
    return {
      deviceId: last.deviceId,
      failures: sum(same, (f) => f.failures),
      limited: sum(same, (f) => f.limited),
      firstAt: min(same, (f) => f.firstAt),
      lastAt: last.lastAt,
      reason: refused.length ? latest(refused, (f) => f.lastAt).reason : last.reason,
      lastRemote: last.lastRemote ?? latest(same, (f) => (f.lastRemote ? f.lastAt : 0)).lastRemote,
      loggedInAt: loggedIn.length ? Math.max(...loggedIn) : undefined,
      remotes: union([last.remotes, ...same.map((f) => f.remotes)], o.devicesPerName),
    };
  });
  return {
    // Since the first of them started: what each saw since then is all there is to see.
    startedAt: snapshots.length ? min(snapshots, (s) => s.startedAt) : Date.now(),
    names: () => names.values(),
    integration: (id) => integrationSeen.get(id),
    refusals: () => refusals.values(),
    loginFailures: () => logins.values(),
  };
}
