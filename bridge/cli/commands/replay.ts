// hookwire replay <id>: list an integration's failed deliveries (kept 30 days), and send them
// again: one, those that failed since a time, or all. A replayed delivery starts its retry
// policy over and keeps its webhook-id, so a receiver that saw it before can tell.

import { defineCommand, table, usageError } from '../command.ts';
import { integrationPath } from '../integration-path.ts';

interface Failure {
  id: number;
  event: { id: string; name: string; coreid: string; published_at: string };
  attempts: number;
  last_code: string | null;
  reason: string | null;
  finished_at: string | null;
}

function listing(id: string, total: number, failures: Failure[]): string[] {
  if (total === 0) return [`Integration ${id} has no failed deliveries (they are kept 30 days).`];
  return [
    ...table([
      ['DELIVERY', 'FAILED AT', 'ATTEMPTS', 'CODE', 'REASON', 'EVENT', 'DEVICE'],
      ...failures.map((f) => [String(f.id), f.finished_at ?? '', String(f.attempts), f.last_code ?? '', f.reason ?? '', f.event.name, f.event.coreid]),
    ]),
    '',
    `${total} failed${failures.length < total ? ` (the newest ${failures.length} shown)` : ''}. Replay: hookwire replay ${id} --delivery <DELIVERY> | --since <ISO time> | --all`,
  ];
}

export default defineCommand({
  name: 'replay',
  summary: 'list an integration\'s failed deliveries, and send them again',
  usage: 'replay <integration-id> --list [--since ISO] [--limit N] | --delivery N | --since ISO | --all  [--product P] [--json]',
  options: {
    list: { type: 'boolean' }, delivery: { type: 'string' }, since: { type: 'string' }, all: { type: 'boolean' },
    limit: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' },
  },
  args: 1,
  async run({ values, args }, ctx) {
    const id = args[0];
    if (!id) throw usageError('"replay" needs an integration ID (hookwire integrations list)');
    const path = integrationPath(id, values.product);
    const api = ctx.api();

    if (values.list) {
      const query = new URLSearchParams();
      if (values.since) query.set('since', values.since);
      if (values.limit) query.set('limit', values.limit);
      const res = await api.request<{ total: number; failures: Failure[] }>('GET', `${path}/failures${query.size ? `?${query}` : ''}`);
      if (values.json) ctx.out(JSON.stringify(res, null, 2));
      else for (const line of listing(id, res.total, res.failures)) ctx.out(line);
      return 0;
    }

    const chosen = [values.delivery !== undefined, values.since !== undefined, values.all === true].filter(Boolean).length;
    if (chosen !== 1) throw usageError('"replay" needs --list, or exactly one of --delivery N, --since ISO, --all');
    const body = values.delivery !== undefined ? { delivery_id: values.delivery } : values.since !== undefined ? { since: values.since } : { all: true };
    const res = await api.request<{ ok: boolean; replayed: number }>('POST', `${path}/replay`, body);
    if (values.json) ctx.out(JSON.stringify(res, null, 2));
    else ctx.out(res.replayed === 0
      ? `Nothing to replay: integration ${id} has no failed deliveries${values.since ? ` since ${values.since}` : ''}.`
      : `Replayed ${res.replayed} failed deliver${res.replayed === 1 ? 'y' : 'ies'} of ${id}: pending now, with the retry policy started over. Follow them with: hookwire logs ${id}`);
    return 0;
  },
});
