// Send: one HTTP request through undici (a pool per origin, bounded connections), the
// response read up to a cap, every failure classified with a stable code.

import { Agent, type Dispatcher } from 'undici';
import type { OutgoingRequest } from './render.ts';
import { isTlsCode, type Failure } from '../codes.ts';

export interface SendOptions {
  /** No connection, or no response, within this many ms is a failure. Default 20 s, as Particle. */
  timeoutMs: number;
  /** Most of a response body that is read, bytes. Default 100 KB, as Particle. */
  maxResponseBytes: number;
  /** Connections per origin. */
  connectionsPerOrigin: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** The body was longer than maxResponseBytes and was cut there. */
  truncated: boolean;
}

/** Why a request failed. `code` is stable: an HTTP status, or a network or TLS error code. */
export type SendFailure = Failure;

export type SendResult = { ok: true; response: HttpResponse } | { ok: false; response?: HttpResponse; failure: SendFailure };

/** A network-level failure, as the codes Particle shows (PARTICLE.md §4). */
export function classifyError(err: unknown, host: string): SendFailure {
  let e = err as (Error & { code?: string; cause?: unknown }) | undefined;
  // undici may wrap the socket's error.
  while (e && !e.code && e.cause) e = e.cause as typeof e;
  const raw = e?.code ?? (e?.name === 'AbortError' || e?.name === 'TimeoutError' ? 'UND_ERR_BODY_TIMEOUT' : undefined);
  const detail = e?.message ?? String(err);
  switch (raw) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return { code: 'ETIMEDOUT', message: `ETIMEDOUT: ${host} did not accept the connection in time` };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { code: 'ESOCKETTIMEDOUT', message: `ESOCKETTIMEDOUT: ${host} accepted the connection but did not answer in time` };
    case 'ECONNREFUSED':
      return { code: 'ECONNREFUSED', message: `ECONNREFUSED: ${host} refused the connection` };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return { code: 'ECONNRESET', message: `read ECONNRESET: ${host} closed the connection abruptly` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return { code: 'ENOTFOUND', message: `ENOTFOUND: ${host} could not be resolved` };
  }
  if (raw && isTlsCode(raw)) return { code: raw, message: `TLS error from ${host}: ${detail}` };
  // EHOSTUNREACH, ENETUNREACH are codes of their own; anything else is named in the message.
  const code = raw === 'EHOSTUNREACH' || raw === 'ENETUNREACH' ? raw : 'EREQUEST';
  return { code, message: `request to ${host} failed: ${raw && code === 'EREQUEST' ? `${raw} ` : ''}${detail}` };
}

function headerRecord(headers: Dispatcher.ResponseData['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}

export interface Sender {
  send(request: OutgoingRequest, rejectUnauthorized: boolean): Promise<SendResult>;
  close(): Promise<void>;
}

export function createSender(options: SendOptions): Sender {
  const agentOptions = (rejectUnauthorized: boolean) => new Agent({
    connections: options.connectionsPerOrigin,
    connect: { timeout: options.timeoutMs, rejectUnauthorized },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 30_000,
  });
  // One agent per TLS policy; each keeps a pool per origin.
  const verifying = agentOptions(true);
  let lenient: Agent | undefined;

  /**
   * Read a body up to maxResponseBytes. undici's bodyTimeout catches a body that stalls; the
   * deadline, checked as each chunk arrives, catches one that trickles a byte at a time so it
   * never stalls for long, without a timer per request.
   */
  async function readBody(res: Dispatcher.ResponseData, deadline: number): Promise<{ body: Buffer; truncated: boolean }> {
    const length = Number(res.headers['content-length']);
    // Most answers are small and say so: take them whole.
    if (length <= options.maxResponseBytes) return { body: Buffer.from(await res.body.arrayBuffer()), truncated: false };
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (performance.now() > deadline) {
        res.body.destroy();
        throw Object.assign(new Error('response body too slow'), { code: 'UND_ERR_BODY_TIMEOUT' });
      }
      if (size + chunk.length > options.maxResponseBytes) {
        chunks.push(chunk.subarray(0, options.maxResponseBytes - size));
        size = options.maxResponseBytes;
        // The rest is not read: close the connection rather than drain an endless body.
        res.body.destroy();
        return { body: Buffer.concat(chunks, size), truncated: true };
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    return { body: Buffer.concat(chunks, size), truncated: false };
  }

  return {
    async send(request, rejectUnauthorized) {
      const host = request.origin.slice(request.origin.indexOf('//') + 2);
      const agent = rejectUnauthorized ? verifying : (lenient ??= agentOptions(false));
      let res: Dispatcher.ResponseData;
      try {
        res = await agent.request({
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers,
          body: request.body,
        });
      } catch (err) {
        return { ok: false, failure: classifyError(err, host) };
      }
      let read: { body: Buffer; truncated: boolean };
      try {
        read = await readBody(res, performance.now() + options.timeoutMs); // the whole body within the timeout
      } catch (err) {
        return { ok: false, failure: classifyError(err, host) };
      }
      const response: HttpResponse = { status: res.statusCode, headers: headerRecord(res.headers), ...read };
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, response };
      return { ok: false, response, failure: { code: `${res.statusCode}`, message: `error status ${res.statusCode} from ${host}` } };
    },
    /**
     * Abort whatever is still in flight: a host that hangs must not hold up a shutdown. The
     * deliveries are durable, so the next start runs them again.
     */
    async close() {
      await Promise.all([verifying.destroy(), lenient?.destroy()]);
    },
  };
}
