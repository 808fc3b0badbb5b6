// hookwire logs <id>: an integration's last successes and errors (PARTICLE.md §4: the last
// 10 of each), with what each error usually means and what to check.

import type { DeliveryLog } from '../../webhooks/index.ts';
import { guidanceOf } from '../../codes.ts';
import { defineCommand, usageError } from '../command.ts';
import { integrationPath } from '../integration-path.ts';

interface Detail {
  id: string;
  name?: string;
  event: string;
  url: string;
  state: string;
  state_reason: string;
  counters: { total_calls: number; total_errors: number; total_skipped: number; total_dropped: number };
  logs: DeliveryLog[];
}

/** One line per attempt: time, status or code, duration, event (and data), method and URL. */
function line(l: DeliveryLog): string {
  const outcome = l.error?.code ?? String(l.response?.status ?? 'ok');
  const target = l.request ? `  ${l.request.method} ${l.request.url}` : '';
  return `  ${l.at}  ${outcome.padEnd(6)} ${`${Math.round(l.durationMs)} ms`.padStart(7)}  ${l.event.name} ${JSON.stringify(l.event.data.slice(0, 40))}${target}`;
}

function describe(i: Detail, successes: DeliveryLog[], errors: DeliveryLog[]): string[] {
  const c = i.counters;
  const out = [
    `${i.id}${i.name ? ` (${i.name})` : ''}: "${i.event}" → ${i.url}`,
    `state: ${i.state} (${i.state_reason}); calls: ${c.total_calls - c.total_errors} succeeded, ${c.total_errors} failed, ${c.total_skipped} skipped, ${c.total_dropped} dropped`,
    '',
  ];
  if (successes.length === 0 && errors.length === 0) {
    out.push('No deliveries yet. Publish a matching event, or try it: hookwire test ' + i.id);
    return out;
  }
  out.push(`Successes (the last ${successes.length}, newest first):`);
  for (const l of successes) out.push(line(l) + (l.note ? `\n      note: ${l.note}` : ''));
  out.push('', `Errors (the last ${errors.length}, newest first):`);
  for (const l of errors) {
    out.push(line(l));
    if (l.error) out.push(`      ${l.error.message}`);
    if (l.response?.body) out.push(`      response: ${JSON.stringify(l.response.body.slice(0, 120))}`);
    const g = guidanceOf(l.error?.code ?? '');
    out.push(`      → ${g.title}: ${g.check}`);
  }
  return out;
}

export default defineCommand({
  name: 'logs',
  summary: 'an integration\'s last successes and errors, with guidance for each error',
  usage: 'logs <integration-id> [--product P] [--json]',
  options: { product: { type: 'string' }, json: { type: 'boolean' } },
  args: 1,
  async run({ values, args }, ctx) {
    const id = args[0];
    if (!id) throw usageError('"logs" needs an integration ID (hookwire integrations list)');
    const { integration: i } = await ctx.api().request<{ integration: Detail }>('GET', integrationPath(id, values.product));
    const successes = i.logs.filter((l) => l.ok);
    const errors = i.logs.filter((l) => !l.ok);
    if (values.json) {
      ctx.out(JSON.stringify({ id: i.id, state: i.state, counters: i.counters, successes, errors: errors.map((l) => ({ ...l, guidance: guidanceOf(l.error?.code ?? '') })) }, null, 2));
    } else {
      for (const l of describe(i, successes, errors)) ctx.out(l);
    }
    return 0;
  },
});
