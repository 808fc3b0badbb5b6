// Reading request bodies: each reader takes the field's accepted spellings (Particle's
// clients use snake_case, camelCase and lowercase) and names the field when it is wrong.

import { HookwireError } from '../errors.ts';

export type Body = Record<string, unknown>;

/** The body as an object (JSON or form), or a BAD_REQUEST. */
export function bodyOf(raw: unknown): Body {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HookwireError('BAD_REQUEST', 'request body must be a JSON object or a form');
  }
  return raw as Body;
}

function pick(body: Body, names: string[]): [string, unknown] {
  for (const n of names) if (body[n] !== undefined && body[n] !== null && body[n] !== '') return [n, body[n]];
  return [names[0]!, undefined];
}

function invalid(field: string, message: string): never {
  throw new HookwireError('BAD_REQUEST', `${field} ${message}`, { field });
}

export function optionalString(body: Body, names: string[], rule?: { pattern: RegExp; describe: string }): string | undefined {
  const [field, value] = pick(body, names);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid(field, 'must be a string');
  if (rule && !rule.pattern.test(value)) invalid(field, rule.describe);
  return value;
}

/** An integer ≥ 0; form bodies send numbers as text, so digits in a string count too. */
export function optionalInt(body: Body, names: string[]): number | undefined {
  const [field, value] = pick(body, names);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) invalid(field, 'must be a whole number');
  return n;
}
