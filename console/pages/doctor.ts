// Doctor: what is wrong and what to do next (GET /v1/doctor). Findings grouped by severity,
// worst first, each with its message, its next step, its check code and a link to what it is
// about. One integration can be picked (?integration= in the URL). The doctor probes targets
// (DNS and TCP, up to 2 s each), so it runs when asked, not on a timer; any token may re-run it.

import './doctor.css';
import { html } from 'htm/preact';
import { get, seg } from '../api.ts';
import { BASE, Link, setQuery, useLocation } from '../router.ts';
import { ErrorNote, Loading, Page, Time, fmt, useLoad } from '../ui.ts';

/** One finding, as docs/doctor.md describes it. */
interface Finding {
  /** A stable code: NEAR_MISS_NAME, TARGET_UNREACHABLE, ... */
  check: string;
  severity: string;
  integrationId?: string;
  message: string;
  next: string;
  evidence: Record<string, unknown>;
}

interface DoctorReport {
  ok: boolean;
  checkedAt: string;
  observedSince: string;
  integrations: number;
  findings: Finding[];
}

/** The integrations list, for the filter and for naming what a finding is about. */
interface IntegrationItem {
  id: string;
  event: string;
}

/** Worst first, as the doctor sorts them; a severity it adds later goes last, under its own name. */
const SEVERITIES: { severity: string; heading: string; one: string; many: string }[] = [
  { severity: 'error', heading: 'Errors', one: 'error', many: 'errors' },
  { severity: 'warning', heading: 'Warnings', one: 'warning', many: 'warnings' },
  { severity: 'info', heading: 'Notes', one: 'note', many: 'notes' },
];

const count = (n: number, one: string, many: string) => `${fmt.format(n)} ${n === 1 ? one : many}`;

/** Findings by severity, in the order above, then any other severity as it comes. */
function groups(findings: Finding[]): { severity: string; heading: string; findings: Finding[] }[] {
  const known = SEVERITIES.map((s) => ({ severity: s.severity, heading: s.heading, findings: findings.filter((f) => f.severity === s.severity) }));
  const others = [...new Set(findings.map((f) => f.severity))].filter((s) => !SEVERITIES.some((k) => k.severity === s));
  return [...known, ...others.map((s) => ({ severity: s, heading: s, findings: findings.filter((f) => f.severity === s) }))].filter((g) => g.findings.length);
}

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** What a finding is about, as a console link: its integration, a device, a request bin, or nothing. */
function aboutOf(f: Finding, events: Map<string, string>): { href: string; label: string } | undefined {
  if (f.integrationId) {
    const event = events.get(f.integrationId);
    return { href: `${BASE}/integrations/${seg(f.integrationId)}`, label: event ? `Integration "${event}"` : `Integration ${f.integrationId}` };
  }
  const device = text(f.evidence.deviceId);
  if (device) return { href: `${BASE}/devices`, label: `Device ${device}` };
  const bin = text(f.evidence.bin);
  if (bin) return { href: `${BASE}/bins/${seg(bin)}`, label: `Request bin ${bin}` };
  return undefined;
}

function FindingCard(props: { finding: Finding; events: Map<string, string> }) {
  const f = props.finding;
  const about = aboutOf(f, props.events);
  return html`
    <article class=${`card finding severity-${f.severity}`}>
      <header class="finding-head">
        <span class=${`badge severity-${f.severity}`}>${f.severity}</span>
        <code class="check">${f.check}</code>
        ${about ? html`<${Link} href=${about.href}>${about.label}</${Link}>` : null}
      </header>
      <p class="message">${f.message}</p>
      <p class="next"><strong>Next step: </strong>${f.next}</p>
      ${Object.keys(f.evidence).length ? html`
        <details>
          <summary>Evidence</summary>
          <pre class="evidence">${JSON.stringify(f.evidence, null, 2)}</pre>
        </details>` : null}
    </article>`;
}

function Findings(props: { report: DoctorReport; events: Map<string, string> }) {
  const { report } = props;
  if (report.findings.length === 0) {
    return html`
      <div class="empty all-good" role="status">
        <h2>All good</h2>
        <p>No problems found (${count(report.integrations, 'integration', 'integrations')} checked).</p>
      </div>`;
  }
  return html`${groups(report.findings).map((g) => html`
    <section key=${g.severity} aria-labelledby=${`severity-${g.severity}`}>
      <h2 id=${`severity-${g.severity}`}>${g.heading} (${fmt.format(g.findings.length)})</h2>
      ${g.findings.map((f, i) => html`<${FindingCard} key=${`${f.check}|${f.integrationId ?? ''}|${i}`} finding=${f} events=${props.events} />`)}
    </section>`)}`;
}

/** "2 errors, 1 warning, 3 notes": the CLI's last line. */
function tally(findings: Finding[]): string {
  return SEVERITIES.map((s) => count(findings.filter((f) => f.severity === s.severity).length, s.one, s.many)).join(', ');
}

function IntegrationFilter(props: { value: string; integrations: IntegrationItem[] }) {
  // An ID that is no longer listed (deleted, or mistyped in a URL) stays selectable, so the
  // select shows what the URL asks for and the API's answer explains it.
  const listed = props.integrations.some((i) => i.id === props.value);
  return html`
    <label class="doctor-filter">
      <span>Check</span>
      <select value=${props.value} onChange=${(e: Event) => setQuery({ integration: (e.target as HTMLSelectElement).value })}>
        <option value="">every integration</option>
        ${props.value && !listed ? html`<option value=${props.value}>${props.value}</option>` : null}
        ${props.integrations.map((i) => html`<option key=${i.id} value=${i.id}>${i.event} (${i.id})</option>`)}
      </select>
    </label>`;
}

export function Doctor() {
  const integration = useLocation().query.get('integration') ?? '';
  const report = useLoad(() => get<DoctorReport>(`/v1/doctor${integration ? `?integration=${seg(integration)}` : ''}`), [integration]);
  const integrations = useLoad(() => get<IntegrationItem[]>('/v1/integrations'), []);
  const events = new Map((integrations.data ?? []).map((i) => [i.id, i.event]));
  const checking = report.loading;

  const actions = html`
    <${IntegrationFilter} value=${integration} integrations=${integrations.data ?? []} />
    <button type="button" class="primary" onClick=${() => void report.reload()} disabled=${checking}>${checking ? 'Checking…' : 'Re-run'}</button>`;

  return html`
    <${Page} title="Doctor" actions=${actions}>
      <${ErrorNote} error=${integrations.error} prefix="Could not list the integrations" />
      <${Loading} loaded=${report}>${(r: DoctorReport) => html`
        <p class="muted checked" aria-live="polite">
          Checked <${Time} at=${r.checkedAt} /> · ${count(r.integrations, 'integration', 'integrations')} · events and deliveries watched since <${Time} at=${r.observedSince} />${r.findings.length ? ` · ${tally(r.findings)}` : ''}
        </p>
        <${Findings} report=${r} events=${events} />`}
      </${Loading}>
    </${Page}>`;
}
