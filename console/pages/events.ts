// Events: the live stream in Particle's frames, filtered by a name prefix and a device (both
// kept in the URL, so a filtered view can be shared), with pause, clear, and each event's data
// as pretty JSON in a detail panel.
//
// Built to keep up with 1,000 events/s: frames are parsed as they arrive but shown at most
// once per animation frame, only the last KEEP events are kept, and only the rows in view are
// in the DOM (every row has the same height, so the list can place them by arithmetic).

import './events.css';
import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, get, refusalOf, seg } from '../api.ts';
import { setQuery, useLocation } from '../router.ts';
import { ErrorNote, Page, fmt, prettyData, useLoad } from '../ui.ts';
import type { Device } from './devices.ts';

/** Events kept on the page (shown, and held while paused); older ones are dropped. */
export const KEEP = 5000;
/** Waits before reconnecting, seconds, as `hookwire subscribe`: 1, 2, 4, 8, then 15. */
const RECONNECT_SEC = [1, 2, 4, 8, 15];
/** Keep-alives come every 9 s; this long without a byte means the stream is gone. */
const SILENCE_MS = 30_000;
/** Rows drawn beyond each edge of the view, so a quick scroll shows no gap. */
const OVERSCAN = 8;
/** Row heights, px: one line on a wide screen, two on a phone (events.css sets the same). */
const ROW_HEIGHT = { wide: 34, narrow: 54 };
const NARROW = '(max-width: 640px)';

/** One event as the stream frames it, numbered in the order it reached the page. */
export interface StreamEvent {
  seq: number;
  name: string;
  data: string;
  ttl: number;
  published_at: string;
  coreid: string;
}

type StreamState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; inSec: number; why: string }
  | { kind: 'refused'; error: Error };

// ---------------------------------------------------------------------------------------
// The stream

/**
 * Server-Sent Events out of text chunks: `event:` and `data:` lines, a blank line ends a
 * frame, `:` lines are comments (`:ok`, `:keepalive`). The browser's EventSource cannot be
 * used: it hands a named event only to a listener for that name, and names are open-ended.
 */
class FrameParser {
  private rest = '';
  private name = '';
  private data: string[] = [];

  constructor(private readonly onFrame: (name: string, data: string) => void) {}

  push(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop()!;
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') this.dispatch();
      else if (line.startsWith(':')) continue;
      else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
        if (field === 'event') this.name = value;
        else if (field === 'data') this.data.push(value);
      }
    }
  }

  private dispatch(): void {
    if (this.data.length > 0) this.onFrame(this.name, this.data.join('\n'));
    this.name = '';
    this.data = [];
  }
}

/**
 * One event stream, read with fetch (the session cookie signs it in) and reopened when it
 * drops or falls silent. A refusal (a 4xx: signed out, an unknown device) is not retried.
 */
class EventStream {
  private stopped = false;
  private request: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly onEvent: (event: Omit<StreamEvent, 'seq'>) => void,
    private readonly onState: (state: StreamState) => void,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.request?.abort();
    this.wake?.();
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      let why: string;
      try {
        const refusal = await this.read(() => (attempt = 0));
        if (refusal) return this.onState({ kind: 'refused', error: refusal });
        why = 'the stream ended';
      } catch (err) {
        if (this.stopped) return;
        why = (err as Error).name === 'AbortError' ? `nothing heard for ${SILENCE_MS / 1000} s` : 'the connection was lost';
      }
      const inSec = RECONNECT_SEC[Math.min(attempt, RECONNECT_SEC.length - 1)]!;
      this.onState({ kind: 'reconnecting', inSec, why });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, inSec * 1000);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /** Read the stream until it ends; a refusal is returned, a broken connection thrown. */
  private async read(opened: () => void): Promise<ApiError | undefined> {
    if (this.stopped) return undefined;
    this.onState({ kind: 'connecting' });
    const request = (this.request = new AbortController());
    let silence = setTimeout(() => request.abort(), SILENCE_MS);
    try {
      const res = await fetch(this.url, { headers: { accept: 'text/event-stream' }, credentials: 'same-origin', cache: 'no-store', signal: request.signal });
      if (res.status >= 400 && res.status < 500) return await refusalOf(res, this.url);
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      opened();
      this.onState({ kind: 'live' });
      const parser = new FrameParser((name, data) => this.frame(name, data));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        clearTimeout(silence);
        silence = setTimeout(() => request.abort(), SILENCE_MS);
        parser.push(value);
      }
    } finally {
      clearTimeout(silence);
    }
  }

  private frame(name: string, data: string): void {
    try {
      const fields = JSON.parse(data) as { data?: unknown; ttl?: unknown; published_at?: unknown; coreid?: unknown };
      this.onEvent({
        name,
        data: typeof fields.data === 'string' ? fields.data : '',
        ttl: typeof fields.ttl === 'number' ? fields.ttl : 60,
        published_at: String(fields.published_at ?? ''),
        coreid: String(fields.coreid ?? ''),
      });
    } catch {
      // Not a frame of Particle's shape: nothing to show.
    }
  }
}

// ---------------------------------------------------------------------------------------
// What the page keeps

/** Append `items` to `list`, keeping only the last `max`. */
function appendBounded<T>(list: T[], items: T[], max: number): void {
  for (const item of items) list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/**
 * The events on the page. Arrivals wait in `pending` and are taken in once per animation
 * frame, so 1,000 events a second cost 60 renders, not 1,000. While paused they are held
 * and counted instead of shown, so nothing is lost silently.
 */
class EventLog {
  /** Shown, oldest first; at most KEEP. */
  readonly shown: StreamEvent[] = [];
  /** Arrived while paused, oldest first; at most KEEP. */
  held: StreamEvent[] = [];
  /** Arrived while paused, including any dropped from `held`. */
  heldCount = 0;
  /** Every event that reached the page. */
  received = 0;
  paused = false;
  /** Rows the last change added at the top: a list scrolled away from the top moves by as much to stay still. */
  added = 0;
  private pending: StreamEvent[] = [];
  private frame = 0;

  constructor(private readonly changed: () => void) {}

  add(event: Omit<StreamEvent, 'seq'>): void {
    this.pending.push({ ...event, seq: ++this.received });
    // A hidden tab gets no animation frames: keep what waits bounded too.
    if (this.pending.length > 2 * KEEP) this.pending.splice(0, this.pending.length - KEEP);
    this.frame ||= requestAnimationFrame(this.flush);
  }

  private readonly flush = () => {
    this.frame = 0;
    const batch = this.pending;
    this.pending = [];
    if (this.paused) {
      appendBounded(this.held, batch, KEEP);
      this.heldCount += batch.length;
    } else {
      appendBounded(this.shown, batch, KEEP);
      this.added += batch.length;
    }
    this.changed();
  };

  pause(): void {
    this.paused = true;
    this.changed();
  }

  resume(): void {
    this.paused = false;
    appendBounded(this.shown, this.held, KEEP);
    this.added += this.held.length;
    this.held = [];
    this.heldCount = 0;
    this.changed();
  }

  clear(): void {
    this.shown.length = 0;
    this.held = [];
    this.heldCount = 0;
    this.changed();
  }

  stop(): void {
    cancelAnimationFrame(this.frame);
  }
}

/** A stream's events and state; a new URL starts a new stream with an empty list. */
function useLiveEvents(url: string) {
  const [, setVersion] = useState(0);
  // Each state is told with its stream's URL: the last stream's "live" says nothing of a new one.
  const [state, setState] = useState<{ url: string; state: StreamState }>({ url, state: { kind: 'connecting' } });
  const log = useMemo(() => new EventLog(() => setVersion((v) => v + 1)), [url]);
  useEffect(() => {
    const stream = new EventStream(url, (event) => log.add(event), (s) => setState({ url, state: s }));
    stream.start();
    return () => {
      stream.stop();
      log.stop();
    };
  }, [log]);
  return { log, state: state.url === url ? state.state : { kind: 'connecting' } as const };
}

/** Events received in the last second, updated every second. */
function useRate(log: EventLog): number {
  const [rate, setRate] = useState(0);
  useEffect(() => {
    let before = log.received;
    const timer = setInterval(() => {
      setRate(log.received - before);
      before = log.received;
    }, 1000);
    return () => clearInterval(timer);
  }, [log]);
  return rate;
}

// ---------------------------------------------------------------------------------------
// How an event reads

/** `<24 hex>/...`: a device's private space, which only that device may read. */
const PRIVATE = /^([0-9a-f]{24})\//;
/** The cloud's answers to a device's webhook events. */
const CLOUD_REPLY = /^(?:[0-9a-f]{24}\/)?(hook-sent|hook-response|hook-error)\//;

type Names = Map<string, string>;

/** Who published an event, as a person would name it. */
function publisher(coreid: string, names: Names): string {
  if (coreid === 'api') return 'API';
  if (coreid === 'hookwire') return 'Hookwire';
  return names.get(coreid) ?? coreid;
}

function Marks(props: { event: StreamEvent; names: Names }) {
  const owner = PRIVATE.exec(props.event.name)?.[1];
  const reply = CLOUD_REPLY.exec(props.event.name)?.[1];
  return html`
    ${owner ? html`<span class="badge mark-private" title=${`Private to ${props.names.get(owner) ?? owner}`}>private</span>` : null}
    ${reply ? html`<span class=${`badge mark-${reply}`} title="The cloud's reply to a webhook event">${reply.replace('-', ' ')}</span>` : null}`;
}

const clockFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });

/** 14:03:07.512, local time: at these rates "a second ago" says nothing. */
function clock(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : clockFormat.format(ms);
}

// ---------------------------------------------------------------------------------------
// The page

/** The row height now (it changes with the width); the list places rows by it. */
function useRowHeight(): number {
  const query = useMemo(() => window.matchMedia(NARROW), []);
  const [narrow, setNarrow] = useState(query.matches);
  useEffect(() => {
    const update = () => setNarrow(query.matches);
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, [query]);
  return narrow ? ROW_HEIGHT.narrow : ROW_HEIGHT.wide;
}

/** An event's name; a private space's device ID reads as the device's name (the full name on hover). */
function EventName(props: { name: string; names: Names }) {
  const owner = PRIVATE.exec(props.name)?.[1];
  const ownerName = owner && props.names.get(owner);
  return html`<span class="mono" title=${props.name}>${ownerName ? html`<span class="owner">${ownerName}</span>${props.name.slice(24)}` : props.name}</span>`;
}

function EventRow(props: { event: StreamEvent; top: number; names: Names; selected: boolean; select: (e: StreamEvent) => void }) {
  const e = props.event;
  const data = e.data.length > 200 ? `${e.data.slice(0, 200)}…` : e.data;
  return html`
    <li class="event-row" style=${{ top: `${props.top}px` }}>
      <button type="button" class=${props.selected ? 'selected' : undefined} aria-current=${props.selected ? 'true' : undefined} aria-controls="event-detail" onClick=${() => props.select(e)}>
        <time class="ev-time mono" datetime=${e.published_at}>${clock(e.published_at)}</time>
        <span class="ev-name"><${Marks} event=${e} names=${props.names} /><${EventName} name=${e.name} names=${props.names} /></span>
        <span class="ev-device">${publisher(e.coreid, props.names)}</span>
        <span class="ev-data mono">${data === '' ? html`<span class="muted">no data</span>` : data}</span>
      </button>
    </li>`;
}

/** Only the rows in view (and a few beyond) are in the DOM; the list's height is all of them. */
function EventList(props: { log: EventLog; names: Names; selected: StreamEvent | null; select: (e: StreamEvent) => void; filtered: boolean }) {
  const { log } = props;
  const rowHeight = useRowHeight();
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });

  useEffect(() => {
    const el = scroller.current!;
    const observer = new ResizeObserver(() => setView({ top: el.scrollTop, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Newest rows go on top. Someone scrolled down to read stays on what they read.
  useLayoutEffect(() => {
    const el = scroller.current!;
    if (log.added > 0 && el.scrollTop > 0) el.scrollTop += log.added * rowHeight;
    log.added = 0;
  });

  const count = log.shown.length;
  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const e = log.shown[count - 1 - i]!;
    rows.push(html`<${EventRow} key=${e.seq} event=${e} top=${i * rowHeight} names=${props.names} selected=${props.selected?.seq === e.seq} select=${props.select} />`);
  }
  const toTop = () => scroller.current!.scrollTo({ top: 0 });
  return html`
    <div class="event-list">
      ${view.top > rowHeight ? html`<button type="button" class="small to-newest" onClick=${toTop}>Back to the newest</button>` : null}
      <div class="event-scroll" ref=${scroller} onScroll=${(e: Event) => setView({ top: (e.target as HTMLElement).scrollTop, height: (e.target as HTMLElement).clientHeight })}>
        ${count === 0
          ? html`<p class="empty">${log.paused ? 'Paused.' : `Waiting for events${props.filtered ? ' that match' : ''}…`}</p>`
          : html`<ul aria-label="Events, newest first" style=${{ height: `${count * rowHeight}px` }}>${rows}</ul>`}
      </div>
    </div>`;
}

/** One event in full: its data as pretty JSON when it is JSON. */
function EventDetail(props: { event: StreamEvent; names: Names; close: () => void }) {
  const e = props.event;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [e.seq]);
  const data = prettyData(e.data);
  const who = publisher(e.coreid, props.names);
  return html`
    <aside class="card event-detail" id="event-detail" aria-labelledby="event-detail-title">
      <div class="detail-head">
        <h2 id="event-detail-title" class="mono" tabindex="-1" ref=${heading}>${e.name}</h2>
        <button type="button" class="small" onClick=${props.close}>Close</button>
      </div>
      <p><${Marks} event=${e} names=${props.names} /></p>
      <dl class="facts">
        <dt>Published</dt><dd><time datetime=${e.published_at}>${e.published_at}</time></dd>
        <dt>By</dt><dd>${who}${who !== e.coreid ? html` <span class="mono small muted">${e.coreid}</span>` : null}</dd>
        <dt>TTL</dt><dd>${e.ttl} s</dd>
      </dl>
      <h3>Data${data.json ? ' (JSON)' : ''}</h3>
      ${data.text === '' ? html`<p class="muted">No data.</p>` : html`<pre class="event-data" tabindex="0" aria-label="Event data">${data.text}</pre>`}
    </aside>`;
}

const STATE_TEXT: Record<StreamState['kind'], string> = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting', refused: 'stopped' };

function StreamStatus(props: { state: StreamState }) {
  const s = props.state;
  return html`
    <span class="stream-state" role="status">
      <span class=${`badge stream-${s.kind}`}>${STATE_TEXT[s.kind]}</span>
      ${s.kind === 'reconnecting' ? html` <span class="small muted">${s.why}; trying again in ${s.inSec} s</span>` : null}
    </span>`;
}

function Filters(props: { prefix: string; device: string; devices: Device[] | undefined }) {
  const [prefix, setPrefix] = useState(props.prefix);
  useEffect(() => setPrefix(props.prefix), [props.prefix]);
  const known = props.devices ?? [];
  // A device in the URL that is not (yet) in the list still shows as chosen.
  const missing = props.device && !known.some((d) => d.id === props.device);
  return html`
    <form class="event-filters" role="search" onSubmit=${(e: Event) => { e.preventDefault(); setQuery({ prefix: prefix.trim() }); }}>
      <div class="field">
        <label for="event-prefix">Name starts with</label>
        <div class="inline-input">
          <input id="event-prefix" value=${prefix} placeholder="temp" autocomplete="off" spellcheck=${false}
            onInput=${(e: Event) => setPrefix((e.target as HTMLInputElement).value)} />
          <button type="submit">Filter</button>
        </div>
      </div>
      <div class="field">
        <label for="event-device">Device</label>
        <select id="event-device" value=${props.device} onChange=${(e: Event) => setQuery({ device: (e.target as HTMLSelectElement).value })}>
          <option value="">All devices</option>
          ${missing ? html`<option value=${props.device}>${props.device}</option>` : null}
          ${known.map((d) => html`<option key=${d.id} value=${d.id}>${d.name ?? d.id}</option>`)}
        </select>
      </div>
    </form>`;
}

/** The stream's route: every event, or one device's, from a prefix that may hold slashes. */
function streamUrl(prefix: string, device: string): string {
  const tail = prefix ? `/${prefix.split('/').map(seg).join('/')}` : '';
  return device ? `/v1/devices/${seg(device)}/events${tail}` : `/v1/events${tail}`;
}

export function Events() {
  const { query } = useLocation();
  const prefix = query.get('prefix') ?? '';
  const device = query.get('device') ?? '';
  const devices = useLoad(() => get<Device[]>('/v1/devices'), [], 10_000);
  const names = useMemo(() => new Map((devices.data ?? []).filter((d) => d.name).map((d) => [d.id, d.name!])), [devices.data]);
  const { log, state } = useLiveEvents(streamUrl(prefix, device));
  const rate = useRate(log);
  const [selected, setSelected] = useState<StreamEvent | null>(null);

  const pauseButton = log.paused
    ? html`<button type="button" class="primary" onClick=${() => log.resume()}>Resume${log.heldCount > 0 ? html` <span class="held">${fmt.format(log.heldCount)} new</span>` : null}</button>`
    : html`<button type="button" onClick=${() => log.pause()}>Pause</button>`;
  return html`
    <${Page} title="Events" actions=${html`${pauseButton}<button type="button" onClick=${() => { log.clear(); setSelected(null); }}>Clear list</button>`}>
      <${Filters} prefix=${prefix} device=${device} devices=${devices.data} />
      <div class="stream-bar">
        <${StreamStatus} state=${state} />
        <span class="stream-stats small">
          <span class="received"><strong>${fmt.format(log.received)}</strong> received</span>
          <span class="rate">${fmt.format(rate)} events/s</span>
          <span class="muted">the last ${fmt.format(KEEP)} are kept</span>
        </span>
      </div>
      ${state.kind === 'refused' ? html`<${ErrorNote} error=${state.error} prefix="The stream was refused" />` : null}
      <div class=${`events-layout${selected ? ' with-detail' : ''}`}>
        <${EventList} log=${log} names=${names} selected=${selected} select=${setSelected} filtered=${!!(prefix || device)} />
        ${selected ? html`<${EventDetail} event=${selected} names=${names} close=${() => setSelected(null)} />` : null}
      </div>
    </${Page}>`;
}
