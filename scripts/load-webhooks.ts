// The devices of scripts/bench.ts, in their own process: SDK devices (firmware-sdk) publishing
// one event at QoS 1 whose data is `{"t":"<hrtime ns>","i":<id>}`, the publish time on
// CLOCK_MONOTONIC (one clock for every process on the machine) and an ID unique in this run.
//
//   started by scripts/bench.ts: npx tsx scripts/load-webhooks.ts --options '<LoadWebhooksOptions JSON>'
//
// Three modes:
//   closed  throughput: at most `inflight` events published and not yet completed, over all
//           devices. An event completes when its `hook-sent/<event>` arrives (or a
//           `<device>/hook-error/<event>/…`, counted apart): one service client subscribed
//           to those counts each delivery once. (The devices themselves would each get every
//           fleet-wide hook-sent: N copies per delivery for the bridge to send.)
//   rate    latency: `rate` events/s in all, round-robin over the devices, open loop (the
//           schedule does not wait for answers). Each device subscribes to its own
//           `<deviceID>/hook-response/<event>/` and times publish → response by the ID in
//           the answer (scripts/receiver.ts --record answers with the ID).
//   count   a backlog: exactly `total` events, at most `inflight` published and not yet
//           acknowledged (PUBACK: the bridge has stored the event and its deliveries), over
//           all devices. Deliveries are not waited for (their receiver may be down).
//
// With `deviceSpace`, devices publish `<deviceID>/<event>` instead: against a plain broker
// (the bench's Mosquitto + scripts/forwarder.ts), where only the topic says who published.
// Any broker that takes the devices' ID and token as client ID, username and password (an
// anonymous Mosquitto ignores them) and the service client's credentials will do.
//
// Over IPC (scripts/lib/ipc.ts): `start`, `stats`, `stop`, `result` (rate mode), `close`.

import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { connectDevice, type Device } from '../firmware-sdk/index.ts';
import { pool } from './lib/bench.ts';
import { serve } from './lib/ipc.ts';

export interface LoadWebhooksOptions {
  mqttUrl: string;
  /**
   * Several bridges sharing a Redis (one broker): device k connects to `mqttUrls[k % n]`, so the
   * devices are spread evenly; the service client stays on `mqttUrl`. Default: all on `mqttUrl`.
   */
  mqttUrls?: string[];
  devices: { id: string; token: string }[];
  /** The event name the integration triggers on. */
  event: string;
  mode: 'closed' | 'rate' | 'count';
  /** closed: events in flight (published, not completed) over all devices; count: published, not acknowledged. */
  inflight: number;
  /** count: events to publish in all. */
  total?: number;
  /** rate: events per second over all devices. */
  rate: number;
  /** closed: a service client's credentials (any username, an admin API token). */
  service: { username: string; password: string };
  /**
   * Publish to `<deviceID>/<event>` instead of `<event>`: for a plain broker (the bench's
   * Mosquitto peer), where the topic is the only way a subscriber learns who published.
   */
  deviceSpace?: boolean;
}

export interface ClosedStats {
  /** Publishes handed to the SDK. */
  published: number;
  /** Publishes acknowledged (PUBACK). */
  acked: number;
  /** hook-sent events received: deliveries whose request reached the receiver. */
  hookSent: number;
  /** hook-error events received: deliveries that failed. */
  hookError: number;
  /** Publishes the SDK failed. */
  errors: number;
}

export interface RateResult {
  published: number;
  acked: number;
  errors: number;
  /** IDs of the publishes in the measured part of the run: [first, last]. */
  firstId: number;
  lastId: number;
  /** Measured publishes whose hook-response has come. */
  responses: number;
  /** publish → hook-response at the device, ns, for the measured publishes. */
  rttNs: number[];
  /** Responses with an ID this process did not publish, or twice. */
  unexpected: number;
  /** Publishes per second actually made in the measured part. */
  achievedRate: number;
}

function serviceClient(url: string, creds: { username: string; password: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: `bench-hooks-${process.pid}`, username: creds.username, password: creds.password,
      protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 10_000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { options: { type: 'string' } }, strict: true });
  const options = JSON.parse(values.options ?? '') as LoadWebhooksOptions;
  const { event } = options;

  const urls = options.mqttUrls?.length ? options.mqttUrls : [options.mqttUrl];
  const devices: Device[] = await pool(options.devices.length, 25, (i) =>
    connectDevice({ url: urls[i % urls.length]!, deviceId: options.devices[i]!.id, token: options.devices[i]!.token }));

  let nextId = 0;
  let running = false;
  const stats: ClosedStats = { published: 0, acked: 0, hookSent: 0, hookError: 0, errors: 0 };
  const publishOptions = { qos: 1 };
  const onPuback = (err: Error | null) => {
    if (err) stats.errors++;
    else stats.acked++;
    if (options.mode === 'count') pumpCount();
  };
  let rr = 0;
  const topics = devices.map((d) => (options.deviceSpace ? `${d.deviceID()}/${event}` : event));

  /** One publish, stamped `t` (the time it is handed to the SDK); returns its ID. */
  function publishOne(t: bigint): number {
    const id = nextId++;
    const k = rr++ % devices.length;
    stats.published++;
    devices[k]!.publish(topics[k]!, `{"t":"${t}","i":${id}}`, publishOptions, onPuback);
    return id;
  }

  // ----- closed mode: completions counted by one service client
  let service: MqttClient | undefined;
  function pumpClosed(): void {
    while (running && stats.published - stats.hookSent - stats.hookError < options.inflight) publishOne(process.hrtime.bigint());
  }
  if (options.mode === 'closed') {
    service = await serviceClient(options.mqttUrl, options.service);
    const sentTopic = `hook-sent/${event}`;
    await service.subscribeAsync([sentTopic, `+/hook-error/${event}/#`], { qos: 0 });
    service.on('message', (topic) => {
      if (topic === sentTopic) stats.hookSent++;
      else if (topic.endsWith('/0')) stats.hookError++; // one error per delivery: its first part
      pumpClosed();
    });
  }

  // ----- count mode: a fixed number of events, bounded by acknowledgements
  const total = options.total ?? 0;
  function pumpCount(): void {
    while (running && stats.published < total && stats.published - stats.acked - stats.errors < options.inflight) publishOne(process.hrtime.bigint());
  }

  // ----- rate mode: open loop, round trips timed by the devices
  const publishedAt = new Map<number, bigint>();
  const rttNs: number[] = [];
  let unexpected = 0;
  let measuring = false;
  let firstId = -1;
  let lastId = -1;
  let measuredFrom = 0n;
  let measuredTo = 0n;
  let timer: NodeJS.Timeout | undefined;
  if (options.mode === 'rate') {
    await Promise.all(devices.map((d) => d.subscribe(`${d.deviceID()}/hook-response/${event}/`, (_topic, data) => {
      const at = process.hrtime.bigint();
      const id = Number(data);
      const t = publishedAt.get(id);
      if (t === undefined) return void unexpected++;
      publishedAt.delete(id);
      // Only publishes made while measuring count (the warm-up's answers are dropped).
      if (firstId >= 0 && id >= firstId) rttNs.push(Number(at - t));
    })));
  }

  /** Publish what the schedule says is due, every millisecond or so. */
  function startRate(): void {
    const start = process.hrtime.bigint();
    let due = 0;
    timer = setInterval(() => {
      const elapsedNs = Number(process.hrtime.bigint() - start);
      const target = Math.floor((elapsedNs / 1e9) * options.rate);
      for (; due < target; due++) {
        const t = process.hrtime.bigint();
        const id = publishOne(t);
        publishedAt.set(id, t);
        if (!measuring) continue;
        if (firstId < 0) {
          firstId = id;
          measuredFrom = t;
        }
        lastId = id;
      }
    }, 1);
  }

  serve({
    start: () => {
      running = true;
      if (options.mode === 'closed') pumpClosed();
      else if (options.mode === 'count') pumpCount();
      else startRate();
    },
    /** rate mode: from now on, publishes are timed. */
    measure: () => {
      measuring = true;
    },
    stats: () => ({ ...stats, inflight: stats.published - stats.hookSent - stats.hookError }),
    stop: () => {
      running = false;
      if (timer) clearInterval(timer);
      if (measuring) {
        measuring = false;
        measuredTo = process.hrtime.bigint();
      }
      return { ...stats };
    },
    result: (): RateResult => ({
      published: stats.published, acked: stats.acked, errors: stats.errors,
      firstId, lastId, responses: rttNs.length, rttNs, unexpected,
      achievedRate: lastId >= firstId && firstId >= 0 ? (lastId - firstId + 1) / (Number(measuredTo - measuredFrom) / 1e9) : 0,
    }),
    close: async () => {
      await service?.endAsync(true);
      await pool(devices.length, 50, (i) => devices[i]!.disconnect() ?? Promise.resolve());
    },
  });
  console.log(JSON.stringify({ ready: true, devices: devices.length, mode: options.mode }));
}

await main();
