import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function Dashboard() {
  return html`<${Page} title="Dashboard"><p>To do.</p></${Page}>`;
}
