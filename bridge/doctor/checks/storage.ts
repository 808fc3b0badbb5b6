// The store under the bridge (bridge/doctor/storage.ts): its data directory or its SQLite file
// deleted or replaced while it runs. Everything still works until the next start, which
// opens what is on disk then: an empty store, or an old one. The next step says how not to
// lose what the running bridge holds.

import { iso, type Check } from '../context.ts';
import type { StorageProblem } from '../storage.ts';
import type { Finding } from '../types.ts';

/**
 * `cp` commands that copy the store and its WAL out of the files the bridge holds open (the
 * shared-memory index is rebuilt), each to its old name plus `suffix`.
 */
function copyBack(p: StorageProblem, suffix = ''): string | undefined {
  const files = p.openFiles.filter((f) => !f.name.endsWith('-shm'));
  if (!files.some((f) => !f.name.endsWith('-wal'))) return undefined;
  return files.map((f) => `cp ${f.fd} ${f.name}${suffix}`).join(' && ');
}

function storeFinding(p: StorageProblem, now: number): Finding {
  const copy = copyBack(p);
  const dir = p.role === 'data directory' ? p.path : undefined;
  let message: string;
  let next: string;
  if (p.kind === 'deleted') {
    message = `The ${p.role} ${p.path} was deleted while the bridge runs (noticed ${iso(now)}). The bridge still has its store open and keeps working, but a restart would open an empty store: no devices, tokens or integrations, and every device would fail to log in.`;
    next = copy
      ? `Do not restart yet. Copy the store back from the files the bridge holds open: ${dir ? `mkdir -p -m 700 ${dir} && ` : ''}${copy}; then restart it (a moment when devices are quiet is best). Else restore ${dir ?? p.path} from a backup before restarting.`
      : `Do not restart yet: restore ${dir ?? p.path} from a backup first, or the bridge starts empty.`;
  } else {
    message = `The ${p.role} ${p.path} is no longer the one the bridge opened: it was replaced while the bridge runs (noticed ${iso(now)}). The bridge keeps writing to the one it opened, which a restart will not find; it will start with what is there now.`;
    next = copy
      ? `Restart the bridge to use the files there now; what it recorded since the swap stays in the old store: keep it first if you need it (${copyBack(p, '.old')}).`
      : 'Restart the bridge to use the files there now; what it recorded since the swap is lost with the old store.';
  }
  return {
    check: 'STORE_MISSING',
    severity: 'error',
    message,
    next,
    evidence: { role: p.role, path: p.path, kind: p.kind, openFiles: p.openFiles },
  };
}

export const storeInPlace: Check = async (ctx) => {
  if (!ctx.storage) return [];
  return (await ctx.storage.check()).map((p) => storeFinding(p, ctx.now));
};
