import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function IntegrationDetail(props: { id: string }) {
  return html`<${Page} title="Integration"><p>${props.id}</p></${Page}>`;
}
