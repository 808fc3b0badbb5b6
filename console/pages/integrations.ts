// Integrations: every webhook with its state (and why, for the ones not working), its trigger,
// where it sends, its counters, when it last succeeded and a 7-day trend. Refreshed every 5 s.
// The trend comes with the list (`?history_days=7`): one request, however many integrations.

import './integrations.css';
import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import { get, seg } from '../api.ts';
import { Sparkline } from '../chart.ts';
import { BASE, Link } from '../router.ts';
import { Loading, Page, StateBadge, Time, fmt, useCanChange, useLoad } from '../ui.ts';
import { stateWhy, targetHost, type DayCount } from './integration.ts';

/** GET /v1/integrations?history_days=7, one entry. */
interface Summary {
  id: string;
  event: string;
  url: string;
  requestType: string;
  name?: string;
  deviceID?: string;
  product_id: number | null;
  state: string;
  state_reason: string;
  disabled_by: string | null;
  disabled_reason: string | null;
  counters: { total_calls: number; total_errors: number; last_success_at: string | null };
  history: DayCount[];
}

const TREND_DAYS = 7;

function Trend(props: { days: DayCount[] }) {
  const values = useMemo(() => props.days.map((d) => d.success + d.error + d.skipped), [JSON.stringify(props.days)]);
  const errors = props.days.reduce((n, d) => n + d.error, 0);
  const total = values.reduce((n, v) => n + v, 0);
  return html`<${Sparkline} values=${values} color=${errors > 0 ? '#b3261e' : '#0b5cad'} label=${`Last ${TREND_DAYS} days: ${total} attempts, ${errors} errors`} />`;
}

function Row(props: { i: Summary }) {
  const i = props.i;
  const href = `${BASE}/integrations/${seg(i.id)}`;
  return html`
    <tr>
      <td data-label="Integration">
        <${Link} href=${href}><strong>${i.name || i.event}</strong></${Link}>
        <div class="mono small muted">${i.id}</div>
      </td>
      <td data-label="State">
        <${StateBadge} state=${i.state} />
        ${i.state === 'Active' ? null : html`<div class="small muted state-why">${stateWhy(i)}</div>`}
      </td>
      <td data-label="Event"><code>${i.event}</code>${i.deviceID ? html`<div class="small muted">one device</div>` : null}</td>
      <td data-label="Target" class="target"><span class="badge method">${i.requestType}</span> <span class="mono">${targetHost(i.url)}</span></td>
      <td data-label="Calls" class="num">${fmt.format(i.counters.total_calls)}</td>
      <td data-label="Errors" class="num">${i.counters.total_errors ? html`<span class="down">${fmt.format(i.counters.total_errors)}</span>` : '0'}</td>
      <td data-label="Last success"><${Time} at=${i.counters.last_success_at} /></td>
      <td data-label=${`${TREND_DAYS} days`}><${Trend} days=${i.history} /></td>
    </tr>`;
}

export function Integrations() {
  const canChange = useCanChange();
  const list = useLoad(() => get<Summary[]>(`/v1/integrations?history_days=${TREND_DAYS}`), [], 5000);
  const actions = canChange ? html`<${Link} href=${`${BASE}/integrations/new`} class="button primary">New integration</${Link}>` : null;
  return html`
    <${Page} title="Integrations" actions=${actions}>
      <${Loading} loaded=${list}>${(all: Summary[]) => all.length === 0
        ? html`<p class="empty">No integrations yet.${canChange ? html` <${Link} href=${`${BASE}/integrations/new`}>Create one</${Link}>, or paste a Particle template there.` : ''}</p>`
        : html`
          <p class="muted" aria-live="polite">${all.length} integration${all.length === 1 ? '' : 's'}, ${all.filter((i) => i.state === 'Failing' || i.state === 'TooManyErrors').length} failing</p>
          <table class="list integrations">
            <thead><tr><th>Integration</th><th>State</th><th>Event</th><th>Target</th><th class="num">Calls</th><th class="num">Errors</th><th>Last success</th><th>${TREND_DAYS} days</th></tr></thead>
            <tbody>${all.map((i) => html`<${Row} key=${i.id} i=${i} />`)}</tbody>
          </table>`}
      </${Loading}>
    </${Page}>`;
}
