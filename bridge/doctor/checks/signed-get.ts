// Signed GET integrations whose data travels in the query string. A Standard Webhooks
// signature covers `${webhook-id}.${webhook-timestamp}.${body}` and a GET has no body, so it
// proves who sent the request and when, but not the query: the device's data there (the
// default fields, `query`, `form`, tags in the URL's query) can be changed on the way, or a
// captured URL replayed with other values within the receiver's timestamp tolerance, and the
// signature still verifies. docs/signing.md says the same to people.

import { label, updateStep } from '../context.ts';
import type { CheckContext } from '../context.ts';
import type { Finding } from '../types.ts';
import type { Integration } from '../../webhooks/index.ts';

export const SIGNED_GET_QUERY = 'SIGNED_GET_QUERY';

/** What the check reads: the integrations, and whether each has a signing secret. */
export interface SignedGetContext extends Pick<CheckContext, 'integrations'> {
  signed(id: string): boolean;
}

export type SignedGetFinding = Omit<Finding, 'check'> & { check: typeof SIGNED_GET_QUERY };

const hasTag = (s: string) => s.includes('{{');
const templated = (o: Record<string, unknown>) => Object.entries(o).some(([k, v]) => hasTag(k) || hasTag(JSON.stringify(v)));

/** The parts of a GET's query string that carry event data, by the template field they come from. */
export function unsignedQueryParts(i: Integration): string[] {
  const parts: string[] = [];
  // Particle: with GET, the default fields (event, data, coreid, published_at) go in the query.
  if (!i.noDefaults) parts.push('the default fields (event, data, coreid, published_at)');
  if (i.form && templated(i.form)) parts.push('form');
  if (i.query && templated(i.query)) parts.push('query');
  const q = i.url.indexOf('?');
  if (q >= 0 && hasTag(i.url.slice(q))) parts.push('the URL\'s query');
  return parts;
}

export function signedGetQuery(ctx: SignedGetContext): SignedGetFinding[] {
  const findings: SignedGetFinding[] = [];
  for (const i of ctx.integrations) {
    if (i.requestType !== 'GET' || !ctx.signed(i.id)) continue;
    const parts = unsignedQueryParts(i);
    if (parts.length === 0) continue;
    const toBody = i.query && templated(i.query) ? ' and move the templated query parameters into form (or json)' : '';
    findings.push({
      check: SIGNED_GET_QUERY,
      severity: 'warning',
      integrationId: i.id,
      message: `${label(i)} is signed, but it is a GET: its event data goes in the query string (${parts.join(', ')}), and a Standard Webhooks signature covers only the body, which a GET does not have. The signature proves the request came from this bridge at that time, not that the data in its URL is what the device sent.`,
      next: `Send the data in a body, which the signature covers: ${updateStep(i.id, { requestType: 'POST' })}${toBody}, and have the target read the body (docs/signing.md). Keep GET only for targets that cannot take a body, and treat their query as unsigned.`,
      evidence: { requestType: i.requestType, signed: true, unsignedQuery: parts },
    });
  }
  return findings;
}
