// hookwire integrations create|list|show|delete|enable|disable

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { table, type Command } from '../command.ts';

interface Summary {
  id: string;
  event: string;
  url: string;
  requestType: string;
  name?: string;
  disabled: boolean;
  product_id: number | null;
}

interface Log {
  at: string;
  ok: boolean;
  durationMs: number;
  event: { name: string; data: string };
  request?: { method: string; url: string };
  response?: { status: number };
  error?: { code: string; message: string };
  note?: string;
}

interface Detail extends Summary {
  state: string;
  state_reason: string;
  disabled_by: string | null;
  disabled_at: string | null;
  disabled_reason: string | null;
  counters: {
    total_calls: number;
    total_errors: number;
    consecutive_errors: number;
    total_skipped: number;
    total_dropped: number;
    last_error: { code: string; message: string; at: string } | null;
    last_success_at: string | null;
  };
  logs: Log[];
  [field: string]: unknown;
}

function describe(i: Detail): string[] {
  const lines = [`${i.id}  ${i.name ?? ''}`.trimEnd(), '', `  state: ${i.state} (${i.state_reason})`];
  if (i.disabled_at) lines.push(`  disabled by ${i.disabled_by} at ${i.disabled_at}${i.disabled_reason ? `: ${i.disabled_reason}` : ''}`);
  lines.push('');
  const hidden = new Set(['id', 'counters', 'logs', 'integration_type', 'state', 'state_reason', 'state_changed_at', 'disabled_by', 'disabled_at', 'disabled_reason']);
  for (const [k, v] of Object.entries(i)) {
    if (hidden.has(k) || v === undefined || v === null) continue;
    lines.push(`  ${k.padEnd(22)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  const c = i.counters;
  lines.push('', `  calls: ${c.total_calls - c.total_errors} succeeded, ${c.total_errors} failed (${c.consecutive_errors} in a row), ${c.total_skipped} skipped, ${c.total_dropped} dropped`);
  if (c.last_error) lines.push(`  last error: ${c.last_error.code}: ${c.last_error.message} (${c.last_error.at})`);
  if (i.logs.length) {
    lines.push('', '  recent deliveries (newest first):');
    for (const l of i.logs) {
      const outcome = l.ok ? `${l.response?.status ?? 'ok'}` : `${l.error?.code}`;
      lines.push(`    ${l.at}  ${l.ok ? 'ok   ' : 'ERROR'}  ${outcome.padEnd(15)} ${l.event.name}  ${Math.round(l.durationMs)} ms${l.note ? `  (${l.note})` : ''}`);
    }
  }
  return lines;
}

const integrations: Command = {
  name: 'integrations',
  summary: 'create (from a pasted Particle template), list, show, delete, enable, disable webhooks',
  usage: 'integrations create <template.json> [--product P] | list | show <id> | delete <id> | enable <id> | disable <id> [--reason R]\n'
    + '      | retry-policy <id> <particle|durable|s1,s2,...> | secret rotate <id> [--overlap S] | secret remove <id>  [--json]',
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { product: { type: 'string' }, json: { type: 'boolean' }, reason: { type: 'string' }, overlap: { type: 'string' } },
      allowPositionals: true,
    });
    const [sub, arg, arg2] = positionals;
    const api = ctx.api();
    const base = values.product ? `/v1/products/${encodeURIComponent(values.product)}/integrations` : '/v1/integrations';
    const print = (value: unknown, text: () => string[]) => {
      for (const line of values.json ? [JSON.stringify(value, null, 2)] : text()) ctx.out(line);
    };
    const need = (what: string) => {
      if (!arg) throw Object.assign(new Error(`"integrations ${sub}" needs ${what}`), { code: 'ERR_PARSE_ARGS_MISSING' });
      return arg;
    };

    switch (sub) {
      case 'create': {
        const file = need('a template file (a Particle webhook template, JSON)');
        let template: unknown;
        try {
          template = JSON.parse(await readFile(file, 'utf8'));
        } catch (err) {
          ctx.err(`error: cannot read ${file} as JSON: ${(err as Error).message}`);
          return 1;
        }
        const created = await api.request<{ id: string; event: string; url: string }>('POST', base, { integration_type: 'Webhook', ...(template as object) });
        print(created, () => [`Integration ${created.id} created: events starting with "${created.event}" → ${created.url}`]);
        return 0;
      }
      case 'list': {
        const list = await api.request<Summary[]>('GET', base);
        print(list, () => list.length === 0 ? ['No integrations yet: hookwire integrations create <template.json>'] : table([
          ['ID', 'EVENT', 'METHOD', 'URL', 'STATE', 'PRODUCT', 'NAME'],
          ...list.map((i) => [i.id, i.event, i.requestType, i.url, i.disabled ? 'disabled' : 'enabled', String(i.product_id ?? '-'), i.name ?? '']),
        ]));
        return 0;
      }
      case 'show': {
        const { integration } = await api.request<{ integration: Detail }>('GET', `${base}/${encodeURIComponent(need('an integration ID'))}`);
        print(integration, () => describe(integration));
        return 0;
      }
      case 'delete': {
        await api.request('DELETE', `${base}/${encodeURIComponent(need('an integration ID'))}`);
        print({ ok: true }, () => [`Integration ${arg} deleted.`]);
        return 0;
      }
      case 'enable':
      case 'disable': {
        const body = values.reason ? { reason: values.reason } : {};
        const { integration } = await api.request<{ integration: Detail }>('POST', `${base}/${encodeURIComponent(need('an integration ID'))}/${sub}`, body);
        print(integration, () => [`Integration ${integration.id} ${integration.disabled ? 'disabled' : 'enabled'}: ${integration.state} (${integration.state_reason}).`]);
        return 0;
      }
      case 'retry-policy': {
        const id = need('an integration ID and a policy');
        if (!arg2) throw Object.assign(new Error('"integrations retry-policy" needs a policy: particle, durable, or delays in seconds like 5,30,300'), { code: 'ERR_PARSE_ARGS_MISSING' });
        const policy = arg2 === 'particle' || arg2 === 'durable' ? arg2 : arg2.split(',').map(Number);
        const { integration } = await api.request<{ integration: Detail }>('PATCH', `${base}/${encodeURIComponent(id)}`, { retryPolicy: policy });
        print(integration, () => [`Integration ${integration.id} retries with ${JSON.stringify(integration.retryPolicy)}.`]);
        return 0;
      }
      case 'secret': {
        const action = arg;
        const id = arg2;
        if ((action !== 'rotate' && action !== 'remove') || !id) {
          throw Object.assign(new Error('usage: integrations secret rotate <id> [--overlap seconds] | secret remove <id>'), { code: 'ERR_PARSE_ARGS_MISSING' });
        }
        if (action === 'remove') {
          await api.request('DELETE', `${base}/${encodeURIComponent(id)}/secret`);
          print({ ok: true }, () => [`Integration ${id} no longer signs its requests.`]);
          return 0;
        }
        const body = values.overlap ? { overlap_seconds: values.overlap } : {};
        const r = await api.request<{ secret: string; previous_valid_until: string | null }>('POST', `${base}/${encodeURIComponent(id)}/secret`, body);
        print(r, () => [
          `New signing secret for ${id} (shown once, keep it): ${r.secret}`,
          r.previous_valid_until ? `The previous secret keeps signing too until ${r.previous_valid_until}.` : 'Requests are signed with it from now on.',
        ]);
        return 0;
      }
      default:
        ctx.err(`usage: hookwire ${integrations.usage}`);
        return 2;
    }
  },
};

export default integrations;
