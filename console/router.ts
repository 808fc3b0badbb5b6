// Console URLs: every page has its own (under /console), so a link can be shared. History
// API navigation; the bridge answers every /console path with the same page.

import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/console';

const listeners = new Set<() => void>();
const changed = () => listeners.forEach((l) => l());
window.addEventListener('popstate', changed);

/** Go to a console URL (a path under /console, with its query). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  history[options.replace ? 'replaceState' : 'pushState'](null, '', to);
  changed();
  if (!options.replace) window.scrollTo(0, 0);
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

/** The current URL; re-renders the caller when it changes. */
export function useLocation(): Location {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((n) => n + 1);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return { path: location.pathname.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search) };
}

/** Replace some query parameters of the current URL (an empty value removes one). */
export function setQuery(values: Record<string, string | undefined>): void {
  const query = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === '') query.delete(k);
    else query.set(k, v);
  }
  const search = query.toString();
  navigate(location.pathname + (search ? `?${search}` : ''), { replace: true });
}

/** The parameters of `pattern` (`/console/integrations/:id`) in `path`, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(got[i]!);
    else if (w !== got[i]) return null;
  }
  return params;
}

/** A link that navigates inside the console; ctrl/cmd-click still opens a new tab. */
export function Link(props: { href: string; class?: string; children: ComponentChildren; 'aria-current'?: string; title?: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return html`<a ...${props} onClick=${onClick}>${props.children}</a>`;
}
