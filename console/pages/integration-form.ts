// Create or edit an integration: Particle's webhook template field by field (and Hookwire's
// own fields), a Particle template pasted whole, and a live preview of the request the
// template sends for a sample event (POST /v1/integrations/preview, 300 ms after the last
// keystroke). What the API refuses is shown under the field it names.

import './integrations.css';
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, post, put, seg } from '../api.ts';
import { BASE, Link, navigate } from '../router.ts';
import { ErrorNote, Field, Loading, Page, useAction, useCanChange, useLoad } from '../ui.ts';
import { RequestView, integrationPath, type IntegrationView, type Template } from './integration.ts';

/** How long the preview waits after the last change, ms. */
const PREVIEW_DELAY_MS = 300;

type BodyKind = 'defaults' | 'json' | 'form' | 'body';
type JsonMode = 'object' | 'text';
type Retry = 'particle' | 'durable' | 'custom';

/** The form's state: every field as the person types it (JSON fields as text). */
interface Draft {
  name: string;
  event: string;
  url: string;
  requestType: string;
  deviceID: string;
  productId: string;
  bodyKind: BodyKind;
  /** A json object (values render as strings), or a string JSON template (numbers unquoted). */
  jsonMode: JsonMode;
  json: string;
  form: string;
  body: string;
  query: string;
  headers: string;
  username: string;
  password: string;
  responseTopic: string;
  responseTemplate: string;
  errorResponseTopic: string;
  noDefaults: boolean;
  rejectUnauthorized: boolean;
  unchunked: boolean;
  dataUrlResponseEvent: boolean;
  retry: Retry;
  retryDelays: string;
  errorsEmail: string;
  dynamicHost: boolean;
  publicFields: string;
  /** Carried as it is: PUT replaces the whole template, and enabling is the detail page's. */
  disabled: boolean;
}

const EMPTY: Draft = {
  name: '', event: '', url: '', requestType: 'POST', deviceID: '', productId: '',
  bodyKind: 'defaults', jsonMode: 'object', json: '', form: '', body: '', query: '', headers: '',
  username: '', password: '', responseTopic: '', responseTemplate: '', errorResponseTopic: '',
  noDefaults: false, rejectUnauthorized: true, unchunked: false, dataUrlResponseEvent: false,
  retry: 'particle', retryDelays: '', errorsEmail: '', dynamicHost: false, publicFields: '', disabled: false,
};

const pretty = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));

/** The spellings Particle's clients use for a field (bridge/webhooks/integration.ts ALIASES). */
const ALIASES: Record<string, string[]> = {
  event: ['eventName'], requestType: ['request_type', 'method'], deviceID: ['deviceid', 'deviceId', 'device_id'],
  noDefaults: ['no_defaults'], rejectUnauthorized: ['reject_unauthorized'], responseTopic: ['response_topic'],
  errorResponseTopic: ['error_response_topic'], responseTemplate: ['response_template'],
  dataUrlResponseEvent: ['data_url_response_event'], dynamicHost: ['dynamic_host'], retryPolicy: ['retry_policy'],
  errorsEmail: ['errors_email', 'ErrorsEmail'], publicFields: ['public_fields'],
};

/** A pasted template with every field under its canonical name; unknown fields dropped, as the API drops them. */
function canonical(raw: Record<string, unknown>): Partial<Template> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const name = Object.entries(ALIASES).find(([, spellings]) => spellings.includes(k))?.[0] ?? k;
    if (v !== undefined && v !== null) out[name] = v;
  }
  return out as Partial<Template>;
}

const flag = (v: unknown, fallback: boolean) => (v === undefined ? fallback : v === true || v === 'true');

/** The form for a template (one loaded for editing, or pasted). */
function draftOf(t: Partial<Template>, keep: Pick<Draft, 'productId' | 'disabled'>): Draft {
  const json = t.json;
  const retry = t.retryPolicy;
  return {
    ...EMPTY,
    ...keep,
    name: t.name ?? '',
    event: t.event ?? '',
    url: t.url ?? '',
    requestType: String(t.requestType ?? 'POST').toUpperCase(),
    deviceID: t.deviceID ?? '',
    bodyKind: json !== undefined ? 'json' : t.form !== undefined ? 'form' : t.body !== undefined ? 'body' : 'defaults',
    jsonMode: typeof json === 'string' ? 'text' : 'object',
    json: typeof json === 'string' ? json : pretty(json),
    form: pretty(t.form),
    body: t.body ?? '',
    query: pretty(t.query),
    headers: pretty(t.headers),
    username: t.auth?.username ?? '',
    password: t.auth?.password ?? '',
    responseTopic: t.responseTopic ?? '',
    responseTemplate: t.responseTemplate ?? '',
    errorResponseTopic: t.errorResponseTopic ?? '',
    noDefaults: flag(t.noDefaults, false),
    rejectUnauthorized: flag(t.rejectUnauthorized, true),
    unchunked: flag(t.unchunked, false),
    dataUrlResponseEvent: flag(t.dataUrlResponseEvent, false),
    retry: Array.isArray(retry) ? 'custom' : retry === 'durable' ? 'durable' : 'particle',
    retryDelays: Array.isArray(retry) ? retry.join(', ') : '',
    errorsEmail: t.errorsEmail ?? '',
    dynamicHost: flag(t.dynamicHost, false),
    publicFields: (t.publicFields ?? []).join(', '),
  };
}

/** Parse a JSON field of the form: an object, or the message to show under it. */
function jsonObject(text: string): { value?: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'Must be a JSON object: { "name": "value" }' };
    return { value: value as Record<string, unknown> };
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
}

/** The template the form describes, as the API takes it, and the form's own errors by field. */
function templateOf(d: Draft): { template: Record<string, unknown>; errors: Record<string, string> } {
  const t: Record<string, unknown> = { event: d.event.trim(), url: d.url.trim(), requestType: d.requestType };
  const errors: Record<string, string> = {};
  const text = (key: string, value: string) => { if (value.trim() !== '') t[key] = value; };
  const object = (key: string, value: string) => {
    const parsed = jsonObject(value);
    if (parsed.error) errors[key] = parsed.error;
    else if (parsed.value) t[key] = parsed.value;
  };
  text('name', d.name);
  text('deviceID', d.deviceID.trim());
  if (d.bodyKind === 'json') {
    if (d.jsonMode === 'text') text('json', d.json);
    else object('json', d.json);
    if (d.json.trim() === '') errors.json = 'Give the JSON to send, or choose "Default fields"';
  }
  if (d.bodyKind === 'form') object('form', d.form);
  if (d.bodyKind === 'body') t.body = d.body;
  object('query', d.query);
  object('headers', d.headers);
  if (d.username || d.password) t.auth = { username: d.username, password: d.password };
  text('responseTopic', d.responseTopic);
  text('responseTemplate', d.responseTemplate);
  text('errorResponseTopic', d.errorResponseTopic);
  Object.assign(t, { noDefaults: d.noDefaults, rejectUnauthorized: d.rejectUnauthorized, unchunked: d.unchunked, dataUrlResponseEvent: d.dataUrlResponseEvent, disabled: d.disabled });
  if (d.retry === 'custom') {
    const delays = d.retryDelays.split(/[\s,]+/).filter(Boolean).map(Number);
    if (delays.length === 0 || delays.some((n) => !(n > 0))) errors.retry = 'Give delays in seconds, like 5, 30, 300';
    else t.retryPolicy = delays;
  } else t.retryPolicy = d.retry;
  text('errorsEmail', d.errorsEmail.trim());
  if (d.dynamicHost) t.dynamicHost = true;
  const publicFields = d.publicFields.split(/[\s,]+/).filter(Boolean);
  if (publicFields.length) t.publicFields = publicFields;
  return { template: t, errors };
}

/** The form field an API `field` names: `headers.X-Key` → headers, `auth.password` → password. */
function formFieldOf(apiField: string): string {
  const [head, rest] = [apiField.split('.')[0]!, apiField.split('.').slice(1).join('.')];
  if (head === 'auth') return rest === 'password' ? 'password' : 'username';
  if (head === 'retryPolicy') return 'retry';
  if (head === 'eventName') return 'event';
  return ALIASES_TO_FIELD[head] ?? head;
}
const ALIASES_TO_FIELD: Record<string, string> = Object.fromEntries(Object.entries(ALIASES).flatMap(([name, spellings]) => spellings.map((s) => [s, name])));

/** The API's message for a field, without the field's name it starts with ("url must…" → "Must…"). */
function messageFor(err: ApiError): string {
  const m = err.field && !err.field.includes('.') && err.message.startsWith(`${err.field} `) ? err.message.slice(err.field.length + 1) : err.message;
  return m.charAt(0).toUpperCase() + m.slice(1);
}

// ---------------------------------------------------------------------------------------
// Inputs bound to the draft

type Set = <K extends keyof Draft>(key: K, value: Draft[K]) => void;

interface Bound {
  draft: Draft;
  set: Set;
  errors: Record<string, string>;
}

/** aria attributes tying an input to the message under it. */
const described = (id: string, error: string | undefined, hint = false) => ({
  'aria-invalid': error ? 'true' : undefined,
  'aria-describedby': [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined,
});

function TextField(props: Bound & { k: keyof Draft & string; label: string; hint?: ComponentChildren; placeholder?: string; required?: boolean; mono?: boolean; type?: string }) {
  const id = `hook-${props.k}`;
  const error = props.errors[props.k];
  return html`
    <${Field} label=${props.label} id=${id} error=${error} hint=${props.hint}>
      <input id=${id} type=${props.type ?? 'text'} class=${props.mono ? 'mono' : undefined} required=${props.required} spellcheck=${false} autocomplete="off"
        value=${props.draft[props.k] as string} placeholder=${props.placeholder} ...${described(id, error, !!props.hint)}
        onInput=${(e: Event) => props.set(props.k, (e.target as HTMLInputElement).value as never)} />
    </${Field}>`;
}

function TextArea(props: Bound & { k: keyof Draft & string; label: string; hint?: ComponentChildren; placeholder?: string; rows?: number }) {
  const id = `hook-${props.k}`;
  const error = props.errors[props.k];
  return html`
    <${Field} label=${props.label} id=${id} error=${error} hint=${props.hint}>
      <textarea id=${id} rows=${props.rows ?? 4} spellcheck=${false} value=${props.draft[props.k] as string} placeholder=${props.placeholder}
        ...${described(id, error, !!props.hint)} onInput=${(e: Event) => props.set(props.k, (e.target as HTMLTextAreaElement).value as never)}></textarea>
    </${Field}>`;
}

function Check(props: Bound & { k: keyof Draft & string; label: string; hint: string }) {
  const id = `hook-${props.k}`;
  return html`
    <div class="check">
      <input id=${id} type="checkbox" checked=${props.draft[props.k] as boolean} aria-describedby=${`${id}-hint`}
        onChange=${(e: Event) => props.set(props.k, (e.target as HTMLInputElement).checked as never)} />
      <label for=${id}>${props.label}</label>
      <small class="hint" id=${`${id}-hint`}>${props.hint}</small>
    </div>`;
}

function Choice<T extends string>(props: { legend: string; name: string; value: T; options: [T, string][]; onChange: (v: T) => void }) {
  return html`
    <fieldset class="choice">
      <legend>${props.legend}</legend>
      ${props.options.map(([v, label]) => html`
        <label><input type="radio" name=${props.name} value=${v} checked=${props.value === v} onChange=${() => props.onChange(v)} /> ${label}</label>`)}
    </fieldset>`;
}

// ---------------------------------------------------------------------------------------
// The form's sections

function Trigger(props: Bound & { editing: boolean }) {
  const { draft, set } = props;
  return html`
    <fieldset class="card">
      <legend>Trigger and target</legend>
      <${TextField} ...${props} k="name" label="Name" hint="A label for lists (optional)" />
      <${TextField} ...${props} k="event" label="Event" required mono placeholder="temp"
        hint="Case-sensitive prefix: temp fires for temp, temperature and temp/kitchen, never high_temp" />
      <div class="url-row">
        <${Field} label="Method" id="hook-requestType" error=${props.errors.requestType}>
          <select id="hook-requestType" value=${draft.requestType} onChange=${(e: Event) => set('requestType', (e.target as HTMLSelectElement).value)}>
            ${['POST', 'GET', 'PUT', 'DELETE'].map((m) => html`<option value=${m}>${m}</option>`)}
          </select>
        </${Field}>
        <${TextField} ...${props} k="url" label="URL" required mono placeholder="https://example.com/hook/{{{PARTICLE_DEVICE_ID}}}" hint="http(s); template tags allowed in the path and query" />
      </div>
      <div class="row">
        <${TextField} ...${props} k="deviceID" label="Device ID" mono placeholder="any device" hint="Only this device triggers it (optional)" />
        ${props.editing
          ? html`<div class="field"><span class="label">Product</span><span>${draft.productId || 'any product'}</span><small class="hint">Fixed when it was created</small></div>`
          : html`<${TextField} ...${props} k="productId" label="Product ID" placeholder="any product" hint="Only this product's devices trigger it (optional)" />`}
      </div>
    </fieldset>`;
}

function RequestBody(props: Bound) {
  const { draft, set } = props;
  return html`
    <fieldset class="card">
      <legend>Request</legend>
      <${Choice} legend="Body" name="body-kind" value=${draft.bodyKind} onChange=${(v: BodyKind) => set('bodyKind', v)} options=${[
        ['defaults', 'Default fields'], ['json', 'JSON'], ['form', 'Form'], ['body', 'Custom body'],
      ]} />
      ${draft.bodyKind === 'defaults' ? html`<p class="muted small">event, data, published_at and coreid: as a form, or in the query string for GET.</p>` : null}
      ${draft.bodyKind === 'json' ? html`
        <${Choice} legend="JSON is" name="json-mode" value=${draft.jsonMode} onChange=${(v: JsonMode) => set('jsonMode', v)} options=${[
          ['object', 'an object (values render as strings)'], ['text', 'a text template (numbers unquoted)'],
        ]} />
        <${TextArea} ...${props} k="json" label="JSON" rows=${6} placeholder=${draft.jsonMode === 'object' ? '{ "temp": "{{{PARTICLE_EVENT_VALUE}}}" }' : '{ "temp": {{{PARTICLE_EVENT_VALUE}}} }'}
          hint="Sent with Content-Type: application/json; the default fields are added unless No default fields" />` : null}
      ${draft.bodyKind === 'form' ? html`<${TextArea} ...${props} k="form" label="Form" placeholder='{ "temp": "{{{PARTICLE_EVENT_VALUE}}}" }' hint="A JSON object, sent urlencoded (in the query string for GET)" />` : null}
      ${draft.bodyKind === 'body' ? html`<${TextArea} ...${props} k="body" label="Custom body" placeholder="{{{PARTICLE_EVENT_VALUE}}}" hint="Sent as it renders; no Content-Type is added (set one in Headers)" />` : null}
      <${TextArea} ...${props} k="query" label="Query parameters" rows=${3} placeholder='{ "units": "metric" }' hint="A JSON object appended to the URL's query string" />
      <${TextArea} ...${props} k="headers" label="Headers" rows=${3} placeholder='{ "Authorization": "Bearer …" }' hint="A JSON object of header names to values" />
      <div class="row">
        <${TextField} ...${props} k="username" label="Basic auth username" />
        <${TextField} ...${props} k="password" label="Basic auth password" type="password" />
      </div>
      <${Check} ...${props} k="noDefaults" label="No default fields" hint="Leave out event, data, published_at and coreid" />
      <${Check} ...${props} k="rejectUnauthorized" label="Verify TLS certificates" hint="Off only for a target with a self-signed certificate" />
    </fieldset>`;
}

function Responses(props: Bound) {
  return html`
    <fieldset class="card">
      <legend>What the device hears back</legend>
      <${TextField} ...${props} k="responseTopic" label="Response topic" mono placeholder="{{PARTICLE_DEVICE_ID}}/hook-response/{{PARTICLE_EVENT_NAME}}" hint="Parts go to <topic>/0, /1, …" />
      <${TextArea} ...${props} k="responseTemplate" label="Response template" rows=${2} placeholder="{{main.temp}}" hint="Mustache over the response parsed as JSON; empty: the body as it is" />
      <${TextField} ...${props} k="errorResponseTopic" label="Error response topic" mono placeholder="{{PARTICLE_DEVICE_ID}}/hook-error/{{PARTICLE_EVENT_NAME}}" />
      <${Check} ...${props} k="unchunked" label="Unchunked" hint="The response as one event if it fits 1024 bytes, else discarded" />
      <${Check} ...${props} k="dataUrlResponseEvent" label="Data URL response" hint="The response as a data:<type>;base64,… URL" />
    </fieldset>`;
}

function Delivery(props: Bound) {
  const { draft, set } = props;
  return html`
    <fieldset class="card">
      <legend>Delivery</legend>
      <${Choice} legend="Retries" name="retry" value=${draft.retry} onChange=${(v: Retry) => set('retry', v)} options=${[
        ['particle', 'Particle (30 s, 60 s, then dropped)'], ['durable', 'Durable (for 79 hours, then disabled)'], ['custom', 'My own delays'],
      ]} />
      ${draft.retry === 'custom' ? html`<${TextField} ...${props} k="retryDelays" label="Delays in seconds" placeholder="5, 30, 300" hint="Then the integration is disabled, as durable" />` : null}
      ${props.errors.retry ? html`<p class="field-error" role="alert">${props.errors.retry}</p>` : null}
      <${TextField} ...${props} k="errorsEmail" label="Errors email" type="email" placeholder="ops@example.com" hint="Told when it starts failing or stops (needs HOOKWIRE_SMTP_URL)" />
      <${Check} ...${props} k="dynamicHost" label="Dynamic host" hint="Let event data choose the URL's host; no credentials allowed then" />
      <${TextField} ...${props} k="publicFields" label="Shown to read-only tokens" mono placeholder="url.path, headers.X-Source"
        hint="Parts a read token may see unredacted: url, url.path, url.query.<name>, headers.<Name>, query.<name>, auth.username" />
    </fieldset>`;
}

/** Paste a Particle template (as particle-cli's JSON files hold it) to fill the form. */
function Paste(props: { fill: (t: Partial<Template>) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const fill = () => {
    const parsed = jsonObject(text);
    if (parsed.error || !parsed.value) return setError(parsed.error ?? 'Paste a template first');
    setError(undefined);
    props.fill(canonical(parsed.value));
    setOpen(false);
  };
  return html`
    <details class="card paste" open=${open} onToggle=${(e: Event) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Paste a Particle template</summary>
      <${Field} label="Template JSON" id="paste-template" error=${error} hint="The JSON of a Particle webhook; it replaces what the form holds">
        <textarea id="paste-template" rows="8" spellcheck=${false} value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
          placeholder='{ "event": "temp", "url": "https://example.com/in", "json": { "t": "{{{PARTICLE_EVENT_VALUE}}}" } }'></textarea>
      </${Field}>
      <button type="button" onClick=${fill}>Fill the form</button>
    </details>`;
}

// ---------------------------------------------------------------------------------------
// The live preview

interface Sample {
  data: string;
  name: string;
  device: string;
}

interface PreviewAnswer {
  event: { name: string; data: string; coreid: string };
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
}

type PreviewState = { kind: 'waiting'; why: string } | { kind: 'busy' } | { kind: 'ok'; answer: PreviewAnswer } | { kind: 'refused'; error: unknown };

/** The preview, asked for PREVIEW_DELAY_MS after the last change; an answer to an older form is dropped. */
function usePreview(draft: Draft, sample: Sample): PreviewState {
  const [state, setState] = useState<PreviewState>({ kind: 'waiting', why: 'Fill in the event and the URL to see the request.' });
  const latest = useRef(0);
  const { template, errors } = templateOf(draft);
  const key = JSON.stringify([template, sample, draft.productId]);
  const firstError = Object.keys(errors)[0];
  useEffect(() => {
    const ticket = ++latest.current;
    // Nothing to ask the API about: the form says what is missing or wrong.
    if (!draft.event.trim() || !draft.url.trim()) return setState({ kind: 'waiting', why: 'Fill in the event and the URL to see the request.' });
    if (firstError) return setState({ kind: 'waiting', why: `Fix the ${LABELS[firstError] ?? firstError} field to see the request.` });
    const timer = setTimeout(async () => {
      setState({ kind: 'busy' });
      const body: Record<string, unknown> = { template };
      if (sample.data) body.data = sample.data;
      if (sample.name) body.name = sample.name;
      if (sample.device) body.device_id = sample.device;
      const base = draft.productId.trim() ? `/v1/products/${seg(draft.productId.trim())}` : '/v1';
      try {
        const answer = await post<PreviewAnswer>(`${base}/integrations/preview`, body);
        if (ticket === latest.current) setState({ kind: 'ok', answer });
      } catch (error) {
        if (ticket === latest.current) setState({ kind: 'refused', error });
      }
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [key]);
  return state;
}

/** Field names as the form labels them, for messages that name a field. */
const LABELS: Record<string, string> = {
  event: 'Event', url: 'URL', requestType: 'Method', deviceID: 'Device ID', json: 'JSON', form: 'Form', body: 'Custom body',
  query: 'Query parameters', headers: 'Headers', username: 'Basic auth username', password: 'Basic auth password',
  responseTopic: 'Response topic', responseTemplate: 'Response template', errorResponseTopic: 'Error response topic',
  retry: 'Retries', errorsEmail: 'Errors email', publicFields: 'Shown to read-only tokens', productId: 'Product ID',
  data: 'Sample data', name: 'Sample event name', device_id: 'Sample device ID',
};

function Preview(props: { draft: Draft; sample: Sample; setSample: (s: Sample) => void }) {
  const state = usePreview(props.draft, props.sample);
  const { sample, setSample } = props;
  const input = (k: keyof Sample) => (e: Event) => setSample({ ...sample, [k]: (e.target as HTMLInputElement).value });
  return html`
    <aside class="card preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <p class="muted small">The request this template sends for a sample event. Nothing is sent.</p>
      <${Field} label="Sample data" id="sample-data" hint="Empty: test-event">
        <textarea id="sample-data" rows="2" spellcheck=${false} value=${sample.data} onInput=${input('data')} placeholder='{"temp": 21.5}'></textarea>
      </${Field}>
      <div class="row">
        <${Field} label="Sample event name" id="sample-name">
          <input id="sample-name" class="mono" value=${sample.name} onInput=${input('name')} placeholder=${props.draft.event || 'the event'} />
        </${Field}>
        <${Field} label="Sample device ID" id="sample-device">
          <input id="sample-device" class="mono" value=${sample.device} onInput=${input('device')} placeholder=${props.draft.deviceID || '000000000000000000000000'} />
        </${Field}>
      </div>
      <div class="preview-result" aria-live="polite" aria-busy=${state.kind === 'busy' ? 'true' : 'false'}>
        ${state.kind === 'waiting' ? html`<p class="muted">${state.why}</p>` : null}
        ${state.kind === 'busy' ? html`<p class="muted">Rendering…</p>` : null}
        ${state.kind === 'refused' ? html`<${PreviewRefusal} error=${state.error} />` : null}
        ${state.kind === 'ok' ? html`<${RequestView} request=${state.answer.request} label="Preview" />` : null}
      </div>
    </aside>`;
}

function PreviewRefusal(props: { error: unknown }) {
  const err = props.error;
  if (!(err instanceof ApiError) || !err.field) return html`<${ErrorNote} error=${err} />`;
  const field = formFieldOf(err.field);
  return html`<p class="error preview-error" role="alert"><strong>${LABELS[field] ?? err.field}:</strong> ${messageFor(err)}</p>`;
}

// ---------------------------------------------------------------------------------------
// The page

function Editor(props: { id?: string | undefined; initial: Draft }) {
  const [draft, setDraft] = useState(props.initial);
  const [sample, setSample] = useState<Sample>({ data: '{"temp": 21.5}', name: '', device: '' });
  const [shown, setShown] = useState<Record<string, string>>({});
  const set: Set = (key, value) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setShown((s) => ({ ...s, [key]: '' }));
  };
  const local = templateOf(draft).errors;
  const save = useAction(async () => {
    const { template, errors } = templateOf(draft);
    if (Object.keys(errors).length) {
      setShown(errors);
      return;
    }
    try {
      if (props.id) {
        await put(integrationPath(props.id), template);
        navigate(`${BASE}/integrations/${seg(props.id)}`);
      } else {
        const base = draft.productId.trim() ? `/v1/products/${seg(draft.productId.trim())}` : '/v1';
        const created = await post<{ id: string }>(`${base}/integrations`, { integration_type: 'Webhook', ...template });
        navigate(`${BASE}/integrations/${seg(created.id)}`);
      }
    } catch (err) {
      // Under the field the API names; anything else above the buttons.
      if (err instanceof ApiError && err.field) {
        const field = formFieldOf(err.field);
        if (field in LABELS) return setShown({ [field]: messageFor(err) });
      }
      throw err;
    }
  });
  // JSON that does not parse is said at once; the API's refusals once saved.
  const errors: Record<string, string> = { ...Object.fromEntries(Object.entries(shown).filter(([, v]) => v)) };
  for (const k of ['json', 'form', 'query', 'headers'] as const) if (local[k] && draft[k].trim()) errors[k] = local[k];
  const bound = { draft, set, errors };
  return html`
    <div class="form-layout">
      <form class="hook-form" novalidate onSubmit=${(e: Event) => { e.preventDefault(); void save.run(); }}>
        <${Paste} fill=${(t: Partial<Template>) => { setDraft(draftOf(t, { productId: draft.productId, disabled: draft.disabled })); setShown({}); }} />
        <${Trigger} ...${bound} editing=${!!props.id} />
        <${RequestBody} ...${bound} />
        <${Responses} ...${bound} />
        <${Delivery} ...${bound} />
        ${Object.keys(shown).some((k) => shown[k]) ? html`<p class="error" role="alert">The integration was not saved: see the fields marked.</p>` : null}
        <${ErrorNote} error=${save.error} />
        <div class="buttons">
          <button type="submit" class="primary" disabled=${save.busy}>${props.id ? 'Save changes' : 'Create integration'}</button>
          <${Link} href=${props.id ? `${BASE}/integrations/${seg(props.id)}` : `${BASE}/integrations`} class="button">Cancel</${Link}>
        </div>
      </form>
      <${Preview} draft=${draft} sample=${sample} setSample=${setSample} />
    </div>`;
}

function EditExisting(props: { id: string }) {
  const loaded = useLoad(() => get<{ integration: IntegrationView }>(integrationPath(props.id)).then((r) => r.integration), [props.id]);
  return html`
    <${Loading} loaded=${loaded}>${(i: IntegrationView) => html`
      <${Editor} id=${props.id} initial=${draftOf(i, { productId: i.product_id === null ? '' : String(i.product_id), disabled: i.disabled })} />`}
    </${Loading}>`;
}

export function IntegrationForm(props: { id?: string | undefined }) {
  const canChange = useCanChange();
  const title = props.id ? 'Edit integration' : 'New integration';
  const back = props.id ? `${BASE}/integrations/${seg(props.id)}` : `${BASE}/integrations`;
  if (!canChange) {
    return html`<${Page} title=${title}><p class="empty">A read-only token cannot change integrations. <${Link} href=${back}>Back</${Link}></p></${Page}>`;
  }
  return html`
    <${Page} title=${title}>
      <p class="muted"><${Link} href=${back}>${props.id ? 'Back to the integration' : 'All integrations'}</${Link}></p>
      ${props.id ? html`<${EditExisting} id=${props.id} />` : html`<${Editor} initial=${EMPTY} />`}
    </${Page}>`;
}
