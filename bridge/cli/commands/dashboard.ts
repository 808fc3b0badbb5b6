// hookwire dashboard: the summary of every integration type (GET /v1/dashboard) for a
// terminal: successes and failures per type with the change against the previous period,
// the failure codes with what to check, and the failures table.

import type { Summary, TypeSummary } from '../../dashboard/index.ts';
import { defineCommand, table } from '../command.ts';

const TYPE_NAMES = { outbound: 'Outbound webhooks', inbound: 'Inbound (API publishes)', device: 'Device events' } as const;

/** A change in percent; with nothing before, "new" for something now and "-" for nothing. */
function changeText(change: number | null, now: number): string {
  if (change === null) return now ? 'new' : '-';
  return `${change > 0 ? '+' : ''}${change}%`;
}

function typeRow(name: string, t: TypeSummary): string[] {
  return [name, String(t.successes), changeText(t.change.successes, t.successes), String(t.failures), changeText(t.change.failures, t.failures)];
}

/** The summary's lines. */
export function render(s: Summary): string[] {
  const out = [`Hookwire dashboard, ${s.period}: ${s.from} to ${s.until} (change against ${s.previous.from} to ${s.previous.until})`, ''];
  out.push(...table([
    ['TYPE', 'SUCCESSES', 'CHANGE', 'FAILURES', 'CHANGE'],
    ...Object.entries(TYPE_NAMES).map(([type, name]) => typeRow(name, s.types[type as keyof typeof TYPE_NAMES])),
  ]));
  if (s.failures_by_code.length === 0) return [...out, '', 'No failures in this period.'];
  out.push('', 'Failures by code:');
  for (const c of s.failures_by_code) out.push(`  ${c.code.padEnd(20)} ${String(c.count).padStart(7)}  ${c.title}: ${c.check}`);
  out.push('', `Failures (${s.failures.total} ${s.failures.total === 1 ? 'kind' : 'kinds'}${s.failures.total > s.failures.rows.length ? `, the ${s.failures.rows.length} most frequent shown` : ''}):`);
  out.push(...table([
    ['INTEGRATION', 'EVENT', 'TYPE', 'FAILURE', 'COUNT', 'FIRST SEEN', 'LAST SEEN'],
    ...s.failures.rows.map((r) => [r.integration_id ?? '-', r.event ?? '-', r.type, r.description, String(r.count), r.first_seen, r.last_seen]),
  ]));
  out.push('', 'Drill into one: hookwire logs <integration>, hookwire doctor <integration>.');
  return out;
}

export default defineCommand({
  name: 'dashboard',
  summary: 'successes and failures of every integration type, failure codes with guidance, the failures table',
  usage: 'dashboard [--period 1d|7d|30d (default 30d)] [--until ISO] [--json]',
  options: { period: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const query = new URLSearchParams();
    if (values.period) query.set('period', values.period); // the bridge checks it
    if (values.until) query.set('until', values.until);
    const qs = query.toString();
    const s = await ctx.api().request<Summary>('GET', `/v1/dashboard${qs ? `?${qs}` : ''}`);
    if (values.json) ctx.out(JSON.stringify(s, null, 2));
    else for (const line of render(s)) ctx.out(line);
    return 0;
  },
});
