// The HTTP API as the console calls it: same origin, signed in by the session cookie, the
// session's CSRF value on every change. A failure is an ApiError with the API's stable code
// and the field at fault, for a form to show next to that field.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/** Who is signed in, as GET /console/session answers. */
export interface Who {
  username: string;
  scope: 'admin' | 'read';
  token_id: string;
  csrf: string;
  expires_at: string;
  broker: { mqtt_port: number | null; mqtts_port: number | null; websocket_path: string; tls: boolean };
}

let csrf = '';
let onSignedOut: () => void = () => {};

/** Remember the session's CSRF value, and what to do when the session is gone (401). */
export function useSession(who: Who | null, signedOut: () => void): void {
  csrf = who?.csrf ?? '';
  onSignedOut = signedOut;
}

/**
 * The API's refusal of a request, from its JSON body; a 401 (the session ended: signed out
 * elsewhere, expired, its token revoked) also takes the console back to sign-in.
 */
export async function refusalOf(res: Response, path: string): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  const message = String(body.error_description ?? body.error ?? res.statusText);
  const code = typeof body.code === 'string' ? body.code : res.status === 401 ? 'UNAUTHORIZED' : `HTTP_${res.status}`;
  if (res.status === 401 && path !== '/console/session') onSignedOut();
  return new ApiError(res.status, code, message, typeof body.field === 'string' ? body.field : undefined);
}

/** Call the API; `signal` ends the request early (a long-poll left behind by its page). */
export async function api<T = unknown>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  const res = await fetch(path, init);
  if (!res.ok) throw await refusalOf(res, path);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T = unknown>(path: string, signal?: AbortSignal) => api<T>('GET', path, undefined, signal);
export const post = <T = unknown>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const put = <T = unknown>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T = unknown>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T = unknown>(path: string) => api<T>('DELETE', path);

/** A path segment, escaped. */
export const seg = (s: string) => encodeURIComponent(s);
