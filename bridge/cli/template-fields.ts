// The template fields `hookwire integrations update` may change, a flag for each (`--event`,
// `--device-id`, `--response-topic`: the names the doctor's next steps use), and how a value
// typed on the command line becomes each one's JSON. Keyed by WebhookTemplate's own keys, so a field the
// bridge adds fails the type check here until it is listed: the CLI never sends a name the
// bridge would silently ignore.

import { readFileSync } from 'node:fs';
import type { WebhookTemplate } from '../webhooks/index.ts';
import { UsageError } from './command.ts';
import { nearest } from './suggest.ts';

/**
 * `text` as typed; `boolean` true or false; `json` must parse as JSON; `json-or-text` is an
 * object or array when it parses as one, else the text (a string template, a policy name).
 */
type Kind = 'text' | 'boolean' | 'json' | 'json-or-text';

/** `not`: a field not changed this way, and how it is. */
const FIELDS: Record<keyof WebhookTemplate, Kind | { not: string }> = {
  event: 'text',
  url: 'text',
  requestType: 'text',
  deviceID: 'text',
  name: 'text',
  disabled: { not: 'use hookwire integrations enable|disable <id>, which records who and why' },
  json: 'json-or-text',
  form: 'json',
  body: 'text',
  query: 'json',
  headers: 'json',
  auth: 'json',
  noDefaults: 'boolean',
  rejectUnauthorized: 'boolean',
  responseTopic: 'text',
  errorResponseTopic: 'text',
  responseTemplate: 'text',
  unchunked: 'boolean',
  dataUrlResponseEvent: 'boolean',
  dynamicHost: 'boolean',
  retryPolicy: 'json-or-text',
  errorsEmail: 'text',
  publicFields: 'json',
};

type Field = keyof WebhookTemplate;

export const FIELD_NAMES = (Object.keys(FIELDS) as Field[]).filter((f) => typeof FIELDS[f] === 'string');

/** Flags that are not the field's name in kebab case: `--json` is the CLI's output switch. */
const FLAG_NAMES: Partial<Record<Field, string>> = { json: 'json-template', deviceID: 'device-id' };

/** `responseTopic` → `response-topic`. */
export function flagOf(field: Field): string {
  return FLAG_NAMES[field] ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One string option per field, for parseArgs. */
export const FIELD_OPTIONS: Record<string, { type: 'string' }> = Object.fromEntries(FIELD_NAMES.map((f) => [flagOf(f), { type: 'string' as const }]));

/** The fields' flags as usage text, in lines of about `width` characters after `indent`. */
export function fieldFlagsUsage(indent: string, width = 100): string {
  const hint: Record<Kind, string> = { text: 'TEXT', boolean: 'true|false', json: 'JSON', 'json-or-text': 'JSON|TEXT' };
  const words = FIELD_NAMES.map((f) => `[--${flagOf(f)} ${f === 'json' ? 'FILE' : f === 'requestType' ? 'GET|POST|PUT|DELETE' : hint[FIELDS[f] as Kind]}]`);
  const lines = [''];
  for (const w of words) {
    if (lines.at(-1)!.length + w.length > width) lines.push('');
    lines[lines.length - 1] += `${lines.at(-1) ? ' ' : ''}${w}`;
  }
  return lines.map((l) => indent + l).join('\n');
}

/** The canonical field `typed` names, or a usage error naming the nearest. */
export function fieldName(typed: string, flag: string): keyof WebhookTemplate {
  const kind = (FIELDS as Record<string, Kind | { not: string }>)[typed];
  if (kind === undefined || !Object.hasOwn(FIELDS, typed)) {
    const near = nearest(typed, FIELD_NAMES);
    throw new UsageError(`${flag}: unknown field "${typed}"; ${near ? `did you mean "${near}"?` : `the fields are: ${FIELD_NAMES.join(', ')}`}`);
  }
  if (typeof kind !== 'string') throw new UsageError(`${flag}: ${typed} is not changed this way: ${kind.not}`);
  return typed as keyof WebhookTemplate;
}

/** `@path` is the file's text (as curl reads it); anything else is the value itself. */
function textOf(raw: string, flag: string): string {
  if (!raw.startsWith('@')) return raw;
  try {
    return readFileSync(raw.slice(1), 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${raw.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The JSON value a typed value stands for in field `name`; '' is null, which clears the field
 * (`--device-id ''`: every device again).
 */
export function fieldValue(name: keyof WebhookTemplate, raw: string, flag: string): unknown {
  const kind = FIELDS[name] as Kind;
  const text = textOf(raw, flag);
  if (text === '') return null;
  switch (kind) {
    case 'text':
      return text;
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw new UsageError(`${flag}: ${name} must be true or false, not "${text}"`);
    case 'json':
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new UsageError(`${flag}: ${name} must be JSON (${(err as Error).message}), e.g. ${name}='{"key": "value"}'`);
      }
    case 'json-or-text':
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null) return parsed;
      } catch {
        // not JSON: a string template or a name
      }
      return text;
  }
}

/** `field=value` as [field, value]. */
export function assignment(raw: string): [keyof WebhookTemplate, unknown] {
  const eq = raw.indexOf('=');
  if (eq < 1) throw new UsageError(`--set "${raw}" must look like field=value (value @FILE reads a file), e.g. --set url=https://example.com/hook`);
  const name = fieldName(raw.slice(0, eq), '--set');
  return [name, fieldValue(name, raw.slice(eq + 1), `--set ${name}`)];
}
