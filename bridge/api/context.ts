import type { FastifyInstance } from 'fastify';
import type { Broker } from '../broker/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';

/** What every route file gets. */
export interface ApiContext {
  app: FastifyInstance;
  store: Store;
  bus: EventBus;
  broker: Broker;
  logger: Logger;
  version: string;
  startedAt: number;
}
