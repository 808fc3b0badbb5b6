// hookwire start: run the bridge in the foreground until SIGINT or SIGTERM. SIGHUP reads the
// TLS certificate files again (what a Let's Encrypt deploy hook sends), without a restart.

import { flags, fromEnv, switches } from '../../config.ts';
import { startBridge, type Bridge } from '../../index.ts';
import { defineCommand, type Options } from '../command.ts';

/** The config's flags (--mqtt-port 0) and switches (--insecure) as options. */
const options: Options = {
  ...Object.fromEntries(Object.keys(flags).map((f) => [f.slice(2), { type: 'string' as const }])),
  ...Object.fromEntries(Object.keys(switches).map((f) => [f.slice(2), { type: 'boolean' as const }])),
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

/** The lines a person reads: where it listens, where the admin token is, where the console is. */
function banner(bridge: Bridge): string {
  const tokenNote = bridge.adminToken ? 'created a new admin token in' : 'admin token in';
  const listeners = [bridge.mqttUrl && `MQTT ${bridge.mqttUrl}`, bridge.mqttsUrl && `MQTTS ${bridge.mqttsUrl}`, `${bridge.tls ? 'HTTPS' : 'HTTP'} ${bridge.url}`];
  return `hookwire: ${listeners.filter(Boolean).join(' · ')} · ${tokenNote} ${bridge.adminTokenPath}\n` +
    `hookwire: console ${bridge.url}/console (sign in with that token)`;
}

export default defineCommand({
  name: 'start',
  summary: 'run the bridge (embedded broker, API, store under ./data)',
  usage: 'start [--mqtt-port N|off] [--http-port N] [--host H] [--data-dir D] [--log-level L] [--tls-cert F --tls-key F [--tls-ca F] [--mqtts-port N]] [--insecure]',
  options,
  async run({ values }, ctx) {
    const overrides = { ...fromEnv(ctx.env), prettyLogs: process.stdout.isTTY === true, ...overridesFrom(values) };
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
