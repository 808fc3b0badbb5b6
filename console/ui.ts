// Pieces every page uses: loading data, times, state badges, errors, form fields, copy
// buttons. Pages compose these; none of them knows a page.

import { html } from 'htm/preact';
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Who } from './api.ts';

/** Who is signed in; pages show change buttons only to an admin. */
export const Session = createContext<Who | null>(null);
export const useWho = () => useContext(Session)!;
export const useCanChange = () => useWho().scope === 'admin';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Load with `fn` when `deps` change, and again every `everyMs` while the tab is visible.
 * A reload keeps the data shown until the new answer comes.
 */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const latest = useRef(0);
  const run = useCallback(async () => {
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await fn();
      if (ticket === latest.current) setState({ data, loading: false });
    } catch (err) {
      if (ticket === latest.current) setState((s) => ({ ...s, error: err as Error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    void run();
    if (!everyMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void run();
    }, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

/** Sets the tab's title and gives a page its heading and actions. */
export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Hookwire`;
  }, [props.title]);
  return html`
    <section class="page">
      <header class="page-head">
        <h1>${props.title}</h1>
        ${props.actions ? html`<div class="actions">${props.actions}</div>` : null}
      </header>
      ${props.children}
    </section>`;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "3 minutes ago", with the exact time on hover; a dash for none. */
export function Time(props: { at: string | number | null | undefined }) {
  if (props.at === null || props.at === undefined || props.at === '') return html`<span class="muted">never</span>`;
  const ms = typeof props.at === 'number' ? props.at : Date.parse(props.at);
  const diff = ms - Date.now();
  const [unit, size] = UNITS.find(([, size]) => Math.abs(diff) >= size) ?? ['second', 1000];
  const iso = new Date(ms).toISOString();
  return html`<time datetime=${iso} title=${iso}>${relative.format(Math.round(diff / size), unit)}</time>`;
}

/** An integration's state as Particle's console colours it. */
export function StateBadge(props: { state: string; title?: string | null }) {
  return html`<span class=${`badge state-${props.state.toLowerCase()}`} title=${props.title ?? undefined}>${props.state}</span>`;
}

/** A failure: its stable code and what it said. */
export function ErrorNote(props: { error: unknown; prefix?: string }) {
  if (!props.error) return null;
  const err = props.error as Error;
  const code = err instanceof ApiError ? err.code : undefined;
  return html`<p class="error" role="alert">${props.prefix ? `${props.prefix}: ` : ''}${code ? html`<code>${code}</code> ` : null}${err.message}</p>`;
}

/** The first load's spinner, then the error or the content. */
export function Loading<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { data, error } = props.loaded;
  if (data === undefined) return error ? html`<${ErrorNote} error=${error} />` : html`<p class="muted" aria-busy="true">Loading…</p>`;
  return html`${error ? html`<${ErrorNote} error=${error} prefix="Could not refresh" />` : null}${props.children(data)}`;
}

/** A labelled form field; the message under it comes from the API's `field`. */
export function Field(props: { label: string; id: string; error?: string | undefined; hint?: ComponentChildren; children: ComponentChildren }) {
  return html`
    <div class=${`field${props.error ? ' invalid' : ''}`}>
      <label for=${props.id}>${props.label}</label>
      ${props.children}
      ${props.hint ? html`<small class="hint" id=${`${props.id}-hint`}>${props.hint}</small>` : null}
      ${props.error ? html`<small class="field-error" id=${`${props.id}-error`} role="alert">${props.error}</small>` : null}
    </div>`;
}

/** A value to copy (a token, a command line), with its button. */
export function Copy(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      // Clipboard refused (plain HTTP on a remote host): the text is there to select.
    }
  };
  return html`
    <div class="copy">
      <pre><code>${props.text}</code></pre>
      <button type="button" class="small" onClick=${copy} aria-label=${props.label ?? 'Copy'}>${done ? 'Copied' : 'Copy'}</button>
    </div>`;
}

/** Pretty JSON when a text is JSON, the text otherwise. */
export function prettyData(text: string | null | undefined): { json: boolean; text: string } {
  if (text === null || text === undefined) return { json: false, text: '' };
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { json: true, text: JSON.stringify(JSON.parse(t), null, 2) };
    } catch {
      // not JSON after all
    }
  }
  return { json: false, text };
}

/** A confirm-then-act button for changes that cannot be undone. */
export function DangerButton(props: { onConfirm: () => void | Promise<void>; confirm: string; small?: boolean; children: ComponentChildren }) {
  return html`<button type="button" class=${props.small ? 'danger small' : 'danger'} onClick=${() => window.confirm(props.confirm) && props.onConfirm()}>${props.children}</button>`;
}

/** Run an async action from a button: busy while it runs, its error kept for display. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>): { run: (...args: A) => Promise<void>; busy: boolean; error: unknown; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn(...args);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(undefined) };
}

export const fmt = new Intl.NumberFormat('en');
