import type { FastifyInstance } from 'fastify';
import type { Broker } from '../broker/index.ts';
import type { EventBus, Ingest } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import type { Webhooks } from '../webhooks/index.ts';

export interface ApiOptions {
  store: Store;
  bus: EventBus;
  /** Where the API's publishes go in. */
  ingest: Ingest;
  broker: Broker;
  webhooks: Webhooks;
  logger: Logger;
  version: string;
  /** Largest request body, bytes; bigger ones get 413. */
  maxBodyBytes: number;
  /** Keep-alive comment interval on event streams, ms. */
  sseKeepAliveMs: number;
  /** Bytes an event stream may fall behind before it is cut off. */
  sseMaxBufferedBytes: number;
}

/** What every route file gets. */
export interface ApiContext extends ApiOptions {
  app: FastifyInstance;
  startedAt: number;
}
