// The webhook engine: integrations (kept in the store, indexed in memory) and the pipeline
// that delivers events to them. Listens to the event bus; publishes replies through the
// `publish` it is given (it never reaches into the broker or the API).

import { randomBytes } from 'node:crypto';
import type { EventBus, HookwireEvent } from '../events/index.ts';
import { HookwireError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { IntegrationRecord, Store } from '../store/index.ts';
import { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
import { MatchIndex } from './match.ts';
import { createPipeline, DONE, type Publish } from './pipeline.ts';
import { memoryRecorder, type Counters, type DeliveryLog } from './record.ts';
import { createSender } from './send.ts';

export { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
export { MatchIndex } from './match.ts';
export { USER_AGENT } from './render.ts';
export type { Counters, DeliveryLog, Publish };

export interface WebhookOptions {
  /** No connection or no answer within this many ms fails the delivery. Default 20 s, as Particle. */
  timeoutMs: number;
  /** Most of a response read and published, bytes. Default 100 KB, as Particle. */
  maxResponseBytes: number;
  /** Connections per target origin. */
  connectionsPerOrigin: number;
}

export const webhookDefaults: WebhookOptions = {
  timeoutMs: 20_000, // 20 s, as Particle
  maxResponseBytes: 100 * 1024, // Particle publishes at most the first 100 KB
  connectionsPerOrigin: 64,
};

export interface WebhooksDeps {
  store: Store;
  bus: EventBus;
  publish: Publish;
  logger: Logger;
  options?: Partial<WebhookOptions>;
}

function toRecord(i: Integration): IntegrationRecord {
  return { id: i.id, productId: i.productId, template: templateOf(i) as unknown as Record<string, unknown>, createdAt: i.createdAt, updatedAt: i.updatedAt };
}

export async function createWebhooks(deps: WebhooksDeps) {
  const { store, bus, logger } = deps;
  const options = { ...webhookDefaults, ...deps.options };
  const log = logger.child({ component: 'webhooks' });
  const integrations = new Map<string, Integration>();
  const index = new MatchIndex();
  const sender = createSender(options);
  const recorder = memoryRecorder();
  const pipeline = createPipeline({ index, sender, recorder, publish: deps.publish, logger, maxResponseBytes: options.maxResponseBytes });
  const inFlight = new Set<Promise<void>>();

  for (const record of await store.integrations.list()) {
    try {
      const integration: Integration = { ...parseTemplate(record.template), id: record.id, productId: record.productId, createdAt: record.createdAt, updatedAt: record.updatedAt };
      integrations.set(integration.id, integration);
      index.set(integration);
    } catch (err) {
      log.error({ err, integrationId: record.id }, 'stored integration is invalid; skipped');
    }
  }

  function handle(event: HookwireEvent): Promise<void> {
    const p = pipeline.handle(event);
    if (p === DONE) return p; // matched nothing (every hook-* event): no bookkeeping
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
    return p;
  }
  bus.on('event', handle);

  function mustGet(id: string, productId?: number | null): Integration {
    const i = integrations.get(id);
    // A product-scoped request only sees that product's integrations.
    if (!i || (productId !== undefined && productId !== null && i.productId !== productId)) {
      throw new HookwireError('INTEGRATION_NOT_FOUND', `no integration ${id}`, { status: 404 });
    }
    return i;
  }

  async function save(next: Integration, isNew: boolean): Promise<Integration> {
    if (isNew) await store.integrations.create(toRecord(next));
    else await store.integrations.update(toRecord(next));
    integrations.set(next.id, next);
    index.set(next);
    return next;
  }

  return {
    /** Validate and store a pasted Particle template; throws naming the field at fault. */
    async create(input: unknown, productId: number | null): Promise<Integration> {
      const template = parseTemplate(input);
      const now = new Date().toISOString();
      return save({ ...template, id: randomBytes(12).toString('hex'), productId, createdAt: now, updatedAt: now }, true);
    },
    /** Replace the whole template (Particle's PUT). */
    async replace(id: string, input: unknown, productId?: number | null): Promise<Integration> {
      const current = mustGet(id, productId);
      const template = parseTemplate(input);
      return save({ ...template, id, productId: current.productId, createdAt: current.createdAt, updatedAt: new Date().toISOString() }, false);
    },
    async setDisabled(id: string, disabled: boolean, productId?: number | null): Promise<Integration> {
      const current = mustGet(id, productId);
      return save({ ...current, disabled, updatedAt: new Date().toISOString() }, false);
    },
    async remove(id: string, productId?: number | null): Promise<void> {
      mustGet(id, productId);
      await store.integrations.remove(id);
      integrations.delete(id);
      index.delete(id);
      recorder.forget(id);
    },
    get: mustGet,
    list(productId?: number | null): Integration[] {
      const all = [...integrations.values()];
      return productId === undefined || productId === null ? all : all.filter((i) => i.productId === productId);
    },
    counters: (id: string): Counters => recorder.counters(id),
    logs: (id: string): DeliveryLog[] => recorder.logs(id),
    /** Deliver one event now (the bus does this for every accepted event). */
    handle,
    /** Resolves once every delivery in progress is done. */
    async idle(): Promise<void> {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async close(): Promise<void> {
      bus.off('event', handle);
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await sender.close();
    },
  };
}

export type Webhooks = Awaited<ReturnType<typeof createWebhooks>>;
