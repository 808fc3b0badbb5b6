// `hookwire <args>` left running, as a user leaves `subscribe` or `device listen` running:
// its output read as it comes, its stdin open for typed lines.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cliBin, root } from '../../helpers/spawn.ts';

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Lines written to stdout so far. */
  lines(): string[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

const started: ChildProcessWithoutNullStreams[] = [];

export function running(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: root, env: { ...process.env, ...env } });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, lines: () => out.split('\n').filter(Boolean), stdout: () => out, stderr: () => err, exited };
}

/** Kill whatever is still running (for `after`). */
export function killAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
