// The shell: navigation, who is signed in, sign-out, and the page the URL names.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, get, useSession, type Who } from './api.ts';
import { BASE, Link, match, navigate, useLocation } from './router.ts';
import { ErrorNote, Session } from './ui.ts';
import { SignIn } from './pages/signin.ts';
import { Dashboard } from './pages/dashboard.ts';
import { Devices } from './pages/devices.ts';
import { Events } from './pages/events.ts';
import { Integrations } from './pages/integrations.ts';
import { IntegrationForm } from './pages/integration-form.ts';
import { IntegrationDetail } from './pages/integration.ts';
import { Doctor } from './pages/doctor.ts';
import { Bins, BinDetail } from './pages/bins.ts';

/** Pages by URL, most specific first. */
const ROUTES: [string, (params: Record<string, string>) => unknown][] = [
  [`${BASE}/dashboard`, () => html`<${Dashboard} />`],
  [`${BASE}/devices`, () => html`<${Devices} />`],
  [`${BASE}/events`, () => html`<${Events} />`],
  [`${BASE}/integrations`, () => html`<${Integrations} />`],
  [`${BASE}/integrations/new`, () => html`<${IntegrationForm} />`],
  [`${BASE}/integrations/:id/edit`, (p) => html`<${IntegrationForm} id=${p.id} />`],
  [`${BASE}/integrations/:id`, (p) => html`<${IntegrationDetail} id=${p.id!} />`],
  [`${BASE}/doctor`, () => html`<${Doctor} />`],
  [`${BASE}/bins`, () => html`<${Bins} />`],
  [`${BASE}/bins/:name`, (p) => html`<${BinDetail} name=${p.name!} />`],
];

const NAV: [string, string][] = [
  ['dashboard', 'Dashboard'],
  ['devices', 'Devices'],
  ['events', 'Events'],
  ['integrations', 'Integrations'],
  ['doctor', 'Doctor'],
  ['bins', 'Request bins'],
];

function NotFound() {
  return html`<section class="page"><h1>Not found</h1><p>No console page at <code>${location.pathname}</code>. <${Link} href=${`${BASE}/dashboard`}>Go to the dashboard</${Link}>.</p></section>`;
}

function Shell(props: { who: Who; signOut: () => void }) {
  const { path } = useLocation();
  if (path === BASE || path === `${BASE}/signin`) {
    navigate(`${BASE}/dashboard`, { replace: true });
    return null;
  }
  let page: unknown = html`<${NotFound} />`;
  for (const [pattern, view] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      page = view(params);
      break;
    }
  }
  const section = path.split('/')[2];
  return html`
    <${Session.Provider} value=${props.who}>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <${Link} href=${`${BASE}/dashboard`} class="brand">Hookwire</${Link}>
        <nav aria-label="Console">
          <ul>
            ${NAV.map(([key, label]) => html`<li><${Link} href=${`${BASE}/${key}`} aria-current=${section === key ? 'page' : undefined}>${label}</${Link}></li>`)}
          </ul>
        </nav>
        <div class="who">
          <span title=${`token ${props.who.token_id}`}>${props.who.username}${props.who.scope === 'read' ? html` <span class="badge">read-only</span>` : null}</span>
          <button type="button" class="small" onClick=${props.signOut}>Sign out</button>
        </div>
      </header>
      <main id="main">${page}</main>
    </${Session.Provider}>`;
}

export function App() {
  const [who, setWho] = useState<Who | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const signedOut = () => setWho(null);
  useSession(who ?? null, signedOut);

  useEffect(() => {
    get<Who & { signed_in: boolean }>('/console/session').then((who) => setWho(who.signed_in ? who : null), setError);
  }, []);

  useEffect(() => {
    if (who === null && location.pathname !== `${BASE}/signin`) {
      // Come back here after signing in.
      const next = location.pathname + location.search;
      navigate(`${BASE}/signin${next.startsWith(`${BASE}/`) ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
    }
  }, [who]);

  const signOut = async () => {
    try {
      await api('DELETE', '/console/session');
    } finally {
      setWho(null);
      navigate(`${BASE}/signin`, { replace: true });
    }
  };

  if (error) return html`<main class="page"><${ErrorNote} error=${error} prefix="The bridge did not answer" /></main>`;
  if (who === undefined) return html`<p class="muted" aria-busy="true">Loading…</p>`;
  if (who === null) return html`<${SignIn} signedIn=${setWho} />`;
  return html`<${Shell} who=${who} signOut=${signOut} />`;
}
