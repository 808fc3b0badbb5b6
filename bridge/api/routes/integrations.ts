// Integrations (webhooks) in Particle's shapes (PARTICLE.md §6): `/v1/integrations` and the
// legacy `/v1/webhooks`, each also under `/v1/products/:product/` as a product filter.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { HookwireError } from '../../errors.ts';
import { templateOf, type Integration } from '../../webhooks/index.ts';
import type { ApiContext } from '../context.ts';
import { bodyOf } from '../input.ts';

type Params = { product?: string; id?: string };

/** The product a `/v1/products/:product/...` route is scoped to; null when not scoped. */
function productOf(params: Params): number | null {
  if (params.product === undefined) return null;
  if (!/^\d+$/.test(params.product)) {
    throw new HookwireError('PRODUCT_NOT_FOUND', `product "${params.product}" not found: use the numeric product ID (slugs are not supported)`, { status: 404 });
  }
  return Number(params.product);
}

/** The list entry Particle's clients read. */
function summary(i: Integration) {
  return {
    id: i.id,
    integration_type: 'Webhook',
    event: i.event,
    url: i.url,
    requestType: i.requestType,
    name: i.name,
    deviceID: i.deviceID,
    disabled: i.disabled,
    product_id: i.productId,
    created_at: i.createdAt,
  };
}

export default function integrations({ app, webhooks }: ApiContext) {
  const detail = (i: Integration) => ({
    id: i.id,
    integration_type: 'Webhook',
    ...templateOf(i),
    product_id: i.productId,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    counters: webhooks.counters(i.id),
    logs: webhooks.logs(i.id),
  });

  for (const base of ['/v1', '/v1/products/:product']) {
    for (const kind of ['integrations', 'webhooks'] as const) {
      const collection = `${base}/${kind}`;
      const item = `${collection}/:id`;

      app.post(collection, async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
        const body = bodyOf(req.body);
        if (kind === 'integrations' && body.integration_type !== undefined && body.integration_type !== 'Webhook') {
          throw new HookwireError('BAD_REQUEST', 'integration_type must be "Webhook": other integration types are not supported', { field: 'integration_type' });
        }
        const i = await webhooks.create(body, productOf(req.params));
        return reply.code(201).send({
          ok: true,
          id: i.id,
          url: i.url,
          event: i.event,
          created_at: i.createdAt,
          hookUrl: `${req.protocol}://${req.host}${collection.replace(':product', req.params.product ?? '')}/${i.id}`,
        });
      });

      app.get(collection, async (req: FastifyRequest<{ Params: Params }>) => webhooks.list(productOf(req.params)).map(summary));

      app.get(item, async (req: FastifyRequest<{ Params: Params }>) => ({ integration: detail(webhooks.get(req.params.id!, productOf(req.params))) }));

      app.put(item, async (req: FastifyRequest<{ Params: Params }>) => {
        const body = bodyOf(req.body);
        const i = await webhooks.replace(req.params.id!, body, productOf(req.params));
        return { integration: detail(i) };
      });

      app.delete(item, async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
        await webhooks.remove(req.params.id!, productOf(req.params));
        // Particle answers 204 for integrations and {"ok": true} for legacy webhooks.
        return kind === 'integrations' ? reply.code(204).send() : { ok: true };
      });

      for (const action of ['enable', 'disable'] as const) {
        app.post(`${item}/${action}`, async (req: FastifyRequest<{ Params: Params }>) => {
          const i = await webhooks.setDisabled(req.params.id!, action === 'disable', productOf(req.params));
          return { integration: detail(i) };
        });
      }
    }
  }
}
