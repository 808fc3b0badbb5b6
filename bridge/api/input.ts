// Reading request bodies: each reader takes the field's accepted spellings (Particle's
// clients use snake_case, camelCase and lowercase) and names the field when it is wrong.

import { InputError, NotFoundError, invalidField } from '../errors.ts';

export type Body = Record<string, unknown>;

/** The body as an object (JSON or form), or a BAD_REQUEST. */
export function bodyOf(raw: unknown): Body {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('BAD_REQUEST', 'request body must be a JSON object or a form');
  }
  return raw as Body;
}

function pick(body: Body, names: string[]): [string, unknown] {
  for (const n of names) if (body[n] !== undefined && body[n] !== null && body[n] !== '') return [n, body[n]];
  return [names[0]!, undefined];
}

/** The product a `/v1/products/:product/...` route is scoped to; null when not scoped. */
export function productScope(params: { product?: string }): number | null {
  if (params.product === undefined) return null;
  if (!/^\d+$/.test(params.product)) {
    throw new NotFoundError('PRODUCT_NOT_FOUND', `product "${params.product}" not found: use the numeric product ID (slugs are not supported)`);
  }
  return Number(params.product);
}

export function optionalString(body: Body, names: string[], rule?: { pattern: RegExp; describe: string }): string | undefined {
  const [field, value] = pick(body, names);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalidField(field, 'must be a string');
  if (rule && !rule.pattern.test(value)) invalidField(field, rule.describe);
  return value;
}

/** An integer ≥ 0; form bodies send numbers as text, so digits in a string count too. */
export function optionalInt(body: Body, names: string[]): number | undefined {
  const [field, value] = pick(body, names);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) invalidField(field, 'must be a whole number');
  return n;
}
