// Limits on what a template may be and what it may render. A template is written once by a
// person, but rendered for every event: a 1 MB template of {{{PARTICLE_EVENT_VALUE}}} tags
// turns a 1 KB event into a 39 MB request, and JSON nested thousands deep overflows the stack
// of any recursive walk (the checks at creation, mustache, JSON.stringify). So a template is
// measured when it is created (its size, how deep its objects and sections nest: a 400 that
// names the field), and every rendered request before it is sent (its size, and header
// names and values HTTP can carry). A request refused here never leaves the bridge, so it
// says nothing about the target host: such failures are not scored against its throttle.

import Mustache from 'mustache';
import { invalidField } from '../errors.ts';
import type { Failure } from '../codes.ts';
import type { OutgoingRequest } from './render.ts';

export const templateLimits = {
  /** Largest template, bytes of its JSON. 64 KiB: far above any real webhook template. */
  maxBytes: 64 * 1024,
  /** Deepest nesting of objects and arrays in a field, and of mustache sections in a string. */
  maxDepth: 32,
};

/** Largest rendered request (URL, headers and body), bytes. Default 1 MiB. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * How deep `value` nests, counted without recursion (a value too deep for the stack must
 * still be measured); stops counting past `limit`.
 */
export function nestingDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const inner of Object.values(v)) stack.push([inner, depth + 1]);
  }
  return deepest;
}

/** How deep mustache sections nest in a parsed template (tokens: [type, text, start, end, children?]). */
export function sectionDepth(tokens: unknown[][]): number {
  let deepest = 0;
  const stack: [unknown[][], number][] = [[tokens, 0]];
  while (stack.length) {
    const [list, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    for (const t of list) if (Array.isArray(t[4])) stack.push([t[4] as unknown[][], depth + 1]);
  }
  return deepest;
}

/** Refuse a template (what was pasted) too big or too deep, naming the field. Call before walking it. */
export function checkTemplateShape(input: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(input)) {
    if (nestingDepth(value, templateLimits.maxDepth) > templateLimits.maxDepth) {
      invalidField(field, `nests more than ${templateLimits.maxDepth} levels deep`, 'TEMPLATE_INVALID');
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes <= templateLimits.maxBytes) return;
  // Name the largest field: that is the one to cut.
  const sizes = Object.entries(input).map(([field, value]) => [field, Buffer.byteLength(JSON.stringify(value) ?? '')] as const);
  const [largest] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
  invalidField(largest, `makes the template ${bytes} bytes, over the ${templateLimits.maxBytes}-byte limit`, 'TEMPLATE_INVALID');
}

/** Refuse a mustache template whose sections nest too deep (rendering them recurses). */
export function checkSections(field: string, template: string): void {
  if (!template.includes('{{#') && !template.includes('{{^')) return;
  if (sectionDepth(Mustache.parse(template) as unknown[][]) > templateLimits.maxDepth) {
    invalidField(field, `nests sections more than ${templateLimits.maxDepth} levels deep`, 'TEMPLATE_INVALID');
  }
}

// RFC 9110 §5.1 (token) and §5.5 (field values: no CR, LF or NUL).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;

/** Whether HTTP can carry a header of this rendered name. */
export const isHeaderName = (name: string): boolean => HEADER_NAME.test(name);
/** Whether HTTP can carry this rendered header value (no CR, LF or NUL). */
export const isHeaderValue = (value: string): boolean => !BAD_HEADER_VALUE.test(value);

/** The bytes a request takes on the wire, near enough: URL, headers, body. */
function requestBytes(r: OutgoingRequest): number {
  let bytes = r.url.length + (r.body === undefined ? 0 : Buffer.byteLength(r.body));
  for (const name in r.headers) bytes += name.length + r.headers[name]!.length + 4;
  return bytes;
}

/**
 * Whether a rendered request may be sent: a failure (never sent, never scored against the
 * host) when it is too large or a header cannot be written. Names what failed, never its value.
 */
export function checkRequest(r: OutgoingRequest, maxBytes: number = MAX_REQUEST_BYTES): Failure | undefined {
  const bytes = requestBytes(r);
  if (bytes > maxBytes) {
    return { code: 'REQUEST_TOO_LARGE', message: `request too large: it rendered to ${bytes} bytes, over the ${maxBytes}-byte limit` };
  }
  for (const name in r.headers) {
    if (!isHeaderName(name)) return { code: 'TEMPLATE_INVALID', message: 'template error: headers: a header name rendered with characters HTTP does not allow' };
    if (!isHeaderValue(r.headers[name]!)) {
      return { code: 'TEMPLATE_INVALID', message: `template error: headers.${name}: rendered a line break or NUL, which HTTP does not allow in a header` };
    }
  }
  return undefined;
}
