// Integration templates as users paste them (a Particle webhook template, JSON), and the one
// change the examples make to them: the real service's origin becomes the local stand-in's.

import { readFile } from 'node:fs/promises';

/** A Particle webhook template: `event` and `url` at least (PARTICLE.md §1 for the rest). */
export interface Template {
  event: string;
  url: string;
  requestType?: string;
  [field: string]: unknown;
}

/** Read a template.json, checking the two fields every template has. */
export async function readTemplate(file: URL): Promise<Template> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  const t = parsed as Partial<Template>;
  if (typeof t !== 'object' || t === null || typeof t.event !== 'string' || typeof t.url !== 'string') {
    throw new Error(`${file.pathname}: a template needs "event" and "url" strings`);
  }
  return t as Template;
}

/**
 * `url` with its scheme, host and port replaced by `origin`; path, query and any template
 * tags stay as they are. Done on the text, not with `new URL()`, which would percent-encode
 * the `{{{...}}}` tags of a templated path.
 */
export function replaceOrigin(url: string, origin: string): string {
  const match = /^https?:\/\/[^/?#]+/i.exec(url);
  if (!match) throw new Error(`not an http(s) URL: ${url}`);
  return origin.replace(/\/+$/, '') + url.slice(match[0].length);
}
