// Child processes for tests: the CLI and the bridge as users run them.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const cliBin = fileURLToPath(new URL('../../bridge/cli/bin.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (in the repository, unless `cwd` says where). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000, cwd = root): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `hookwire <args>` as a user runs it. */
export const hookwire = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [cliBin, ...args], env);

export interface BridgeProcess {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  url: string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** `hookwire start` in a child process, resolved once it logs its ports. */
export function startBridgeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<BridgeProcess> {
  const child = spawn(process.execPath, [cliBin, 'start', ...args], { cwd: root, env: { ...process.env, ...env } });
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bridge did not start:\n${err}`)), 20_000);
    child.stderr!.on('data', (d) => { err += d; });
    child.stdout!.on('data', (d) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.mqttPort === 'number' && typeof entry.httpPort === 'number') {
          clearTimeout(timer);
          resolve({ child, mqttPort: entry.mqttPort, httpPort: entry.httpPort as number, url: `http://127.0.0.1:${entry.httpPort}`, logs, stderr: () => err, exited });
        }
      }
    });
    exited.then((code) => reject(new Error(`bridge exited with ${code}:\n${err}`)));
  });
}
