// The store's WAL checkpoints, on a thread of their own (bridge/store/checkpointer.ts). Plain
// JavaScript: a worker thread does not inherit the TypeScript loader the bridge runs under.
//
// workerData: { path: string, everyMs: number }. Every `everyMs`, copies what the WAL holds
// into the database file (PRAGMA wal_checkpoint(PASSIVE): it never waits for, nor blocks, the
// bridge's own connection). Posts { checkpoints } when told 'close', then exits.

import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.path);
let checkpoints = 0;

function checkpoint() {
  // [busy, wal frames, frames checkpointed]: busy when the bridge was mid-transaction; the
  // next tick takes what this one could not.
  db.pragma('wal_checkpoint(PASSIVE)');
  checkpoints++;
}

const timer = setInterval(checkpoint, workerData.everyMs);

parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage({ checkpoints });
  parentPort.close();
});
