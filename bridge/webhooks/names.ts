// Names of the events the webhook engine publishes, and the rule that they never trigger it.

import { privateOwner } from '../../firmware-sdk/rules.ts';

const RESPONSE_PREFIXES = ['hook-sent', 'hook-response', 'hook-error'];

/**
 * `hook-sent…`, `hook-response…`, `hook-error…`, at the start or after a device ID: events
 * the cloud publishes about webhooks. They never trigger integrations (Particle's rule), so a
 * hook cannot feed on its own responses.
 */
export function isCloudResponseName(name: string): boolean {
  const rest = privateOwner(name) ? name.slice(25) : name;
  const lower = rest.slice(0, 13).toLowerCase();
  return RESPONSE_PREFIXES.some((p) => lower.startsWith(p));
}
