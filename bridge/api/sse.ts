// Event streams: Server-Sent Events in Particle's wire format (PARTICLE.md §6), fanned out
// from one event-bus listener to every open stream.
//
//   :ok                                   once, on open
//   event: temp                           per event: its name,
//   data: {"data":"72","ttl":60,"published_at":"...","coreid":"..."}   its fields as JSON,
//                                         and a blank line
//   :keepalive                            every keepAliveMs, to every stream
//
// A reader that stops reading is cut off once its unsent bytes pass maxBufferedBytes, so it
// costs the bridge a bounded amount of memory and nobody else anything.
//
// Bridges sharing a broker (HOOKWIRE_REDIS) stream every event, whichever bridge accepted it:
// while a stream is open here, the broker puts the other bridges' events on the bus as
// 'event:elsewhere', and a stream shows them as its own bridge's, filtered the same way. The
// first stream's `:ok` waits until they flow, so a reader that has it misses none.

import type { ServerResponse } from 'node:http';
import type { EventBus, HookwireEvent } from '../events/index.ts';
import type { Logger } from '../log.ts';

export interface StreamFilter {
  /** Particle's case-sensitive string prefix on the event name; '' for every event. */
  prefix: string;
  /** Only events published by this device (its coreid). */
  coreid?: string;
  /** Only events of this product. */
  productId?: number;
}

/** The other bridges' events (the broker, when bridges share it). */
export interface ClusterEvents {
  /** Start following them; `ready` resolves once they flow, when they do not yet. */
  follow(): { ready?: Promise<void> | undefined; stop(): void };
}

export interface StreamOptions {
  /** Interval between keep-alive comments, ms (config sseKeepAliveMs). */
  keepAliveMs: number;
  /** Unsent bytes a stream may hold before it is cut off (config sseMaxBufferedBytes). */
  maxBufferedBytes: number;
}

interface Stream {
  res: ServerResponse;
  filter: StreamFilter;
  remote: string | undefined;
  /** The API token that opened it: revoking the token ends the stream. */
  tokenId: string;
  /** The console session that opened it, if one did: signing out ends the stream. */
  session: string | undefined;
}

const HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  connection: 'keep-alive',
  'x-accel-buffering': 'no', // a proxy (nginx) in front must not hold events back
};
const OPEN = Buffer.from(':ok\n\n');
const KEEPALIVE = Buffer.from(':keepalive\n\n');
/** Particle: `ttl` exists but is not implemented; streams always show 60. */
const TTL = 60;

/** An event as one SSE frame. Names never hold CR or LF (they would end the frame early). */
export function frameOf(event: HookwireEvent): Buffer {
  const name = /[\r\n]/.test(event.name) ? event.name.replace(/[\r\n]/g, '') : event.name;
  const data = JSON.stringify({ data: event.data, ttl: TTL, published_at: event.published_at, coreid: event.coreid });
  return Buffer.from(`event: ${name}\ndata: ${data}\n\n`);
}

function matches(filter: StreamFilter, event: HookwireEvent): boolean {
  return event.name.startsWith(filter.prefix) &&
    (filter.coreid === undefined || event.coreid === filter.coreid) &&
    (filter.productId === undefined || event.product_id === filter.productId);
}

export class EventStreams {
  private readonly streams = new Set<Stream>();
  private keepAlive: NodeJS.Timeout | undefined;
  private following: ReturnType<ClusterEvents['follow']> | undefined;
  private readonly log: Logger;
  private readonly onEvent = (event: HookwireEvent) => this.fanOut(event);
  private readonly onRevoked = (tokenId: string) => this.endWhere((s) => s.tokenId === tokenId, 'API token revoked');
  private readonly onSignOut = (session: string) => this.endWhere((s) => s.session === session, 'console signed out');

  constructor(private readonly bus: EventBus, private readonly options: StreamOptions, logger: Logger, private readonly cluster?: ClusterEvents) {
    // The API's logger as it is: a child with a component of its own would write that key twice.
    this.log = logger;
    bus.on('token:revoked', this.onRevoked);
    bus.on('session:ended', this.onSignOut);
  }

  /** Start a stream on a response nobody else writes to (a hijacked fastify reply). */
  open(res: ServerResponse, filter: StreamFilter, owner: { tokenId: string; session?: string | undefined }): void {
    const stream: Stream = { res, filter, remote: res.socket?.remoteAddress, tokenId: owner.tokenId, session: owner.session };
    res.socket?.setNoDelay(true); // frames are small and should go out as they happen
    res.on('error', () => {}); // a reader gone mid-write; 'close' cleans up
    res.once('close', () => this.remove(stream));
    res.writeHead(200, HEADERS);
    if (this.streams.size === 0) this.start();
    this.streams.add(stream);
    this.log.debug({ remote: stream.remote, prefix: filter.prefix, coreid: filter.coreid, productId: filter.productId, streams: this.streams.size }, 'event stream opened');
    const ready = this.following?.ready;
    if (!ready) return this.write(stream, OPEN);
    ready.then(() => {
      if (this.streams.has(stream)) this.write(stream, OPEN);
    }, () => {});
  }

  /** End the streams a revoked token or an ended session opened. */
  private endWhere(opened: (stream: Stream) => boolean, why: string): void {
    for (const stream of [...this.streams]) {
      if (!opened(stream)) continue;
      this.log.info({ remote: stream.remote, tokenId: stream.tokenId }, `${why}: event stream closed`);
      this.remove(stream);
      stream.res.end();
    }
  }

  /** End every stream (the API is closing). */
  closeAll(): void {
    this.bus.off('token:revoked', this.onRevoked);
    this.bus.off('session:ended', this.onSignOut);
    for (const stream of [...this.streams]) {
      this.remove(stream);
      stream.res.end();
    }
  }

  /** The bus listeners, the keep-alive timer and following the other bridges exist only while someone watches. */
  private start(): void {
    this.bus.on('event', this.onEvent);
    this.bus.on('event:elsewhere', this.onEvent);
    this.following = this.cluster?.follow();
    this.keepAlive = setInterval(() => {
      for (const stream of this.streams) this.write(stream, KEEPALIVE);
    }, this.options.keepAliveMs);
    this.keepAlive.unref();
  }

  private stop(): void {
    this.bus.off('event', this.onEvent);
    this.bus.off('event:elsewhere', this.onEvent);
    this.following?.stop();
    this.following = undefined;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private remove(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    if (this.streams.size === 0) this.stop();
    this.log.debug({ remote: stream.remote, streams: this.streams.size }, 'event stream closed');
  }

  /** One frame per event, encoded once, written to every stream that wants it. */
  private fanOut(event: HookwireEvent): void {
    let frame: Buffer | undefined;
    for (const stream of this.streams) {
      if (!matches(stream.filter, event)) continue;
      frame ??= frameOf(event);
      this.write(stream, frame);
    }
  }

  private write(stream: Stream, chunk: Buffer): void {
    stream.res.write(chunk);
    const behind = stream.res.writableLength;
    if (behind > this.options.maxBufferedBytes) this.drop(stream, behind);
  }

  /** A reader that does not keep up: cut it off rather than buffer without bound. */
  private drop(stream: Stream, behind: number): void {
    this.remove(stream);
    this.log.warn({ code: 'SSE_SLOW_READER', remote: stream.remote, bufferedBytes: behind, limit: this.options.maxBufferedBytes },
      'event stream reader too slow: disconnected');
    stream.res.destroy();
  }
}
