import { html } from 'htm/preact';
import { Page } from '../ui.ts';

export function Bins() {
  return html`<${Page} title="Request bins"><p>To do.</p></${Page}>`;
}

export function BinDetail(props: { name: string }) {
  return html`<${Page} title=${`Bin ${props.name}`}><p>To do.</p></${Page}>`;
}
