// A fleet of SDK devices connecting to a bridge: `connectMany` (used by scripts/bench-connect.ts
// in its own process) and, run as a script, the same in a child process of its own, driven over
// IPC (scripts/bench-cluster.ts: tens of thousands of devices over several bridges, more sockets
// than one process may open).
//
//   started by a bench: npx tsx scripts/lib/fleet.ts
//
// Over IPC (scripts/lib/ipc.ts): `connect` with FleetOptions → FleetResult (connects every
// device, `concurrency` at a time; timed from the call, so the child's start is not; the
// credentials come this way because thousands do not fit in one argument), `status` → connected
// and dropped so far, `close` (disconnects every device). The child exits when the bench goes away.

import { pathToFileURL } from 'node:url';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import { percentile, pool, selfCpuMs, type DeviceCredentials } from './bench.ts';
import { serve } from './ipc.ts';

/** A device not connected by then counts as failed (the SDK itself retries forever). */
export const CONNECT_TIMEOUT_MS = 30_000;

export interface ConnectManyOptions {
  url: string;
  /** The CA's PEM the devices trust (mqtts://). */
  ca?: string | undefined;
  /** Connections in progress at once. */
  concurrency: number;
}

export interface ConnectMany {
  /** Connect time of each device that connected, ms. */
  latencies: number[];
  failed: number;
  firstError: unknown;
  /** Connections lost after connecting so far (the SDK reconnects them). */
  drops(): number;
}

/**
 * Connect a device for each of `creds`, `concurrency` at a time, each pushed onto `devices` once
 * connected; a device not connected within CONNECT_TIMEOUT_MS counts as failed.
 */
export async function connectMany(creds: DeviceCredentials[], options: ConnectManyOptions, devices: Device[]): Promise<ConnectMany> {
  const latencies: number[] = [];
  let failed = 0;
  let drops = 0;
  let firstError: unknown;
  await pool(creds.length, options.concurrency, async (i) => {
    const c = creds[i]!;
    const t = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const device = connectDevice({ url: options.url, deviceId: c.id, token: c.token, ...(options.ca ? { ca: options.ca } : {}) });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not connected in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      });
      const connected = await Promise.race([device, timeout]);
      connected.on('disconnect', () => drops++);
      devices.push(connected);
      latencies.push(performance.now() - t);
    } catch (err) {
      failed++;
      firstError ??= err;
    } finally {
      clearTimeout(timer);
    }
  });
  return { latencies, failed, firstError, drops: () => drops };
}

// ---------------------------------------------------------------------------------------
// In a child process

export interface FleetOptions extends ConnectManyOptions {
  devices: DeviceCredentials[];
}

export interface FleetResult {
  connected: number;
  failed: number;
  firstError: string | null;
  /** From the `connect` call until the last device connected (or failed), ms. */
  ms: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** This process's CPU time over the connecting, ms. */
  cpuMs: number;
  /** This process's memory once all are connected. */
  rssKb: number;
  heapUsedKb: number;
}

async function childMain(): Promise<void> {
  const devices: Device[] = [];
  let fleet: ConnectMany | undefined;
  serve({
    connect: async (arg): Promise<FleetResult> => {
      const options = arg as FleetOptions;
      const cpu0 = selfCpuMs();
      const start = performance.now();
      fleet = await connectMany(options.devices, options, devices);
      const ms = performance.now() - start;
      const memory = process.memoryUsage();
      const l = fleet.latencies;
      return {
        connected: devices.length, failed: fleet.failed, firstError: fleet.firstError ? String(fleet.firstError) : null, ms,
        latencyMs: { p50: percentile(l, 50), p99: percentile(l, 99), max: percentile(l, 100) },
        cpuMs: selfCpuMs() - cpu0, rssKb: memory.rss / 1024, heapUsedKb: memory.heapUsed / 1024,
      };
    },
    status: () => ({ connected: devices.length, drops: fleet?.drops() ?? 0 }),
    close: async () => {
      const all = devices.splice(0);
      await pool(all.length, 200, (i) => all[i]!.disconnect() ?? Promise.resolve());
    },
  });
  console.log(JSON.stringify({ ready: true }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  childMain().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
