// Dashboard: Webex Connect's integrations dashboard for this bridge. For a period (24 hours,
// 7 or 30 days, kept in the URL as ?period=) it shows each type's successes and failures
// against the period before, the failures by code with what they mean and what to check, the
// trend, and the failures table that leads to each integration. GET /v1/dashboard answers it
// all in one call, refreshed every 10 s.

import './dashboard.css';
import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import { get } from '../api.ts';
import { TimeChart, type Series } from '../chart.ts';
import { BASE, Link, setQuery, useLocation } from '../router.ts';
import { Loading, Page, Time, fmt, useCanChange, useLoad } from '../ui.ts';

type Kind = 'outbound' | 'inbound' | 'device';

interface Counts {
  successes: number;
  failures: number;
}

interface TypeSummary extends Counts {
  previous: Counts;
  /** Percent against the previous period; null when that was 0. */
  change: { successes: number | null; failures: number | null };
}

/** What a failure code usually means and what to check (bridge/codes.ts). */
interface Guidance {
  title: string;
  meaning: string;
  check: string;
}

interface CodeSummary extends Guidance {
  code: string;
  count: number;
}

interface FailureRow extends Guidance {
  integration_id: string | null;
  /** The integration's trigger; null once it is deleted. */
  event: string | null;
  type: Kind;
  code: string;
  description: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

/** GET /v1/dashboard, as docs/dashboard.md describes it. */
interface Summary {
  period: Period;
  from: string;
  until: string;
  bucket: 'hour' | 'day';
  previous: { from: string; until: string };
  types: Record<Kind, TypeSummary>;
  failures_by_code: CodeSummary[];
  trends: ({ at: string } & Record<Kind, Counts>)[];
  failures: { total: number; rows: FailureRow[] };
}

const PERIODS = { '1d': '24 hours', '7d': '7 days', '30d': '30 days' } as const;
type Period = keyof typeof PERIODS;
/** The API's own default, so /console/dashboard and /v1/dashboard agree. */
const DEFAULT_PERIOD: Period = '30d';
const REFRESH_MS = 10_000; // 10 s: current without loading the store

/** Each type's name, a short one for the trend's series, and its colours there. */
const TYPES: { kind: Kind; label: string; short: string; ok: string; bad: string }[] = [
  { kind: 'outbound', label: 'Outbound webhooks', short: 'Outbound', ok: '#0b5cad', bad: '#b3261e' },
  { kind: 'inbound', label: 'Inbound (API publishes)', short: 'Inbound', ok: '#1a7f37', bad: '#c4610a' },
  { kind: 'device', label: 'Device events', short: 'Device', ok: '#6e40c9', bad: '#bf3989' },
];
const labelOf = (kind: Kind) => TYPES.find((t) => t.kind === kind)?.label ?? kind;

const periodOf = (value: string | null): Period => (value !== null && value in PERIODS ? (value as Period) : DEFAULT_PERIOD);

const dateTime = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
const date = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' });

/** A window's bounds: hours for 1d, UTC days for 7d and 30d (the end is exclusive). */
function Range(props: { from: string; until: string; bucket: Summary['bucket'] }) {
  const show = (iso: string, end: boolean) => {
    if (props.bucket === 'hour') return dateTime.format(new Date(iso));
    return date.format(new Date(Date.parse(iso) - (end ? 1 : 0))); // the last day included
  };
  return html`<time datetime=${props.from}>${show(props.from, false)}</time> – <time datetime=${props.until}>${show(props.until, true)}</time>`;
}

function PeriodSwitch(props: { period: Period }) {
  return html`
    <div class="period-switch" role="group" aria-label="Period">
      ${Object.entries(PERIODS).map(([p, label]) => html`
        <button type="button" aria-pressed=${p === props.period} onClick=${() => setQuery({ period: p === DEFAULT_PERIOD ? undefined : p })}>${label}</button>`)}
    </div>`;
}

/**
 * A change against the previous period, coloured by whether it is good news: more
 * successes, or fewer failures. "new" when there was nothing before, as the CLI prints it.
 */
function Change(props: { change: number | null; now: number; before: number; moreIsBetter: boolean }) {
  const was = `${fmt.format(props.before)} in the previous period`;
  if (props.change === null) {
    return props.now ? html`<span class="change badge" title=${was}>new</span>` : html`<span class="change muted" title=${was}>–</span>`;
  }
  if (props.change === 0) return html`<span class="change muted" title=${was}>0%</span>`;
  const good = props.change > 0 === props.moreIsBetter;
  return html`<span class=${`change ${good ? 'up' : 'down'}`} title=${was}><span aria-hidden="true">${props.change > 0 ? '▲' : '▼'} </span>${props.change > 0 ? '+' : ''}${props.change}%</span>`;
}

function TypeTile(props: { kind: Kind; label: string; summary: TypeSummary }) {
  const s = props.summary;
  const id = `type-${props.kind}`;
  return html`
    <section class="card tile" aria-labelledby=${id}>
      <h2 id=${id}>${props.label}</h2>
      <dl>
        <div><dt>Successes</dt><dd><span class="figure">${fmt.format(s.successes)}</span> <${Change} change=${s.change.successes} now=${s.successes} before=${s.previous.successes} moreIsBetter=${true} /></dd></div>
        <div><dt>Failures</dt><dd><span class=${`figure${s.failures ? ' down' : ''}`}>${fmt.format(s.failures)}</span> <${Change} change=${s.change.failures} now=${s.failures} before=${s.previous.failures} moreIsBetter=${false} /></dd></div>
      </dl>
    </section>`;
}

function FailuresByCode(props: { codes: CodeSummary[] }) {
  if (props.codes.length === 0) return html`<p class="muted">No failures in this period.</p>`;
  return html`
    <table class="list">
      <thead><tr><th>Code</th><th class="num">Failures</th><th>What it means</th><th>What to check</th></tr></thead>
      <tbody>${props.codes.map((c) => html`
        <tr key=${c.code}>
          <td data-label="Code"><code>${c.code}</code><div><strong>${c.title}</strong></div></td>
          <td data-label="Failures" class="num">${fmt.format(c.count)}</td>
          <td data-label="What it means">${c.meaning}</td>
          <td data-label="What to check">${c.check}</td>
        </tr>`)}
      </tbody>
    </table>`;
}

/** Successes and failures per type, one line each; the figures are in the table under it. */
function Trend(props: { summary: Summary }) {
  const { trends, bucket } = props.summary;
  const x = useMemo(() => trends.map((t) => Date.parse(t.at) / 1000), [trends]);
  const series = useMemo<Series[]>(() => TYPES.flatMap((t) => [
    { label: `${t.short} successes`, values: trends.map((b) => b[t.kind].successes), color: t.ok },
    { label: `${t.short} failures`, values: trends.map((b) => b[t.kind].failures), color: t.bad },
  ]), [trends]);
  const when = (iso: string) => (bucket === 'hour' ? dateTime.format(new Date(iso)) : date.format(new Date(iso)));
  return html`
    <${TimeChart} x=${x} series=${series} utc=${bucket === 'day'} label=${`Successes and failures per ${bucket} and type; the figures follow in a table`} />
    <details>
      <summary>Figures per ${bucket}</summary>
      <div class="scroll">
        <table class="list trend-table">
          <thead><tr><th>${bucket === 'hour' ? 'Hour' : 'Day'}</th>${TYPES.map((t) => html`<th class="num">${t.short} successes</th><th class="num">${t.short} failures</th>`)}</tr></thead>
          <tbody>${trends.map((b) => html`
            <tr key=${b.at}>
              <td data-label=${bucket === 'hour' ? 'Hour' : 'Day'}><time datetime=${b.at}>${when(b.at)}</time></td>
              ${TYPES.map((t) => html`<td data-label=${`${t.short} successes`} class="num">${fmt.format(b[t.kind].successes)}</td><td data-label=${`${t.short} failures`} class="num">${fmt.format(b[t.kind].failures)}</td>`)}
            </tr>`)}
          </tbody>
        </table>
      </div>
    </details>`;
}

/** Who failed: a link to the integration (its logs), or the type when no integration is involved. */
function FailedIntegration(props: { row: FailureRow }) {
  const { integration_id: id, event, type } = props.row;
  if (!id) return html`<span class="muted">${labelOf(type)}</span>`;
  if (event === null) return html`<span class="mono small">${id}</span> <span class="muted">(deleted)</span>`;
  return html`<${Link} href=${`${BASE}/integrations/${id}`}><strong>${event}</strong> <span class="mono small">${id}</span></${Link}>`;
}

function FailuresTable(props: { failures: Summary['failures'] }) {
  const { rows, total } = props.failures;
  if (rows.length === 0) return html`<p class="muted">No failures in this period.</p>`;
  return html`
    ${total > rows.length ? html`<p class="muted">The ${fmt.format(rows.length)} most frequent of ${fmt.format(total)} kinds.</p>` : null}
    <table class="list failures">
      <thead><tr><th>Integration</th><th>Failure</th><th class="num">Count</th><th>First seen</th><th>Last seen</th><th><span class="visually-hidden">Drill in</span></th></tr></thead>
      <tbody>${rows.map((r) => html`
        <tr key=${`${r.integration_id}|${r.type}|${r.code}|${r.description}`}>
          <td data-label="Integration"><${FailedIntegration} row=${r} /></td>
          <td data-label="Failure">${r.description} <code class="small">${r.code}</code></td>
          <td data-label="Count" class="num">${fmt.format(r.count)}</td>
          <td data-label="First seen"><${Time} at=${r.first_seen} /></td>
          <td data-label="Last seen"><${Time} at=${r.last_seen} /></td>
          <td>${r.integration_id && r.event !== null
            ? html`<${Link} href=${`${BASE}/doctor?integration=${r.integration_id}`} class="small">Ask the doctor</${Link}>`
            : null}</td>
        </tr>`)}
      </tbody>
    </table>`;
}

/**
 * Nothing counted in this period or the one before: on a new bridge, what to do first. A
 * read token cannot add devices or integrations, so it is told what will fill the page.
 */
function NoTraffic(props: { period: Period }) {
  const canChange = useCanChange();
  const span = PERIODS[props.period];
  return html`
    <div class="empty no-traffic">
      <h2>${props.period === DEFAULT_PERIOD ? 'No traffic yet' : `No traffic in the last ${span}`}</h2>
      <p>Nothing was published, delivered or refused in the last ${span} or the ${span} before.</p>
      ${canChange ? html`
        <ol>
          <li><${Link} href=${`${BASE}/devices`}>Add a device</${Link}> and connect it with the lines shown for its token.</li>
          <li>Give its events a webhook: <${Link} href=${`${BASE}/integrations/new`}>create an integration</${Link}> (a <${Link} href=${`${BASE}/bins`}>request bin</${Link}> makes a quick target).</li>
          <li>Publish an event from the device and watch it arrive on <${Link} href=${`${BASE}/events`}>Events</${Link}>; it is counted here within seconds.</li>
        </ol>`
        : html`<p>This page fills in as soon as <${Link} href=${`${BASE}/devices`}>devices</${Link}> publish events or <${Link} href=${`${BASE}/integrations`}>integrations</${Link}> are called.</p>`}
    </div>`;
}

const quiet = (s: Summary) => Object.values(s.types).every((t) => !t.successes && !t.failures && !t.previous.successes && !t.previous.failures);

function Overview(props: { summary: Summary; period: Period }) {
  const s = props.summary;
  if (quiet(s)) return html`<${NoTraffic} period=${props.period} />`;
  return html`
    <p class="muted window">
      <${Range} from=${s.from} until=${s.until} bucket=${s.bucket} />, compared with <${Range} from=${s.previous.from} until=${s.previous.until} bucket=${s.bucket} />
    </p>
    <div class="grid tiles">
      ${TYPES.map((t) => html`<${TypeTile} key=${t.kind} kind=${t.kind} label=${t.label} summary=${s.types[t.kind]} />`)}
    </div>
    <section class="card" aria-labelledby="by-code"><h2 id="by-code">Failures by code</h2><${FailuresByCode} codes=${s.failures_by_code} /></section>
    <section class="card" aria-labelledby="trend"><h2 id="trend">Trend</h2><${Trend} summary=${s} /></section>
    <section class="card" aria-labelledby="failures"><h2 id="failures">Failures</h2><${FailuresTable} failures=${s.failures} /></section>`;
}

export function Dashboard() {
  const period = periodOf(useLocation().query.get('period'));
  const summary = useLoad(() => get<Summary>(`/v1/dashboard?period=${period}`), [period], REFRESH_MS);
  // Until the new period's answer comes, the old one stays on screen, marked as stale.
  const stale = summary.data !== undefined && summary.data.period !== period;
  return html`
    <${Page} title="Dashboard" actions=${html`<${PeriodSwitch} period=${period} />`}>
      <div class="dashboard" aria-busy=${stale ? 'true' : undefined}>
        <${Loading} loaded=${summary}>${(s: Summary) => html`<${Overview} summary=${s} period=${s.period} />`}</${Loading}>
      </div>
    </${Page}>`;
}
