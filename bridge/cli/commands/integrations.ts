// hookwire integrations create|list|show|update|delete|enable|disable|retry-policy|secret

import { readFile } from 'node:fs/promises';
import { defineCommand, table, usageError } from '../command.ts';
import { assignment, FIELD_NAMES, FIELD_OPTIONS, fieldFlagsUsage, fieldName, fieldValue, flagOf } from '../template-fields.ts';

interface Summary {
  id: string;
  event: string;
  url: string;
  requestType: string;
  name?: string;
  disabled: boolean;
  product_id: number | null;
  /** Unknown (never called), Active, Failing, TooManyErrors, Disabled. */
  state: string;
  state_reason: string;
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


/** Read a template file: JSON, a Particle webhook template. */
async function readTemplate(file: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw usageError(`cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError(`${file} must hold a JSON object (a webhook template)`);
  return parsed as Record<string, unknown>;
}

/** The `json` field from --json-template: an object when the file is a JSON object, else a string template. */
async function jsonTemplate(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`--json-template: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return fieldValue('json', text, '--json-template');
}

/** The fields the update flags change, in the order given by kind; null clears a field. */
async function changes(values: Record<string, unknown> & { set?: string[]; unset?: string[] }): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  for (const field of FIELD_NAMES) {
    const flag = flagOf(field);
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (field === 'json') fields.json = raw === '' ? null : await jsonTemplate(raw);
    else fields[field] = fieldValue(field, field === 'requestType' ? raw.toUpperCase() : raw, `--${flag}`);
  }
  for (const raw of values.set ?? []) {
    const [name, value] = assignment(raw);
    fields[name] = value;
  }
  for (const raw of values.unset ?? []) fields[fieldName(raw, '--unset')] = null;
  return fields;
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

const UPDATE_FLAGS = [...Object.keys(FIELD_OPTIONS), 'set', 'unset'];

export default defineCommand({
  name: 'integrations',
  summary: 'create (from a pasted Particle template), list, show, update, delete, enable, disable webhooks',
  usage: 'integrations',
  options: {
    ...FIELD_OPTIONS,
    product: { type: 'string' }, json: { type: 'boolean' }, reason: { type: 'string' }, overlap: { type: 'string' },
    set: { type: 'string', multiple: true }, unset: { type: 'string', multiple: true },
  },
  common: ['json', 'product'],
  subcommands: {
    create: { usage: 'create <template.json> [--product P] [--json]', summary: 'create an integration from a Particle webhook template (JSON, as the console exports it)', args: 1 },
    list: { usage: 'list [--product P] [--json]', summary: 'every integration with its state: Unknown (never called), Active, Failing, TooManyErrors, Disabled', args: 0 },
    show: { usage: 'show <id> [--product P] [--json]', summary: 'one integration: its template, state, counters and recent deliveries', args: 1 },
    update: {
      usage: `update <id> [template.json] [--set field=value|field=@FILE]... [--unset field]... [--product P] [--json]\n${fieldFlagsUsage('        ')}`,
      summary: 'change an integration: the flags change only the fields given (a value @FILE is read from the file, \'\' clears the field); '
        + 'a template file replaces the whole template, as create reads it, with the flags applied over it',
      args: 2,
      options: UPDATE_FLAGS,
    },
    delete: { usage: 'delete <id> [--product P] [--json]', summary: 'delete an integration', args: 1 },
    enable: { usage: 'enable <id> [--product P] [--json]', summary: 'enable an integration (its state starts over at Unknown)', args: 1 },
    disable: { usage: 'disable <id> [--reason R] [--product P] [--json]', summary: 'disable an integration, recording who and why', args: 1, options: ['reason'] },
    'retry-policy': { usage: 'retry-policy <id> <particle|durable|s1,s2,...> [--product P] [--json]', summary: 'how failed deliveries are retried: a named policy or delays in seconds', args: 2 },
    secret: { usage: 'secret rotate <id> [--overlap SECONDS] | secret remove <id>  [--product P] [--json]', summary: 'a new signing secret (the old one keeps signing for --overlap, default a day), or stop signing', args: 2, options: ['overlap'] },
  },
  async run({ values, sub, args }, ctx) {
    const [arg, arg2] = args;
    const api = ctx.api();
    const base = values.product ? `/v1/products/${encodeURIComponent(values.product)}/integrations` : '/v1/integrations';
    const print = (value: unknown, text: () => string[]) => {
      for (const line of values.json ? [JSON.stringify(value, null, 2)] : text()) ctx.out(line);
    };
    const need = (what: string) => {
      if (!arg) throw usageError(`"integrations ${sub}" needs ${what}`);
      return arg;
    };

    switch (sub) {
      case 'create': {
        const template = await readTemplate(need('a template file (a Particle webhook template, JSON)'));
        const created = await api.request<{ id: string; event: string; url: string }>('POST', base, { integration_type: 'Webhook', ...template });
        print(created, () => [`Integration ${created.id} created: events starting with "${created.event}" → ${created.url}`]);
        return 0;
      }
      case 'list': {
        const list = await api.request<Summary[]>('GET', base);
        print(list, () => list.length === 0 ? ['No integrations yet: hookwire integrations create <template.json>'] : table([
          ['ID', 'EVENT', 'METHOD', 'URL', 'STATE', 'PRODUCT', 'NAME'],
          ...list.map((i) => [i.id, i.event, i.requestType, i.url, i.state, String(i.product_id ?? '-'), i.name ?? '']),
        ]));
        return 0;
      }
      case 'update': {
        const id = need('an integration ID, then a template file or fields to change (--url, --set field=value, ...)');
        const fields = await changes(values);
        const path = `${base}/${encodeURIComponent(id)}`;
        let integration: Detail;
        if (arg2 !== undefined) {
          // Particle's PUT: the file is the whole template; fields not in it go back to their defaults.
          const template: Record<string, unknown> = { ...(await readTemplate(arg2)), ...fields };
          for (const [k, v] of Object.entries(template)) if (v === null) delete template[k];
          ({ integration } = await api.request<{ integration: Detail }>('PUT', path, template));
        } else {
          if (Object.keys(fields).length === 0) throw usageError('"integrations update" needs a template file or a field to change (--url, --event, --set field=value, ...)');
          ({ integration } = await api.request<{ integration: Detail }>('PATCH', path, fields));
        }
        const changed = arg2 !== undefined ? 'template replaced' : `changed ${Object.keys(fields).join(', ')}`;
        print(integration, () => [`Integration ${integration.id} updated (${changed}): events starting with "${integration.event}" → ${integration.requestType} ${integration.url}`]);
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
        if (!arg2) throw usageError('"integrations retry-policy" needs a policy: particle, durable, or delays in seconds like 5,30,300');
        const policy = arg2 === 'particle' || arg2 === 'durable' ? arg2 : arg2.split(',').map(Number);
        const { integration } = await api.request<{ integration: Detail }>('PATCH', `${base}/${encodeURIComponent(id)}`, { retryPolicy: policy });
        print(integration, () => [`Integration ${integration.id} retries with ${JSON.stringify(integration.retryPolicy)}.`]);
        return 0;
      }
      case 'secret': {
        const action = arg;
        const id = arg2;
        if ((action !== 'rotate' && action !== 'remove') || !id) {
          throw usageError('"integrations secret" needs rotate <id> or remove <id>');
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
    }
    throw new Error(`integrations: no subcommand ${sub}`); // parse.ts lets only the declared ones through
  },
});
