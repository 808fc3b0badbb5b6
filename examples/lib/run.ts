// What every example's run.ts shares: a transcript printed in aligned columns, and a main
// that exits 0 when it completes, 1 with the reason when it fails or hangs.

import { pathToFileURL } from 'node:url';
import { locateBridge } from '../../bridge/client/index.ts';

/** One transcript line: who speaks (bridge, stand-in, a device), then what happened. */
export function say(who: string, text: string): void {
  const pad = ' '.repeat(18);
  console.log(`${who.padEnd(17)} ${text.replaceAll('\n', `\n${pad}`)}`);
}

/** A device's print(), as a transcript line under the device's name. */
export const printAs = (name: string) => (line: string) => say(`[${name}]`, line);

/** `text` shortened for one transcript line. */
export function clip(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Run `main`; exit code 0 when it resolves, 1 when it throws. A run that still has not ended
 * after `deadlineMs` (null: no limit) is a failure too, so a test or CI job never waits forever.
 */
export function runExample(main: () => Promise<void>, deadlineMs: number | null = 30_000): void {
  if (deadlineMs !== null) {
    const watchdog = setTimeout(() => {
      console.error(`FAILED: the example was still running after ${deadlineMs / 1000} s`);
      process.exit(1);
    }, deadlineMs);
    watchdog.unref(); // only a hang keeps the process alive long enough to trip it
  }
  main().then(
    () => { process.exitCode = 0; },
    (err: unknown) => {
      console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}

/** True when the module at `moduleUrl` is the script node was asked to run. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;
}

/**
 * A device's credentials from DEVICE_ID and DEVICE_TOKEN, for running device.ts alone; the
 * broker from HOOKWIRE_MQTT_URL, else the bridge running on ./data (HOOKWIRE_DATA_DIR), else
 * mqtt://127.0.0.1:1883.
 */
export function deviceFromEnv(env: NodeJS.ProcessEnv = process.env): { mqttUrl: string; deviceId: string; token: string } {
  const missing = ['DEVICE_ID', 'DEVICE_TOKEN'].filter((name) => !env[name]);
  if (missing.length) {
    throw new Error(`set ${missing.join(' and ')} (and HOOKWIRE_MQTT_URL unless the bridge is the one running on ./data); ` +
      'a device and its token come from `npx hookwire devices add`');
  }
  return { mqttUrl: locateBridge(env).mqtt, deviceId: env.DEVICE_ID!, token: env.DEVICE_TOKEN! };
}
