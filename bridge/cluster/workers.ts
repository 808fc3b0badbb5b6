// hookwire start --workers N: N bridges on one machine, sharing its ports. The primary
// process forks N workers with node:cluster; each worker is a full bridge (startBridge), and
// the servers it listens on (MQTT, MQTTS, HTTP with MQTT over WebSocket) share each port
// through the primary, which hands every new connection to the next worker in turn. The
// workers act as one bridge the way separate bridges do: one broker through Redis, one store
// in PostgreSQL, so both are required and checked before anything is forked.
//
// Data directories: the primary holds the one given (its bridge.json is what the CLI and the
// other tools find, its admin-token the one a person uses); worker i runs on
// <dataDir>/worker-<i> (one bridge per data directory; its name and its delivery claims stay
// the same across its restarts), with a copy of the cluster's admin token, so the cluster
// has one admin token in the shared store, not one per worker.
//
// The primary restarts a worker that dies (with backoff), forwards SIGTERM and SIGINT to the
// workers for a clean stop (each hands its delivery claims back) and SIGHUP (reload the TLS
// certificate) to all.

import cluster, { type Worker } from 'node:cluster';
import { chmod, copyFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { ADMIN_TOKEN_FILE, ensureAdminToken } from '../admin-token.ts';
import { CODES, type FixedCode } from '../codes.ts';
import { makeConfig, type BridgeConfig } from '../config.ts';
import { privateDir, privateFile } from '../data-dir.ts';
import { ConfigError, HookwireError } from '../errors.ts';
import { startBridge, type Bridge } from '../index.ts';
import { claimDataDir, type Instance } from '../instance.ts';
import { createLogger, type Logger } from '../log.ts';
import { isPostgresUrl, openPostgresStore, postgresLabel } from '../store/index.ts';
import { checkExposure } from '../tls/index.ts';
import { redisLabel } from './redis.ts';

type Overrides = Partial<Record<keyof BridgeConfig, unknown>>;

export const workerDefaults = {
  /** How long Redis and PostgreSQL have to answer before the start is refused, ms. */
  checkTimeoutMs: 5_000, // as a bridge waits for its Redis
  /** The first restart of a worker that died waits this long, ms; each further one twice as long. */
  restartMinMs: 500,
  /** The longest wait before a restart, ms. */
  restartMaxMs: 30_000,
  /** A worker that ran this long before dying is restarted after restartMinMs again, ms. */
  stableMs: 60_000,
};

/** The environment variable the primary gives each worker: its number, 1 to N. */
const WORKER_ENV = 'HOOKWIRE_WORKER';

/** Settings for --workers: a count, or `auto` (one per core). */
export const WORKERS_SETTING = '--workers (HOOKWIRE_WORKERS)';

/** The number of workers `--workers` (or HOOKWIRE_WORKERS) asks for: 1 when not given; `auto` is one per core. */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1;
  const text = value.trim().toLowerCase();
  if (text === 'auto') return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new ConfigError(`${WORKERS_SETTING} must be a number of processes (1 or more) or auto, got ${JSON.stringify(value)}`, 'workers');
  return n;
}

/** Whether this process is a worker forked by `hookwire start --workers N`. */
export function isWorker(env: NodeJS.ProcessEnv = process.env): boolean {
  return cluster.isWorker && env[WORKER_ENV] !== undefined;
}

/** Worker i's data directory under the cluster's. */
export function workerDataDir(dataDir: string, i: number): string {
  return join(dataDir, `worker-${i}`);
}

/** The message a worker sends the primary: listening, or could not start. */
type WorkerMessage =
  | { kind: 'ready'; worker: number; pid: number; url: string; mqttUrl: string; mqttsUrl: string | undefined; wsUrl: string; tls: boolean }
  | { kind: 'failed'; worker: number; code: string | undefined; field: string | undefined; message: string };

function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && ((m as { kind?: unknown }).kind === 'ready' || (m as { kind?: unknown }).kind === 'failed');
}

function needs(workers: number, setting: string, field: string, what: string): HookwireError<'WORKERS_NEED_SERVERS'> {
  return new HookwireError('WORKERS_NEED_SERVERS', `--workers ${workers} needs ${what}: ${setting}`, { field });
}

/** Within `ms`, or rejected with `no answer within … s`. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function pingRedis(url: string, ms: number): Promise<void> {
  // No reconnecting: one attempt, answered or not.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: ms, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's error (ECONNREFUSED, ENOTFOUND) says more than the connect's "Connection is closed".
  let cause: Error | undefined;
  redis.on('error', (err: Error) => { cause ??= err; });
  try {
    await within(ms, redis.connect().then(() => redis.ping()));
  } catch (err) {
    throw cause ?? err;
  } finally {
    redis.disconnect();
  }
}

async function pingPostgres(url: string, ms: number): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: Math.ceil(ms / 1000), onnotice: () => {}, connection: { application_name: 'hookwire' } });
  try {
    await within(ms, sql`SELECT 1`);
  } finally {
    await sql.end({ timeout: 0 });
  }
}

/**
 * Workers act as one bridge only on a shared broker and store: HOOKWIRE_REDIS and a
 * PostgreSQL HOOKWIRE_STORE, each answering. Throws WORKERS_NEED_SERVERS naming the setting.
 */
export async function checkShared(workers: number, config: Pick<BridgeConfig, 'redisUrl' | 'storePath'>, timeoutMs = workerDefaults.checkTimeoutMs): Promise<void> {
  if (!isPostgresUrl(config.storePath)) {
    throw needs(workers, 'set HOOKWIRE_STORE=postgres://user:password@host/db (or --store), the store every worker shares', 'storePath', 'a PostgreSQL store');
  }
  if (config.redisUrl === undefined) throw needs(workers, 'set HOOKWIRE_REDIS=redis://host:6379/0, the broker every worker shares', 'redisUrl', 'Redis');
  const redisUrl = config.redisUrl;
  const storeUrl = config.storePath;
  await pingRedis(redisUrl, timeoutMs).catch((err: Error) => {
    throw needs(workers, `Redis at ${redisLabel(redisUrl)} (HOOKWIRE_REDIS) does not answer: ${err.message}`, 'redisUrl', 'Redis');
  });
  await pingPostgres(storeUrl, timeoutMs).catch((err: Error) => {
    throw needs(workers, `PostgreSQL at ${postgresLabel(storeUrl)} (HOOKWIRE_STORE) does not answer: ${err.message}`, 'storePath', 'a PostgreSQL store');
  });
}

// --- The worker -----------------------------------------------------------------------------

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Run this process as worker `HOOKWIRE_WORKER` of a cluster: a full bridge on its own data
 * directory, on the cluster's ports. Resolves with the exit code once it has stopped.
 */
export async function runWorker(overrides: Overrides): Promise<number> {
  const worker = Number(process.env[WORKER_ENV]);
  const config = makeConfig(overrides);
  // Every line says which worker wrote it (`pid` is left to the lines that name another process).
  const logger = createLogger({ level: config.logLevel, pretty: config.prettyLogs }).child({ worker, workerPid: process.pid });
  const named = typeof overrides.bridgeName === 'string' && overrides.bridgeName !== '' ? { bridgeName: `${overrides.bridgeName}:worker-${worker}` } : {};
  let bridge: Bridge;
  try {
    bridge = await startBridge({ ...overrides, ...named, dataDir: workerDataDir(config.dataDir, worker) }, { logger });
  } catch (err) {
    const e = err as Error & { code?: unknown; field?: unknown };
    logger.error({ err }, 'could not start');
    await send({ kind: 'failed', worker, code: typeof e.code === 'string' ? e.code : undefined, field: typeof e.field === 'string' ? e.field : undefined, message: e.message });
    process.disconnect();
    return 1;
  }
  // Which worker holds which device, when looking into a cluster (debug). aedes' own event: the
  // bus's device:online goes on every bridge sharing the broker.
  bridge.broker.aedes.on('clientReady', (client) => {
    if (bridge.broker.identityOf(client)?.kind === 'device') logger.debug({ deviceId: client.id }, 'device connected to this worker');
  });
  await send({
    kind: 'ready', worker, pid: process.pid, url: bridge.url, mqttUrl: bridge.mqttUrl, mqttsUrl: bridge.mqttsUrl,
    wsUrl: `${bridge.url.replace(/^http/, 'ws')}/mqtt`, tls: bridge.tls !== undefined,
  });

  process.on('SIGHUP', () => { void bridge.reloadTls('SIGHUP'); });
  return new Promise<number>((resolve) => {
    let stopping = false;
    // The primary forwards the signal a terminal also sends the worker itself (Ctrl-C): one stop.
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      bridge.logger.info({ signal }, 'shutting down');
      bridge.close().then(() => 0, (err) => {
        bridge.logger.error({ err }, 'shutdown failed');
        return 1;
      }).then((code) => {
        // The channel to the primary is all that keeps the process running now.
        if (process.connected) process.disconnect();
        resolve(code);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

// --- The primary ----------------------------------------------------------------------------

/** Where the cluster listens, as its workers report it. */
export interface ClusterListening {
  url: string;
  mqttUrl: string;
  mqttsUrl: string | undefined;
  wsUrl: string;
  tls: boolean;
  /** The admin token file a person uses, and the token when this start made it. */
  adminTokenPath: string;
  adminToken: string | undefined;
  workers: number;
}

export interface PrimaryOptions {
  workers: number;
  overrides: Overrides;
  /** Told once every worker listens (the banner). */
  onListening(listening: ClusterListening): void;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  startedAt: number;
  /** Restarts in a row without a stable run. */
  failures: number;
  /** Restarts since the cluster started. */
  restarts: number;
  timer: NodeJS.Timeout | undefined;
}

/** A worker's refusal, as the primary reports it: its own code when it has a known one. */
function workerError(index: number, m: Extract<WorkerMessage, { kind: 'failed' }>): Error {
  const message = `worker ${index} could not start: ${m.message}`;
  return m.code !== undefined && Object.hasOwn(CODES, m.code)
    ? new HookwireError(m.code as FixedCode, message, { field: m.field })
    : new HookwireError('CONFIG_INVALID', message, { field: m.field });
}

/**
 * The cluster's one admin token, in the shared store and in `<dataDir>/admin-token`, made
 * once here rather than by each worker (the store's tables are created here too, before the
 * workers start together).
 */
async function clusterAdminToken(config: BridgeConfig): Promise<{ path: string; created: string | undefined }> {
  // As the bridge that ran on this directory: claims one left behind (killed) go back at once.
  const store = await openPostgresStore(config.storePath!, { owner: config.bridgeName, maxConnections: 1 });
  try {
    const admin = await ensureAdminToken(store, config.dataDir);
    return { path: admin.path, created: admin.created };
  } finally {
    await store.close();
  }
}

/** Run N workers until SIGTERM or SIGINT; resolves with the exit code. */
export async function runPrimary({ workers, overrides, onListening }: PrimaryOptions): Promise<number> {
  const config = makeConfig(overrides);
  const logger = createLogger({ level: config.logLevel, pretty: config.prettyLogs }).child({ role: 'primary', primaryPid: process.pid });
  // Everything a worker would refuse for the whole cluster, refused once, before forking.
  checkExposure(config);
  await checkShared(workers, config);
  await privateDir(config.dataDir, logger);
  const instance = await claimDataDir(config.dataDir, logger);
  try {
    const admin = await clusterAdminToken(config);
    await privateFile(admin.path, logger, false);
    return await superviseWorkers({ workers, config, logger, instance, admin, onListening });
  } finally {
    await instance.release();
  }
}

interface Supervise {
  workers: number;
  config: BridgeConfig;
  logger: Logger;
  instance: Instance;
  admin: { path: string; created: string | undefined };
  onListening: PrimaryOptions['onListening'];
}

async function superviseWorkers({ workers, config, logger, instance, admin, onListening }: Supervise): Promise<number> {
  const slots: Slot[] = Array.from({ length: workers }, (_, i) => ({ index: i + 1, worker: undefined, startedAt: 0, failures: 0, restarts: 0, timer: undefined }));
  let stopping = false;
  let listening = false;
  let fail: ((err: Error) => void) | undefined;
  let allReady: (() => void) | undefined;
  let stopped: ((code: number) => void) | undefined;
  /** The first worker to listen says where the cluster listens. */
  let first: Extract<WorkerMessage, { kind: 'ready' }> | undefined;
  let ready = 0;
  const exitCodes: number[] = [];
  const live = () => slots.filter((s) => s.worker !== undefined);

  async function fork(slot: Slot): Promise<void> {
    slot.timer = undefined;
    if (stopping) return;
    const dir = workerDataDir(config.dataDir, slot.index);
    await privateDir(dir, logger);
    // The cluster's admin token: the worker finds it valid in the store and makes none of its own.
    const token = join(dir, ADMIN_TOKEN_FILE);
    await copyFile(admin.path, token);
    await chmod(token, 0o600);
    if (stopping) return;
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    worker.on('message', (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.kind === 'failed') {
        if (!listening) fail?.(workerError(slot.index, m));
        return;
      }
      if (listening) {
        logger.info({ worker: slot.index, workerPid: m.pid, restarts: slot.restarts }, `worker ${slot.index} restarted: listening again`);
        return;
      }
      first ??= m;
      if (++ready === workers) allReady?.();
    });
    worker.on('exit', (code, signal) => {
      slot.worker = undefined;
      if (stopping) {
        exitCodes.push(code ?? 1);
        if (live().length === 0) stopped?.(exitCodes.every((c) => c === 0) ? 0 : 1);
        return;
      }
      if (!listening) {
        fail?.(new HookwireError('CONFIG_INVALID', `worker ${slot.index} exited (${signal ?? `code ${code}`}) before it listened; see its log`));
        return;
      }
      if (Date.now() - slot.startedAt >= workerDefaults.stableMs) slot.failures = 0;
      const delay = Math.min(workerDefaults.restartMaxMs, workerDefaults.restartMinMs * 2 ** slot.failures);
      slot.failures++;
      slot.restarts++;
      logger.warn({ worker: slot.index, workerPid: worker.process.pid, code, signal, restartInMs: delay }, `worker ${slot.index} exited: restarting it in ${delay} ms`);
      slot.timer = setTimeout(() => {
        fork(slot).catch((err) => logger.error({ err, worker: slot.index }, 'could not restart a worker'));
      }, delay);
    });
  }

  function stopAll(signal: NodeJS.Signals): Promise<number> {
    stopping = true;
    for (const s of slots) clearTimeout(s.timer);
    const running = live();
    if (running.length === 0) return Promise.resolve(exitCodes.every((c) => c === 0) ? 0 : 1);
    const done = new Promise<number>((resolve) => { stopped = resolve; });
    for (const s of running) s.worker!.process.kill(signal);
    return done;
  }

  // Until every worker listens, a failure stops them all: the start was refused.
  try {
    await new Promise<void>((resolve, reject) => {
      allReady = resolve;
      fail = reject;
      for (const slot of slots) fork(slot).catch(reject);
    });
  } catch (err) {
    await stopAll('SIGTERM');
    throw err;
  }
  listening = true;
  const at = first!;
  await instance.publish({ http: at.url, ...(at.mqttUrl ? { mqtt: at.mqttUrl } : {}), ...(at.mqttsUrl ? { mqtts: at.mqttsUrl } : {}), ws: at.wsUrl });
  logger.info({ workers, workerPids: slots.map((s) => s.worker?.process.pid), dataDir: config.dataDir }, `${workers} workers listening on ${at.url}`);
  onListening({ url: at.url, mqttUrl: at.mqttUrl, mqttsUrl: at.mqttsUrl, wsUrl: at.wsUrl, tls: at.tls, adminTokenPath: admin.path, adminToken: admin.created, workers });

  // Node ends the process on SIGHUP by default; a daemon reloads instead, every worker.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the TLS certificate in every worker');
    for (const s of live()) s.worker!.process.kill('SIGHUP');
  });
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second Ctrl-C: do not wait.
        logger.warn({ signal }, 'stopping now: killing the workers');
        for (const s of live()) s.worker!.process.kill('SIGKILL');
        return;
      }
      logger.info({ signal }, 'shutting down: stopping the workers');
      void stopAll('SIGTERM').then((code) => {
        logger.info({ code }, 'every worker stopped');
        resolve(code);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
