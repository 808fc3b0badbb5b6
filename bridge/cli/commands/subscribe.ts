// hookwire subscribe [prefix] [--device id] [--product p] [--json]: the event stream, one
// line per event, until Ctrl-C. Reconnects when the stream drops, as Particle's clients do.

import { ApiError, type SseMessage } from '../../client/index.ts';
import { defineCommand } from '../command.ts';

/** An event as the stream carries it (PARTICLE.md §6), with its name. */
interface StreamedEvent {
  name: string;
  data: string;
  ttl: number;
  published_at: string;
  coreid: string;
}

/** No byte for this long (the bridge sends keep-alives every ~9 s): the stream is dead. */
const IDLE_MS = 30_000;
/** Waits between reconnects, ms: doubling up to the last. */
const RECONNECT_MS = [1_000, 2_000, 4_000, 8_000, 15_000];

/** The stream path: the narrowest route that covers the filters. */
export function streamPath(prefix: string, device?: string, product?: string): string {
  let path = '/v1';
  if (product !== undefined) path += `/products/${encodeURIComponent(product)}`;
  path += device !== undefined ? `/devices/${encodeURIComponent(device)}/events` : product !== undefined ? '/events' : '/devices/events';
  // The prefix may hold slashes: each level is encoded, the slashes stay.
  return prefix ? `${path}/${prefix.split('/').map(encodeURIComponent).join('/')}` : path;
}

/** `time  name  coreid  data`; data with control characters (newlines) is shown as JSON. */
export function eventLine(e: StreamedEvent): string {
  const data = /[\x00-\x1f\x7f]/.test(e.data) ? JSON.stringify(e.data) : e.data;
  return `${e.published_at}  ${e.name}  ${e.coreid}  ${data}`;
}

function parseEvent(message: SseMessage): StreamedEvent | undefined {
  try {
    const body = JSON.parse(message.data) as Omit<StreamedEvent, 'name'>;
    return { name: message.event, data: body.data ?? '', ttl: body.ttl, published_at: body.published_at, coreid: body.coreid };
  } catch {
    return undefined; // not an event frame: skip it, as Particle's client does
  }
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    resolve();
  }, { once: true });
});

export default defineCommand({
  name: 'subscribe',
  summary: 'stream events as they happen (device and cloud events: hook-sent, hook-response, ...)',
  usage: 'subscribe [prefix] [--device id|name] [--product id] [--json]',
  options: { device: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' } },
  args: 1,
  async run({ values, args }, ctx) {
    const prefix = args[0] ?? '';
    const api = ctx.api();
    const path = streamPath(prefix, values.device, values.product);
    const print = (message: SseMessage) => {
      const e = parseEvent(message);
      if (e) ctx.out(values.json ? JSON.stringify(e) : eventLine(e));
    };

    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    let opened = false;
    let failures = 0;
    try {
      while (!stop.signal.aborted) {
        try {
          await api.stream(path, print, stop.signal, {
            idleMs: IDLE_MS,
            onOpen() {
              // On stderr, so `--json` output stays one event per line.
              ctx.err(opened ? 'Reconnected.' : `Subscribed to ${api.baseUrl}${path} (Ctrl-C to stop)`);
              opened = true;
              failures = 0;
            },
          });
        } catch (err) {
          // A refusal (bad token, unknown device) or a bridge never reached: nothing to wait for.
          if (!opened || (err instanceof ApiError && err.status >= 400)) throw err;
          ctx.err(`stream lost: ${(err as Error).message}`);
        }
        if (stop.signal.aborted) break;
        const wait = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]!;
        ctx.err(`reconnecting in ${wait / 1000} s`);
        await sleep(wait, stop.signal);
      }
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
});
