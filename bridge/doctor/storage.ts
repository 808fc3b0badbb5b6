// Whether the data directory and the store file are still the ones the bridge opened. A
// `rm -rf data/` under a running bridge goes unnoticed: SQLite keeps writing to the file it
// has open, which no longer has a name, and the next start opens an empty store (no devices,
// no tokens, no integrations). A directory restored from a backup while the bridge runs is
// the same trap the other way round. Both show as a changed identity (device and inode) of
// the path. On Linux the deleted files can still be copied back from /proc/<pid>/fd.

import { readdir, readlink, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the bridge keeps its data, as it opened it. */
export interface DoctorStorage {
  /** The data directory (HOOKWIRE_DATA_DIR). */
  dataDir: string;
  /** The SQLite file; none for a store in memory or on a database server (no file to lose). */
  storePath: string | undefined;
}

/** A path the bridge opened that is no longer what it opened. */
export interface StorageProblem {
  role: 'data directory' | 'store';
  path: string;
  kind: 'deleted' | 'replaced';
  /** Files the process still has open that were at this path: /proc/<pid>/fd/<n>, by the name they had. */
  openFiles: { name: string; fd: string }[];
}

export interface StorageWatch {
  /** Problems now, the data directory first (when it went, the store went with it). */
  check(): Promise<StorageProblem[]>;
}

interface Watched {
  role: StorageProblem['role'];
  path: string;
  dev: number;
  ino: number;
}

/** The files this process holds open whose name was one of `paths` (Linux: " (deleted)" once unlinked). */
async function openDeleted(paths: string[]): Promise<{ name: string; fd: string }[]> {
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return []; // no /proc (macOS)
  }
  const out: { name: string; fd: string }[] = [];
  for (const fd of fds) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const name = target.endsWith(' (deleted)') ? target.slice(0, -' (deleted)'.length) : undefined;
    if (name && paths.includes(name) && !out.some((o) => o.name === name)) out.push({ name, fd: `/proc/${process.pid}/fd/${fd}` });
  }
  return out;
}

/**
 * Remember the identity of the data directory and the store file now: call it once the
 * store is open (createDoctor is). A path missing now is not watched.
 */
export function watchStorage(storage: DoctorStorage): StorageWatch {
  const watched: Watched[] = [];
  const entries: [StorageProblem['role'], string][] = [['data directory', resolve(storage.dataDir)]];
  if (storage.storePath !== undefined) entries.push(['store', resolve(storage.storePath)]);
  for (const [role, path] of entries) {
    try {
      const s = statSync(path);
      watched.push({ role, path, dev: s.dev, ino: s.ino });
    } catch {
      // not there at start: nothing to compare with
    }
  }
  const store = entries.find(([role]) => role === 'store')?.[1];
  const storeFiles = store ? [store, `${store}-wal`, `${store}-shm`] : [];

  return {
    async check() {
      for (const w of watched) {
        const now = await stat(w.path).catch(() => undefined);
        if (now && now.dev === w.dev && now.ino === w.ino) continue;
        return [{ role: w.role, path: w.path, kind: now ? 'replaced' : 'deleted', openFiles: await openDeleted(storeFiles) }];
      }
      return [];
    },
  };
}
