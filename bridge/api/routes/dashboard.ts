// GET /v1/dashboard?period=1d|7d|30d[&until=ISO]: the summary of every integration type
// (bridge/dashboard/summary.ts), counted from the start by the bridge's collector.

import type { FastifyRequest } from 'fastify';
import { PERIODS, summarize, windowOf, type Period } from '../../dashboard/index.ts';
import { HookwireError } from '../../errors.ts';
import type { ApiContext } from '../context.ts';

type Req = FastifyRequest<{ Querystring: { period?: string; until?: string } }>;

function periodOf(value: string | undefined): Period {
  if (value === undefined || value === '') return '30d';
  if (value in PERIODS) return value as Period;
  throw new HookwireError('BAD_REQUEST', `period must be one of ${Object.keys(PERIODS).join(', ')}`, { field: 'period' });
}

function untilOf(value: string | undefined): number {
  if (value === undefined || value === '') return Date.now();
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new HookwireError('BAD_REQUEST', 'until must be a time, e.g. 2024-05-01T12:00:00Z', { field: 'until' });
  return at;
}

export default function dashboard({ app, webhooks, store, dashboard: collector }: ApiContext) {
  app.get('/v1/dashboard', async (req: Req) => {
    const w = windowOf(periodOf(req.query.period), untilOf(req.query.until));
    await collector.flush(); // the last second's counts too
    const rows = await store.stats.range(w.previousFrom, w.until);
    const events = new Map(webhooks.list().map((i) => [i.id, i.event]));
    return summarize(rows, w, (id) => events.get(id));
  });
}
