// Several bridges acting as one, as a test needs them: one PostgreSQL database (the shared
// store) and one Redis (the shared broker), both started by the test on free ports with their
// data in temporary folders, and `n` bridges in this process on them. Tests that need these
// servers check `clusterAvailable` and say what they skipped with `CLUSTER_INSTALL`.

import { testBridge, type TestBridge } from './bridge.ts';
import { INSTALL_POSTGRES, postgresBin, startPostgres, type TestPostgres } from './postgres.ts';
import { INSTALL as INSTALL_REDIS, redisAvailable, startRedis, type TestRedis } from './redis.ts';

/** Both servers are installed here. */
export const clusterAvailable = redisAvailable && postgresBin() !== undefined;

/** What installs what is missing. */
export const CLUSTER_INSTALL = [!redisAvailable && INSTALL_REDIS, !postgresBin() && INSTALL_POSTGRES].filter(Boolean).join(' && ');

export interface TestCluster {
  postgres: TestPostgres;
  redis: TestRedis;
  /** The shared store's URL (a database of its own on `postgres`). */
  storeUrl: string;
  bridges: TestBridge[];
  /** One more bridge on the same servers (added to `bridges`). */
  addBridge(overrides?: Record<string, unknown>): Promise<TestBridge>;
  /** Stop every bridge still running, then the servers. */
  stop(): Promise<void>;
}

/** `n` bridges on one new database and one Redis; `overrides` go to every bridge's config. */
export async function startCluster(n: number, overrides: Record<string, unknown> = {}): Promise<TestCluster> {
  const postgres = await startPostgres();
  const redis = await startRedis().catch(async (err) => { await postgres.stop(); throw err; });
  const storeUrl = await postgres.createDatabase();
  const bridges: TestBridge[] = [];
  const cluster: TestCluster = {
    postgres, redis, storeUrl, bridges,
    async addBridge(more = {}) {
      const b = await testBridge({ storePath: storeUrl, redisUrl: redis.url, ...overrides, ...more });
      bridges.push(b);
      return b;
    },
    async stop() {
      for (const b of bridges) await b.stop().catch(() => {});
      await redis.stop();
      await postgres.stop();
    },
  };
  try {
    // One at a time: the first creates the tables (the others would wait on its lock anyway).
    for (let i = 0; i < n; i++) await cluster.addBridge();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
