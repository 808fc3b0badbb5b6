// Signed, identifiable requests, as the Standard Webhooks specification defines them:
//
//   webhook-id         the message ID, the same on every attempt (an idempotency key)
//   webhook-timestamp  seconds since the epoch, of this attempt
//   webhook-signature  "v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>"; during a
//                      rotation, one signature per valid secret, space-separated
//
// A secret is "whsec_" + base64 of 32 random bytes; the HMAC key is those bytes.
//
// The body is signed, and only the body: a GET's query string, where Particle puts its data, is
// not covered (what the official verifiers check; docs/signing.md, the doctor's SIGNED_GET_QUERY).

import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function isSigningSecret(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith(SECRET_PREFIX) && Buffer.from(s.slice(SECRET_PREFIX.length), 'base64').length >= 24;
}

/** One `v1,<signature>` for `secret`. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** An integration's secrets: the current one, and the one it replaced while it is still honoured. */
export interface SigningKeys {
  current: string;
  previous?: string;
  /** Until when (ms since the epoch) the previous secret still signs, so receivers can switch over. */
  previousUntil?: number;
}

/** The secrets that sign a request made at `now`. */
export function activeSecrets(keys: SigningKeys, now = Date.now()): string[] {
  return keys.previous && keys.previousUntil !== undefined && now < keys.previousUntil ? [keys.current, keys.previous] : [keys.current];
}

/** The Standard Webhooks headers for one attempt. */
export function webhookHeaders(id: string, body: string, keys: SigningKeys | undefined, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (keys) headers['webhook-signature'] = activeSecrets(keys, now).map((s) => sign(s, id, timestamp, body)).join(' ');
  return headers;
}

/** Rotate: a new current secret; the old one keeps signing for `overlapMs`. */
export function rotate(keys: SigningKeys | undefined, overlapMs: number, now = Date.now()): SigningKeys {
  const next: SigningKeys = { current: newSigningSecret() };
  if (keys && overlapMs > 0) {
    next.previous = keys.current;
    next.previousUntil = now + overlapMs;
  }
  return next;
}
