// hookwire start: run the bridge in the foreground until SIGINT or SIGTERM.

import { parseArgs } from 'node:util';
import { flags, fromEnv } from '../../config.ts';
import { startBridge } from '../../index.ts';
import type { Command } from '../command.ts';

const start: Command = {
  name: 'start',
  summary: 'run the bridge (embedded broker, API, store under ./data)',
  usage: 'start [--mqtt-port N] [--http-port N] [--host H] [--data-dir D] [--log-level L]',
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(Object.keys(flags).map((f) => [f.slice(2), { type: 'string' as const }])),
      strict: true,
    });
    const overrides: Record<string, unknown> = { ...fromEnv(ctx.env), prettyLogs: process.stdout.isTTY === true };
    for (const [flag, field] of Object.entries(flags)) {
      const value = values[flag.slice(2)];
      if (value !== undefined) overrides[field] = value;
    }
    const bridge = await startBridge(overrides);
    const tokenNote = bridge.adminToken ? 'created a new admin token in' : 'admin token in';
    ctx.err(`hookwire: MQTT ${bridge.mqttUrl} · HTTP ${bridge.url} · ${tokenNote} ${bridge.adminTokenPath}`);

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
};

export default start;
