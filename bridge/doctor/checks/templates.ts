// Templates that render invalid JSON (Particle: "visually check the JSON formatting"): an
// integration's string `json` template, or a `body` sent as JSON, rendered with the most
// recent event it matches, exactly as a delivery would (no request is sent). Tags that
// rendered empty because the event lacks the field are named: that is the usual cause.

import Mustache from 'mustache';
import type { HookwireEvent } from '../../events/index.ts';
import { eventView, render, type Integration, type View } from '../../webhooks/index.ts';
import { label, type Check, type CheckContext } from '../context.ts';
import { redactText } from '../../redact.ts';
import type { Finding } from '../types.ts';

/** Most of a rendered template shown, characters. */
const SHOWN = 2_000;

/** The JSON template an integration sends, if any: a string `json`, or a `body` declared JSON. */
function jsonTemplate(i: Integration): { field: 'json' | 'body'; template: string } | undefined {
  if (typeof i.json === 'string') return { field: 'json', template: i.json };
  if (i.body === undefined || !i.headers) return undefined;
  const type = Object.entries(i.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return type?.toLowerCase().includes('json') ? { field: 'body', template: i.body } : undefined;
}

/** The most recent event the integration takes: seen since the start, else its newest log. */
async function latestEvent(ctx: CheckContext, i: Integration): Promise<{ event: HookwireEvent; from: 'recent events' | 'delivery logs' } | undefined> {
  let best: HookwireEvent | undefined;
  let at = 0;
  for (const n of ctx.seen.names()) {
    if (n.lastSeen <= at || !n.name.startsWith(i.event)) continue;
    if (i.deviceID !== undefined && n.last.coreid !== i.deviceID) continue;
    if (i.productId !== null && n.last.product_id !== i.productId) continue;
    best = n.last;
    at = n.lastSeen;
  }
  if (best) return { event: best, from: 'recent events' };
  const logged = (await ctx.logs(i.id))[0]?.event;
  if (!logged) return undefined;
  // A logged event keeps its data as text (typed data as its JSON): enough to render with.
  return { event: { ...logged, type: 'text', product_id: i.productId, fw_version: null }, from: 'delivery logs' };
}

type Token = [string, string, number, number, Token[]?];

/** Variables of `{{x}}` and `{{{x}}}` tags (outside sections) that render empty for this view. */
function emptyTags(template: string, view: View): string[] {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as unknown as Token[];
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const [type, name] of tokens) {
    if (type !== 'name' && type !== '&') continue;
    let value: unknown = view;
    for (const part of name === '.' ? [] : name.split('.')) value = value && typeof value === 'object' ? (value as View)[part] : undefined;
    if ((value === undefined || value === null || value === '') && !out.includes(name)) out.push(name);
  }
  return out;
}

function parseError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function finding(i: Integration, field: 'json' | 'body', template: string, event: HookwireEvent, from: string, rendered: string, error: string, empty: string[]): Finding {
  const shown = redactText(rendered.length > SHOWN ? `${rendered.slice(0, SHOWN)}…` : rendered);
  const data = event.data.length > 200 ? `${event.data.slice(0, 200)}…` : event.data;
  const cause = empty.length
    ? ` ${empty.map((n) => `{{${n}}}`).join(', ')} rendered empty: the event has no such field.`
    : '';
  const fix = field === 'json'
    ? 'Make the JSON valid whatever the data: quote values ("t": "{{t}}"), or give a default with a section ({{#t}}{{t}}{{/t}}{{^t}}null{{/t}})'
    : 'Make the body valid JSON whatever the data, or send it as text (change its Content-Type)';
  const send = empty.length ? `, or have the devices send ${empty.join(', ')} in their JSON data` : '';
  return {
    check: 'TEMPLATE_INVALID_JSON',
    // A string json template that does not parse is never sent; a body is sent, and refused.
    severity: field === 'json' ? 'error' : 'warning',
    integrationId: i.id,
    message: `${label(i)}: its ${field} template renders invalid JSON (${error}) for the latest event it takes, "${event.name}" from ${event.coreid} at ${event.published_at} with data ${JSON.stringify(data)}.${cause} Rendered: ${shown}`,
    next: `${fix}${send}. Check it with: hookwire test ${i.id} --name ${event.name} --data '${data.replace(/'/g, "'\\''")}'`,
    evidence: {
      field, template: redactText(template), rendered: shown, error, emptyVariables: empty, eventFrom: from,
      event: { id: event.id, name: event.name, data, coreid: event.coreid, published_at: event.published_at },
    },
  };
}

export const templatesRenderJson: Check = async (ctx) => {
  const out: Finding[] = [];
  for (const i of ctx.integrations) {
    const t = jsonTemplate(i);
    if (!t) continue;
    const latest = await latestEvent(ctx, i);
    if (!latest) continue; // nothing to render with: real data decides
    const view = eventView(latest.event);
    let rendered: string;
    try {
      rendered = render(t.template, view);
    } catch {
      continue; // a template mustache cannot render is refused when it is saved
    }
    const error = parseError(rendered);
    if (error) out.push(finding(i, t.field, t.template, latest.event, latest.from, rendered, error, emptyTags(t.template, view)));
  }
  return out;
};

