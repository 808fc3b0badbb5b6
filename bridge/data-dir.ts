// The data directory holds what must stay on this machine: signing secrets and template
// credentials (in hookwire.db), the admin token. The bridge makes it 0700 and every file in
// it 0600, and tightens a directory or file it finds looser (saying so in the log): another
// user on the host must not read a token or a key.

import { chmod, mkdir, open, stat } from 'node:fs/promises';
import type { Logger } from './log.ts';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Make `dir` (0700), or tighten it when group or others may use it. */
export async function privateDir(dir: string, logger: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const mode = (await stat(dir)).mode & 0o777;
  if (mode & 0o077) {
    await chmod(dir, DIR_MODE);
    logger.info({ dir, was: mode.toString(8), now: DIR_MODE.toString(8) }, 'data directory permissions tightened');
  }
}

/**
 * Make `path` an empty 0600 file if it is missing, or tighten it. SQLite creates its -wal
 * and -shm files with the database file's permissions, so 0600 on the database covers them.
 */
export async function privateFile(path: string, logger: Logger, create = true): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) return;
    await (await open(path, 'a', FILE_MODE)).close();
    return;
  }
  if (mode & 0o077) {
    await chmod(path, FILE_MODE);
    logger.info({ file: path, was: mode.toString(8), now: FILE_MODE.toString(8) }, 'file permissions tightened');
  }
}
