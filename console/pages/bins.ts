// Request bins: what was sent to /bin/<name>, the request bin built into the bridge
// (docs/request-bin.md). The list shows each bin with its request count and its answer, and
// makes new bins; a bin's page shows its requests as they come (the long-poll `hookwire bin
// watch` keeps open), sets the bin's answer, and clears its requests.

import './bins.css';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, del, get, put, seg } from '../api.ts';
import { BASE, Link, navigate } from '../router.ts';
import { Copy, DangerButton, ErrorNote, Field, Loading, Page, Time, fmt, prettyData, useAction, useCanChange, useLoad } from '../ui.ts';

/** How a bin answers what it captures. */
interface BinResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A bin as GET /v1/bins lists it. */
interface BinSummary {
  name: string;
  /** Null for a bin being waited on that has not been made yet. */
  created_at: string | null;
  last_request_at: string | null;
  /** Requests kept now. */
  count: number;
  /** Requests captured since it was made, including those dropped or cleared. */
  total: number;
  response: BinResponse;
  /** The capture URL, on the host the API was reached at. */
  url: string;
}

/** One captured request (docs/request-bin.md). */
interface CapturedRequest {
  id: number;
  received_at: string;
  method: string;
  path: string;
  query_string: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[]>;
  body: string;
  body_encoding: 'utf8' | 'base64';
  body_bytes: number;
  truncated: boolean;
  remote_address: string;
}

/** GET /v1/bins/:name: the bin, and its requests after `after`, newest last. */
interface BinView extends BinSummary {
  last_id: number;
  requests: CapturedRequest[];
}

/** Seconds each long-poll waits; the bridge answers as soon as a request comes (at most 25). */
const WAIT_SEC = 20;
/** The first read's wait, seconds: a bin with requests answers at once, any other after this. */
const FIRST_WAIT_SEC = 0.05;
/** Requests kept on the page, as many as the bridge keeps per bin. */
const KEEP = 100;
/** The content types the bridge gives an answer by itself, left out of the form. */
const DEFAULT_TYPES = ['application/json; charset=utf-8', 'text/plain; charset=utf-8'];

// ---------------------------------------------------------------------------------------
// Watching a bin

interface Watched {
  /** Undefined until the first answer; null for a bin not made yet (its first request makes it). */
  bin: BinSummary | null | undefined;
  /** Newest first, at most KEEP. */
  requests: CapturedRequest[];
  error: unknown;
}

/**
 * A bin and its requests, live: one plain read, then long-polls for what comes after the
 * last request seen (IDs increase across all bins, so a cleared bin goes on from there).
 */
function useBinWatch(name: string) {
  const [watched, setWatched] = useState<Watched>({ bin: undefined, requests: [], error: undefined });
  useEffect(() => {
    setWatched({ bin: undefined, requests: [], error: undefined });
    const stop = new AbortController();
    const path = `/v1/bins/${seg(name)}`;
    const take = (view: BinView) => {
      const { requests, last_id: _, ...bin } = view;
      const newest = requests.slice().reverse();
      setWatched((w) => ({ bin: bin.created_at ? bin : w.bin ?? null, requests: [...newest, ...w.requests].slice(0, KEEP), error: undefined }));
      return view.last_id;
    };
    void (async () => {
      // The first read waits a moment rather than not at all: with a wait, a bin not made yet
      // is an empty answer (created_at null) instead of a 404.
      let wait = FIRST_WAIT_SEC;
      let after = 0;
      while (!stop.signal.aborted) {
        try {
          after = take(await get<BinView>(`${path}?after=${after}&wait=${wait}`, stop.signal));
          wait = WAIT_SEC;
        } catch (err) {
          if (stop.signal.aborted) return;
          setWatched((w) => ({ ...w, error: err }));
          // A refusal (signed out, a name that is not a bin name) will not change by asking again.
          if (err instanceof ApiError && err.status < 500) return;
          // The bridge may be restarting: ask again a little later, not in a tight loop.
          await new Promise((resolve) => setTimeout(resolve, 3000));
        }
      }
    })();
    return () => stop.abort();
  }, [name]);

  return {
    ...watched,
    /** The bin as a change answered it (PUT gives the bin back). */
    changed: (bin: BinSummary) => setWatched((w) => ({ ...w, bin })),
    cleared: () => setWatched((w) => ({ ...w, requests: [], bin: w.bin && { ...w.bin, count: 0 } })),
  };
}

// ---------------------------------------------------------------------------------------
// The answer

function AnswerFacts(props: { response: BinResponse }) {
  const r = props.response;
  const body = prettyData(r.body);
  return html`
    <dl class="facts">
      <dt>Status</dt><dd>${r.status}</dd>
      ${Object.entries(r.headers).map(([k, v]) => html`<dt class="mono">${k}</dt><dd class="mono">${v}</dd>`)}
    </dl>
    ${body.text === '' ? html`<p class="muted">No body.</p>` : html`<pre class="bin-body" tabindex="0" aria-label="Answer body">${body.text}</pre>`}`;
}

/** `Name: value` lines, as a headers object; a line without a colon is an error naming it. */
function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ApiError(400, 'BAD_REQUEST', `line ${i + 1} is not Name: value`, 'headers');
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The answer's headers as the form shows them: without the content type the bridge would give anyway. */
function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .filter(([k, v]) => !(k === 'content-type' && DEFAULT_TYPES.includes(v)))
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

/** Set what the bin answers: PUT /v1/bins/:name replaces status, headers and body. */
function AnswerForm(props: { name: string; response: BinResponse; changed: (bin: BinSummary) => void }) {
  const [status, setStatus] = useState(String(props.response.status));
  const [headers, setHeaders] = useState(headerLines(props.response.headers));
  const [body, setBody] = useState(props.response.body);
  const [done, setDone] = useState(false);
  const save = useAction(async () => {
    setDone(false);
    const answer = await put<BinSummary>(`/v1/bins/${seg(props.name)}`, { status: Number(status), headers: parseHeaderLines(headers), body });
    props.changed(answer);
    setDone(true);
  });
  const fieldOf = (err: unknown) => (err instanceof ApiError ? err.field?.split('.')[0] : undefined);
  const errorFor = (f: string) => (fieldOf(save.error) === f ? (save.error as ApiError).message : undefined);
  const input = (set: (v: string) => void) => (e: Event) => {
    setDone(false);
    set((e.target as HTMLInputElement).value);
  };
  return html`
    <form class="answer-form" onSubmit=${(e: Event) => { e.preventDefault(); void save.run(); }}>
      <${Field} label="Status" id="answer-status" error=${errorFor('status')} hint="200-599">
        <input id="answer-status" type="number" min="200" max="599" required value=${status} onInput=${input(setStatus)} />
      </${Field}>
      <${Field} label="Headers" id="answer-headers" error=${errorFor('headers')} hint="One Name: value a line, e.g. Retry-After: 120">
        <textarea id="answer-headers" rows="3" spellcheck=${false} value=${headers} onInput=${input(setHeaders)}></textarea>
      </${Field}>
      <${Field} label="Body" id="answer-body" error=${errorFor('body')} hint="Sent as JSON when it is a JSON object or array, else as text">
        <textarea id="answer-body" rows="4" spellcheck=${false} value=${body} onInput=${input(setBody)}></textarea>
      </${Field}>
      ${save.error && !fieldOf(save.error) ? html`<${ErrorNote} error=${save.error} />` : null}
      <div class="buttons">
        <button type="submit" class="primary" disabled=${save.busy}>Set the answer</button>
        ${done ? html`<span class="up" role="status">Answer set.</span>` : null}
      </div>
    </form>`;
}

function AnswerCard(props: { bin: BinSummary; changed: (bin: BinSummary) => void }) {
  const canChange = useCanChange();
  return html`
    <section class="card answer" aria-labelledby="answer-title">
      <h2 id="answer-title">Answer</h2>
      ${canChange
        ? html`<${AnswerForm} name=${props.bin.name} response=${props.bin.response} changed=${props.changed} />`
        : html`<${AnswerFacts} response=${props.bin.response} />`}
    </section>`;
}

// ---------------------------------------------------------------------------------------
// Captured requests

function NameValues(props: { values: Record<string, string | string[]>; label: string }) {
  return html`
    <dl class="facts mono" aria-label=${props.label}>
      ${Object.entries(props.values).map(([k, v]) => html`<dt>${k}</dt><dd>${Array.isArray(v) ? v.join(', ') : v}</dd>`)}
    </dl>`;
}

function RequestBody(props: { request: CapturedRequest }) {
  const r = props.request;
  if (r.body_bytes === 0) return html`<p class="muted">No body.</p>`;
  const shown = r.body_encoding === 'utf8' ? prettyData(r.body) : { json: false, text: r.body };
  const what = [r.body_encoding === 'base64' ? 'base64' : shown.json ? 'JSON' : null, `${fmt.format(r.body_bytes)} bytes`].filter(Boolean).join(', ');
  return html`
    <h3>Body <span class="muted small">(${what})</span></h3>
    ${r.truncated ? html`<p class="muted small">Only the start is kept.</p>` : null}
    <pre class="bin-body" tabindex="0" aria-label=${`Body of request ${r.id}`}>${shown.text}</pre>`;
}

function RequestCard(props: { request: CapturedRequest; open: boolean }) {
  const r = props.request;
  const headerCount = Object.keys(r.headers).length;
  return html`
    <article class="card bin-request" aria-labelledby=${`request-${r.id}`}>
      <header class="request-head">
        <h2 id=${`request-${r.id}`}>
          <span class="badge method">${r.method}</span>
          <code>${r.path}${r.query_string ? `?${r.query_string}` : ''}</code>
        </h2>
        <span class="muted small">#${r.id} · from ${r.remote_address} · <${Time} at=${r.received_at} /></span>
      </header>
      ${r.query_string ? html`<h3>Query</h3><${NameValues} values=${r.query} label=${`Query of request ${r.id}`} />` : null}
      <details open=${props.open}>
        <summary>Headers (${headerCount})</summary>
        <${NameValues} values=${r.headers} label=${`Headers of request ${r.id}`} />
      </details>
      <${RequestBody} request=${r} />
    </article>`;
}

// ---------------------------------------------------------------------------------------
// The pages

export function BinDetail(props: { name: string }) {
  const canChange = useCanChange();
  const watched = useBinWatch(props.name);
  const clear = useAction(async () => {
    await del(`/v1/bins/${seg(props.name)}`);
    watched.cleared();
  });
  const { bin, requests } = watched;
  const url = bin?.url ?? `${location.origin}/bin/${props.name}`;
  const actions = canChange && bin && requests.length > 0
    ? html`<${DangerButton} confirm=${`Forget the requests in ${props.name}? Its answer stays.`} onConfirm=${() => clear.run()}>Clear requests</${DangerButton}>`
    : null;
  return html`
    <${Page} title=${`Bin ${props.name}`} actions=${actions}>
      <p class="muted"><${Link} href=${`${BASE}/bins`}>All bins</${Link}></p>
      <p>Anything sent here (any method, any path below it) is captured, with no token needed:</p>
      <${Copy} text=${url} label="Copy the capture URL" />
      <${ErrorNote} error=${clear.error} />
      <${ErrorNote} error=${watched.error} prefix="Not watching" />
      ${bin === undefined && !watched.error ? html`<p class="muted" aria-busy="true">Loading…</p>` : null}
      ${bin !== undefined ? html`
        <div class="bin-layout">
          <section class="bin-requests" aria-labelledby="requests-title">
            <h2 id="requests-title" class="visually-hidden">Requests</h2>
            <p class="muted" aria-live="polite">${bin
              ? `${fmt.format(bin.count)} kept${bin.total > bin.count ? ` of ${fmt.format(bin.total)} received` : ''}, newest first; new ones appear as they come.`
              : 'This bin is made by its first request; it will show here.'}</p>
            ${requests.length === 0
              ? html`<p class="empty">No requests yet. Send one: <code>curl -d '{"hello":"bin"}' -H 'content-type: application/json' ${url}</code></p>`
              : requests.map((r, i) => html`<${RequestCard} key=${r.id} request=${r} open=${i === 0} />`)}
          </section>
          ${bin ? html`<${AnswerCard} bin=${bin} changed=${watched.changed} />` : null}
        </div>` : null}
    </${Page}>`;
}

/** Make a bin by name and go to it; a bin that exists is opened as it is (PUT would reset its answer). */
function CreateBin(props: { existing: string[] }) {
  const [name, setName] = useState('');
  const create = useAction(async () => {
    const wanted = name.trim();
    if (!props.existing.includes(wanted)) await put(`/v1/bins/${seg(wanted)}`, {});
    navigate(`${BASE}/bins/${seg(wanted)}`);
  });
  const error = create.error instanceof ApiError && create.error.field === 'name' ? create.error.message : undefined;
  return html`
    <form class="card create-bin" onSubmit=${(e: Event) => { e.preventDefault(); void create.run(); }}>
      <${Field} label="New bin name" id="bin-name" error=${error} hint="1-64 characters of A-Z a-z 0-9 _ -">
        <div class="inline-input">
          <input id="bin-name" required value=${name} autocomplete="off" spellcheck=${false} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="orders" />
          <button type="submit" class="primary" disabled=${create.busy}>Create bin</button>
        </div>
      </${Field}>
      ${create.error && !error ? html`<${ErrorNote} error=${create.error} />` : null}
    </form>`;
}

function AnswerSummary(props: { response: BinResponse }) {
  const body = props.response.body.replace(/\s+/g, ' ');
  return html`<span class=${`badge ${props.response.status < 400 ? 'state-active' : 'state-toomanyerrors'}`}>${props.response.status}</span> <span class="mono small">${body.length > 60 ? `${body.slice(0, 60)}…` : body}</span>`;
}

export function Bins() {
  const canChange = useCanChange();
  const bins = useLoad(() => get<BinSummary[]>('/v1/bins'), [], 5000);
  return html`
    <${Page} title="Request bins">
      <p>Point an integration (or any service) at a bin's capture URL to see exactly what it sends, and choose what the bin answers. Bins live in memory: a restart empties them.</p>
      ${canChange ? html`<${CreateBin} existing=${bins.data?.map((b) => b.name) ?? []} />` : null}
      <${Loading} loaded=${bins}>${(list: BinSummary[]) => list.length === 0
        ? html`<p class="empty">No bins yet.${canChange ? ' Create one, or send a request to /bin/<name>: its first request makes it.' : ''}</p>`
        : html`
          <table class="list bins">
            <thead><tr><th>Bin</th><th class="num">Requests</th><th>Last request</th><th>Answer</th><th>Capture URL</th></tr></thead>
            <tbody>${list.map((b) => html`
              <tr key=${b.name}>
                <td data-label="Bin"><${Link} href=${`${BASE}/bins/${seg(b.name)}`}><strong>${b.name}</strong></${Link}></td>
                <td data-label="Requests" class="num">${fmt.format(b.count)}${b.total > b.count ? html` <span class="muted small">of ${fmt.format(b.total)}</span>` : null}</td>
                <td data-label="Last request"><${Time} at=${b.last_request_at} /></td>
                <td data-label="Answer"><${AnswerSummary} response=${b.response} /></td>
                <td data-label="Capture URL" class="capture"><${Copy} text=${b.url} label=${`Copy the capture URL of ${b.name}`} /></td>
              </tr>`)}
            </tbody>
          </table>`}
      </${Loading}>
    </${Page}>`;
}
