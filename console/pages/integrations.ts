import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function Integrations() {
  return html`<${Page} title="Integrations"><p>To do.</p></${Page}>`;
}
