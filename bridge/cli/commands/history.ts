// hookwire history <id>: daily successes, errors and skipped events as a bar chart, like the
// console's graph (PARTICLE.md §4: success blue, error red, skipped gray). Colours only for a
// terminal; otherwise plain letters (# success, x error, . skipped), so pipes and logs stay clean.

import type { DailyCount } from '../../store/index.ts';
import { defineCommand, usageError } from '../command.ts';
import { integrationPath, useColor } from '../integration-path.ts';

/** The widest a bar gets, characters. */
const BAR_WIDTH = 40;

const ANSI = { blue: '\x1b[34m', red: '\x1b[31m', gray: '\x1b[90m', reset: '\x1b[0m' };

interface Style {
  success: (n: number) => string;
  error: (n: number) => string;
  skipped: (n: number) => string;
}

const plain: Style = { success: (n) => '#'.repeat(n), error: (n) => 'x'.repeat(n), skipped: (n) => '.'.repeat(n) };
const block = (colour: string) => (n: number) => (n ? `${colour}${'█'.repeat(n)}${ANSI.reset}` : '');
const coloured: Style = { success: block(ANSI.blue), error: block(ANSI.red), skipped: block(ANSI.gray) };

/** Characters for a count: to scale, and at least one for any non-zero count so nothing hides. */
function cells(count: number, scale: number): number {
  return count === 0 ? 0 : Math.max(1, Math.round(count * scale));
}

/** The chart's lines: a legend, one row per day (oldest first), the totals. */
export function chart(days: DailyCount[], color: boolean, width = BAR_WIDTH): string[] {
  const style = color ? coloured : plain;
  const most = Math.max(1, ...days.map((d) => d.success + d.error + d.skipped));
  // Small counts get a character each; large ones are scaled to fit the width.
  const scale = most > width ? width / most : 1;
  const barWidth = Math.min(width, most) + 3; // room for the minimum-one cells
  const out = [`${style.success(1)} success  ${style.error(1)} error  ${style.skipped(1)} skipped${scale < 1 ? `   (one mark ≈ ${(1 / scale).toFixed(1)} events)` : ''}`, ''];
  const total = { success: 0, error: 0, skipped: 0 };
  days.forEach((d, k) => {
    const n = { success: cells(d.success, scale), error: cells(d.error, scale), skipped: cells(d.skipped, scale) };
    const bar = style.success(n.success) + style.error(n.error) + style.skipped(n.skipped);
    const pad = ' '.repeat(Math.max(0, barWidth - n.success - n.error - n.skipped));
    const today = k === days.length - 1 ? '  (today, from 00:00 UTC)' : '';
    out.push(`${d.day}  ${bar}${pad} ${String(d.success).padStart(5)} ok ${String(d.error).padStart(5)} err ${String(d.skipped).padStart(5)} skipped${today}`);
    total.success += d.success;
    total.error += d.error;
    total.skipped += d.skipped;
  });
  out.push('', `${days.length} ${days.length === 1 ? 'day' : 'days'}: ${total.success} succeeded, ${total.error} failed, ${total.skipped} skipped`);
  return out;
}

export default defineCommand({
  name: 'history',
  summary: 'daily successes, errors and skipped events of an integration, as a bar chart',
  usage: 'history <integration-id> [--days N (1-30, default 7)] [--product P] [--json]',
  options: { days: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' } },
  args: 1,
  async run({ values, args }, ctx) {
    const id = args[0];
    if (!id) throw usageError('"history" needs an integration ID (hookwire integrations list)');
    const days = values.days ?? '7'; // a week fits a terminal; the bridge checks the range
    const res = await ctx.api().request<{ integration_id: string; days: DailyCount[] }>('GET', `${integrationPath(id, values.product)}/history?days=${encodeURIComponent(days)}`);
    if (values.json) ctx.out(JSON.stringify(res, null, 2));
    else for (const line of chart(res.days, useColor(ctx.env))) ctx.out(line);
    return 0;
  },
});
