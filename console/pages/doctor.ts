import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function Doctor() {
  return html`<${Page} title="Doctor"><p>To do.</p></${Page}>`;
}
