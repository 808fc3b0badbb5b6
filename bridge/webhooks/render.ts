// Render: an integration's templates over an event become the HTTP request to send
// (PARTICLE.md §2). Mustache: `{{x}}` HTML-escapes, `{{{x}}}` does not.

import Mustache from 'mustache';
import type { HookwireEvent } from '../events/index.ts';
import { version } from '../version.ts';
import type { RequestType, TemplateObject, TemplateValue, WebhookTemplate } from './integration.ts';
import { TemplateError } from '../errors.ts';

export const USER_AGENT = `Hookwire/${version} (+webhooks)`;

/** The request a delivery sends. */
export interface OutgoingRequest {
  method: RequestType;
  /** Absolute URL, query included. */
  url: string;
  /** The URL's parts, parsed once: scheme + host, then path + query. */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

// Particle: `{{x}}` escapes & < > " ' (PARTICLE.md §2); mustache.js alone would also escape / ` =.
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
// mustache hands the raw value (a number, a boolean) to the escape function.
const escapeHtml = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
const MUSTACHE_CONFIG = { escape: escapeHtml };

export type View = Record<string, unknown>;

export function render(template: string, view: View): string {
  // Plain strings (most header names, form keys) need no mustache at all.
  return template.includes('{{') ? Mustache.render(template, view, undefined, MUSTACHE_CONFIG) : template;
}

/** The event's data as an object of template variables, when it is JSON (or typed) data. */
function dataFields(event: HookwireEvent): Record<string, unknown> | undefined {
  if (event.type === 'typed') return typeof event.value === 'object' && event.value !== null && !Array.isArray(event.value) ? event.value as Record<string, unknown> : undefined;
  if (event.type !== 'text' || event.data.charCodeAt(0) !== 123) return undefined; // '{'
  try {
    const parsed: unknown = JSON.parse(event.data);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** The event as PARTICLE_EVENT_JSON shows it. */
export function eventJson(event: HookwireEvent): string {
  return JSON.stringify({
    event: event.name,
    data: event.data,
    published_at: event.published_at,
    coreid: event.coreid,
    product_id: event.product_id,
    fw_version: event.fw_version,
  });
}

/**
 * Template variables for an event: its JSON data fields, then every predefined variable
 * (which win over data fields of the same name). The JSON and base64 forms are computed
 * only if a template uses them.
 */
export function eventView(event: HookwireEvent): View {
  // Object.assign, not spread: adding the names below to a spread copy takes V8's slow path.
  const view: View = Object.assign({}, dataFields(event));
  view.PARTICLE_DEVICE_ID = event.coreid;
  view.PARTICLE_EVENT_NAME = event.name;
  view.PARTICLE_EVENT_VALUE = event.data;
  view.PARTICLE_PUBLISHED_AT = event.published_at;
  view.PARTICLE_EVENT_ID = event.id;
  view.PRODUCT_ID = event.product_id ?? '';
  view.PRODUCT_USER_ID = ''; // Hookwire devices have no per-device owner
  view.PRODUCT_VERSION = event.fw_version ?? '';
  view.PARTICLE_EVENT_JSON = () => eventJson(event);
  view.PARTICLE_EVENT_BASE64 = () => Buffer.from(eventJson(event)).toString('base64');
  // Legacy names still found in old templates.
  view.SPARK_EVENT_NAME = event.name;
  view.SPARK_EVENT_VALUE = event.data;
  view.SPARK_CORE_ID = event.coreid;
  view.SPARK_PUBLISHED_AT = event.published_at;
  return view;
}

/** Names a view always has (eventView): a template's tag of one of these is no data field. */
const PREDEFINED = new Set([
  'PARTICLE_DEVICE_ID', 'PARTICLE_EVENT_NAME', 'PARTICLE_EVENT_VALUE', 'PARTICLE_PUBLISHED_AT', 'PARTICLE_EVENT_ID',
  'PRODUCT_ID', 'PRODUCT_USER_ID', 'PRODUCT_VERSION', 'PARTICLE_EVENT_JSON', 'PARTICLE_EVENT_BASE64',
  'SPARK_EVENT_NAME', 'SPARK_EVENT_VALUE', 'SPARK_CORE_ID', 'SPARK_PUBLISHED_AT',
]);

type Token = [string, string, number, number, Token[]?];

/** The variables a mustache template looks up (tags and sections, at any depth), once each. */
export function templateVariables(template: string, into = new Set<string>()): Set<string> {
  if (!template.includes('{{')) return into;
  const stack = [Mustache.parse(template) as unknown as Token[]];
  while (stack.length) {
    for (const [type, name, , , children] of stack.pop()!) {
      if ((type === 'name' || type === '&' || type === '#' || type === '^') && name !== '.') into.add(name);
      if (children) stack.push(children);
    }
  }
  return into;
}

/** Every templated string of a template: the URL, bodies, query, headers, auth, response topics. */
function templatedStrings(t: WebhookTemplate): string[] {
  const out = [t.url];
  const walk = (v: TemplateValue | undefined): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, inner] of Object.entries(v)) { out.push(k); walk(inner); }
  };
  walk(t.json);
  walk(t.form);
  walk(t.query);
  walk(t.headers);
  for (const s of [t.body, t.auth?.username, t.auth?.password, t.responseTopic, t.errorResponseTopic]) if (s !== undefined) out.push(s);
  return out;
}

/** A device ID for sample events, when the template names none. */
const SAMPLE_DEVICE = '0123456789abcdef01234567';

/**
 * Events a template is rendered with when it is saved, before any device sends one. A
 * template is refused only when no sample renders a usable request, so a template valid for
 * real devices is never refused for the sample's sake:
 *
 *   1. JSON data giving every variable the template uses a value that fits anywhere: a
 *      number (1), bare in JSON, in a URL, a header, a topic; dotted names nested
 *      (`{{a.b}}` → {"a":{"b":1}}), sections entered once;
 *   2. the plain text "1": every data variable empty, inverted sections taken
 *      (`{{^t}}null{{/t}}`), PARTICLE_EVENT_VALUE a number.
 *
 * The name is the trigger (real names start with it), the product and firmware version 1.
 */
export function sampleEvents(t: WebhookTemplate): HookwireEvent[] {
  const names = new Set<string>();
  for (const s of templatedStrings(t)) templateVariables(s, names);
  const data: Record<string, unknown> = {};
  for (const name of names) {
    const path = name.split('.');
    if (PREDEFINED.has(path[0]!)) continue;
    let at = data;
    for (const part of path.slice(0, -1)) {
      if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
      at = at[part] as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (at[last] === undefined) at[last] = 1; // a name also used as an object keeps the object
  }
  const sample = (text: string): HookwireEvent => ({
    id: 'sample', name: t.event, data: text, type: 'text', published_at: new Date().toISOString(),
    coreid: t.deviceID ?? SAMPLE_DEVICE, product_id: 1, fw_version: 1,
  });
  return [sample(JSON.stringify(data)), sample('1')];
}

/** Particle's default fields, in its order. */
function defaultFields(event: HookwireEvent): [string, string][] {
  return [['event', event.name], ['data', event.data], ['published_at', event.published_at], ['coreid', event.coreid]];
}

/** Render keys and string values of a template object, recursively; other values stay. */
function renderObject(obj: TemplateObject, view: View): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[render(k, view)] = renderValue(v, view);
  return out;
}

function renderValue(v: TemplateValue, view: View): unknown {
  if (typeof v === 'string') return render(v, view);
  if (Array.isArray(v)) return v.map((item) => renderValue(item, view));
  if (v && typeof v === 'object') return renderObject(v, view);
  return v;
}

/** A rendered value as it goes into a form or query string. */
function formValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((h) => h.toLowerCase() === lower);
}

/**
 * What is wrong with rendered JSON, without quoting it: V8's messages quote the text, and the
 * text holds the template's literals (keys, tokens) beside the device's data.
 */
export function jsonProblem(err: unknown): string {
  const position = /position (\d+)/.exec((err as Error).message)?.[1];
  return position === undefined ? 'not valid JSON' : `not valid JSON at character ${position}`;
}

/**
 * Build the request an integration sends for an event. Throws TemplateError, whose message
 * names the field and the problem, never the rendered text (devices and read tokens see it).
 */
export function renderRequest(t: WebhookTemplate, event: HookwireEvent, view: View = eventView(event)): OutgoingRequest {
  let url: URL;
  const rendered = render(t.url, view);
  try {
    url = new URL(rendered);
  } catch {
    throw new TemplateError('url', 'rendered to an invalid URL for this event (check the variables it uses against the event\'s data)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TemplateError('url', 'must render to an http or https URL');

  const isGet = t.requestType === 'GET';
  const defaults = t.noDefaults ? [] : defaultFields(event);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  let body: string | undefined;

  if (t.query) for (const [k, v] of Object.entries(renderObject(t.query, view))) url.searchParams.append(k, formValue(v));

  if (t.json !== undefined) {
    let json: unknown;
    if (typeof t.json === 'string') {
      const text = render(t.json, view);
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new TemplateError('json', `rendered invalid JSON for this event (${jsonProblem(err)}; a value with a quote or backslash inside {{{triple}}} tags breaks a string template)`);
      }
    } else {
      json = renderObject(t.json, view);
    }
    if (defaults.length && typeof json === 'object' && json !== null && !Array.isArray(json)) {
      json = { ...Object.fromEntries(defaults), ...(json as object) };
    }
    body = JSON.stringify(json);
    headers['content-type'] = 'application/json';
    if (isGet) for (const [k, v] of defaults) url.searchParams.append(k, v);
  } else if (t.body !== undefined) {
    body = render(t.body, view); // as-is: no defaults, no Content-Type (set one in headers)
  } else {
    // A form (or, with neither json nor body, the defaults alone): in the query for GET.
    const fields = new URLSearchParams(isGet ? undefined : defaults);
    if (t.form) for (const [k, v] of Object.entries(renderObject(t.form, view))) fields.append(k, formValue(v));
    if (isGet) {
      for (const [k, v] of fields) url.searchParams.append(k, v);
      for (const [k, v] of defaults) url.searchParams.append(k, v);
    } else if (t.form || defaults.length) {
      body = fields.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
  }

  if (t.headers) for (const [k, v] of Object.entries(t.headers)) headers[render(k, view).toLowerCase()] = render(v, view);
  if (t.auth && !hasHeader(headers, 'authorization')) {
    const credentials = `${render(t.auth.username, view)}:${render(t.auth.password, view)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const request: OutgoingRequest = { method: t.requestType, url: url.href, origin: url.origin, path: url.pathname + url.search, headers };
  if (body !== undefined) request.body = body;
  return request;
}
