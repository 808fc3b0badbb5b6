// Several bridges on one PostgreSQL and one Redis, for scripts/bench-cluster.ts: the servers
// started as the tests start theirs (test/helpers/postgres.ts and redis.ts: Debian's binaries,
// free ports on 127.0.0.1, data in temporary folders, never a system service), found in /proc
// so their CPU time and memory can be read, and bridges as child processes
// (`node bridge/cli/bin.js start`, scripts/lib/bench.ts startBridgeProcess) on them.

import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { INSTALL_POSTGRES, postgresBin, startPostgres, type TestPostgres } from '../../test/helpers/postgres.ts';
import { INSTALL as INSTALL_REDIS, redisAvailable, startRedis, type TestRedis } from '../../test/helpers/redis.ts';
import { cpuMs, onCleanup, startBridgeProcess, type BridgeProcess } from './bench.ts';

/** Both servers are installed here. */
export const clusterAvailable = (): boolean => redisAvailable && postgresBin() !== undefined;

/** What installs what is missing. */
export const clusterInstall = (): string => [!redisAvailable && INSTALL_REDIS, !postgresBin() && INSTALL_POSTGRES].filter(Boolean).join(' && ');

// ---------------------------------------------------------------------------------------
// Processes found in /proc

/** PIDs of every process, with their parent, command name and command line. */
function processes(): { pid: number; ppid: number; comm: string; cmdline: string }[] {
  const out: { pid: number; ppid: number; comm: string; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(name), ppid, comm, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** utime, stime, cutime, cstime of /proc/<pid>/stat, ms (the last two: its children that have exited). */
function cpuWithChildrenMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14-17; USER_HZ is 100 (scripts/lib/bench.ts cpuMs)
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
}

/**
 * CPU time of a server that forks a process per connection (PostgreSQL): the postmaster, every
 * live child, and the children that have exited (counted in the postmaster's cutime/cstime
 * once reaped), ms. Monotonic: a child's time moves from live to reaped.
 */
function treeCpuMs(root: number): number {
  let total = cpuWithChildrenMs(root);
  for (const p of processes()) {
    if (p.ppid !== root) continue;
    try {
      total += cpuWithChildrenMs(p.pid);
    } catch {
      // exited between the listing and the read: its time is in the root's cutime now or soon
    }
  }
  return total;
}

export interface Servers {
  postgres: TestPostgres;
  redis: TestRedis;
  /** The postmaster's PID. */
  postgresPid: number;
  redisPid(): number;
  /** CPU time (user + system) so far, ms: PostgreSQL with all its backends; Redis (all its threads). */
  postgresCpuMs(): number;
  redisCpuMs(): number;
  /** INFO memory and DBSIZE of the Redis. */
  redisMemory(): Promise<RedisMemory>;
  /** A new, empty database; its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export interface RedisMemory {
  usedKb: number;
  rssKb: number;
  peakKb: number;
  keys: number;
  clients: number;
}

/** PostgreSQL and Redis on free ports of 127.0.0.1, stopped at the end (onCleanup). */
export async function startServers(): Promise<Servers> {
  const postgres = await startPostgres();
  const redis = await startRedis().catch(async (err: unknown) => {
    await postgres.stop();
    throw err;
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await redis.stop().catch(() => {});
    await postgres.stop().catch(() => {});
  };
  onCleanup(stop);
  const all = processes();
  const postmaster = all.find((p) => p.comm === 'postgres' && p.cmdline.includes(` -p ${postgres.port} `));
  if (!postmaster) throw new Error(`PostgreSQL on port ${postgres.port} not found in /proc`);
  // redis-server sets its title to `redis-server 127.0.0.1:<port>`; found again after a restart.
  const redisPid = () => {
    const p = processes().find((q) => q.comm.startsWith('redis-server') && q.cmdline.includes(`:${redis.port}`));
    if (!p) throw new Error(`redis-server on port ${redis.port} not found in /proc`);
    return p.pid;
  };
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {}); // a restart between setups: it reconnects by itself
  onCleanup(() => void client.disconnect());
  return {
    postgres, redis, postgresPid: postmaster.pid, redisPid,
    postgresCpuMs: () => treeCpuMs(postmaster.pid),
    redisCpuMs: () => cpuMs(redisPid()),
    async redisMemory() {
      if (client.status === 'wait') await client.connect();
      const info = await client.info('memory');
      const clients = await client.info('clients');
      const field = (text: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      return {
        usedKb: field(info, 'used_memory') / 1024, rssKb: field(info, 'used_memory_rss') / 1024, peakKb: field(info, 'used_memory_peak') / 1024,
        keys: await client.dbsize(), clients: field(clients, 'connected_clients'),
      };
    },
    createDatabase: () => postgres.createDatabase(),
    stop,
  };
}

// ---------------------------------------------------------------------------------------
// Bridges

export interface BridgesOptions {
  /** The store: a PostgreSQL URL, or undefined for each bridge's SQLite (in its data dir). */
  storeUrl: string | undefined;
  redisUrl: string | undefined;
  /** Environment for every bridge. */
  env?: Record<string, string>;
  /** Environment for one bridge (by index). */
  envOf?: (index: number) => Record<string, string>;
  /** The first one's number in names (`bridge N`). Default 1. */
  firstNumber?: number;
  /** Extra node flags for every bridge (e.g. cpuProfArgs). */
  nodeArgs?: string[];
}

/** `n` bridges, each in its own process and data dir, started one after the other (the first creates the tables). */
export async function startBridges(n: number, o: BridgesOptions): Promise<BridgeProcess[]> {
  const bridges: BridgeProcess[] = [];
  for (let i = 0; i < n; i++) {
    bridges.push(await startBridgeProcess({
      name: `bridge ${i + (o.firstNumber ?? 1)}`,
      ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
      env: {
        ...(o.storeUrl ? { HOOKWIRE_STORE: o.storeUrl } : {}),
        ...(o.redisUrl ? { HOOKWIRE_REDIS: o.redisUrl } : {}),
        ...o.env,
        ...o.envOf?.(i),
      },
    }));
  }
  return bridges;
}

/** Is a bridge setting known to the bridge of this checkout (its environment variable in bridge/config.ts)? */
export function bridgeKnowsEnv(name: string, root: string): boolean {
  try {
    return readFileSync(`${root}/bridge/config.ts`, 'utf8').includes(`${name}:`);
  } catch {
    return false;
  }
}

/** The soft and hard limits on open files of this process (children inherit them). */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line?.match(/(\d+|unlimited)/g) ?? []).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft ?? 1024, hard: hard ?? 1024 };
}

/** How many local ports connect() picks from (net.ipv4.ip_local_port_range), per destination address and port. */
export function ephemeralPorts(): number {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return hi! - lo! + 1;
  } catch {
    return 28_232;
  }
}
