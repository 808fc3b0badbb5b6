// An integration: a Particle webhook template (PARTICLE.md §1, same names, same defaults)
// plus Hookwire's fields. parseTemplate turns what a user pasted into a normalized template,
// or throws a HookwireError naming the field at fault.

import Mustache from 'mustache';
import type { HookwireEvent } from '../events/index.ts';
import { NAME_RULE, isDeviceId, isValidName } from '../../firmware-sdk/rules.ts';
import { HookwireError, TemplateError, invalidField } from '../errors.ts';
import { checkSections, checkTemplateShape, isHeaderName, isHeaderValue } from './limits.ts';
import { isCloudResponseName } from './names.ts';
import { eventView, jsonProblem, render, renderRequest, sampleEvents } from './render.ts';
import { errorTopic, responseTopic } from './respond.ts';
import { DEFAULT_RETRY_POLICY, parseRetryPolicy, type RetryPolicy } from './retry.ts';
import { checkTarget } from './targets.ts';

export const REQUEST_TYPES = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export type TemplateObject = { [key: string]: TemplateValue };
export type TemplateValue = string | number | boolean | null | TemplateValue[] | TemplateObject;

/** A Particle webhook template, normalized: canonical field names, defaults filled in. */
export interface WebhookTemplate {
  /** Trigger: a case-sensitive string prefix of the event name. */
  event: string;
  url: string;
  requestType: RequestType;
  /** Only this device triggers it. */
  deviceID?: string;
  /** Display label. */
  name?: string;
  disabled: boolean;
  /** An object (values render as strings) or a string JSON template. */
  json?: TemplateObject | string;
  form?: TemplateObject;
  body?: string;
  query?: TemplateObject;
  headers?: Record<string, string>;
  auth?: { username: string; password: string };
  noDefaults: boolean;
  rejectUnauthorized: boolean;
  responseTopic?: string;
  errorResponseTopic?: string;
  responseTemplate?: string;
  unchunked: boolean;
  dataUrlResponseEvent: boolean;
  // Hookwire's own fields, accepted in the same JSON:
  /** Event data may choose the URL's host and port (template tags there); never with credentials (targets.ts). */
  dynamicHost?: boolean;
  /** How failed deliveries are retried: `particle` (default), `durable`, or delays in seconds. */
  retryPolicy: RetryPolicy;
  /** Who is told by email when the integration starts failing or stops. */
  errorsEmail?: string;
  /**
   * Parts a read-only token may see as they are (every other literal of the URL, headers,
   * query and auth is blanked for it): `url`, `url.path`, `url.query.<name>`,
   * `headers.<Name>`, `query.<name>`, `auth.username`.
   */
  publicFields?: string[];
}

export interface Integration extends WebhookTemplate {
  /** 24 lowercase hex characters, as Particle's. */
  id: string;
  /** Only devices of this product trigger it. */
  productId: number | null;
  createdAt: string;
  updatedAt: string;
}

/** Template fields in Particle's order, each with the spellings clients use. */
const ALIASES: Record<string, string[]> = {
  event: ['event', 'eventName'],
  url: ['url'],
  requestType: ['requestType', 'request_type', 'method'],
  deviceID: ['deviceID', 'deviceid', 'deviceId', 'device_id'],
  name: ['name'],
  disabled: ['disabled'],
  json: ['json'],
  form: ['form'],
  body: ['body'],
  query: ['query'],
  headers: ['headers'],
  auth: ['auth'],
  noDefaults: ['noDefaults', 'no_defaults'],
  rejectUnauthorized: ['rejectUnauthorized', 'reject_unauthorized'],
  responseTopic: ['responseTopic', 'response_topic'],
  errorResponseTopic: ['errorResponseTopic', 'error_response_topic'],
  responseTemplate: ['responseTemplate', 'response_template'],
  unchunked: ['unchunked'],
  dataUrlResponseEvent: ['dataUrlResponseEvent', 'data_url_response_event'],
  dynamicHost: ['dynamicHost', 'dynamic_host'],
  retryPolicy: ['retryPolicy', 'retry_policy'],
  errorsEmail: ['errorsEmail', 'errors_email', 'ErrorsEmail'],
  publicFields: ['publicFields', 'public_fields'],
};

/** What `publicFields` may name. */
const PUBLIC_FIELD = /^(url|url\.path|url\.query\.[^\s]{1,100}|headers\.[^\s]{1,100}|query\.[^\s]{1,100}|auth\.username)$/;

type Input = Record<string, unknown>;

function field(input: Input, name: string): [string, unknown] {
  for (const alias of ALIASES[name]!) if (input[alias] !== undefined && input[alias] !== null) return [alias, input[alias]];
  return [name, undefined];
}


/** A mustache template must parse; its error names the field. */
function checkMustache(fieldName: string, template: string): void {
  try {
    Mustache.parse(template);
  } catch (err) {
    invalidField(fieldName, `is not a valid template: ${(err as Error).message}`, 'TEMPLATE_INVALID');
  }
  checkSections(fieldName, template);
}

function optionalString(input: Input, name: string, templated: boolean): string | undefined {
  const [alias, value] = field(input, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalidField(alias, 'must be a string');
  if (templated) checkMustache(alias, value);
  return value;
}

/** Booleans from JSON, or from a form ("true"/"false"). */
function bool(input: Input, name: string, fallback: boolean): boolean {
  const [alias, value] = field(input, name);
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  invalidField(alias, 'must be true or false');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check every key and string value of a templated object, recursively. */
function checkObject(path: string, value: unknown): TemplateObject {
  if (!isPlainObject(value)) invalidField(path, 'must be an object');
  const walk = (p: string, v: unknown): void => {
    if (typeof v === 'string') checkMustache(p, v);
    else if (Array.isArray(v)) v.forEach((item, i) => walk(`${p}.${i}`, item));
    else if (isPlainObject(v)) for (const [k, inner] of Object.entries(v)) {
      checkMustache(`${p}.${k}`, k);
      walk(`${p}.${k}`, inner);
    }
  };
  walk(path, value);
  return value as TemplateObject;
}

/** A URL template must be http(s) and parse once its tags are filled in. */
function checkUrl(alias: string, url: string): void {
  checkMustache(alias, url);
  if (!/^https?:\/\//i.test(url)) invalidField(alias, 'must start with http:// or https://');
  // '0' fits wherever a tag may stand: a host label, a port, a path or a query.
  const sample = url.replace(/\{\{\{?[^}]*\}?\}\}/g, '0');
  try {
    new URL(sample);
  } catch {
    invalidField(alias, 'is not a valid URL, even with its tags filled in'); // never quoted: it may hold a key
  }
}

/** What is wrong with a template, found by rendering it: the field, and why. */
interface Fault {
  field: string;
  why: string;
}

/** How faults found by rendering say that real data would not help. */
const ANY_EVENT = 'for any event (checked with sample JSON and text data)';

/** A body the headers declare JSON (ndjson is no single JSON document). */
function sentAsJson(t: WebhookTemplate): boolean {
  const type = Object.entries(t.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return type !== undefined && /(^|[/+])json\s*(;|$)/i.test(type);
}

/** The position of a JSON problem in a TemplateError from render, never the text around it. */
const jsonPosition = (message: string) => /not valid JSON( at character \d+)?/.exec(message)?.[0] ?? 'not valid JSON';

/**
 * The first fault of a template rendered for one event, as a delivery renders it: the request
 * (URL, json), a body sent as JSON, the headers, the response topics. Messages name the
 * field and the problem, never the rendered text (it holds the template's literals: keys).
 */
function renderFault(t: WebhookTemplate, event: HookwireEvent, names: { url: string; headers: string }): Fault | undefined {
  const view = eventView(event);
  let body: string | undefined;
  try {
    body = renderRequest(t, event, view).body;
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    if (err.field === 'json') return { field: 'json', why: `renders invalid JSON ${ANY_EVENT}: ${jsonPosition(err.message)}; check its braces, commas and quotes` };
    return { field: names.url, why: `does not render a valid http(s) URL ${ANY_EVENT}` };
  }
  if (t.body !== undefined && sentAsJson(t)) {
    try {
      JSON.parse(body ?? '');
    } catch (err) {
      return { field: 'body', why: `is sent as JSON (its Content-Type) but renders invalid JSON ${ANY_EVENT}: ${jsonProblem(err)}` };
    }
  }
  for (const [k, v] of Object.entries(t.headers ?? {})) {
    if (!isHeaderName(render(k, view))) return { field: `${names.headers}.${k}`, why: `renders a header name HTTP does not allow ${ANY_EVENT}` };
    if (!isHeaderValue(render(v, view))) return { field: `${names.headers}.${k}`, why: `renders a line break or NUL, which HTTP does not allow in a header, ${ANY_EVENT}` };
  }
  for (const topic of [responseTopic, errorTopic]) {
    try {
      topic(t, event, view);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      return { field: err.field!, why: `does not render a valid event name (A-Z a-z 0-9 _ - /, up to 256 characters) ${ANY_EVENT}` };
    }
  }
  return undefined;
}

/**
 * Render a template before it is saved, over sample events (render.ts `sampleEvents`): it is
 * refused (400 TEMPLATE_INVALID naming the field) only when no sample renders a request that
 * could be sent, so what fails is the template, never the sample's data. Without this, a
 * json template with a stray brace was accepted and failed on every event.
 */
function checkRenders(t: WebhookTemplate, names: { url: string; headers: string }): void {
  let first: Fault | undefined;
  for (const event of sampleEvents(t)) {
    const fault = renderFault(t, event, names);
    if (!fault) return;
    first ??= fault;
  }
  if (first) invalidField(first.field, first.why, 'TEMPLATE_INVALID');
}

export interface ParseOptions {
  /**
   * A template read back from the store: rules added since it was accepted (its size, how
   * deep its objects nest, who may choose the host) are not applied again, so it still loads.
   */
  stored?: boolean;
}

/**
 * Normalize a pasted Particle template (or a Hookwire integration body). Unknown fields are
 * ignored, as Particle ignores them; `mydevices` (legacy) too.
 */
export function parseTemplate(raw: unknown, options: ParseOptions = {}): WebhookTemplate {
  if (!isPlainObject(raw)) throw new HookwireError('BAD_REQUEST', 'the integration must be a JSON object');
  const input = raw;
  if (!options.stored) checkTemplateShape(input); // before any walk: a template 4,000 deep would overflow it

  const [eventAlias, event] = field(input, 'event');
  if (event === undefined || event === '') invalidField('event', 'is required: the event name prefix that triggers the webhook');
  if (typeof event !== 'string' || !isValidName(event)) invalidField(eventAlias, `must be ${NAME_RULE} (a prefix, no wildcards)`);
  if (isCloudResponseName(event)) invalidField(eventAlias, 'cannot be a hook-sent, hook-response or hook-error name: those events never trigger integrations');

  const [urlAlias, url] = field(input, 'url');
  if (url === undefined || url === '') invalidField('url', 'is required');
  if (typeof url !== 'string') invalidField(urlAlias, 'must be a string');
  checkUrl(urlAlias, url);

  const [rtAlias, rt] = field(input, 'requestType');
  const requestType = rt === undefined ? 'POST' : String(rt).toUpperCase();
  if (!(REQUEST_TYPES as readonly string[]).includes(requestType)) invalidField(rtAlias, `must be one of ${REQUEST_TYPES.join(', ')}`);

  const [devAlias, deviceID] = field(input, 'deviceID');
  if (deviceID !== undefined && (typeof deviceID !== 'string' || !isDeviceId(deviceID))) invalidField(devAlias, 'must be a device ID (24 hex characters)');

  const bodies = (['json', 'form', 'body'] as const).filter((f) => field(input, f)[1] !== undefined);
  if (bodies.length > 1) invalidField(bodies[1]!, `cannot be used with ${bodies[0]}: json, form and body are mutually exclusive`);

  const template: WebhookTemplate = {
    event,
    url,
    requestType: requestType as RequestType,
    disabled: bool(input, 'disabled', false),
    noDefaults: bool(input, 'noDefaults', false),
    rejectUnauthorized: bool(input, 'rejectUnauthorized', true),
    unchunked: bool(input, 'unchunked', false),
    dataUrlResponseEvent: bool(input, 'dataUrlResponseEvent', false),
    retryPolicy: DEFAULT_RETRY_POLICY,
  };
  const [retryAlias, retryPolicy] = field(input, 'retryPolicy');
  if (retryPolicy !== undefined) template.retryPolicy = parseRetryPolicy(retryPolicy, retryAlias);
  const [emailAlias, errorsEmail] = field(input, 'errorsEmail');
  if (errorsEmail !== undefined) {
    if (typeof errorsEmail !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(errorsEmail)) invalidField(emailAlias, 'must be an email address');
    template.errorsEmail = errorsEmail;
  }
  const [publicAlias, publicFields] = field(input, 'publicFields');
  if (publicFields !== undefined) {
    if (!Array.isArray(publicFields) || publicFields.length > 50 || !publicFields.every((f) => typeof f === 'string' && PUBLIC_FIELD.test(f))) {
      invalidField(publicAlias, 'must be a list of up to 50 of: url, url.path, url.query.<name>, headers.<Name>, query.<name>, auth.username');
    }
    template.publicFields = publicFields as string[];
  }
  if (deviceID !== undefined) template.deviceID = deviceID as string;
  const name = optionalString(input, 'name', false);
  if (name !== undefined) template.name = name;

  const [, json] = field(input, 'json');
  if (typeof json === 'string') {
    checkMustache('json', json);
    template.json = json;
  } else if (json !== undefined) {
    template.json = checkObject('json', json);
  }
  const [formAlias, form] = field(input, 'form');
  if (form !== undefined) template.form = checkObject(formAlias, form);
  const body = optionalString(input, 'body', true);
  if (body !== undefined) template.body = body;
  const [queryAlias, query] = field(input, 'query');
  if (query !== undefined) template.query = checkObject(queryAlias, query);

  const [headersAlias, headers] = field(input, 'headers');
  if (headers !== undefined) {
    if (!isPlainObject(headers)) invalidField(headersAlias, 'must be an object of header names to values');
    template.headers = {};
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== 'string' && typeof v !== 'number') invalidField(`${headersAlias}.${k}`, 'must be a string');
      checkMustache(`${headersAlias}.${k}`, k);
      checkMustache(`${headersAlias}.${k}`, String(v));
      template.headers[k] = String(v);
    }
  }

  const [authAlias, auth] = field(input, 'auth');
  if (auth !== undefined) {
    if (!isPlainObject(auth)) invalidField(authAlias, 'must be {username, password}');
    const username = auth.username ?? '';
    const password = auth.password ?? '';
    if (typeof username !== 'string') invalidField(`${authAlias}.username`, 'must be a string');
    if (typeof password !== 'string') invalidField(`${authAlias}.password`, 'must be a string');
    checkMustache(`${authAlias}.username`, username);
    checkMustache(`${authAlias}.password`, password);
    template.auth = { username, password };
  }

  for (const f of ['responseTopic', 'errorResponseTopic', 'responseTemplate'] as const) {
    const value = optionalString(input, f, true);
    if (value !== undefined) template[f] = value;
  }
  if (bool(input, 'dynamicHost', false)) template.dynamicHost = true;
  if (!options.stored) {
    checkTarget(template, urlAlias);
    checkRenders(template, { url: urlAlias, headers: headersAlias });
  }
  return template;
}

/** Only the template fields of an integration, in Particle's order (what PUT replaces). */
export function templateOf(integration: Integration): WebhookTemplate {
  const out: Partial<Record<keyof WebhookTemplate, unknown>> = {};
  for (const key of Object.keys(ALIASES) as (keyof WebhookTemplate)[]) {
    if (integration[key] !== undefined) out[key] = integration[key];
  }
  return out as WebhookTemplate;
}
