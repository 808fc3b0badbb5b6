// Identifiers and secrets.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new device ID: 24 lowercase hex characters, as Particle's. */
export function newDeviceId(): string {
  return randomBytes(12).toString('hex');
}

/** A new secret with a recognisable prefix (`hwd_` device token, `hwt_` API token). */
export function newSecret(prefix: 'hwd_' | 'hwt_'): string {
  return prefix + randomBytes(24).toString('base64url');
}

/** How secrets are stored: SHA-256 is enough for 192-bit random tokens (no dictionary to guess). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

const processTag = randomBytes(4).toString('hex');
let lastMs = 0;
let msPrefix = '';
let seq = 0;

/**
 * A new event ID: 32 hex characters, sortable by time: 12 of milliseconds, 8 identifying
 * this process, 12 of a counter (so IDs made in the same millisecond stay ordered).
 */
export function newEventId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    msPrefix = now.toString(16).padStart(12, '0') + processTag;
    seq = 0;
  } else {
    seq++;
  }
  return msPrefix + seq.toString(16).padStart(12, '0');
}
