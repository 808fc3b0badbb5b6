// hookwire doctor [id]: run the checks the troubleshooting guides describe (GET /v1/doctor)
// and print each finding with its next step. Exit 1 when any finding needs attention (an
// error or a warning), so a cron job or CI step can run it; 0 when there are none.

import type { DoctorReport, Finding, Severity } from '../../doctor/index.ts';
import { defineCommand } from '../command.ts';
import { useColor } from '../integration-path.ts';

const ANSI = { red: '\x1b[31m', yellow: '\x1b[33m', gray: '\x1b[90m', bold: '\x1b[1m', reset: '\x1b[0m' };
const TAG: Record<Severity, { text: string; colour: string }> = {
  error: { text: 'ERROR', colour: ANSI.red },
  warning: { text: 'WARN ', colour: ANSI.yellow },
  info: { text: 'info ', colour: ANSI.gray },
};

function tag(severity: Severity, color: boolean): string {
  const t = TAG[severity];
  return color ? `${t.colour}${t.text}${ANSI.reset}` : t.text;
}

function describe(f: Finding, color: boolean): string[] {
  const about = f.integrationId ? `  integration ${f.integrationId}` : '';
  return [`${tag(f.severity, color)}  ${f.check}${about}`, `       ${f.message}`, `       next: ${f.next}`, ''];
}

function count(findings: Finding[], severity: Severity, word: string): string {
  const n = findings.filter((f) => f.severity === severity).length;
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function report(r: DoctorReport, color: boolean): string[] {
  const checked = `${r.integrations} integration${r.integrations === 1 ? '' : 's'} checked`;
  if (r.findings.length === 0) return [`No problems found (${checked}).`];
  const out = [`hookwire doctor: ${checked}; events and deliveries observed since ${r.observedSince}.`, ''];
  for (const f of r.findings) out.push(...describe(f, color));
  const notes = r.findings.filter((f) => f.severity === 'info').length;
  out.push(r.ok
    ? `No problems found (${checked}; ${notes} note${notes === 1 ? '' : 's'} above).`
    : `${count(r.findings, 'error', 'error')}, ${count(r.findings, 'warning', 'warning')}, ${notes} note${notes === 1 ? '' : 's'}.`);
  return out;
}

export default defineCommand({
  name: 'doctor',
  summary: 'find what is wrong with integrations (names, filters, state, errors, templates, responses, targets), with next steps',
  usage: 'doctor [integration-id] [--json] [--skip-probe] [--probe-timeout MS (default 2000)]',
  options: { json: { type: 'boolean' }, 'skip-probe': { type: 'boolean' }, 'probe-timeout': { type: 'string' } },
  args: 1,
  async run({ values, args }, ctx) {
    const query = new URLSearchParams();
    if (args[0]) query.set('integration', args[0]);
    if (values['skip-probe']) query.set('probe', 'false');
    if (values['probe-timeout'] !== undefined) query.set('probe_timeout_ms', values['probe-timeout']); // the bridge checks the range
    const qs = query.toString();
    const r = await ctx.api().request<DoctorReport>('GET', `/v1/doctor${qs ? `?${qs}` : ''}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else for (const line of report(r, useColor(ctx.env))) ctx.out(line);
    return r.ok ? 0 : 1;
  },
});
