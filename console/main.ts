// The console's entry: find out who is signed in, then show the shell or the sign-in page.

import './style.css';
import { html } from 'htm/preact';
import { render } from 'preact';
import { App } from './app.ts';

render(html`<${App} />`, document.getElementById('app')!);
