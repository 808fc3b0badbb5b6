// hookwire start: run the bridge in the foreground until SIGINT or SIGTERM. SIGHUP reads the
// TLS certificate files again (what a Let's Encrypt deploy hook sends), without a restart.
// With --workers N (N > 1), N bridge processes share the ports, on Redis and PostgreSQL
// (bridge/cluster/workers.ts); without it, or with 1, the one process as ever.

import { isWorker, parseWorkers, runPrimary, runWorker, type ClusterListening } from '../../cluster/workers.ts';
import { flags, fromEnv, switches } from '../../config.ts';
import { startBridge, type Bridge } from '../../index.ts';
import { defineCommand, type Options } from '../command.ts';

/** The config's flags (--mqtt-port 0) and switches (--insecure) as options, and --workers. */
const options: Options = {
  ...Object.fromEntries(Object.keys(flags).map((f) => [f.slice(2), { type: 'string' as const }])),
  ...Object.fromEntries(Object.keys(switches).map((f) => [f.slice(2), { type: 'boolean' as const }])),
  /** Bridge processes sharing the ports: a number or `auto` (one per core). Default 1 (HOOKWIRE_WORKERS). */
  workers: { type: 'string' as const },
};

/** Flags and switches given as config overrides. */
function overridesFrom(values: Record<string, unknown>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries({ ...flags, ...switches })) {
    const value = values[flag.slice(2)];
    if (value !== undefined) overrides[field] = value;
  }
  return overrides;
}

/** What the banner tells: a bridge, or a cluster of workers. */
type Listening = Pick<Bridge, 'mqttUrl' | 'mqttsUrl' | 'url' | 'adminTokenPath' | 'adminToken'> & { tls: unknown; workers?: number };

/** The lines a person reads: where it listens, where the admin token is, where the console is. */
function banner(bridge: Listening): string {
  const tokenNote = bridge.adminToken ? 'created a new admin token in' : 'admin token in';
  const listeners = [bridge.mqttUrl && `MQTT ${bridge.mqttUrl}`, bridge.mqttsUrl && `MQTTS ${bridge.mqttsUrl}`, `${bridge.tls ? 'HTTPS' : 'HTTP'} ${bridge.url}`];
  const workers = bridge.workers ? ` · ${bridge.workers} workers` : '';
  return `hookwire: ${listeners.filter(Boolean).join(' · ')} · ${tokenNote} ${bridge.adminTokenPath}${workers}\n` +
    `hookwire: console ${bridge.url}/console (sign in with that token)`;
}

export default defineCommand({
  name: 'start',
  summary: 'run the bridge (embedded broker, API, store under ./data)',
  usage: 'start [--mqtt-port N|off] [--http-port N] [--host H] [--data-dir D] [--log-level L] [--tls-cert F --tls-key F [--tls-ca F] [--mqtts-port N]] [--insecure] [--workers N|auto (processes sharing the ports; over 1 needs HOOKWIRE_REDIS and a postgres:// HOOKWIRE_STORE)]',
  options,
  async run({ values }, ctx) {
    const overrides = { ...fromEnv(ctx.env), prettyLogs: process.stdout.isTTY === true, ...overridesFrom(values) };
    if (isWorker(ctx.env)) return runWorker(overrides);
    const workers = parseWorkers(typeof values.workers === 'string' ? values.workers : ctx.env.HOOKWIRE_WORKERS);
    if (workers > 1) {
      return runPrimary({ workers, overrides, onListening: (cluster: ClusterListening) => ctx.err(banner(cluster)) });
    }
    const bridge = await startBridge(overrides);
    ctx.err(banner(bridge));

    // Node ends the process on SIGHUP by default; a daemon reloads instead.
    const reload = () => {
      void bridge.reloadTls('SIGHUP');
    };
    process.on('SIGHUP', reload);

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) process.exit(1); // a second Ctrl-C: do not wait
        stopping = true;
        bridge.logger.info({ signal }, 'shutting down');
        bridge.close().then(() => resolve(0), (err) => {
          bridge.logger.error({ err }, 'shutdown failed');
          resolve(1);
        });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
  },
});
