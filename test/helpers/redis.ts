// A Redis of the tests' own: redis-server started on a free port with a temporary directory
// and nothing saved, stopped after; never a system service. The binary is found on PATH, or
// at HOOKWIRE_REDIS_SERVER. CI installs Debian's redis-server and sets HOOKWIRE_REQUIRE_REDIS=1,
// so there a missing binary fails the suite; elsewhere the tests say they were skipped.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

export const INSTALL = 'sudo apt-get install -y redis-server';
const binary = process.env.HOOKWIRE_REDIS_SERVER || 'redis-server';

/** Whether redis-server can be run here. */
export const redisAvailable = spawnSync(binary, ['--version']).error === undefined;
if (!redisAvailable) {
  if (process.env.HOOKWIRE_REQUIRE_REDIS === '1') throw new Error(`redis-server not found (PATH or HOOKWIRE_REDIS_SERVER): ${INSTALL}`);
  console.log(`redis-server not found: the tests of bridges sharing a Redis are skipped (${INSTALL})`);
}

export interface TestRedis {
  url: string;
  port: number;
  /** Stop it (kill -9: a crash, nothing said to clients) and start it again on the same port, empty. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves once something accepts connections on `port`. */
async function accepting(port: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'hookwire-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async () => {
    log = '';
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => { log += d; });
    child.stderr!.on('data', (d) => { log += d; });
    try {
      await accepting(port);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };

  // A test run that dies (an uncaught exception) takes its redis-server with it.
  const orphan = () => { child?.kill('SIGKILL'); };
  process.once('exit', orphan);
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart(downMs = 200) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async stop() {
      process.off('exit', orphan);
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
