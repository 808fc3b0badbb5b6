// Retry policies are data (STYLE.md §8): a schedule of delays and which failures are worth
// another attempt.
//
//   particle  Particle's: a failed or skipped event is retried after 30 s and 60 s, then
//             dropped. 4xx other than 408 and 429 is not retried (the request itself is wrong).
//   durable   Zettle/Pusher's: every 60 s ×10, every 600 s ×9, hourly for 70 h; then the
//             integration goes to TooManyErrors, is disabled, and its owner is told.
//   [a, b, …] an explicit list of delays in seconds, retried like `durable`.

import { HookwireError } from '../errors.ts';

export type RetryPolicyName = 'particle' | 'durable';
/** How an integration retries: a named policy, or delays in seconds. */
export type RetryPolicy = RetryPolicyName | number[];

export const DEFAULT_RETRY_POLICY: RetryPolicy = 'particle';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const SCHEDULES: Record<RetryPolicyName, number[]> = {
  particle: [30 * SECOND, 60 * SECOND],
  durable: [...Array(10).fill(MINUTE), ...Array(9).fill(10 * MINUTE), ...Array(70).fill(HOUR)],
};

/** Longest explicit schedule, and longest single delay (7 days), accepted. */
const MAX_STEPS = 200;
const MAX_DELAY_S = 7 * 24 * 3600;

export function parseRetryPolicy(value: unknown, field = 'retryPolicy'): RetryPolicy {
  if (value === 'particle' || value === 'durable') return value;
  if (Array.isArray(value) && value.length > 0 && value.length <= MAX_STEPS && value.every((d) => typeof d === 'number' && d > 0 && d <= MAX_DELAY_S)) {
    return value as number[];
  }
  throw new HookwireError('BAD_REQUEST', `${field} must be "particle", "durable", or a list of 1-${MAX_STEPS} delays in seconds (each up to ${MAX_DELAY_S})`, { field });
}

/** The delays, in ms, before attempt 2, 3, … */
export function schedule(policy: RetryPolicy): number[] {
  return typeof policy === 'string' ? SCHEDULES[policy] : policy.map((s) => s * SECOND);
}

export interface FailureFacts {
  /** A stable failure code: an HTTP status ("404"), a network code, TEMPLATE_INVALID, SKIPPED. */
  code: string;
  /** From a 429 or 503 response, in ms. */
  retryAfterMs?: number;
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'exhausted' | 'not-retryable' };

/** Statuses that say "try again later", under any policy. */
const RETRYABLE_4XX = new Set(['408', '429']);

/**
 * Failures that would fail the same way again: a template that cannot render this event, a
 * request over the size limit, a target the egress policy refuses (replay it once allowed).
 */
const NEVER_RETRIED = new Set(['TEMPLATE_INVALID', 'REQUEST_TOO_LARGE', 'EGRESS_DENIED']);

/**
 * Whether and when to try again after failed attempt number `attempt` (1 = the first).
 * `scale` multiplies every wait (tests compress hours into milliseconds); jitter of ±10%
 * keeps a fleet's retries from arriving in step.
 */
export function decideRetry(policy: RetryPolicy, attempt: number, failure: FailureFacts, scale = 1, random = Math.random): RetryDecision {
  const is4xx = /^4\d\d$/.test(failure.code);
  // A request that cannot be sent, or one the server calls malformed, will fail again.
  if (NEVER_RETRIED.has(failure.code) || (policy === 'particle' && is4xx && !RETRYABLE_4XX.has(failure.code))) {
    return { retry: false, reason: 'not-retryable' };
  }
  const delays = schedule(policy);
  if (attempt > delays.length) return { retry: false, reason: 'exhausted' };
  let delay = delays[attempt - 1]! * (0.9 + 0.2 * random());
  if (failure.retryAfterMs !== undefined) delay = Math.max(delay, failure.retryAfterMs); // never before the server asked
  return { retry: true, delayMs: Math.round(delay * scale) };
}

/** `Retry-After` as ms: seconds, or an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * SECOND;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
