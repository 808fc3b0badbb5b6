// Who chooses where a webhook goes. A template tag in a URL's scheme, host or port lets
// device data pick the target, and the target receives whatever the template carries: a
// device publishing {"host": "attacker.example"} would collect the template's Authorization
// header. So at creation such a URL is refused unless the integration opts in with
// `dynamicHost: true`, and an integration that opts in may carry no credentials (basic
// auth, user:password in the URL, headers or query parameters named like credentials, a
// signing secret). Tags in the path and query stay free: they cannot move the request to
// another host. The egress policy (egress.ts) still applies to wherever a dynamic host
// points.

import { invalidField } from '../errors.ts';
import type { WebhookTemplate } from './integration.ts';

/** Header names that carry credentials (besides any matching CREDENTIAL_NAME). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/** Header and query names that carry credentials: api keys, tokens, secrets, sessions, signatures, passwords. */
const CREDENTIAL_NAME = /auth|token|secret|session|signature|passw|api[-_]?key|(^|[-_])(key|sig|pwd)$/i;

export const isCredentialName = (name: string): boolean => CREDENTIAL_HEADERS.has(name.toLowerCase()) || CREDENTIAL_NAME.test(name);

/**
 * The part of a URL template before its path: userinfo, host and port (the scheme is checked
 * to be literal http(s) before this is asked). It ends at the first / \ ? or # (WHATWG URL
 * ends the authority at a backslash too, for http and https).
 */
export function urlAuthority(url: string): string {
  const rest = url.slice(url.indexOf('//') + 2);
  const end = rest.search(/[/\\?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Whether event data can choose the URL's host or port (a tag, section or delimiter change there). */
export const hasDynamicOrigin = (url: string): boolean => urlAuthority(url).includes('{{');

const WITH_CREDENTIALS = 'cannot be used with dynamicHost: event data chooses the host, and that host would receive it';

/** Refuse credentials in an integration whose host comes from event data, naming the field. */
function refuseCredentials(t: WebhookTemplate, urlField: string): void {
  const refuse = (field: string, what = '') => invalidField(field, `${what}${WITH_CREDENTIALS}`, 'TEMPLATE_INVALID');
  if (t.auth) refuse('auth');
  if (urlAuthority(t.url).includes('@')) refuse(urlField, 'user:password ');
  for (const name of Object.keys(t.headers ?? {})) if (isCredentialName(name)) refuse(`headers.${name}`);
  for (const name of Object.keys(t.query ?? {})) if (isCredentialName(name)) refuse(`query.${name}`);
  const search = t.url.indexOf('?');
  if (search < 0) return;
  for (const name of new URLSearchParams(t.url.slice(search + 1).split('#')[0]).keys()) {
    if (isCredentialName(name)) refuse(urlField, `query parameter ${name} `);
  }
}

/** At creation: device data may choose the target only when the integration says so, and never with credentials. */
export function checkTarget(t: WebhookTemplate, urlField: string): void {
  if (t.dynamicHost) return refuseCredentials(t, urlField);
  if (hasDynamicOrigin(t.url)) {
    invalidField(urlField, 'has a template tag in its host or port, so event data would choose where the request goes (and who receives it); set dynamicHost: true to allow it, without credentials', 'TEMPLATE_INVALID');
  }
}
