// Failed logins, limited per remote address: after `maxFailures` wrong tokens within a
// window, an address is refused for `blockMs` without a token lookup (MQTT CONNACK 4, HTTP
// 429). Guessing tokens is hopeless anyway (they carry 190 bits), but unlimited tries cost
// store lookups and fill logs; this bounds both, and says who is trying. Shared by the
// broker and the API; counted in /metrics (hookwire_login_failures_total, _refused_total).
//
// Bridges sharing a Redis count together (bridge/cluster/logins.ts): each failure is also
// added to the address's count in Redis, and the bridge whose failure reaches the limit tells
// every bridge to refuse the address. The check on each login stays local and synchronous
// (no round trip on the hot path); only what a failure adds goes to Redis, after it.

import type { Logger } from './log.ts';

export type LoginProtocol = 'mqtt' | 'http';

export interface LoginLimitOptions {
  /** Wrong credentials from one address within `windowMs` before it is refused. */
  maxFailures: number;
  windowMs: number;
  /** How long an address is refused, ms. */
  blockMs: number;
}

export const loginLimitDefaults: LoginLimitOptions = { maxFailures: 20, windowMs: 60_000, blockMs: 60_000 };

/** Where several bridges count failures together (bridge/cluster/logins.ts). */
export interface LoginLimitShare {
  /** Add a failure from `address` to the count all bridges share; resolves with that count within the window that began at its first. */
  count(address: string, windowMs: number): Promise<number>;
  /** `address` reached the limit: every bridge (this one too) is to call `block(address)`. */
  announce(address: string): void;
}

export interface LoginLimiter {
  /** True while `address` is refused (each such attempt is counted). */
  blocked(address: string | undefined, protocol: LoginProtocol): boolean;
  /** A wrong token or password from `address`. */
  failed(address: string | undefined, protocol: LoginProtocol): void;
  /** Refuse `address` for `blockMs` from now: it reached the limit, counted over every bridge. */
  block(address: string): void;
  /** Count failures with other bridges too (undefined: on this bridge alone again). */
  share(share: LoginLimitShare | undefined): void;
  /** Totals since start, by protocol (metrics). */
  readonly failures: Record<LoginProtocol, number>;
  /** Attempts refused because their address was blocked. */
  readonly refusals: Record<LoginProtocol, number>;
}

interface AddressRecord {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

/** Addresses remembered at most; past it, entries with nothing to remember are swept. */
const SWEEP_ABOVE = 10_000;

export function createLoginLimiter(logger: Logger, options: LoginLimitOptions = loginLimitDefaults): LoginLimiter {
  const log = logger.child({ component: 'login' });
  const byAddress = new Map<string, AddressRecord>();
  const failures: Record<LoginProtocol, number> = { mqtt: 0, http: 0 };
  const refusals: Record<LoginProtocol, number> = { mqtt: 0, http: 0 };
  let shared: LoginLimitShare | undefined;
  /** A shared count that failed is logged once, until one succeeds again (Redis is down: counting goes on here alone). */
  let shareDown = false;

  function sweep(now: number): void {
    for (const [address, r] of byAddress) {
      if (r.blockedUntil <= now && now - r.windowStart > options.windowMs) byAddress.delete(address);
    }
  }

  function record(address: string, now: number): AddressRecord {
    if (byAddress.size > SWEEP_ABOVE) sweep(now);
    let r = byAddress.get(address);
    if (!r || now - r.windowStart > options.windowMs) byAddress.set(address, (r = { windowStart: now, failures: 0, blockedUntil: r?.blockedUntil ?? 0 }));
    return r;
  }

  /** Add the failure to the shared count; the bridge whose failure is the limit-th announces it (exactly one does). */
  function countShared(share: LoginLimitShare, address: string): void {
    share.count(address, options.windowMs).then((n) => {
      if (shareDown) log.info('failed logins counted with the other bridges again');
      shareDown = false;
      if (n === options.maxFailures) share.announce(address);
    }, (err: unknown) => {
      if (!shareDown) log.warn({ err }, 'failed login not counted with the other bridges: counted on this bridge only');
      shareDown = true;
    });
  }

  return {
    failures,
    refusals,
    blocked(address, protocol) {
      const r = address === undefined ? undefined : byAddress.get(address);
      if (r === undefined || r.blockedUntil <= Date.now()) return false;
      refusals[protocol]++;
      return true;
    },
    failed(address, protocol) {
      failures[protocol]++;
      if (address === undefined) return;
      const now = Date.now();
      const r = record(address, now);
      r.failures++;
      if (r.failures === options.maxFailures) {
        r.blockedUntil = now + options.blockMs;
        log.warn({ remote: address, protocol, failures: r.failures, blockedForMs: options.blockMs }, 'too many failed logins: address refused for a while');
      }
      if (shared) countShared(shared, address);
    },
    block(address) {
      const now = Date.now();
      const r = record(address, now);
      if (r.blockedUntil > now) return; // this bridge counted it to the limit itself
      r.blockedUntil = now + options.blockMs;
      log.warn({ remote: address, blockedForMs: options.blockMs }, 'too many failed logins over the bridges: address refused for a while');
    },
    share(share) {
      shared = share;
    },
  };
}
