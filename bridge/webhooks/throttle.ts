// Per-host adaptive throttling, Particle's rule (PARTICLE.md §4): outcomes are scored per
// target hostname, whatever the integration; while errors outnumber successes the host
// sleeps and attempts to it are skipped; after a quiet cooldown, requests resume. A host that
// fails again right after waking goes straight back to sleep. Only what the host did is
// scored: a failure the bridge raised before sending (scoresHost) is not. Bridges sharing a
// Redis put a host to sleep together: the one whose score did it says so (`onAsleep`), the
// others are told (`sleep`).

import type { Code, Failure } from '../codes.ts';

export interface ThrottleOptions {
  /** How long a host sleeps after its last error, ms. Default 5 s (Particle: "a few seconds"). */
  cooldownMs: number;
  /** Errors needed before a host can sleep, so one early failure does not stop it. Default 3. */
  minErrors: number;
  /** Outcomes remembered per host. Default 20. */
  window: number;
}

export const throttleDefaults: ThrottleOptions = { cooldownMs: 5_000, minErrors: 3, window: 20 };

/**
 * Failures raised by the bridge itself, before or instead of sending: they say nothing about
 * the host. A header with a newline from one device's data must not put the host to sleep
 * for every other device.
 */
const LOCAL_FAILURES: ReadonlySet<Code> = new Set<Code>(['TEMPLATE_INVALID', 'REQUEST_TOO_LARGE', 'EGRESS_DENIED', 'EINTERNAL']);

/** Whether an attempt's outcome counts for its host's score: successes, and failures the host caused. */
export function scoresHost(failure: Failure | undefined): boolean {
  return failure === undefined || !LOCAL_FAILURES.has(failure.code);
}

interface HostScore {
  /** Recent outcomes, true = success, newest last. */
  outcomes: boolean[];
  errors: number;
  /** While asleep, until when (ms). */
  sleepUntil: number;
  /** Just woke: the next failure puts it back to sleep. */
  probation: boolean;
}

export class HostThrottle {
  private readonly hosts = new Map<string, HostScore>();
  /** `onAsleep`: this throttle's score put a host to sleep (not called for `sleep`). */
  constructor(private readonly options: ThrottleOptions = throttleDefaults, private readonly onAsleep?: (host: string) => void) {}

  private score(host: string): HostScore {
    let s = this.hosts.get(host);
    if (!s) this.hosts.set(host, (s = { outcomes: [], errors: 0, sleepUntil: 0, probation: false }));
    return s;
  }

  /** May a request go to `host` now? False while it sleeps. */
  allows(host: string, now = Date.now()): boolean {
    const s = this.hosts.get(host);
    if (!s || s.sleepUntil === 0) return true;
    if (now < s.sleepUntil) return false;
    // The cooldown passed quietly: wake, on probation, with a clean slate.
    s.sleepUntil = 0;
    s.outcomes = [];
    s.errors = 0;
    s.probation = true;
    return true;
  }

  /** Count an attempt's outcome. Returns true when this outcome put the host to sleep. */
  record(host: string, ok: boolean, now = Date.now()): boolean {
    const s = this.score(host);
    s.outcomes.push(ok);
    if (!ok) s.errors++;
    if (s.outcomes.length > this.options.window && !s.outcomes.shift()) s.errors--;
    if (ok) {
      s.probation = false;
      return false;
    }
    const successes = s.outcomes.length - s.errors;
    if (s.sleepUntil > now) {
      s.sleepUntil = now + this.options.cooldownMs; // errors while asleep (in flight before) keep it asleep
      return false;
    }
    if (s.probation || (s.errors >= this.options.minErrors && s.errors > successes)) {
      s.sleepUntil = now + this.options.cooldownMs;
      s.probation = false;
      this.onAsleep?.(host);
      return true;
    }
    return false;
  }

  /**
   * Put a host to sleep for the cooldown, as another bridge did: its attempts are skipped here
   * too, and it wakes on probation as if it had slept here. Asleep already: it sleeps at least
   * until then (the same notice twice changes nothing).
   */
  sleep(host: string, now = Date.now()): void {
    const s = this.score(host);
    s.sleepUntil = Math.max(s.sleepUntil, now + this.options.cooldownMs);
    s.probation = false;
  }

  /** Hosts asleep now, with when they may wake. */
  sleeping(now = Date.now()): { host: string; until: number }[] {
    const out: { host: string; until: number }[] = [];
    for (const [host, s] of this.hosts) if (s.sleepUntil > now) out.push({ host, until: s.sleepUntil });
    return out;
  }
}
