// Prometheus metrics for one bridge. Each bridge has its own prom-client Registry, never the
// global one: tests (and embedders) run several bridges in one process, and a shared
// registry would mix their counts and refuse the second bridge's metric names.
//
// Counters are an Observer (observers.ts) of the bus and of every attempt; gauges are read at
// scrape time from the broker, the lanes, the throttle and the store.
//
// /metrics is per process, also when several bridges act as one: every series carries a
// `bridge` label (the bridge's name, config bridgeName), so Prometheus can scrape each bridge
// and sum over them (`sum without (bridge) (...)`). The label is added at scrape time only.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from './broker/index.ts';
import { API_COREID, CLOUD_COREID, type BrokerRefusal, type HookwireEvent, type Inbound } from './events/index.ts';
import type { LoginLimiter } from './login-limit.ts';
import type { Observer } from './observers.ts';
import type { Store } from './store/index.ts';
import { attemptCode, type Webhooks } from './webhooks/index.ts';

export interface MetricsSources {
  broker: Pick<Broker, 'connectedDevices'>;
  /** `list`: the integrations there are, so a deleted one's series go with it. */
  webhooks: Pick<Webhooks, 'lanes' | 'sleepingHosts' | 'list'>;
  store: Pick<Store, 'deliveries'>;
  limiter: Pick<LoginLimiter, 'failures' | 'refusals'>;
}

export interface MetricsOptions {
  /** The `bridge` label on every series (config bridgeName); none when undefined. */
  bridge?: string | undefined;
}

export interface Metrics extends Observer {
  registry: Registry;
  /** The exposition format's content type, for the reply header. */
  contentType: string;
  /** The text Prometheus scrapes. */
  render(): Promise<string>;
  close(): void;
}

/** Delivery latency buckets, seconds: 5 ms (a local receiver) to 20 s (Particle's timeout). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];

/**
 * prom-client hashes a label object on every inc() or observe(); the hot path (every event,
 * every attempt) uses a child bound to its labels instead, hashed once, made on first use.
 * `forget` drops the children whose first label is given (a deleted integration's).
 */
function bound<L extends string[], C>(make: (...labels: L) => C): ((...labels: L) => C) & { forget(first: string): void } {
  const children = new Map<string, C>();
  const get = (...labels: L) => {
    const key = labels.join('\n');
    let child = children.get(key);
    if (!child) children.set(key, (child = make(...labels)));
    return child;
  };
  return Object.assign(get, {
    forget(first: string) {
      for (const key of children.keys()) if (key === first || key.startsWith(`${first}\n`)) children.delete(key);
    },
  });
}

function sourceOf(event: HookwireEvent): 'device' | 'cloud' | 'api' {
  if (event.coreid === CLOUD_COREID) return 'cloud';
  if (event.coreid === API_COREID) return 'api';
  return 'device';
}

export function createMetrics(sources: MetricsSources, options: MetricsOptions = {}): Metrics {
  const { broker, webhooks, store, limiter } = sources;
  const registry = new Registry();
  if (options.bridge !== undefined) registry.setDefaultLabels({ bridge: options.bridge });
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'hookwire_devices_connected',
    help: 'Devices connected over MQTT to this bridge now (sum over the bridges for a cluster).',
    registers,
    collect() {
      this.set(broker.connectedDevices('bridge'));
    },
  });

  const eventsIn = new Counter({
    name: 'hookwire_events_in_total',
    help: 'Events in, by outcome (accepted, refused), source (device, cloud, api) and refusal code.',
    labelNames: ['outcome', 'source', 'code'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'hookwire_deliveries_total',
    help: 'Delivery attempts by integration, outcome (success, failure, skipped, stopped) and code (HTTP status or error code).',
    labelNames: ['integration_id', 'outcome', 'code'] as const,
    registers,
    collect() {
      forgetDeleted();
    },
  });
  const latency = new Histogram({
    name: 'hookwire_delivery_duration_seconds',
    help: 'Time from sending a webhook request to its outcome, for attempts that were sent.',
    labelNames: ['integration_id'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  new Gauge({
    name: 'hookwire_deliveries_queued',
    help: 'Deliveries in the durable queue by status: pending (waiting for their time or a lane), running, failed (kept for replay).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const counts = await store.deliveries.counts();
      for (const status of ['pending', 'running', 'failed'] as const) this.set({ status }, counts[status]);
    },
  });
  new Gauge({
    name: 'hookwire_lane_deliveries',
    help: 'Deliveries in a host\'s lane in memory: active (in flight) or waiting.',
    labelNames: ['host', 'state'] as const,
    registers,
    collect() {
      // Lanes come and go with their hosts: start from nothing so idle hosts disappear.
      this.reset();
      for (const lane of webhooks.lanes()) {
        this.set({ host: lane.host, state: 'active' }, lane.active);
        this.set({ host: lane.host, state: 'waiting' }, lane.waiting);
      }
    },
  });
  new Gauge({
    name: 'hookwire_sleeping_hosts',
    help: 'Target hosts asleep now after too many errors (their events are skipped).',
    registers,
    collect() {
      this.set(webhooks.sleepingHosts().length);
    },
  });

  // Totals the login limiter keeps, read at scrape time.
  for (const [name, help, totals] of [
    ['hookwire_login_failures_total', 'Logins with a wrong token or password, by protocol (mqtt, http).', limiter.failures],
    ['hookwire_login_refused_total', 'Logins refused without a lookup because their address failed too often, by protocol.', limiter.refusals],
  ] as const) {
    new Counter({
      name, help, labelNames: ['protocol'] as const, registers,
      collect() {
        this.reset();
        for (const [protocol, n] of Object.entries(totals)) this.inc({ protocol }, n);
      },
    });
  }

  const eventIn = bound((outcome: string, source: string, code: string) => eventsIn.labels({ outcome, source, code }));
  const attempt = bound((id: string, outcome: string, code: string) => {
    track(id, outcome, code);
    return deliveries.labels({ integration_id: id, outcome, code });
  });
  const duration = bound((id: string) => latency.labels({ integration_id: id }));

  /** The label sets each integration has series under (noted as each is first made): what to remove when it is deleted. */
  const seriesOf = new Map<string, Set<string>>();
  function track(id: string, outcome: string, code: string): void {
    let labels = seriesOf.get(id);
    if (!labels) seriesOf.set(id, (labels = new Set()));
    labels.add(`${outcome}\n${code}`);
  }
  /**
   * Remove the series of integrations deleted since the last scrape, at scrape time (read from
   * the registry, as the gauges are): whatever deleted it, and an attempt that was in flight
   * when it went (which adds its series back after the deletion) is removed at the next one.
   */
  function forgetDeleted(): void {
    if (seriesOf.size === 0) return;
    const present = new Set(webhooks.list().map((i) => i.id));
    for (const [id, labels] of seriesOf) {
      if (present.has(id)) continue;
      for (const key of labels) {
        const [outcome, code] = key.split('\n') as [string, string];
        deliveries.remove({ integration_id: id, outcome, code });
      }
      latency.remove({ integration_id: id });
      attempt.forget(id);
      duration.forget(id);
      seriesOf.delete(id);
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    event: (event) => eventIn('accepted', sourceOf(event), '').inc(),
    refused: (refusal: BrokerRefusal) => eventIn('refused', 'device', refusal.code).inc(),
    // Accepted API publishes arrive as events too; only the refusals are counted from here.
    inbound(inbound: Inbound) {
      if (!inbound.ok) eventIn('refused', 'api', inbound.code ?? 'BAD_REQUEST').inc();
    },
    attempt(record) {
      attempt(record.job.integrationId, record.kind, attemptCode(record)).inc();
      if (record.request && (record.kind === 'success' || record.kind === 'failure')) {
        duration(record.job.integrationId).observe(record.durationMs / 1000);
      }
    },
    close: () => registry.clear(),
  };
}
