// Integrations (webhooks) in Particle's shapes (PARTICLE.md §6): `/v1/integrations` and the
// legacy `/v1/webhooks`, each also under `/v1/products/:product/` as a product filter.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { HookwireError, NotFoundError } from '../../errors.ts';
import { readerRequest, readerTemplate, readerUrl } from '../../redact.ts';
import { parseTemplate, previewRequest, templateOf, type DeliveryLog, type FailedDelivery, type Integration, type IntegrationStatus, type ReplaySelector, type TestInput } from '../../webhooks/index.ts';
import { guidanceOf, type Guidance } from '../../codes.ts';
import type { ApiContext } from '../context.ts';
import { type Body, bodyOf, optionalInt, optionalString, productScope } from '../input.ts';

type Params = { product?: string; id?: string };

/** A read-only token never sees template literals (bridge/redact.ts: by rule, not by name). */
const readOnly = (req: FastifyRequest) => req.token?.scope !== 'admin';

/**
 * The list entry Particle's clients read, with what Hookwire adds for a list of integrations
 * to be read at a glance (Particle's console shows it): the state and why, who disabled it,
 * and the counters a row shows.
 */
function summary(i: Integration, status: IntegrationStatus, redact = false) {
  return {
    id: i.id,
    integration_type: 'Webhook',
    event: i.event,
    url: redact ? readerUrl(i.url, new Set(i.publicFields)) : i.url,
    requestType: i.requestType,
    name: i.name,
    deviceID: i.deviceID,
    disabled: i.disabled,
    product_id: i.productId,
    created_at: i.createdAt,
    state: status.state,
    state_reason: status.reason,
    disabled_by: status.disabledBy,
    disabled_reason: status.disabledReason,
    counters: { total_calls: status.totalCalls, total_errors: status.totalErrors, last_success_at: status.lastSuccessAt },
  };
}

/** A delivery log entry as the API shows it: an error with what its code means and what to check. */
function withGuidance(log: DeliveryLog): DeliveryLog & { guidance?: Guidance } {
  return log.error ? { ...log, guidance: guidanceOf(log.error.code) } : log;
}

/** Failed deliveries listed per request: default and most. */
const DEFAULT_FAILURES = 100;
const MAX_FAILURES = 1000;

/** An ISO-8601 time as ms, or a BAD_REQUEST naming the field. */
function isoTime(value: unknown, field: string): number {
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new HookwireError('BAD_REQUEST', `${field} must be an ISO-8601 time, like 2024-05-01T00:00:00Z`, { field });
  return ms;
}

/** A whole number from the query string within [min, max]; undefined when absent. */
function queryInt(query: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const raw = query[field];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new HookwireError('BAD_REQUEST', `${field} must be a whole number from ${min} to ${max}`, { field });
  return n;
}

/** POST .../test's optional body: `data` (text, or JSON that is sent as its text), `name`, `device_id`. */
function testInput(body: Body): TestInput {
  const input: TestInput = {};
  const data = body.data;
  if (data !== undefined && data !== null) input.data = typeof data === 'string' ? data : JSON.stringify(data);
  const name = optionalString(body, ['name', 'event']);
  if (name !== undefined) input.name = name;
  const deviceId = optionalString(body, ['device_id', 'deviceId', 'deviceID', 'coreid']);
  if (deviceId !== undefined) input.deviceId = deviceId;
  return input;
}

/** POST .../replay's body: exactly one of `delivery_id`, `since` (ISO-8601) or `all: true`. */
function replaySelector(body: Body): ReplaySelector {
  const deliveryId = optionalInt(body, ['delivery_id', 'deliveryId']);
  const since = body.since === undefined || body.since === null || body.since === '' ? undefined : isoTime(body.since, 'since');
  const all = body.all === true || body.all === 'true';
  if (body.all !== undefined && body.all !== true && body.all !== 'true' && body.all !== false && body.all !== 'false') {
    throw new HookwireError('BAD_REQUEST', 'all must be true or false', { field: 'all' });
  }
  const given = [deliveryId !== undefined, since !== undefined, all].filter(Boolean).length;
  if (given !== 1) {
    throw new HookwireError('BAD_REQUEST', 'give exactly one of delivery_id (one failed delivery), since (an ISO-8601 time) or all: true');
  }
  if (deliveryId !== undefined) return { deliveryId };
  return { since: since ?? 0 };
}

/** A failed delivery as GET .../failures lists it. */
function failureOf(d: FailedDelivery) {
  const code = d.lastCode ?? '';
  return {
    id: d.id,
    event: d.event,
    attempts: d.attempts,
    last_code: d.lastCode,
    reason: code ? guidanceOf(code).title : null,
    created_at: new Date(d.createdAt).toISOString(),
    finished_at: d.finishedAt === null ? null : new Date(d.finishedAt).toISOString(),
  };
}

/** Who a change is recorded as: the API token's name. */
const actor = (req: FastifyRequest) => req.token?.name ?? 'api';

export default function integrations({ app, webhooks }: ApiContext) {
  /** Daily success, error and skipped counts of the last `days` days, oldest first, days without any included. */
  async function dailyCounts(id: string, days: number) {
    const counted = new Map((await webhooks.daily(id, days)).map((d) => [d.day, d]));
    const out = [];
    for (let k = days - 1; k >= 0; k--) {
      const day = new Date(Date.now() - k * 86_400_000).toISOString().slice(0, 10);
      out.push(counted.get(day) ?? { day, success: 0, error: 0, skipped: 0 });
    }
    return out;
  }

  async function detail(i: Integration, redact = false) {
    // Whichever bridge answers: on a shared store, every bridge's counts added up.
    const s = await webhooks.currentStatus(i.id);
    const signing = webhooks.signing(i.id);
    return {
      id: i.id,
      integration_type: 'Webhook',
      ...(redact ? readerTemplate(templateOf(i)) : templateOf(i)),
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
      logs: (await webhooks.logs(i.id)).map((l) => withGuidance(redact && l.request ? { ...l, request: readerRequest(l.request) } : l)),
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
        const i = await webhooks.create(body, productScope(req.params));
        return reply.code(201).send({
          ok: true,
          id: i.id,
          url: i.url,
          event: i.event,
          created_at: i.createdAt,
          hookUrl: `${req.protocol}://${req.host}${collection.replace(':product', req.params.product ?? '')}/${i.id}`,
        });
      });

      // What a template would send for a sample event, unsaved and unsent (the console's live
      // preview): `{template, data?, name?, device_id?}`; admin only, as the template's secrets show.
      app.post(`${collection}/preview`, async (req: Req) => {
        const body = bodyOf(req.body);
        if (body.template === undefined) throw new HookwireError('BAD_REQUEST', 'template is required: the integration as it would be created', { field: 'template' });
        return previewRequest(parseTemplate(body.template), productScope(req.params) ?? null, testInput(body));
      });

      // `?history_days=N` (1-30) adds each one's daily counts, oldest first: a list's trend
      // column in one request rather than one per integration.
      app.get(collection, async (req: FastifyRequest<{ Params: Params; Querystring: Record<string, unknown> }>) => {
        const days = queryInt(req.query, 'history_days', 1, 30);
        const statuses = await webhooks.currentStatuses();
        return Promise.all(webhooks.list(productScope(req.params)).map(async (i) => {
          const entry = summary(i, statuses.get(i.id) ?? webhooks.status(i.id), readOnly(req));
          return days === undefined ? entry : { ...entry, history: await dailyCounts(i.id, days) };
        }));
      });

      app.get(item, async (req: Req) => ({ integration: await detail(webhooks.get(req.params.id!, productScope(req.params)), readOnly(req)) }));

      // Particle's PUT replaces the whole template; PATCH (Hookwire's) changes the fields given.
      app.put(item, async (req: Req) => ({ integration: await detail(await webhooks.replace(req.params.id!, bodyOf(req.body), actor(req), productScope(req.params))) }));
      app.patch(item, async (req: Req) => ({ integration: await detail(await webhooks.patch(req.params.id!, bodyOf(req.body), actor(req), productScope(req.params))) }));

      app.delete(item, async (req: Req, reply: FastifyReply) => {
        await webhooks.remove(req.params.id!, productScope(req.params));
        // Particle answers 204 for integrations and {"ok": true} for legacy webhooks.
        return kind === 'integrations' ? reply.code(204).send() : { ok: true };
      });

      for (const action of ['enable', 'disable'] as const) {
        app.post(`${item}/${action}`, async (req: Req) => {
          const reason = optionalString(bodyOf(req.body), ['reason']) ?? '';
          const i = await webhooks.setEnabled(req.params.id!, action === 'enable', actor(req), reason, productScope(req.params));
          return { integration: await detail(i) };
        });
      }

      // Daily success, error and skipped counts, oldest first; today counts from 00:00 UTC.
      app.get(`${item}/history`, async (req: FastifyRequest<{ Params: Params; Querystring: { days?: string } }>) => {
        const i = webhooks.get(req.params.id!, productScope(req.params));
        const days = req.query.days === undefined ? 30 : Number(req.query.days);
        if (!Number.isInteger(days) || days < 1 || days > 30) throw new HookwireError('BAD_REQUEST', 'days must be a whole number from 1 to 30', { field: 'days' });
        return { integration_id: i.id, days: await dailyCounts(i.id, days) };
      });

      // A new signing secret, shown once; the previous one keeps signing for overlap_seconds.
      app.post(`${item}/secret`, async (req: Req) => {
        const overlap = optionalInt(bodyOf(req.body), ['overlap_seconds', 'overlapSeconds']) ?? 86_400;
        const secret = await webhooks.rotateSecret(req.params.id!, overlap * 1000, productScope(req.params));
        return { secret, previous_valid_until: webhooks.signing(req.params.id!).previousValidUntil };
      });
      app.delete(`${item}/secret`, async (req: Req, reply: FastifyReply) => {
        await webhooks.removeSecret(req.params.id!, productScope(req.params));
        return reply.code(204).send();
      });

      // Particle's test: a synthetic event through the real render and send; changes nothing.
      app.post(`${item}/test`, async (req: Req) => webhooks.test(req.params.id!, testInput(bodyOf(req.body)), productScope(req.params)));

      // Failed deliveries kept for replay (30 days), newest first.
      app.get(`${item}/failures`, async (req: FastifyRequest<{ Params: Params; Querystring: Record<string, unknown> }>) => {
        const limit = queryInt(req.query, 'limit', 1, MAX_FAILURES) ?? DEFAULT_FAILURES;
        const since = req.query.since === undefined ? undefined : isoTime(req.query.since, 'since');
        const { total, deliveries } = await webhooks.failures(req.params.id!, since === undefined ? { limit } : { limit, since }, productScope(req.params));
        return { integration_id: req.params.id, total, failures: deliveries.map(failureOf) };
      });

      // Replay one failed delivery, those that failed since a time, or all of them.
      app.post(`${item}/replay`, async (req: Req) => {
        const replayed = await webhooks.replay(req.params.id!, replaySelector(bodyOf(req.body)), productScope(req.params));
        return { ok: true, replayed };
      });
    }
  }
}
