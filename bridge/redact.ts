// Redaction, in one place: secrets never reach a log, a read-only token, or a doctor's report
// pasted into a ticket. Two ways, for two kinds of text:
//
// - By rule, for what a read-only token sees of a template (readerTemplate): every literal in
//   the URL's path, userinfo and query values, in header values and in basic auth is blanked;
//   mustache tags, field names, the host and the integration's `publicFields` stay visible.
//   A secret is found by where it is, not by what it is called (a Slack URL's path, an
//   `appid`, an `X-Session` header). Rendered requests (delivery logs) are blanked the same way
//   for read tokens (readerRequest).
// - By name, where there is no template to follow (bodies, free text, logs): fields and
//   headers named like credentials (authorization, api_key, apiToken, appid, session, ...)
//   are blanked; pino blanks the same fields in log records (`logPaths`).

export const REDACTED = '[redacted]';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token', 'webhook-signature']);
/** Query, form, JSON field and header names that carry credentials (any case, camelCase too). */
const SECRET_NAME = /(token|secret|passw|pwd|api[_-]?key|app[_-]?(id|key)|auth|credential|signature|session|cookie|private|(^|[_-])(key|sig)$)/i;
/** Headers whose values are never credentials: shown to read tokens as they are. */
const PUBLIC_HEADERS = new Set(['content-type', 'accept', 'user-agent', 'content-length', 'content-encoding', 'webhook-id', 'webhook-timestamp']);

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function redactHeaders(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADERS.has(k.toLowerCase()) || isSecretName(k) ? REDACTED : v;
  return out;
}

export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.password) url.password = REDACTED;
  for (const key of [...url.searchParams.keys()]) if (isSecretName(key)) url.searchParams.set(key, REDACTED);
  return url.toString();
}

function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redactJson(v)]));
  }
  return value;
}

/** A body as it may be logged: JSON and form fields with secret names blanked. */
export function redactBody(body: string, contentType: string | undefined): string {
  if (contentType?.includes('json')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(body)));
    } catch {
      return body;
    }
  }
  if (contentType?.includes('x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    for (const key of [...form.keys()]) if (isSecretName(key)) form.set(key, REDACTED);
    return form.toString();
  }
  return body;
}

/** A request as a delivery log shows it. */
export interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export function redactRequest(request: LoggedRequest): LoggedRequest {
  const out: LoggedRequest = { method: request.method, url: redactUrl(request.url), headers: redactHeaders(request.headers) as Record<string, string> };
  if (request.body !== undefined) out.body = redactBody(request.body, request.headers['content-type']);
  return out;
}

/**
 * A template as a read-only token may see it: the URL's password and secret query values,
 * secret headers, the basic-auth password, and secret-named fields of json, form, query and
 * a JSON body template are blanked. (Admin tokens see the template as stored.)
 */
export function redactTemplate<T extends { url: string; headers?: Record<string, string>; auth?: { username: string; password: string }; query?: object; form?: object; json?: object | string; body?: string }>(template: T): T {
  const out: T = { ...template, url: redactUrl(template.url) };
  if (template.headers) out.headers = redactHeaders(template.headers) as Record<string, string>;
  if (template.auth) out.auth = { username: template.auth.username, password: REDACTED };
  if (template.query) out.query = redactJson(template.query) as object;
  if (template.form) out.form = redactJson(template.form) as object;
  if (template.json !== undefined) out.json = typeof template.json === 'string' ? redactBody(template.json, 'json') : (redactJson(template.json) as object);
  if (template.body !== undefined) out.body = redactBody(template.body, 'json');
  return out;
}

/**
 * Free text that may hold credentials where it is not valid JSON (a rendered template, an
 * error): `"key": "value"` and `key=value` pairs whose key names a secret, and URL
 * credentials, blanked. What the doctor shows goes through here.
 */
export function redactText(text: string): string {
  return text
    .replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url))
    .replace(/("([^"\\]*)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/g, (all, head: string, key: string) => (isSecretName(key) ? `${head}"${REDACTED}"` : all))
    .replace(/([?&\s]|^)([A-Za-z0-9_.-]+)=([^&\s"]*)/g, (all, sep: string, key: string) => (isSecretName(key) ? `${sep}${key}=${REDACTED}` : all));
}

/** Paths pino blanks out wherever they appear in a log record. */
export const logPaths = [
  'token', '*.token', 'password', '*.password', 'secret', '*.secret', 'auth', '*.auth',
  'headers.authorization', '*.headers.authorization', 'req.headers.authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]',
];

// ---------------------------------------------------------------------------------------
// By rule: what a read-only token sees

const TAG = /(\{\{\{?[^{}]*\}?\}\})/;

/** Every literal run of `text` blanked, mustache tags kept: `Bearer {{t}}` → `[redacted]{{t}}`. */
export function maskLiterals(text: string): string {
  return text.split(TAG).map((part, i) => (i % 2 === 1 || part === '' ? part : REDACTED)).join('');
}

/** The parts of a URL (template or rendered) as text: tags may make it unparsable by URL. */
function urlParts(url: string) {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  return m ? { scheme: m[1] ?? '', authority: m[2] ?? '', path: m[3] ?? '', query: m[4] ?? '', fragment: m[5] ?? '' } : undefined;
}

/**
 * A URL as a read token sees it: scheme, host and port; userinfo blanked; each path segment
 * and query value blanked literal by literal (tags kept), unless `publicParts` names
 * `url` (all of it), `url.path`, or `url.query.<name>`.
 */
export function readerUrl(url: string, publicParts: ReadonlySet<string> = new Set()): string {
  if (publicParts.has('url')) return url;
  const p = urlParts(url);
  if (!p) return maskLiterals(url);
  const at = p.authority.lastIndexOf('@');
  const authority = at < 0 ? p.authority : `${REDACTED}@${p.authority.slice(at + 1)}`;
  const path = publicParts.has('url.path') ? p.path : p.path.split('/').map((seg) => (seg ? maskLiterals(seg) : seg)).join('/');
  const query = p.query && `?${p.query.slice(1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    const key = pair.slice(0, eq);
    return publicParts.has(`url.query.${decodeURIComponent(key)}`) ? pair : `${key}=${maskLiterals(pair.slice(eq + 1))}`;
  }).join('&')}`;
  return `${p.scheme}${authority}${path}${query}${p.fragment && '#' + REDACTED}`;
}

function readerValues(obj: object, prefix: string, publicParts: ReadonlySet<string>): object {
  if (Array.isArray(obj)) return obj.map((v) => readerValue(v, prefix, publicParts));
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, readerValue(v, `${prefix}.${k}`, publicParts)]));
}

function readerValue(v: unknown, path: string, publicParts: ReadonlySet<string>): unknown {
  if (publicParts.has(path)) return v;
  if (typeof v === 'string') return maskLiterals(v);
  if (v && typeof v === 'object') return readerValues(v, path, publicParts);
  return v;
}

/** What a read token sees of headers: names, public headers' values, tags; other literals blanked. */
export function readerHeaders(headers: Record<string, string>, publicParts: ReadonlySet<string> = new Set(), rendered = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const shown = PUBLIC_HEADERS.has(k.toLowerCase()) || publicParts.has(`headers.${k}`);
    out[k] = shown ? v : rendered ? REDACTED : maskLiterals(v);
  }
  return out;
}

/**
 * A template as a read-only token may see it, by rule (see the top of this file): the URL,
 * header values, query values and basic auth literal by literal; json, form and a body by
 * the names of their fields. `publicFields` (set on the integration) unhides parts by path:
 * `url`, `url.path`, `url.query.<name>`, `headers.<Name>`, `query.<name>`, `auth.username`.
 */
export function readerTemplate<T extends { url: string; headers?: Record<string, string>; auth?: { username: string; password: string }; query?: object; form?: object; json?: object | string; body?: string; publicFields?: string[] }>(template: T): T {
  const publicParts = new Set(template.publicFields ?? []);
  const out: T = redactTemplate(template);
  out.url = readerUrl(template.url, publicParts);
  if (template.headers) out.headers = readerHeaders(template.headers, publicParts);
  if (template.auth) out.auth = { username: publicParts.has('auth.username') ? template.auth.username : maskLiterals(template.auth.username), password: REDACTED };
  if (template.query) out.query = readerValues(template.query, 'query', publicParts);
  return out;
}

/** A rendered request (a delivery log) as a read token sees it: no tags left to tell, so every literal goes. */
export function readerRequest(request: LoggedRequest): LoggedRequest {
  const p = urlParts(request.url);
  const url = p ? `${p.scheme}${p.authority.replace(/^.*@/, `${REDACTED}@`)}${p.path.split('/').map((seg) => (seg ? REDACTED : seg)).join('/')}${p.query && `?${p.query.slice(1).split('&').map((pair) => pair.replace(/=.*$/, `=${REDACTED}`)).join('&')}`}` : REDACTED;
  const out: LoggedRequest = { method: request.method, url, headers: readerHeaders(request.headers, new Set(), true) };
  if (request.body !== undefined) out.body = request.body;
  return out;
}
