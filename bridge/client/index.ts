// The API client every client of the bridge shares (the CLI, the simulator): the bridge at
// HOOKWIRE_URL, else the one running on HOOKWIRE_DATA_DIR (default ./data; its bridge.json),
// else http://127.0.0.1:8080 (locate.ts), reached with HOOKWIRE_TOKEN, else the admin token
// file in that data directory. For a bridge with a certificate from a private CA (or
// self-signed), HOOKWIRE_CA names the CA's PEM file; without it, Node's trusted roots verify
// the bridge, as for any https:// URL. Verification is never switched off.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, fetch, type Response } from 'undici';
import { ADMIN_TOKEN_FILE } from '../admin-token.ts';
import { isTlsCode } from '../codes.ts';
import { locateBridge, type UrlSource } from './locate.ts';

export { locateBridge, type BridgeLocation, type UrlSource } from './locate.ts';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/** One Server-Sent Events message: its `event:` name and its `data:` lines joined. */
export interface SseMessage {
  event: string;
  data: string;
}

export interface StreamOptions {
  /** Called once the bridge has accepted the stream. */
  onOpen?: () => void;
  /** Give up (reject with STREAM_IDLE) after this many ms without a byte, keep-alives included. */
  idleMs?: number;
}

export interface ApiClient {
  baseUrl: string;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /**
   * Read a Server-Sent Events stream, calling `onMessage` for each message (comments and
   * keep-alives are skipped). Resolves when the bridge ends the stream or `signal` aborts;
   * rejects with an ApiError when the bridge refuses it or cannot be reached.
   */
  stream(path: string, onMessage: (message: SseMessage) => void, signal: AbortSignal, options?: StreamOptions): Promise<void>;
}

/**
 * An SSE parser (WHATWG HTML §9.2.6, the parts a stream of named events needs): lines end
 * with LF, CR or CRLF; `field: value` (one optional space after the colon); a line starting
 * with `:` is a comment; a blank line ends a message.
 */
export function sseParser(onMessage: (message: SseMessage) => void): (text: string) => void {
  let buffered = '';
  let event = '';
  let data: string[] = [];
  const line = (l: string) => {
    if (l === '') {
      if (data.length) onMessage({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  let endedWithCR = false;
  return (chunk) => {
    // A CRLF split across two chunks: the CR ended the line, so the LF must not end another.
    const text = endedWithCR && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    endedWithCR = text.endsWith('\r');
    const lines = (buffered + text).split(/\r\n|\r|\n/);
    buffered = lines.pop()!;
    for (const l of lines) line(l);
  };
}

export function findToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.HOOKWIRE_TOKEN) return env.HOOKWIRE_TOKEN;
  try {
    return readFileSync(join(resolve(env.HOOKWIRE_DATA_DIR || './data'), ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A dispatcher that trusts the CA in `path` (HOOKWIRE_CA), or undefined for Node's trusted roots. */
function trusting(path: string | undefined): Agent | undefined {
  if (!path) return undefined;
  let ca: Buffer;
  try {
    ca = readFileSync(resolve(path));
  } catch (err) {
    throw new ApiError(0, 'CA_UNREADABLE', `cannot read the CA file ${path} (HOOKWIRE_CA or --ca): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return new Agent({ connect: { ca } });
}

/**
 * A failure to reach the bridge as an ApiError: a certificate that cannot be verified keeps
 * Node's TLS code (what to fix differs from "is it running?").
 */
function unreachable(baseUrl: string, from: UrlSource, err: unknown): ApiError {
  const cause = (err as Error & { cause?: Error & { code?: unknown } }).cause;
  const detail = cause?.message ?? (err as Error).message;
  if (typeof cause?.code === 'string' && isTlsCode(cause.code)) {
    return new ApiError(0, cause.code, `cannot verify the bridge's certificate at ${baseUrl} (${detail}); if a private CA signed it, set HOOKWIRE_CA (or --ca) to the CA's PEM file`);
  }
  const where = from === 'default' ? 'the default address; no bridge.json in the data directory' : from;
  return new ApiError(0, 'UNREACHABLE', `cannot reach the bridge at ${baseUrl} (${where}): ${detail}; is it running? set HOOKWIRE_URL if it is elsewhere`);
}

/** The body of an answer, parsed; something that does not answer in JSON is not a bridge. */
async function answerOf(res: Response, baseUrl: string): Promise<any> {
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  if (text && !type.includes('json')) {
    throw new ApiError(res.status, 'NOT_HOOKWIRE', `${baseUrl} answered HTTP ${res.status} (${type.split(';')[0] || 'no content type'}), not as a Hookwire bridge does: is HOOKWIRE_URL (or the port) right?`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** An answer that is not 2xx, as an ApiError with the bridge's code and message. */
function refusal(res: Response, json: { code?: string; error?: string; error_description?: string; field?: string } | undefined, tokenHint: string | undefined): ApiError {
  const message = json?.error_description ?? json?.error ?? res.statusText;
  return new ApiError(res.status, json?.code ?? json?.error ?? `HTTP_${res.status}`, res.status === 401 && tokenHint ? `${message} ${tokenHint}` : message, json?.field);
}

export function apiClient(env: NodeJS.ProcessEnv = process.env): ApiClient {
  const where = locateBridge(env);
  const baseUrl = where.http;
  const token = findToken(env);
  // A bridge that refuses the admin token from the data directory may be another bridge.
  const tokenHint = env.HOOKWIRE_TOKEN || where.httpFrom === 'bridge.json' ? undefined
    : `(the admin token of ${where.dataDir}; is ${baseUrl} the bridge that uses that data directory? set HOOKWIRE_DATA_DIR to its directory, or HOOKWIRE_TOKEN)`;
  const dispatcher = trusting(env.HOOKWIRE_CA);
  const via = dispatcher ? { dispatcher } : {};
  return {
    baseUrl,
    async stream(path, onMessage, signal, options = {}) {
      if (!token) throw new ApiError(0, 'UNAUTHORIZED', 'no API token: set HOOKWIRE_TOKEN or HOOKWIRE_DATA_DIR (the bridge writes admin-token there on first start)');
      // Our own controller, so an idle stream can be cut without touching the caller's signal.
      const controller = new AbortController();
      const abort = () => controller.abort();
      signal.addEventListener('abort', abort, { once: true });
      let idle = false;
      let timer: NodeJS.Timeout | undefined;
      const touch = () => {
        if (!options.idleMs) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          idle = true;
          controller.abort();
        }, options.idleMs);
      };
      try {
        touch();
        let res: Response;
        try {
          res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal, ...via });
        } catch (err) {
          if (signal.aborted) return;
          if (idle) throw new ApiError(0, 'STREAM_IDLE', `no answer from ${baseUrl} within ${options.idleMs} ms`);
          throw unreachable(baseUrl, where.httpFrom, err);
        }
        if (!res.ok) throw refusal(res, await answerOf(res, baseUrl), tokenHint);
        options.onOpen?.();
        const parse = sseParser(onMessage);
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            touch();
            parse(decoder.decode(chunk, { stream: true }));
          }
        } catch (err) {
          if (signal.aborted) return;
          if (idle) throw new ApiError(0, 'STREAM_IDLE', `nothing from ${baseUrl} for ${options.idleMs} ms (not even a keep-alive)`);
          throw unreachable(baseUrl, where.httpFrom, err);
        }
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
      }
    },
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      if (!token) throw new ApiError(0, 'UNAUTHORIZED', 'no API token: set HOOKWIRE_TOKEN or HOOKWIRE_DATA_DIR (the bridge writes admin-token there on first start)');
      let res: Response;
      try {
        res = await fetch(baseUrl + path, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          ...via,
        });
      } catch (err) {
        throw unreachable(baseUrl, where.httpFrom, err);
      }
      const json = await answerOf(res, baseUrl);
      if (!res.ok) throw refusal(res, json, tokenHint);
      return json as T;
    },
  };
}
