// Send: one HTTP request through undici (a pool per origin, bounded connections), the
// response read up to a cap, every failure classified with a stable code.
//
// Two guarantees hold for every attempt, whatever the target does:
//   - one deadline (20 s by default) covers connecting, the headers and the whole body: a
//     target that announces 1000 bytes and sends one a second fails at the deadline, not
//     after 1000 s. One timer sweeps every exchange in flight, rather than a timer each.
//   - every connection goes through the egress policy (egress.ts): the address connected to
//     is checked, whatever the URL spelled. Requests to request-bin paths (/bin/...) use
//     their own connections, the only ones that may reach the bridge's own API.

import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import type { OutgoingRequest } from './render.ts';
import { isTlsCode, type Failure } from '../codes.ts';
import { EgressDeniedError, EgressPolicy, egressDefaults, type EgressRules, type ListenAddress, type Resolve } from './egress.ts';

export interface SendOptions {
  /** No connection, or no whole response, within this many ms is a failure. Default 20 s, as Particle. */
  timeoutMs: number;
  /** Most of a response body that is read, bytes. Default 100 KB, as Particle. */
  maxResponseBytes: number;
  /** Connections per origin. */
  connectionsPerOrigin: number;
  /** Where webhooks may connect. Default: the built-in denies only. */
  egress?: EgressRules;
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
    case 'EGRESS_DENIED':
      // The address is not named: it may be what a private name resolves to.
      return { code: 'EGRESS_DENIED', message: `EGRESS_DENIED: ${host} is refused by the egress policy (${(e as EgressDeniedError).reason})` };
    case 'UND_ERR_INVALID_ARG':
      // undici refused to write the request: what the template rendered is not valid HTTP.
      return { code: 'TEMPLATE_INVALID', message: `template error: the rendered request is not valid HTTP (${detail})` };
  }
  if (raw && isTlsCode(raw)) return { code: raw, message: `TLS error from ${host}: ${detail}` };
  // EHOSTUNREACH, ENETUNREACH are codes of their own; anything else is named in the message.
  const code = raw === 'EHOSTUNREACH' || raw === 'ENETUNREACH' ? raw : 'EREQUEST';
  return { code, message: `request to ${host} failed: ${raw && code === 'EREQUEST' ? `${raw} ` : ''}${detail}` };
}

function headerRecord(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}

export interface Sender {
  send(request: OutgoingRequest, rejectUnauthorized: boolean): Promise<SendResult>;
  /** The bridge's own API listens here: connections to it are refused, except for request-bin paths. */
  addOwnApi(listening: ListenAddress[]): void;
  close(): Promise<void>;
}

/** Why an exchange was cut short on purpose (its error is then ignored). */
const CUT = Object.assign(new Error('response cut at the size limit'), { code: 'HOOKWIRE_CUT' });
const EXPIRED = Object.assign(new Error('attempt deadline passed'), { code: 'UND_ERR_BODY_TIMEOUT' });

/**
 * One request and its response, as undici's dispatch handler: the body kept up to a cap,
 * the outcome settled exactly once (by the response, an error, or the deadline).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  done = false;

  constructor(
    readonly deadline: number,
    private readonly host: string,
    private readonly maxBytes: number,
    private readonly settle: (result: SendResult) => void,
  ) {}

  /** Connected, the request going out: from here a timeout is the target's silence. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.done) controller.abort(EXPIRED);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.headers = headerRecord(headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    if (this.size + chunk.length > this.maxBytes) {
      this.chunks.push(chunk.subarray(0, this.maxBytes - this.size));
      this.size = this.maxBytes;
      this.finish(true);
      // The rest is not read: close the connection rather than drain an endless body.
      controller.abort(CUT);
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.finish(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.done) return;
    this.done = true;
    this.settle({ ok: false, failure: classifyError(err, this.host) });
  }

  /** The deadline passed: not connected yet is ETIMEDOUT, connected is ESOCKETTIMEDOUT. */
  expire(): void {
    if (this.done) return;
    this.done = true;
    const code = this.controller ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_CONNECT_TIMEOUT';
    this.settle({ ok: false, failure: classifyError({ code }, this.host) });
    this.controller?.abort(EXPIRED);
  }

  private finish(truncated: boolean): void {
    if (this.done) return;
    this.done = true;
    const response: HttpResponse = { status: this.status, headers: this.headers, body: Buffer.concat(this.chunks, this.size), truncated };
    this.chunks = [];
    if (this.status >= 200 && this.status < 300) this.settle({ ok: true, response });
    else this.settle({ ok: false, response, failure: { code: `${this.status}`, message: `error status ${this.status} from ${this.host}` } });
  }
}

/**
 * The deadlines of the exchanges in flight, swept by one timer that runs only while there
 * are some. Every attempt has the same timeout, so a tick of 1/40 of it is precise enough.
 */
class Deadlines {
  private readonly live = new Set<Exchange>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(timeoutMs: number) {
    this.tickMs = Math.min(500, Math.max(5, timeoutMs / 40));
  }

  add(x: Exchange): void {
    this.live.add(x);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
  }

  delete(x: Exchange): void {
    this.live.delete(x);
    if (this.live.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const x of this.live) if (now >= x.deadline) x.expire();
  }
}

type Connector = buildConnector.connector;

/** undici's connector with every connection checked against the egress policy. */
function guardedConnector(policy: EgressPolicy, toRequestBin: boolean, options: buildConnector.BuildOptions): Connector {
  const connect = buildConnector({ ...options, lookup: policy.lookup });
  return (opts, callback) => {
    const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    // An IP literal is never looked up: check it before connecting.
    const before = isIP(host) ? policy.refusal(host, port, toRequestBin) : undefined;
    if (before) return callback(new EgressDeniedError(before), null);
    connect(opts, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('no socket'), null);
      // The address actually connected to: the last word, whatever path led here.
      const address = socket.remoteAddress;
      if (address === undefined) {
        socket.destroy();
        return callback(Object.assign(new Error('the connection closed before it could be checked'), { code: 'ECONNRESET' }), null);
      }
      const after = policy.refusal(address, socket.remotePort, toRequestBin);
      if (after) {
        socket.destroy();
        return callback(new EgressDeniedError(after), null);
      }
      callback(null, socket);
    });
  };
}

/** Request-bin paths on any host: the one exception to the bridge's own API being refused. */
const isRequestBinPath = (path: string) => path.startsWith('/bin/');

/** What a test may replace: the DNS resolver behind the egress policy's lookup. */
export interface SendSeams {
  resolve?: Resolve;
}

export function createSender(options: SendOptions, seams: SendSeams = {}): Sender {
  const policy = new EgressPolicy(options.egress ?? egressDefaults, seams.resolve);
  const deadlines = new Deadlines(options.timeoutMs);
  // One agent per TLS policy and per kind of path (request bin or not); each keeps a pool per origin.
  const agents = new Map<string, Agent>();
  const agentFor = (rejectUnauthorized: boolean, toRequestBin: boolean): Agent => {
    const key = `${rejectUnauthorized}${toRequestBin}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({
        connections: options.connectionsPerOrigin,
        connect: guardedConnector(policy, toRequestBin, { timeout: options.timeoutMs, rejectUnauthorized }),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        keepAliveTimeout: 30_000,
      });
      agents.set(key, agent);
    }
    return agent;
  };

  return {
    send(request, rejectUnauthorized) {
      const host = request.origin.slice(request.origin.indexOf('//') + 2);
      const agent = agentFor(rejectUnauthorized, isRequestBinPath(request.path));
      return new Promise<SendResult>((resolve) => {
        const exchange = new Exchange(performance.now() + options.timeoutMs, host, options.maxResponseBytes, (result) => {
          deadlines.delete(exchange);
          resolve(result);
        });
        deadlines.add(exchange);
        const dispatch: Dispatcher.DispatchOptions = { origin: request.origin, path: request.path, method: request.method, headers: request.headers };
        if (request.body !== undefined) dispatch.body = request.body;
        try {
          agent.dispatch(dispatch, exchange);
        } catch (err) {
          exchange.onResponseError(undefined, err as Error);
        }
      });
    },
    addOwnApi: (listening) => policy.addOwnApi(listening),
    /**
     * Abort whatever is still in flight: a host that hangs must not hold up a shutdown. The
     * deliveries are durable, so the next start runs them again.
     */
    async close() {
      await Promise.all([...agents.values()].map((a) => a.destroy()));
    },
  };
}
