// The doctor: runs the checks the troubleshooting guides teach people to do by hand (seeds
// 000, 002, 004; PARTICLE.md §4) and answers each with a finding and a next step. Its tracker
// (tracker.ts, an Observer attached where the bridge starts) watches the bus and the webhook
// engine from the start; the doctor reads it and the durable record when asked. Each check is one small named step over the same context; a check that throws
// becomes a CHECK_FAILED finding, never a failed request.

import type { Logger } from '../log.ts';
import { certificateExpiry, insecureListeners } from './checks/listeners.ts';
import { deviceLogins } from './checks/logins.ts';
import { storeInPlace } from './checks/storage.ts';
import { disabledIntegrations, errorsByCode, sleepingHosts, tooManyErrors } from './checks/state.ts';
import { responseSizes, responseSubscriptions } from './checks/responses.ts';
import { targetsReachable } from './checks/targets.ts';
import { signedGetQuery } from './checks/signed-get.ts';
import { templatesRenderJson } from './checks/templates.ts';
import { whyNeverFired } from './checks/names.ts';
import { checkContext, doctorDefaults, iso, type Check, type DoctorBroker, type DoctorDevices, type DoctorOptions, type DoctorSecurity, type DoctorWebhooks } from './context.ts';
import { watchStorage, type DoctorStorage, type StorageProblem } from './storage.ts';
import { redactText } from '../redact.ts';
import type { DoctorPeers, Observations } from './peers.ts';
import { createTracker, mergeSeen, type SeenView, type Tracker, type TrackerOptions } from './tracker.ts';
import { CHECK_CODES, SEVERITY_ORDER, needsAttention, type DoctorReport, type Finding } from './types.ts';

export { doctorDefaults, type DoctorDevices, type DoctorOptions } from './context.ts';
export type { DoctorStorage } from './storage.ts';
export { startDoctorPeers, type DoctorPeers, type DoctorPeersOptions } from './peers.ts';
export { trackerDefaults, type TrackerOptions } from './tracker.ts';
export { CHECK_CODES, needsAttention, type CheckCode, type DoctorReport, type Finding, type Severity } from './types.ts';

/** The checks, in the order a person would go through them. */
const CHECKS: [name: string, check: Check][] = [
  ['the store in place', storeInPlace],
  ['listeners on the network', insecureListeners],
  ['certificate expiry', certificateExpiry],
  ['device logins', deviceLogins],
  ['why it never fires', whyNeverFired],
  ['disabled', disabledIntegrations],
  ['too many errors', tooManyErrors],
  ['sleeping hosts', sleepingHosts],
  ['errors by code', errorsByCode],
  ['JSON templates', templatesRenderJson],
  ['signed GET queries', signedGetQuery],
  ['response sizes', responseSizes],
  ['response subscriptions', responseSubscriptions],
  ['reachable targets', targetsReachable],
];

export interface DoctorSources {
  broker: DoctorBroker;
  webhooks: DoctorWebhooks;
  logger: Logger;
  /** The bridge's listeners and certificate (INSECURE_BIND, TLS_CERT_EXPIRING). */
  security?: DoctorSecurity;
  /** The device records (DEVICE_LOGIN_FAILED tells an unknown device ID from a wrong token with them). */
  devices?: DoctorDevices;
  /**
   * Where the data directory and the store file are (STORE_MISSING). Their identity is taken
   * when the doctor is created: create it after the store is opened.
   */
  storage?: DoctorStorage;
  /**
   * The doctors of the other bridges sharing a Redis: each run asks them what they saw, and
   * answers their questions, so every bridge's doctor reports the same findings.
   */
  peers?: DoctorPeers | undefined;
}

export interface RunOptions extends Partial<DoctorOptions> {
  /** Check this integration only (404 INTEGRATION_NOT_FOUND when there is none). */
  integrationId?: string;
}

export interface Doctor {
  run(options?: RunOptions): Promise<DoctorReport>;
  /** The data directory or store file deleted or replaced under the bridge (what /health reports too). */
  storageProblems(): Promise<StorageProblem[]>;
  /** What the doctor has seen since the start (an Observer: attach it where the bridge starts). */
  tracker: Tracker;
}

function failed(name: string, err: unknown): Finding {
  return {
    check: 'CHECK_FAILED',
    severity: 'warning',
    message: `The "${name}" check failed: ${(err as Error).message}. The other checks ran.`,
    next: 'Run hookwire doctor again; if it keeps failing, report it with the bridge\'s log.',
    evidence: { check: name },
  };
}

/** Every string of a finding through redactText: error texts and event data may hold credentials. */
function scrub<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map(scrub) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)])) as T;
  return value;
}

/** Every connected device's subscriptions, on this bridge and on those that answered. */
function clusterBroker(broker: DoctorBroker, others: Observations[]): DoctorBroker {
  const subscriptions = broker.deviceSubscriptions();
  for (const o of others) {
    for (const [deviceId, filters] of o.subscriptions) subscriptions.set(deviceId, [...new Set([...(subscriptions.get(deviceId) ?? []), ...filters])]);
  }
  return {
    deviceSubscriptions: () => subscriptions,
    isDeviceConnected: (deviceId) => broker.isDeviceConnected(deviceId) || subscriptions.has(deviceId),
  };
}

export function createDoctor(sources: DoctorSources, tracker: Partial<TrackerOptions> = {}): Doctor {
  const { webhooks, broker, peers } = sources;
  const log = sources.logger.child({ component: 'doctor' });
  const seen = createTracker(tracker);
  const storage = sources.storage ? watchStorage(sources.storage) : undefined;
  peers?.answer(() => ({ seen: seen.snapshot(), subscriptions: [...broker.deviceSubscriptions()] }));

  /** What this bridge saw, and the others sharing its Redis. */
  async function observed(): Promise<{ seen: SeenView; broker: DoctorBroker }> {
    const others = peers ? await peers.gather() : [];
    if (others.length === 0) return { seen, broker };
    return { seen: mergeSeen([seen.snapshot(), ...others.map((o) => o.seen)], tracker), broker: clusterBroker(broker, others) };
  }

  return {
    async run(options = {}) {
      const started = performance.now();
      const { integrationId, ...rest } = options;
      const all = webhooks.list();
      seen.retain(new Set(all.map((i) => i.id)));
      const integrations = integrationId === undefined ? all : [webhooks.get(integrationId)];
      const ctx = checkContext({ webhooks, ...(await observed()), security: sources.security, devices: sources.devices, storage }, integrations, { ...doctorDefaults, ...rest });
      const results = await Promise.all(CHECKS.map(async ([name, check]) => {
        try {
          return await check(ctx);
        } catch (err) {
          log.error({ err, check: name }, 'doctor check failed');
          return [failed(name, err)];
        }
      }));
      // Worst first; then by integration, in the order they are listed; then by check.
      const order = new Map(integrations.map((i, k) => [i.id, k]));
      const findings = results.flat().map(scrub).sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]
        || (order.get(a.integrationId ?? '') ?? -1) - (order.get(b.integrationId ?? '') ?? -1)
        || CHECK_CODES.indexOf(a.check) - CHECK_CODES.indexOf(b.check));
      const report: DoctorReport = {
        ok: !findings.some(needsAttention),
        checkedAt: iso(ctx.now),
        observedSince: iso(ctx.seen.startedAt),
        integrations: integrations.length,
        findings,
      };
      log.debug({ integrations: integrations.length, findings: findings.length, ok: report.ok, ms: Math.round(performance.now() - started) }, 'doctor ran');
      return report;
    },
    storageProblems: async () => (storage ? storage.check() : []),
    tracker: seen,
  };
}
