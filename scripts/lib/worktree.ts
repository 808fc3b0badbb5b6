// An earlier commit of this repository, checked out beside it as a baseline a benchmark can
// run in the same run as the working tree (STYLE.md 10): `git worktree add --detach` into a
// temp dir, the repository's node_modules linked in, and `git worktree remove --force` when
// done, on failure and on Ctrl-C (lib/bench.ts onCleanup).

import { execFile } from 'node:child_process';
import { symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup, ROOT, tempDir } from './bench.ts';

const run = promisify(execFile);

export interface Worktree {
  /** Where the commit is checked out. */
  dir: string;
  /** Its full hash and subject line. */
  commit: string;
  subject: string;
  /** Remove it now (also done at the end of the bench); safe to call twice. */
  remove(): Promise<void>;
}

/** The commit's hash and subject, or null when this repository does not have it (a shallow clone). */
export async function findCommit(rev: string): Promise<{ commit: string; subject: string } | null> {
  try {
    const { stdout } = await run('git', ['log', '-1', '--format=%H%x00%s', `${rev}^{commit}`, '--'], { cwd: ROOT });
    const [commit, subject] = stdout.trim().split('\0');
    return commit ? { commit, subject: subject ?? '' } : null;
  } catch {
    return null;
  }
}

/** Check `rev` out in a temp dir, or null when the repository does not have it. */
export async function checkoutWorktree(rev: string): Promise<Worktree | null> {
  const found = await findCommit(rev);
  if (!found) return null;
  const dir = await tempDir('hookwire-baseline-');
  let removed: Promise<void> | undefined;
  const remove = () => {
    removed ??= (async () => {
      // The link first: what removes the tree must never reach into the repository's node_modules.
      await unlink(join(dir, 'node_modules')).catch(() => {});
      await run('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT }).catch((err: Error) => {
        console.error(`git worktree remove --force ${dir}: ${err.message.trim()}`);
      });
    })();
    return removed;
  };
  onCleanup(remove);
  await run('git', ['worktree', 'add', '--detach', dir, found.commit], { cwd: ROOT });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, ...found, remove };
}
