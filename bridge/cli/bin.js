#!/usr/bin/env node
// `hookwire` runs the TypeScript CLI through tsx, so `npx hookwire ...` needs no build step.
import { register } from 'tsx/esm/api';

// Output piped into `head` (or anything that stops reading): once the reader has gone there is
// nobody to tell, so the command ends quietly with 0, as `yes | head` does, not with a stack
// trace. A closed stderr alone only silences the messages; the command ends with its own code.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.stderr.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.stderr.write = () => true;
});

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
