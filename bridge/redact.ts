// Redaction, in one place: secrets never reach a log, a read-only token, or a doctor's report
// pasted into a ticket. Credentials in headers, URLs, bodies, templates and free text are
// blanked by name (authorization, api_key, token, password, ...); pino blanks the same
// fields in log records (`logPaths`).

export const REDACTED = '[redacted]';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token', 'webhook-signature']);
/** Query, form and JSON field names that carry credentials. */
const SECRET_NAME = /(^|[_-])(access[_-]?token|token|api[_-]?key|apikey|key|secret|password|passwd|pwd|signature|sig|auth|credentials?)$/i;

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
