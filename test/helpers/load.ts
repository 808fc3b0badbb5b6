// Load for tests of several bridges: devices publishing numbered events (QoS 1) spread over
// their connections, which events were acknowledged (PUBACK), and a receiver that counts the
// webhook requests each event got, so a test can say which acknowledged event was delivered
// never, once or more. An event's number travels in its data; the integration puts it in the
// request body as `{"id": "<number>"}` (loadTemplate).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { receiver, type Captured, type Receiver } from './receiver.ts';
import { deviceClient, type TestClient } from './mqtt.ts';
import type { BridgeProcess } from './spawn.ts';

/** The integration fields that carry an event's ID to the receiver (and the response back). */
export function loadTemplate(event: string, url: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { event, url, requestType: 'POST', json: { id: '{{{PARTICLE_EVENT_VALUE}}}' }, ...more };
}

export interface CountingReceiver {
  rx: Receiver;
  /** Base URL (http://host:port). */
  url: string;
  /** Event ID → requests received for it (counted when the request has arrived, before it is answered). */
  counts: Map<string, number>;
  /** Requests received and not answered yet, by event ID. */
  inFlight: Set<string>;
  /** Requests whose body carried no ID. */
  unparsed: Captured[];
  /** How long to hold each request before answering, ms. */
  delayMs: number;
  /** The status to answer with. */
  status: number;
  /** IDs of `ids` never received. */
  missing(ids: Iterable<string>): string[];
  /** IDs received more than once, with how many times. */
  duplicates(): [string, number][];
  /** Requests received in all. */
  total(): number;
  close(): Promise<void>;
}

/** The event ID a request carries (loadTemplate's body), if any. */
export function idOf(req: Captured): string | undefined {
  try {
    const parsed = JSON.parse(req.body.toString('utf8')) as { id?: unknown } | null;
    return typeof parsed?.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined; // not JSON
  }
}

/**
 * A receiver answering requests under `path` with `status` after `delayMs`, the body
 * `ok:<id>` (which the bridge hands back to the device as its hook-response).
 */
export async function countingReceiver(path: string, options: { delayMs?: number; status?: number; host?: string } = {}): Promise<CountingReceiver> {
  const rx = await receiver(0, options.host);
  const counts = new Map<string, number>();
  const inFlight = new Set<string>();
  const unparsed: Captured[] = [];
  const self: CountingReceiver = {
    rx,
    url: rx.url,
    counts,
    inFlight,
    unparsed,
    delayMs: options.delayMs ?? 0,
    status: options.status ?? 200,
    missing: (ids) => [...ids].filter((id) => !counts.has(id)),
    duplicates: () => [...counts].filter(([, n]) => n > 1),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0) + unparsed.length,
    close: () => rx.close(),
  };
  rx.on(path, (req, res) => {
    const id = idOf(req);
    if (id === undefined) {
      unparsed.push(req);
      res.statusCode = 400;
      res.end();
      return;
    }
    counts.set(id, (counts.get(id) ?? 0) + 1);
    inFlight.add(id);
    const answer = () => {
      inFlight.delete(id);
      if (res.destroyed) return; // the bridge that sent it is gone
      res.statusCode = self.status;
      res.setHeader('content-type', 'text/plain');
      res.end(`ok:${id}`);
    };
    res.on('close', () => inFlight.delete(id));
    if (self.delayMs > 0) setTimeout(answer, self.delayMs);
    else answer();
  });
  return self;
}

/** A device's connection, with the bridge it was told to use first and the hook-responses it heard. */
export interface LoadDevice {
  id: string;
  client: TestClient;
  /** Index of the bridge it connected to first. */
  home: number;
  /** Event IDs from `ok:<id>` hook-responses, in the order they arrived. */
  responses: string[];
}

/**
 * Connect `device` to `urls[home]`, subscribed to its own hook-responses for `event`. It
 * reconnects by itself (every `reconnectMs`), to the next URL in the list each time, as a
 * device behind a load balancer would reach another bridge when its own goes away.
 */
export async function loadDevice(device: { id: string; token: string }, urls: string[], home: number, event: string, reconnectMs = 200): Promise<LoadDevice> {
  const order = [...urls.slice(home), ...urls.slice(0, home)].map((u) => {
    const { hostname, port } = new URL(u);
    return { host: hostname, port: Number(port) };
  });
  const client = await deviceClient(urls[home]!, device, { reconnectPeriod: reconnectMs, servers: order, keepalive: 10 });
  const d: LoadDevice = { id: device.id, client, home, responses: [] };
  const prefix = `${device.id}/hook-response/${event}/`;
  client.client.on('message', (topic, payload) => {
    if (!topic.startsWith(prefix)) return;
    const text = payload.toString('utf8');
    if (text.startsWith('ok:')) d.responses.push(text.slice(3));
  });
  await client.client.subscribeAsync(`${device.id}/hook-response/${event}/#`, { qos: 1 });
  return d;
}

export interface Load {
  /** Event IDs published, in order. */
  sent: string[];
  /** Event IDs acknowledged (PUBACK received), whenever the acknowledgement came. */
  acked: Set<string>;
  /** Event ID → the device that published it. */
  by: Map<string, LoadDevice>;
  /** Publishes not acknowledged within `ackTimeoutMs` (they may still be, later). */
  timedOut: Set<string>;
  /** Resolves once every publish is acknowledged or timed out. */
  done: Promise<void>;
  /** Publish no more (those already sent keep waiting for their acknowledgement). */
  stop(): void;
}

export interface LoadOptions {
  event: string;
  /** Events to publish in all. */
  count: number;
  /** Prefix of the event IDs (`<prefix>-<n>`). */
  prefix: string;
  /** Publishes awaiting their PUBACK at once. */
  window?: number;
  /** A publish not acknowledged by then is counted as not acknowledged (for now), ms. */
  ackTimeoutMs?: number;
  /** Pause between publishes, ms (spreads the load over time). */
  gapMs?: number;
}

/**
 * Publish `count` events round-robin over `devices`, QoS 1, at most `window` unacknowledged at
 * once. A device whose connection dropped keeps its unacknowledged publishes and sends them
 * again when it reconnects (mqtt.js), so an acknowledgement may come late.
 */
export function startLoad(devices: LoadDevice[], options: LoadOptions): Load {
  const { event, count, prefix, window = 16, ackTimeoutMs = 15_000, gapMs = 0 } = options;
  const load: Omit<Load, 'done'> = { sent: [], acked: new Set(), by: new Map(), timedOut: new Set(), stop: () => { stopped = true; } };
  let stopped = false;
  let next = 0;

  async function publishOne(n: number): Promise<void> {
    const device = devices[n % devices.length]!;
    const id = `${prefix}-${n}`;
    load.sent.push(id);
    load.by.set(id, device);
    let timer: NodeJS.Timeout | undefined;
    const acked = device.client.client.publishAsync(event, id, { qos: 1 }).then(
      () => { load.acked.add(id); load.timedOut.delete(id); return true; },
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ackTimeoutMs); });
    const ok = await Promise.race([acked, timeout]);
    clearTimeout(timer);
    if (!ok && !load.acked.has(id)) load.timedOut.add(id);
  }

  async function worker(): Promise<void> {
    while (!stopped && next < count) {
      const n = next++;
      await publishOne(n);
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
  }
  const done = Promise.all(Array.from({ length: Math.max(1, window) }, worker)).then(() => undefined);
  return { ...load, done };
}

/** Calls to a bridge's API in a child process, as the admin (the token in its data directory). */
export interface ApiClient {
  url: string;
  call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function apiClient(bridge: BridgeProcess, dataDir: string): Promise<ApiClient> {
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  return {
    url: bridge.url,
    async call(method, path, body) {
      const res = await fetch(bridge.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed as any };
    },
  };
}

/** A short list of IDs for a failure message. */
export function sample(ids: string[], n = 10): string {
  return ids.length <= n ? ids.join(', ') : `${ids.slice(0, n).join(', ')} … (${ids.length} in all)`;
}
