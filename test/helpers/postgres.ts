// A real PostgreSQL for tests: Debian's server binaries (/usr/lib/postgresql/<version>/bin, or
// HOOKWIRE_POSTGRES_BIN), a cluster in a temporary folder, a free port on 127.0.0.1, stopped
// and removed in `stop` (and when the process exits). Never a system service. PostgreSQL
// refuses to run as root, so as root the server runs as the `postgres` user, owning the folder.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

/** The command that installs the server binaries, for skip messages. */
export const INSTALL_POSTGRES = 'sudo apt-get install -y postgresql';

/** The folder with initdb and postgres, or undefined when none is installed. */
export function postgresBin(): string | undefined {
  const given = process.env.HOOKWIRE_POSTGRES_BIN;
  if (given) return existsSync(join(given, 'postgres')) ? given : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((bin) => existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb')));
}

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** A new, empty database (from template0); its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The uid and gid of `postgres` from /etc/passwd, when running as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and there is no postgres user to run PostgreSQL as (PostgreSQL refuses root)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Start a throwaway server; ready within a few seconds. */
export async function startPostgres(bin = postgresBin()): Promise<TestPostgres> {
  if (!bin) throw new Error(`PostgreSQL server binaries not found: ${INSTALL_POSTGRES} (or set HOOKWIRE_POSTGRES_BIN)`);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'hookwire-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
    { encoding: 'utf8', ...user });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.error}`);
  }
  const port = await freePort();
  // Durability settings off: a test cluster is thrown away, and commits then cost no fsync.
  const server: ChildProcess = spawn(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ], { stdio: ['ignore', 'ignore', 'pipe'], ...user });
  let stderr = '';
  server.stderr!.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const kill = () => { if (server.exitCode === null) server.kill('SIGINT'); };
  process.once('exit', () => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await admin`SELECT 1`;
      break;
    } catch (err) {
      if (server.exitCode !== null || Date.now() > deadline) {
        kill();
        await admin.end({ timeout: 0 });
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  let n = 0;
  return {
    url,
    port,
    async createDatabase() {
      const name = `test_${++n}`;
      await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE template0`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await admin.end({ timeout: 1 });
      kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
