// Integrations (webhooks) in Particle's shapes (PARTICLE.md §6): `/v1/integrations` and the
// legacy `/v1/webhooks`, each also under `/v1/products/:product/` as a product filter.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { HookwireError } from '../../errors.ts';
import { templateOf, type Integration } from '../../webhooks/index.ts';
import type { ApiContext } from '../context.ts';
import { bodyOf, optionalInt, optionalString } from '../input.ts';

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

/** Who a change is recorded as: the API token's name. */
const actor = (req: FastifyRequest) => req.token?.name ?? 'api';

export default function integrations({ app, webhooks }: ApiContext) {
  async function detail(i: Integration) {
    const s = webhooks.status(i.id);
    const signing = webhooks.signing(i.id);
    return {
      id: i.id,
      integration_type: 'Webhook',
      ...templateOf(i),
      product_id: i.productId,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      state: s.state,
      state_reason: s.reason,
      state_changed_at: s.changedAt,
      disabled_by: s.disabledBy,
      disabled_at: s.disabledAt,
      disabled_reason: s.disabledReason,
      counters: {
        total_calls: s.totalCalls,
        total_errors: s.totalErrors,
        consecutive_errors: s.consecutiveErrors,
        total_skipped: s.totalSkipped,
        total_dropped: s.totalDropped,
        last_error: s.lastError,
        last_success_at: s.lastSuccessAt,
      },
      signing: { enabled: signing.enabled, previous_valid_until: signing.previousValidUntil },
      logs: await webhooks.logs(i.id),
    };
  }

  for (const base of ['/v1', '/v1/products/:product']) {
    for (const kind of ['integrations', 'webhooks'] as const) {
      const collection = `${base}/${kind}`;
      const item = `${collection}/:id`;
      type Req = FastifyRequest<{ Params: Params }>;

      app.post(collection, async (req: Req, reply: FastifyReply) => {
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

      app.get(collection, async (req: Req) => webhooks.list(productOf(req.params)).map(summary));

      app.get(item, async (req: Req) => ({ integration: await detail(webhooks.get(req.params.id!, productOf(req.params))) }));

      // Particle's PUT replaces the whole template; PATCH (Hookwire's) changes the fields given.
      app.put(item, async (req: Req) => ({ integration: await detail(await webhooks.replace(req.params.id!, bodyOf(req.body), actor(req), productOf(req.params))) }));
      app.patch(item, async (req: Req) => ({ integration: await detail(await webhooks.patch(req.params.id!, bodyOf(req.body), actor(req), productOf(req.params))) }));

      app.delete(item, async (req: Req, reply: FastifyReply) => {
        await webhooks.remove(req.params.id!, productOf(req.params));
        // Particle answers 204 for integrations and {"ok": true} for legacy webhooks.
        return kind === 'integrations' ? reply.code(204).send() : { ok: true };
      });

      for (const action of ['enable', 'disable'] as const) {
        app.post(`${item}/${action}`, async (req: Req) => {
          const reason = optionalString(bodyOf(req.body), ['reason']) ?? '';
          const i = await webhooks.setEnabled(req.params.id!, action === 'enable', actor(req), reason, productOf(req.params));
          return { integration: await detail(i) };
        });
      }

      // Daily success, error and skipped counts, oldest first; today counts from 00:00 UTC.
      app.get(`${item}/history`, async (req: FastifyRequest<{ Params: Params; Querystring: { days?: string } }>) => {
        const i = webhooks.get(req.params.id!, productOf(req.params));
        const days = req.query.days === undefined ? 30 : Number(req.query.days);
        if (!Number.isInteger(days) || days < 1 || days > 30) throw new HookwireError('BAD_REQUEST', 'days must be a whole number from 1 to 30', { field: 'days' });
        const counted = new Map((await webhooks.daily(i.id, days)).map((d) => [d.day, d]));
        const out = [];
        for (let k = days - 1; k >= 0; k--) {
          const day = new Date(Date.now() - k * 86_400_000).toISOString().slice(0, 10);
          out.push(counted.get(day) ?? { day, success: 0, error: 0, skipped: 0 });
        }
        return { integration_id: i.id, days: out };
      });

      // A new signing secret, shown once; the previous one keeps signing for overlap_seconds.
      app.post(`${item}/secret`, async (req: Req) => {
        const overlap = optionalInt(bodyOf(req.body), ['overlap_seconds', 'overlapSeconds']) ?? 86_400;
        const secret = await webhooks.rotateSecret(req.params.id!, overlap * 1000, productOf(req.params));
        return { secret, previous_valid_until: webhooks.signing(req.params.id!).previousValidUntil };
      });
      app.delete(`${item}/secret`, async (req: Req, reply: FastifyReply) => {
        await webhooks.removeSecret(req.params.id!, productOf(req.params));
        return reply.code(204).send();
      });
    }
  }
}
