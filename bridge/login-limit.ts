// Failed logins, limited per remote address: after `maxFailures` wrong tokens within a
// window, an address is refused for `blockMs` without a token lookup (MQTT CONNACK 4, HTTP
// 429). Guessing tokens is hopeless anyway (they carry 190 bits), but unlimited tries cost
// store lookups and fill logs; this bounds both, and says who is trying. Shared by the
// broker and the API; counted in /metrics (hookwire_login_failures_total, _refused_total).

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

export interface LoginLimiter {
  /** True while `address` is refused (each such attempt is counted). */
  blocked(address: string | undefined, protocol: LoginProtocol): boolean;
  /** A wrong token or password from `address`. */
  failed(address: string | undefined, protocol: LoginProtocol): void;
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

  function sweep(now: number): void {
    for (const [address, r] of byAddress) {
      if (r.blockedUntil <= now && now - r.windowStart > options.windowMs) byAddress.delete(address);
    }
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
      if (byAddress.size > SWEEP_ABOVE) sweep(now);
      let r = byAddress.get(address);
      if (!r || now - r.windowStart > options.windowMs) byAddress.set(address, (r = { windowStart: now, failures: 0, blockedUntil: r?.blockedUntil ?? 0 }));
      r.failures++;
      if (r.failures === options.maxFailures) {
        r.blockedUntil = now + options.blockMs;
        log.warn({ remote: address, protocol, failures: r.failures, blockedForMs: options.blockMs }, 'too many failed logins: address refused for a while');
      }
    },
  };
}
