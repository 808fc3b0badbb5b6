// Entry of the sending thread (send-thread.ts): a worker thread does not inherit the
// TypeScript loader the bridge runs under, so it registers tsx itself, then runs the sender.
import { register } from 'tsx/esm/api';

register();
await import('./send-worker.ts');
