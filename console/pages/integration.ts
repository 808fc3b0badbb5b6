// An integration, as Particle's integration page and Webex Connect's show it: its state and
// why, its counters, the 30-day chart, TEST, the last 10 successes and 10 errors with their
// requests and responses, failed deliveries to replay, its signing secret, and the template.
// A read token sees all of it as the API redacts it, and no button that changes anything.

import './integrations.css';
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import { ApiError, del, get, post, seg } from '../api.ts';
import { TimeChart } from '../chart.ts';
import { BASE, Link, navigate } from '../router.ts';
import { Copy, DangerButton, ErrorNote, Field, Loading, Page, StateBadge, Time, fmt, prettyData, useAction, useCanChange, useLoad } from '../ui.ts';

// ---------------------------------------------------------------------------------------
// What the API answers (docs/api.md, docs/webhooks.md)

/** Daily counts, oldest first (GET .../history); today counts from 00:00 UTC. */
export interface DayCount {
  day: string;
  success: number;
  error: number;
  skipped: number;
}

/** A Particle webhook template with Hookwire's fields, as the API gives it back (bridge/webhooks/integration.ts). */
export interface Template {
  event: string;
  url: string;
  requestType: string;
  deviceID?: string;
  name?: string;
  disabled: boolean;
  json?: Record<string, unknown> | string;
  form?: Record<string, unknown>;
  body?: string;
  query?: Record<string, unknown>;
  headers?: Record<string, string>;
  auth?: { username: string; password: string };
  noDefaults: boolean;
  rejectUnauthorized: boolean;
  responseTopic?: string;
  errorResponseTopic?: string;
  responseTemplate?: string;
  unchunked: boolean;
  dataUrlResponseEvent: boolean;
  dynamicHost?: boolean;
  retryPolicy: 'particle' | 'durable' | number[];
  errorsEmail?: string;
  publicFields?: string[];
}

export interface Guidance {
  title: string;
  meaning: string;
  check: string;
}

interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

interface LoggedResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  truncated: boolean;
}

/** One attempt as the integration's log keeps it, secrets redacted. */
interface LogEntry {
  at: string;
  ok: boolean;
  durationMs: number;
  event: { id: string; name: string; data: string; coreid: string; published_at: string };
  request?: LoggedRequest;
  response?: LoggedResponse;
  error?: { code: string; message: string };
  guidance?: Guidance;
  note?: string;
}

/** GET /v1/integrations/:id's `integration`. */
export interface IntegrationView extends Template {
  id: string;
  product_id: number | null;
  created_at: string;
  updated_at: string;
  state: string;
  state_reason: string;
  state_changed_at: string | null;
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
  signing: { enabled: boolean; previous_valid_until: string | null };
  logs: LogEntry[];
}

/** POST .../test's answer (bridge/webhooks/dry-run.ts). */
interface TestResult {
  pass: boolean;
  data: string | null;
  error: string | null;
  code?: string;
  guidance?: Guidance;
  event: LogEntry['event'];
  request?: LoggedRequest;
  response?: LoggedResponse;
  duration_ms: number;
  would_publish?: { topic: string; parts: number };
  note?: string;
  host_sleeping: boolean;
  disabled: boolean;
}

/** A failed delivery kept for replay (GET .../failures). */
interface Failure {
  id: number;
  event: { id: string; name: string; coreid: string; published_at: string };
  attempts: number;
  last_code: string | null;
  reason: string | null;
  created_at: string;
  finished_at: string | null;
}

/** The fields of the answer that are the template (what an edit starts from). */
export const TEMPLATE_KEYS: (keyof Template)[] = [
  'event', 'url', 'requestType', 'deviceID', 'name', 'disabled', 'json', 'form', 'body', 'query', 'headers', 'auth',
  'noDefaults', 'rejectUnauthorized', 'responseTopic', 'errorResponseTopic', 'responseTemplate', 'unchunked',
  'dataUrlResponseEvent', 'dynamicHost', 'retryPolicy', 'errorsEmail', 'publicFields',
];

export const integrationPath = (id: string) => `/v1/integrations/${seg(id)}`;

/** The target's host (and port) from a URL, even one with template tags or redacted parts. */
export function targetHost(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]+)/i.exec(url)?.[1] ?? url;
}

/** Why the state is what it is; Disabled says who, when and why. */
export function stateWhy(i: { state: string; state_reason: string; disabled_by?: string | null; disabled_reason?: string | null }): string {
  if (i.state === 'Disabled' && i.disabled_by) return `Disabled by ${i.disabled_by}${i.disabled_reason ? `: ${i.disabled_reason}` : ''}`;
  return i.state_reason;
}

// ---------------------------------------------------------------------------------------
// Requests and responses, as logs and TEST show them

function NameValues(props: { values: Record<string, string | string[]>; label: string }) {
  const entries = Object.entries(props.values);
  if (entries.length === 0) return html`<p class="muted small">No headers.</p>`;
  return html`
    <dl class="facts mono small" aria-label=${props.label}>
      ${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${Array.isArray(v) ? v.join(', ') : v}</dd>`)}
    </dl>`;
}

function BodyText(props: { text: string | undefined | null; label: string; truncated?: boolean }) {
  if (props.text === undefined || props.text === null || props.text === '') return html`<p class="muted small">No body.</p>`;
  return html`
    ${props.truncated ? html`<p class="muted small">Only the first 100 KB is kept.</p>` : null}
    <pre class="hook-body" tabindex="0" aria-label=${props.label}>${prettyData(props.text).text}</pre>`;
}

export function RequestView(props: { request: { method: string; url: string; headers: Record<string, string>; body?: string | null }; label: string }) {
  const r = props.request;
  return html`
    <div class="exchange-part">
      <h4>Request</h4>
      <p class="mono request-line"><span class="badge method">${r.method}</span> ${r.url}</p>
      <${NameValues} values=${r.headers} label=${`${props.label}: request headers`} />
      <${BodyText} text=${r.body} label=${`${props.label}: request body`} />
    </div>`;
}

function ResponseView(props: { response: LoggedResponse; label: string }) {
  const r = props.response;
  return html`
    <div class="exchange-part">
      <h4>Response <span class=${`badge ${r.status < 300 ? 'state-active' : 'state-toomanyerrors'}`}>${r.status}</span></h4>
      <${NameValues} values=${r.headers} label=${`${props.label}: response headers`} />
      <${BodyText} text=${r.body} label=${`${props.label}: response body`} truncated=${r.truncated} />
    </div>`;
}

function GuidanceNote(props: { code: string; guidance: Guidance | undefined }) {
  const g = props.guidance;
  if (!g) return null;
  return html`
    <div class="guidance">
      <p><strong><code>${props.code}</code> ${g.title}.</strong> ${g.meaning}</p>
      <p><strong>Check:</strong> ${g.check}</p>
    </div>`;
}

function Exchange(props: { request?: LoggedRequest | undefined; response?: LoggedResponse | undefined; label: string }) {
  return html`
    <div class="exchange">
      ${props.request ? html`<${RequestView} request=${props.request} label=${props.label} />` : html`<p class="muted">Nothing was sent.</p>`}
      ${props.response ? html`<${ResponseView} response=${props.response} label=${props.label} />` : props.request ? html`<p class="muted">No response.</p>` : null}
    </div>`;
}

// ---------------------------------------------------------------------------------------
// State, counters, history

function Summary(props: { i: IntegrationView }) {
  const i = props.i;
  return html`
    <section class="card" aria-labelledby="summary-title">
      <h2 id="summary-title" class="visually-hidden">Summary</h2>
      <p class="state-line"><${StateBadge} state=${i.state} /> <span class="state-reason">${stateWhy(i)}</span>${i.state_changed_at ? html` <span class="muted small">(<${Time} at=${i.state_changed_at} />)</span>` : null}</p>
      <dl class="facts">
        <dt>Event</dt><dd><code>${i.event}</code> <span class="muted small">(and every name starting with it)</span></dd>
        <dt>Target</dt><dd class="mono"><span class="badge method">${i.requestType}</span> ${i.url}</dd>
        <dt>Device</dt><dd>${i.deviceID ? html`<code>${i.deviceID}</code>` : 'any device'}</dd>
        <dt>Product</dt><dd>${i.product_id ?? 'any product'}</dd>
        <dt>Retries</dt><dd>${Array.isArray(i.retryPolicy) ? `after ${i.retryPolicy.join(', ')} s` : i.retryPolicy}</dd>
        <dt>ID</dt><dd class="mono">${i.id}</dd>
        <dt>Created</dt><dd><${Time} at=${i.created_at} />, changed <${Time} at=${i.updated_at} /></dd>
      </dl>
    </section>`;
}

function Counters(props: { i: IntegrationView }) {
  const c = props.i.counters;
  const tile = (label: string, value: unknown) => html`<div class="counter"><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`
    <section class="card" aria-labelledby="counters-title">
      <h2 id="counters-title">Counters</h2>
      <dl class="counters">
        ${tile('Calls', fmt.format(c.total_calls))}
        ${tile('Errors', fmt.format(c.total_errors))}
        ${tile('Errors in a row', fmt.format(c.consecutive_errors))}
        ${tile('Skipped', fmt.format(c.total_skipped))}
        ${tile('Dropped', fmt.format(c.total_dropped))}
        ${tile('Last success', html`<${Time} at=${c.last_success_at} />`)}
      </dl>
      ${c.last_error ? html`<p class="last-error">Last error <${Time} at=${c.last_error.at} />: <code>${c.last_error.code}</code> ${c.last_error.message}</p>` : null}
    </section>`;
}

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

/** "1 success", "3 successes". */
const count = (n: number, one: string, many: string) => `${fmt.format(n)} ${n === 1 ? one : many}`;

/** The 30-day chart; `attempts` (the counters' total) changing reloads it at once. */
function History(props: { id: string; attempts: number }) {
  const history = useLoad(() => get<{ days: DayCount[] }>(`${integrationPath(props.id)}/history?days=30`), [props.id, props.attempts], 60_000);
  const days = history.data?.days;
  // Remake the chart only when the figures change, not on every poll.
  const key = JSON.stringify(days ?? []);
  // A day's bars are drawn over one another, so they are stacked by hand: each bar reaches
  // its series' total and the next is drawn over it, leaving success blue at the top, errors
  // red under it and skipped gray at the bottom, as Particle's chart. Labels say what each
  // height is; the table below has each figure on its own.
  const chart = useMemo(() => {
    const d = days ?? [];
    return {
      x: d.map((x) => dayStart(x.day)),
      series: [
        { label: 'All attempts', values: d.map((x) => x.success + x.error + x.skipped), color: '#0b5cad' },
        { label: 'Errors and skipped', values: d.map((x) => x.error + x.skipped), color: '#b3261e' },
        { label: 'Skipped', values: d.map((x) => x.skipped), color: '#8c959f' },
      ],
    };
  }, [key]);
  const sum = (k: 'success' | 'error' | 'skipped') => (days ?? []).reduce((n, d) => n + d[k], 0);
  return html`
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">Last 30 days</h2>
      <${Loading} loaded=${history}>${() => html`
        <p class="muted small">${count(sum('success'), 'success', 'successes')}, ${count(sum('error'), 'error', 'errors')}, ${fmt.format(sum('skipped'))} skipped (UTC days).</p>
        <${TimeChart} x=${chart.x} series=${chart.series} bars utc height=${180} label="Attempts per day for the last 30 days, stacked: successes in blue, errors in red, skipped in gray; the figures are in the table below" />
        <details>
          <summary>Figures per day</summary>
          <div class="scroll">
            <table class="list history-table">
              <thead><tr><th>Day (UTC)</th><th class="num">Success</th><th class="num">Error</th><th class="num">Skipped</th></tr></thead>
              <tbody>${days!.slice().reverse().map((d) => html`
                <tr key=${d.day}><td data-label="Day">${d.day}</td><td data-label="Success" class="num">${d.success}</td><td data-label="Error" class="num">${d.error}</td><td data-label="Skipped" class="num">${d.skipped}</td></tr>`)}
              </tbody>
            </table>
          </div>
        </details>`}
      </${Loading}>
    </section>`;
}

// ---------------------------------------------------------------------------------------
// TEST

function TestOutcome(props: { r: TestResult }) {
  const r = props.r;
  return html`
    <div class="test-result" role="status">
      <p>
        <span class=${`badge ${r.pass ? 'state-active' : 'state-toomanyerrors'}`}>${r.pass ? 'Passed' : 'Failed'}</span>
        ${r.code ? html` <code>${r.code}</code>` : null} ${r.error ?? (r.pass ? 'The target answered 2xx.' : '')}
        <span class="muted small"> (${fmt.format(r.duration_ms)} ms)</span>
      </p>
      ${r.code ? html`<${GuidanceNote} code=${r.code} guidance=${r.guidance} />` : null}
      ${r.disabled ? html`<p class="muted">The integration is disabled: real events do not trigger it.</p>` : null}
      ${r.host_sleeping ? html`<p class="muted">Its target host is asleep after too many errors: real deliveries to it are skipped now.</p>` : null}
      ${r.note ? html`<p class="muted">${r.note}</p>` : null}
      ${r.would_publish ? html`<p>The device would hear this on <code>${r.would_publish.topic}</code> in ${r.would_publish.parts} part${r.would_publish.parts === 1 ? '' : 's'} (nothing was published).</p>` : null}
      <${Exchange} request=${r.request} response=${r.response} label="Test" />
    </div>`;
}

function TestPanel(props: { i: IntegrationView }) {
  const [data, setData] = useState('');
  const [name, setName] = useState('');
  const [device, setDevice] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const run = useAction(async () => {
    setResult(null);
    const body: Record<string, string> = {};
    if (data) body.data = data;
    if (name) body.name = name;
    if (device) body.device_id = device;
    setResult(await post<TestResult>(`${integrationPath(props.i.id)}/test`, body));
  });
  const fieldError = (f: string) => (run.error instanceof ApiError && run.error.field === f ? run.error.message : undefined);
  const input = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return html`
    <section class="card" aria-labelledby="test-title">
      <h2 id="test-title">Test</h2>
      <p class="muted">Sends a sample event through the real template and request, and shows what came back. It changes nothing: no counters, logs or state, nothing published to a device.</p>
      <form onSubmit=${(e: Event) => { e.preventDefault(); void run.run(); }}>
        <div class="row">
          <${Field} label="Event data" id="test-data" hint="Default: test-event" error=${fieldError('data')}>
            <input id="test-data" value=${data} onInput=${input(setData)} placeholder="test-event" />
          </${Field}>
          <${Field} label="Event name" id="test-name" hint=${`Starts with ${props.i.event}`} error=${fieldError('name')}>
            <input id="test-name" value=${name} onInput=${input(setName)} placeholder=${props.i.event} />
          </${Field}>
          <${Field} label="Device ID" id="test-device" error=${fieldError('device_id')}>
            <input id="test-device" value=${device} onInput=${input(setDevice)} placeholder=${props.i.deviceID ?? '000000000000000000000000'} />
          </${Field}>
        </div>
        ${run.error && !(run.error instanceof ApiError && run.error.field) ? html`<${ErrorNote} error=${run.error} />` : null}
        <button type="submit" class="primary" disabled=${run.busy}>${run.busy ? 'Testing…' : 'TEST'}</button>
      </form>
      ${result ? html`<${TestOutcome} r=${result} />` : null}
    </section>`;
}

// ---------------------------------------------------------------------------------------
// Enable, disable, delete

function Switch(props: { i: IntegrationView; changed: () => void }) {
  const [reason, setReason] = useState('');
  const change = useAction(async (action: 'enable' | 'disable') => {
    await post(`${integrationPath(props.i.id)}/${action}`, { reason });
    setReason('');
    props.changed();
  });
  if (props.i.disabled) {
    return html`
      <section class="card" aria-labelledby="switch-title">
        <h2 id="switch-title">Disabled</h2>
        <p>${stateWhy(props.i)}${props.i.disabled_at ? html` <span class="muted">(<${Time} at=${props.i.disabled_at} />)</span>` : null}. Events do not trigger it.</p>
        <${ErrorNote} error=${change.error} />
        <button type="button" class="primary" disabled=${change.busy} onClick=${() => change.run('enable')}>Enable</button>
      </section>`;
  }
  return html`
    <section class="card" aria-labelledby="switch-title">
      <h2 id="switch-title">Disable</h2>
      <form class="inline-form" onSubmit=${(e: Event) => { e.preventDefault(); void change.run('disable'); }}>
        <${Field} label="Reason (optional)" id="disable-reason" hint="Kept with who disabled it and when">
          <input id="disable-reason" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} placeholder="receiver down for maintenance" />
        </${Field}>
        <button type="submit" class="danger" disabled=${change.busy}>Disable</button>
      </form>
      <${ErrorNote} error=${change.error} />
    </section>`;
}

// ---------------------------------------------------------------------------------------
// Failed deliveries and replay

function Failures(props: { i: IntegrationView }) {
  const canChange = useCanChange();
  const path = integrationPath(props.i.id);
  // A delivery given up shows at once: the counters' dropped total changing reloads the list.
  const failures = useLoad(() => get<{ total: number; failures: Failure[] }>(`${path}/failures`), [props.i.id, props.i.counters.total_dropped], 5000);
  const [since, setSince] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const replay = useAction(async (which: { delivery_id: number } | { since: string } | { all: true }) => {
    setDone(null);
    const answer = await post<{ replayed: number }>(`${path}/replay`, which);
    setDone(`Replayed ${answer.replayed} ${answer.replayed === 1 ? 'delivery' : 'deliveries'}.`);
    await failures.reload();
  });
  const replaySince = () => {
    const ms = Date.parse(since); // datetime-local: the browser's time zone
    if (Number.isNaN(ms)) return;
    void replay.run({ since: new Date(ms).toISOString() });
  };
  return html`
    <section class="card" aria-labelledby="failures-title">
      <h2 id="failures-title">Failed deliveries</h2>
      <p class="muted">Deliveries given up after their retries, kept 30 days. A replay sends them again with their original webhook-id and starts their retries over.</p>
      ${props.i.disabled && canChange ? html`<p class="muted">Enable the integration to replay its deliveries.</p>` : null}
      <${Loading} loaded=${failures}>${(f: { total: number; failures: Failure[] }) => html`
        ${canChange && f.total > 0 && !props.i.disabled ? html`
          <div class="replay-bar">
            <button type="button" disabled=${replay.busy} onClick=${() => replay.run({ all: true })}>Replay all (${fmt.format(f.total)})</button>
            <form class="inline-form" onSubmit=${(e: Event) => { e.preventDefault(); replaySince(); }}>
              <${Field} label="Failed since" id="replay-since">
                <input id="replay-since" type="datetime-local" step="1" required value=${since} onInput=${(e: Event) => setSince((e.target as HTMLInputElement).value)} />
              </${Field}>
              <button type="submit" disabled=${replay.busy}>Replay since</button>
            </form>
          </div>` : null}
        ${done ? html`<p class="up" role="status">${done}</p>` : null}
        <${ErrorNote} error=${replay.error} />
        ${f.total === 0
          ? html`<p class="empty">No failed deliveries.</p>`
          : html`
            <table class="list">
              <thead><tr><th>Event</th><th>Failed</th><th class="num">Attempts</th><th>Last error</th>${canChange ? html`<th><span class="visually-hidden">Actions</span></th>` : null}</tr></thead>
              <tbody>${f.failures.map((d) => html`
                <tr key=${d.id}>
                  <td data-label="Event"><code>${d.event.name}</code><div class="mono small muted">${d.event.coreid}</div></td>
                  <td data-label="Failed"><${Time} at=${d.finished_at ?? d.created_at} /></td>
                  <td data-label="Attempts" class="num">${d.attempts}</td>
                  <td data-label="Last error">${d.last_code ? html`<code>${d.last_code}</code> ${d.reason ?? ''}` : html`<span class="muted">–</span>`}</td>
                  ${canChange ? html`<td><div class="row-actions">${props.i.disabled ? null : html`
                    <button type="button" class="small" disabled=${replay.busy} aria-label=${`Replay delivery ${d.id}`} onClick=${() => replay.run({ delivery_id: d.id })}>Replay</button>`}
                  </div></td>` : null}
                </tr>`)}
              </tbody>
            </table>
            ${f.total > f.failures.length ? html`<p class="muted small">The newest ${f.failures.length} of ${fmt.format(f.total)}.</p>` : null}`}`}
      </${Loading}>
    </section>`;
}

// ---------------------------------------------------------------------------------------
// Signing

function Signing(props: { i: IntegrationView; changed: () => void }) {
  const canChange = useCanChange();
  const path = integrationPath(props.i.id);
  const s = props.i.signing;
  const [secret, setSecret] = useState<string | null>(null);
  const rotate = useAction(async () => {
    const answer = await post<{ secret: string }>(`${path}/secret`);
    setSecret(answer.secret);
    props.changed();
  });
  const stop = useAction(async () => {
    await del(`${path}/secret`);
    setSecret(null);
    props.changed();
  });
  const confirmRotate = () => {
    if (!s.enabled || window.confirm('Make a new signing secret? The current one keeps signing for a day, so receivers can switch.')) void rotate.run();
  };
  return html`
    <section class="card" aria-labelledby="signing-title">
      <h2 id="signing-title">Signing</h2>
      <p>${s.enabled
        ? html`Requests carry a <code>webhook-signature</code> (Standard Webhooks).${s.previous_valid_until ? html` The previous secret also signs until <${Time} at=${s.previous_valid_until} />.` : null}`
        : html`Requests are not signed. Give it a secret and they carry a <code>webhook-signature</code> receivers can verify.`}</p>
      ${secret ? html`
        <div class="notice-box" role="status">
          <p><strong>The new secret, shown once.</strong> The bridge never shows it again; make a new one if it is lost.</p>
          <${Copy} text=${secret} label="Copy the signing secret" />
          <button type="button" onClick=${() => setSecret(null)}>Done</button>
        </div>` : null}
      <${ErrorNote} error=${rotate.error ?? stop.error} />
      ${canChange ? html`
        <div class="buttons">
          <button type="button" disabled=${rotate.busy} onClick=${confirmRotate}>${s.enabled ? 'Rotate secret' : 'Make a signing secret'}</button>
          ${s.enabled ? html`<${DangerButton} confirm="Stop signing? Receivers that verify signatures will refuse its requests." onConfirm=${() => stop.run()}>Stop signing</${DangerButton}>` : null}
        </div>` : null}
    </section>`;
}

// ---------------------------------------------------------------------------------------
// Logs

function LogItem(props: { log: LogEntry; open: boolean }) {
  const l = props.log;
  const label = `${l.ok ? 'Success' : 'Error'} at ${l.at}`;
  return html`
    <li class=${`log ${l.ok ? 'log-ok' : 'log-error'}`}>
      <details open=${props.open}>
        <summary>
          <span class=${`badge ${l.ok ? 'state-active' : 'state-toomanyerrors'}`}>${l.ok ? l.response?.status ?? 'OK' : l.error?.code ?? 'error'}</span>
          <code>${l.event.name}</code>
          <span class="muted small"><${Time} at=${l.at} /> · ${fmt.format(l.durationMs)} ms</span>
        </summary>
        ${l.error ? html`<p class="error-text"><code>${l.error.code}</code> ${l.error.message}</p><${GuidanceNote} code=${l.error.code} guidance=${l.guidance} />` : null}
        ${l.note ? html`<p class="muted">${l.note}</p>` : null}
        <h4>Event</h4>
        <dl class="facts small">
          <dt>Device</dt><dd class="mono">${l.event.coreid}</dd>
          <dt>Published</dt><dd><${Time} at=${l.event.published_at} /></dd>
          <dt>Data</dt><dd><pre class="mono">${prettyData(l.event.data).text}</pre></dd>
        </dl>
        <${Exchange} request=${l.request} response=${l.response} label=${label} />
      </details>
    </li>`;
}

function LogList(props: { title: string; id: string; logs: LogEntry[]; empty: string }) {
  return html`
    <section class="card" aria-labelledby=${props.id}>
      <h2 id=${props.id}>${props.title}</h2>
      ${props.logs.length === 0
        ? html`<p class="muted">${props.empty}</p>`
        : html`<ul class="logs">${props.logs.map((l, k) => html`<${LogItem} key=${`${l.at}-${l.event.id}`} log=${l} open=${k === 0} />`)}</ul>`}
    </section>`;
}

// ---------------------------------------------------------------------------------------
// The template, as stored (redacted for a read token)

function TemplateCard(props: { i: IntegrationView }) {
  const template = Object.fromEntries(TEMPLATE_KEYS.filter((k) => props.i[k] !== undefined).map((k) => [k, props.i[k]]));
  return html`
    <section class="card" aria-labelledby="template-title">
      <h2 id="template-title">Template</h2>
      <details>
        <summary>The template as JSON</summary>
        <pre class="hook-body" tabindex="0" aria-label="The template as JSON">${JSON.stringify(template, null, 2)}</pre>
      </details>
    </section>`;
}

// ---------------------------------------------------------------------------------------
// The page

function Actions(props: { i: IntegrationView }) {
  const remove = useAction(async () => {
    await del(integrationPath(props.i.id));
    navigate(`${BASE}/integrations`);
  });
  return html`
    <${Link} href=${`${BASE}/integrations/${seg(props.i.id)}/edit`} class="button">Edit</${Link}>
    <${DangerButton} confirm=${`Delete ${props.i.name ?? props.i.event}? Its logs, history and failed deliveries go with it.`} onConfirm=${() => remove.run()}>Delete</${DangerButton}>
    <${ErrorNote} error=${remove.error} />`;
}

export function IntegrationDetail(props: { id: string }) {
  const canChange = useCanChange();
  const loaded = useLoad(() => get<{ integration: IntegrationView }>(integrationPath(props.id)).then((r) => r.integration), [props.id], 3000);
  const i = loaded.data;
  const title = i ? i.name || `Integration ${i.event}` : 'Integration';
  return html`
    <${Page} title=${title} actions=${canChange && i ? html`<${Actions} i=${i} />` : null}>
      <p class="muted"><${Link} href=${`${BASE}/integrations`}>All integrations</${Link}></p>
      <${Loading} loaded=${loaded}>${(i: IntegrationView) => html`
        <div class="detail-grid">
          <${Summary} i=${i} />
          <${Counters} i=${i} />
        </div>
        <${History} id=${i.id} attempts=${i.counters.total_calls + i.counters.total_skipped} />
        ${canChange ? html`<${TestPanel} i=${i} />` : null}
        <div class="detail-grid">
          <${LogList} id="successes-title" title="Last successes" logs=${i.logs.filter((l) => l.ok).slice(0, 10)} empty="No successful delivery yet." />
          <${LogList} id="errors-title" title="Last errors" logs=${i.logs.filter((l) => !l.ok).slice(0, 10)} empty="No errors." />
        </div>
        <${Failures} i=${i} />
        ${canChange ? html`<${Switch} i=${i} changed=${loaded.reload} />` : null}
        <${Signing} i=${i} changed=${loaded.reload} />
        <${TemplateCard} i=${i} />`}
      </${Loading}>
    </${Page}>`;
}
