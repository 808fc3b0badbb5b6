// Sign in with an API token: exchanged once for a session cookie the page cannot read.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { post, type Who } from '../api.ts';
import { BASE, navigate, useLocation } from '../router.ts';
import { ErrorNote, Field } from '../ui.ts';

export function SignIn(props: { signedIn: (who: Who) => void }) {
  const { query } = useLocation();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · Hookwire';
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const who = await post<Who>('/console/session', { token });
      const next = query.get('next');
      navigate(next && next.startsWith(`${BASE}/`) ? next : `${BASE}/dashboard`, { replace: true });
      props.signedIn(who);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <main id="main" class="signin">
      <form onSubmit=${submit} class="card">
        <h1>Hookwire</h1>
        <p>Sign in with an API token. An admin token can change things; a read token only looks.</p>
        <${Field} label="API token" id="token" hint=${html`The bridge printed its admin token when it first started; make others with <code>npx hookwire tokens create &lt;name&gt;</code>.`}>
          <input id="token" name="token" type="password" autocomplete="current-password" required value=${token}
            onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} aria-describedby="token-hint" />
        </${Field}>
        <${ErrorNote} error=${error} />
        <button type="submit" class="primary" disabled=${busy || !token}>Sign in</button>
        <p class="muted small">The token is exchanged for a session cookie; it is not kept in this browser.</p>
      </form>
    </main>`;
}
