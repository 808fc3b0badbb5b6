// WAL checkpoints off the main thread. SQLite in WAL mode appends each commit to the WAL and,
// by default, copies the WAL into the database file every 1,000 pages from inside whichever
// commit crosses that line: a copy and an fsync of several MB on the bridge's thread, every
// fraction of a second under load, which every event behind it waits for (the slow tail of
// publish → webhook latency). Here the bridge's connection never checkpoints
// (wal_autocheckpoint = 0); a worker thread with a connection of its own does, every
// CHECKPOINT_EVERY_MS, on the second core. Durability is unchanged: commits are in the WAL
// either way, and the WAL is synced at least as often as before.
//
// Should the worker fail, the bridge's connection checkpoints by itself again.

import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints, ms. */
export const CHECKPOINT_EVERY_MS = 200;
/** SQLite's default: checkpoint from a commit once the WAL holds this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface Checkpointer {
  /** Checkpoints made so far (known once stopped). */
  stop(): Promise<{ checkpoints: number }>;
}

export function startCheckpointer(db: Database.Database, path: string, everyMs = CHECKPOINT_EVERY_MS): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path, everyMs } });
  worker.unref(); // it never keeps the process alive
  let failed = false;
  worker.on('error', () => {
    failed = true;
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  });
  let stopping: Promise<{ checkpoints: number }> | undefined;
  return {
    stop() {
      stopping ??= failed ? Promise.resolve({ checkpoints: 0 }) : new Promise((resolve) => {
        const done = (result: { checkpoints: number }) => resolve(result);
        worker.once('message', done);
        worker.once('exit', () => resolve({ checkpoints: 0 }));
        // Waited for now: without a reference the process could exit before the answer comes.
        worker.ref();
        worker.postMessage('close');
      });
      return stopping;
    },
  };
}
