import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function IntegrationForm(props: { id?: string | undefined }) {
  return html`<${Page} title=${props.id ? 'Edit integration' : 'New integration'}><p>To do.</p></${Page}>`;
}
