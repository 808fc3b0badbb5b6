// Request bins: what any client sent to `/bin/<name>`, kept for troubleshooting (the seeds
// send people to RequestBin and webhook.site; this is the same, built in). One bridge keeps
// them in memory (Bins); bridges sharing a PostgreSQL store keep them there (SharedBins), so
// every bridge shows the same bins. Either way they are bounded three ways: requests per bin,
// bins, and bytes across all bins.

import { isUtf8 } from 'node:buffer';
import { HookwireError } from '../errors.ts';
import type { BinRecord, BinRepo, JsonObject } from '../store/index.ts';

export interface BinOptions {
  /** Requests kept per bin; older ones are dropped. Default 100. */
  maxRequests: number;
  /**
   * Bins kept. A new one made with a token (PUT) drops the least recently used; the capture
   * URL, which needs no token, makes new ones only while there is room. Default 100.
   */
  maxBins: number;
  /** Body bytes kept per request; the rest is cut off and the request marked truncated. Default 100 KB. */
  maxBodyBytes: number;
  /** Bytes kept across all bins (bodies, headers, URLs); the least recently used bin's oldest requests go first. Default 32 MB. */
  maxTotalBytes: number;
  /** Longest long-poll wait, seconds. Default 25 (below common proxy idle timeouts of 30 s). */
  maxWaitSec: number;
}

export const binDefaults: BinOptions = {
  maxRequests: 100,
  maxBins: 100,
  maxBodyBytes: 100 * 1024, // 100 KB, as much as Particle keeps of a webhook response
  maxTotalBytes: 32 * 1024 * 1024, // 32 MB
  maxWaitSec: 25,
};

/** Bin names: safe in a URL path segment and in a shell. */
export const BIN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function checkBinName(name: string): string {
  if (!BIN_NAME.test(name)) {
    throw new HookwireError('BIN_NAME_INVALID', `bin name "${name.slice(0, 80)}" is invalid: use 1-64 characters of A-Z a-z 0-9 _ -`, { field: 'name' });
  }
  return name;
}

/** How a bin answers the requests it captures. */
export interface BinResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const DEFAULT_RESPONSE: BinResponse = { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"ok":true}' };

/** One captured request, as the API shows it. */
export interface CapturedRequest {
  /** Increasing across all bins (of every bridge sharing them): a watcher asks for what came `after` one. */
  id: number;
  received_at: string;
  method: string;
  /** The path as sent, without the query. */
  path: string;
  /** The query string as sent, without `?`; empty when there was none. */
  query_string: string;
  /** The query parsed; repeated names become arrays. */
  query: Record<string, string | string[]>;
  /** Header names in lowercase; repeated headers as Node joins them. */
  headers: Record<string, string | string[]>;
  /** The body as UTF-8 text when it is valid UTF-8, else base64. */
  body: string;
  body_encoding: 'utf8' | 'base64';
  /** The body's size as received, bytes (before any truncation). */
  body_bytes: number;
  /** The body was longer than maxBodyBytes: only its start is kept. */
  truncated: boolean;
  remote_address: string;
}

export interface Incoming {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | undefined;
  remoteAddress: string;
}

interface Bin {
  name: string;
  createdAt: string;
  lastAt: string | null;
  response: BinResponse;
  requests: CapturedRequest[];
  /** Sizes of `requests`, same order. */
  sizes: number[];
  bytes: number;
  /** Captured since creation (including those dropped or cleared). */
  total: number;
}

export interface BinSummary {
  name: string;
  created_at: string;
  last_request_at: string | null;
  count: number;
  total: number;
  response: BinResponse;
}

/** The longest prefix of `buf` no longer than `max` that does not cut a UTF-8 character. */
function utf8Prefix(buf: Buffer, max: number): Buffer {
  let end = Math.min(max, buf.length);
  // Step back over continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
  if (end < buf.length) while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

function bodyView(body: Buffer, maxBytes: number): Pick<CapturedRequest, 'body' | 'body_encoding' | 'body_bytes' | 'truncated'> {
  const truncated = body.length > maxBytes;
  if (isUtf8(body)) return { body: utf8Prefix(body, maxBytes).toString('utf8'), body_encoding: 'utf8', body_bytes: body.length, truncated };
  return { body: body.subarray(0, maxBytes).toString('base64'), body_encoding: 'base64', body_bytes: body.length, truncated };
}

function parseQuery(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** A request as kept, but for its ID. */
export function captured(incoming: Incoming, maxBodyBytes: number): Omit<CapturedRequest, 'id'> {
  const [path = '', queryString = ''] = splitUrl(incoming.url);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(incoming.headers)) if (v !== undefined) headers[k] = v;
  return {
    received_at: new Date().toISOString(),
    method: incoming.method,
    path,
    query_string: queryString,
    query: parseQuery(queryString),
    headers,
    ...bodyView(incoming.body ?? Buffer.alloc(0), maxBodyBytes),
    remote_address: incoming.remoteAddress,
  };
}

/** Rough memory held by a request: its strings (what dominates is the body). */
function sizeOf(r: Omit<CapturedRequest, 'id'>): number {
  let n = r.body.length + r.path.length + r.query_string.length * 2 + 200;
  for (const [k, v] of Object.entries(r.headers)) n += k.length + (Array.isArray(v) ? v.join('').length : v.length);
  return n;
}

type Waiter = () => void;
type Awaitable<T> = T | Promise<T>;

/** Where the API keeps bins: in memory (Bins), or in the store several bridges share (SharedBins). */
export interface BinKeeper {
  readonly options: BinOptions;
  /** The bin's answer, or undefined when the bin does not exist and there is no room for it. */
  capture(name: string, incoming: Incoming): Awaitable<BinResponse | undefined>;
  configure(name: string, response: BinResponse): Awaitable<BinSummary>;
  summary(name: string): Awaitable<BinSummary | undefined>;
  requests(name: string, after?: number): Awaitable<CapturedRequest[]>;
  list(): Awaitable<BinSummary[]>;
  clear(name: string): Awaitable<boolean>;
  wait(name: string, after: number, ms: number, signal?: AbortSignal): Promise<void>;
  close(): Awaitable<void>;
}

/** Long-polls waiting per bin name, woken all at once. */
class Waiters {
  private readonly waiting = new Map<string, Set<Waiter>>();

  /** Resolves when `name` is woken, after `ms`, or when `signal` aborts. */
  add(name: string, ms: number, signal?: AbortSignal): { woken: Promise<void>; done: () => void } {
    let set = this.waiting.get(name);
    if (!set) this.waiting.set(name, (set = new Set()));
    const waiters = set;
    let done!: () => void;
    const woken = new Promise<void>((resolve) => {
      done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(name) === waiters) this.waiting.delete(name);
        resolve();
      };
    });
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    waiters.add(done);
    return { woken, done };
  }

  wake(name: string): void {
    const set = this.waiting.get(name);
    if (set) for (const done of [...set]) done();
  }

  wakeAll(): void {
    for (const set of [...this.waiting.values()]) for (const done of [...set]) done();
  }
}

export class Bins implements BinKeeper {
  readonly options: BinOptions;
  /** In use order: least recently used first (a Map keeps insertion order; touching re-inserts). */
  private readonly bins = new Map<string, Bin>();
  private readonly waiters = new Waiters();
  private nextId = 1;
  private bytes = 0;

  constructor(options: Partial<BinOptions> = {}) {
    this.options = { ...binDefaults, ...options };
  }

  /**
   * Keep a request in bin `name`, made if need be while there is room: the capture URL needs
   * no token, so it may not push anyone's bin out (only PUT /v1/bins/:name, with a token, may).
   * Undefined when the bin does not exist and every slot is taken.
   */
  capture(name: string, incoming: Incoming): BinResponse | undefined {
    if (!this.bins.has(name) && this.bins.size >= this.options.maxBins) return undefined;
    const bin = this.touch(name);
    const request: CapturedRequest = { id: this.nextId++, ...captured(incoming, this.options.maxBodyBytes) };
    const size = sizeOf(request);
    bin.requests.push(request);
    bin.sizes.push(size);
    bin.bytes += size;
    this.bytes += size;
    bin.total++;
    bin.lastAt = request.received_at;
    while (bin.requests.length > this.options.maxRequests) this.dropOldest(bin);
    this.trimBytes(bin);
    this.wake(name);
    return bin.response;
  }

  /** Set how bin `name` answers (made if need be). */
  configure(name: string, response: BinResponse): BinSummary {
    const bin = this.touch(name);
    bin.response = response;
    return summary(bin);
  }

  has(name: string): boolean {
    return this.bins.has(name);
  }

  summary(name: string): BinSummary | undefined {
    const bin = this.bins.get(name);
    return bin && summary(bin);
  }

  /** Requests in bin `name` with an ID above `after`, oldest first. */
  requests(name: string, after = 0): CapturedRequest[] {
    const bin = this.bins.get(name);
    return bin ? bin.requests.filter((r) => r.id > after) : [];
  }

  /** All bins, most recently used first. */
  list(): BinSummary[] {
    return [...this.bins.values()].reverse().map(summary);
  }

  /** Forget bin `name`'s requests (its response stays); false when there is no such bin. */
  clear(name: string): boolean {
    const bin = this.bins.get(name);
    if (!bin) return false;
    this.bytes -= bin.bytes;
    bin.requests = [];
    bin.sizes = [];
    bin.bytes = 0;
    return true;
  }

  /**
   * Resolves when bin `name` has a request above `after`, after `ms`, or when `signal`
   * aborts (the client went away). The bin need not exist yet: a watcher may start first.
   */
  wait(name: string, after: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.requests(name, after).length > 0 || ms <= 0 || signal?.aborted) return Promise.resolve();
    return this.waiters.add(name, ms, signal).woken;
  }

  /** End every long-poll now (the server is closing). */
  close(): void {
    this.waiters.wakeAll();
  }

  /** Bytes held across all bins (for tests and the docs' bound). */
  get heldBytes(): number {
    return this.bytes;
  }

  private touch(name: string): Bin {
    let bin = this.bins.get(name);
    if (bin) {
      this.bins.delete(name);
    } else {
      bin = { name, createdAt: new Date().toISOString(), lastAt: null, response: DEFAULT_RESPONSE, requests: [], sizes: [], bytes: 0, total: 0 };
    }
    this.bins.set(name, bin);
    while (this.bins.size > this.options.maxBins) {
      const [oldest] = this.bins.values();
      this.bins.delete(oldest!.name);
      this.bytes -= oldest!.bytes;
    }
    return bin;
  }

  private dropOldest(bin: Bin): void {
    bin.requests.shift();
    const size = bin.sizes.shift() ?? 0;
    bin.bytes -= size;
    this.bytes -= size;
  }

  /** Over the byte budget: drop the oldest requests of the least recently used bins, never the one just kept. */
  private trimBytes(current: Bin): void {
    for (const bin of this.bins.values()) {
      if (this.bytes <= this.options.maxTotalBytes) return;
      const keep = bin === current ? 1 : 0;
      while (bin.requests.length > keep && this.bytes > this.options.maxTotalBytes) this.dropOldest(bin);
    }
  }

  private wake(name: string): void {
    this.waiters.wake(name);
  }
}

/**
 * Bins kept in the store several bridges share (HOOKWIRE_STORE=postgres://…): what one bridge
 * captures, any other shows; an answer set on one, all give; the bounds hold across all of
 * them. A capture on any bridge wakes the long-polls on every bridge (BinRepo.watch).
 */
export class SharedBins implements BinKeeper {
  readonly options: BinOptions;
  private readonly waiters = new Waiters();
  /** Listening for captures, from the first long-poll on. */
  private watching: Promise<() => Promise<void>> | undefined;

  constructor(private readonly repo: BinRepo, options: Partial<BinOptions> = {}) {
    this.options = { ...binDefaults, ...options };
  }

  async capture(name: string, incoming: Incoming): Promise<BinResponse | undefined> {
    const request = captured(incoming, this.options.maxBodyBytes);
    const kept = await this.repo.capture(name, { at: request.received_at, size: sizeOf(request), request }, this.options);
    return kept && responseOf(kept.response);
  }

  async configure(name: string, response: BinResponse): Promise<BinSummary> {
    return summaryOf(await this.repo.configure(name, response, this.options));
  }

  async summary(name: string): Promise<BinSummary | undefined> {
    const bin = await this.repo.get(name);
    return bin && summaryOf(bin);
  }

  async requests(name: string, after = 0): Promise<CapturedRequest[]> {
    return (await this.repo.requests(name, after)).map((r) => ({ ...(r.request as Omit<CapturedRequest, 'id'>), id: r.id }));
  }

  async list(): Promise<BinSummary[]> {
    return (await this.repo.list()).map(summaryOf);
  }

  clear(name: string): Promise<boolean> {
    return this.repo.clear(name);
  }

  async wait(name: string, after: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return;
    // Listening, and this waiter in place, before looking: a capture committed after the look is then heard.
    this.watching ??= this.repo.watch((bin) => this.waiters.wake(bin)).catch((err: unknown) => {
      this.watching = undefined; // the next long-poll tries again
      throw err;
    });
    await this.watching;
    const waiter = this.waiters.add(name, ms, signal);
    if ((await this.repo.requests(name, after)).length > 0) waiter.done();
    return waiter.woken;
  }

  async close(): Promise<void> {
    this.waiters.wakeAll();
    const stop = this.watching;
    this.watching = undefined;
    if (stop) await (await stop)().catch(() => {});
  }
}

function responseOf(stored: JsonObject | null): BinResponse {
  return stored ? (stored as BinResponse) : DEFAULT_RESPONSE;
}

function summaryOf(bin: BinRecord): BinSummary {
  return { name: bin.name, created_at: bin.createdAt, last_request_at: bin.lastRequestAt, count: bin.count, total: bin.total, response: responseOf(bin.response) };
}

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?');
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
}

function summary(bin: Bin): BinSummary {
  return { name: bin.name, created_at: bin.createdAt, last_request_at: bin.lastAt, count: bin.requests.length, total: bin.total, response: bin.response };
}
