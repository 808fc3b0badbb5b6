#!/usr/bin/env node
// `hookwire` runs the TypeScript CLI through tsx, so `npx hookwire ...` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
