import type { FastifyInstance } from 'fastify';
import type { Broker } from '../broker/index.ts';
import type { ConsoleSessions } from '../console/session.ts';
import type { Collector } from '../dashboard/index.ts';
import type { Doctor } from '../doctor/index.ts';
import type { EventBus, Ingest } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { LoginLimiter } from '../login-limit.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/index.ts';
import type { TlsSource } from '../tls/index.ts';
import type { Webhooks } from '../webhooks/index.ts';

export interface ApiOptions {
  store: Store;
  bus: EventBus;
  /** Where the API's publishes go in. */
  ingest: Ingest;
  broker: Broker;
  webhooks: Webhooks;
  /** The observers the bridge keeps (bridge/observers.ts): the API reads them. */
  metrics: Metrics;
  dashboard: Collector;
  doctor: Doctor;
  logger: Logger;
  /** Wrong tokens, limited per remote address (shared with the broker). */
  limiter: LoginLimiter;
  version: string;
  /** Largest request body, bytes; bigger ones get 413. */
  maxBodyBytes: number;
  /** Keep-alive comment interval on event streams, ms. */
  sseKeepAliveMs: number;
  /** Bytes an event stream may fall behind before it is cut off. */
  sseMaxBufferedBytes: number;
  /** Peers whose X-Forwarded-For names the client (reverse proxies); none: the peer is the client. */
  trustProxy?: ((address: string) => boolean) | undefined;
  /** The broker's ports once listening (0: none), for the console's device snippets. */
  listening?: { mqttPort: number; mqttsPort: number } | undefined;
  /** Serve HTTPS with this certificate; plain HTTP without. */
  tls?: TlsSource | undefined;
}

/** What every route file gets. */
export interface ApiContext extends ApiOptions {
  app: FastifyInstance;
  sessions: ConsoleSessions;
  startedAt: number;
}
