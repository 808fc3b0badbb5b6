import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function Events() {
  return html`<${Page} title="Events"><p>To do.</p></${Page}>`;
}
