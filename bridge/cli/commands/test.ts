// hookwire test <id>: send a synthetic event through the integration (POST .../test) and show
// the request, the response, and on failure what it usually means. Changes nothing on the
// bridge. Exit 1 when the test fails, so scripts can check a target before going live.

import type { TestResult } from '../../webhooks/index.ts';
import { defineCommand, usageError } from '../command.ts';
import { integrationPath } from '../integration-path.ts';

/** Most of a body printed, characters (--json has all of it). */
const BODY_PREVIEW = 500;

function preview(body: string): string {
  return body.length > BODY_PREVIEW ? `${body.slice(0, BODY_PREVIEW)}… (${body.length} characters)` : body;
}

function describe(r: TestResult): string[] {
  const target = r.request ? `${r.request.method} ${r.request.url}` : '(no request: the template did not render)';
  const out = [
    r.pass
      ? `PASS  ${target} → ${r.response?.status} in ${Math.round(r.duration_ms)} ms`
      : `FAIL  ${r.error}`,
    `event:     ${r.event.name} ${JSON.stringify(r.event.data)} from ${r.event.coreid}`,
  ];
  if (r.request) {
    out.push(`request:   ${target}`);
    for (const [k, v] of Object.entries(r.request.headers)) out.push(`           ${k}: ${v}`);
    if (r.request.body !== undefined) out.push(`           ${preview(r.request.body)}`);
  }
  if (r.response) {
    out.push(`response:  ${r.response.status}${r.response.truncated ? ' (body cut at 100 KB)' : ''}`);
    if (r.response.body) out.push(`           ${preview(r.response.body)}`);
  }
  if (r.would_publish) out.push(`device:    would hear it on ${r.would_publish.topic} (${r.would_publish.parts} part${r.would_publish.parts === 1 ? '' : 's'}; nothing was published)`);
  if (r.note) out.push(`note:      ${r.note}`);
  if (r.disabled) out.push('note:      the integration is disabled: real events do not trigger it (hookwire integrations enable <id>)');
  if (r.host_sleeping) out.push('note:      its host is asleep after too many errors: real deliveries to it are being skipped for now');
  if (!r.pass && r.guidance) {
    out.push('', `${r.code}: ${r.guidance.title}. ${r.guidance.meaning}`, `next: ${r.guidance.check}`);
  }
  return out;
}

export default defineCommand({
  name: 'test',
  summary: 'send a test event through an integration and show the request and response (changes nothing)',
  usage: 'test <integration-id> [--data TEXT|JSON] [--name EVENT] [--device ID] [--product P] [--json]',
  options: { data: { type: 'string' }, name: { type: 'string' }, device: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' } },
  args: 1,
  async run({ values, args }, ctx) {
    const id = args[0];
    if (!id) throw usageError('"test" needs an integration ID (hookwire integrations list)');
    const body: Record<string, string> = {};
    if (values.data !== undefined) body.data = values.data; // sent as the event's data, as a device would
    if (values.name !== undefined) body.name = values.name;
    if (values.device !== undefined) body.device_id = values.device;
    const result = await ctx.api().request<TestResult>('POST', `${integrationPath(id, values.product)}/test`, body);
    if (values.json) ctx.out(JSON.stringify(result, null, 2));
    else for (const line of describe(result)) ctx.out(line);
    return result.pass ? 0 : 1;
  },
});
