// A device on Node in one command, against the bridge running on ./data (or HOOKWIRE_DATA_DIR):
//
//   npx tsx examples/node-device/device.ts [--every SECONDS] [--count N]
//
// The first run registers a device named node-device through the API (with the bridge's admin
// token) and keeps its ID and token in <data dir>/node-device.json; later runs reuse them.
// DEVICE_ID and DEVICE_TOKEN use a device you made yourself. It listens to everything that
// comes back to it (<deviceID>/..., where hook-response and hook-error arrive), publishes
// `hello` with a count every 5 seconds, and prints both. Ctrl-C stops it.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiClient, locateBridge } from '../../bridge/client/index.ts';
import { connectDevice, type EventData } from '../../firmware-sdk/index.ts';

interface Credentials {
  id: string;
  token: string;
}

/** DEVICE_ID and DEVICE_TOKEN, else the device this example registered before, else a new one. */
async function credentials(dataDir: string): Promise<Credentials> {
  if (process.env.DEVICE_ID && process.env.DEVICE_TOKEN) return { id: process.env.DEVICE_ID, token: process.env.DEVICE_TOKEN };
  const kept = join(dataDir, 'node-device.json');
  const stored = await readFile(kept, 'utf8').then((t) => JSON.parse(t) as Credentials, () => undefined);
  if (stored) return stored;
  const made = await apiClient().request<{ id: string; token: string }>('POST', '/v1/devices', { name: `node-device-${Date.now().toString(36)}` });
  await writeFile(kept, JSON.stringify({ id: made.id, token: made.token }), { mode: 0o600 });
  console.log(`registered device ${made.id} (credentials kept in ${kept})`);
  return made;
}

const show = (data: EventData) => (typeof data === 'string' ? data : data instanceof Uint8Array ? `<${data.length} bytes>` : JSON.stringify(data));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { every: { type: 'string', default: '5' }, count: { type: 'string' } } });
  const where = locateBridge();
  const { id, token } = await credentials(where.dataDir);

  // The SDK start from the README.
  const device = await connectDevice({ url: where.mqtt, deviceId: id, token, onOffline: (err) => console.log(`offline: ${err.message}`) });
  console.log(`connected to ${where.mqtt} as ${id}`);
  await device.subscribe(`${id}/`, (name, data) => console.log(`received ${name}: ${show(data)}`));
  device.on('refused', (err) => console.log(`refused: ${String(err)}`));

  const count = values.count === undefined ? Infinity : Number(values.count);
  let sent = 0;
  const stop = async () => {
    clearInterval(timer);
    await device.disconnect();
  };
  const publish = async () => {
    sent++;
    await device.publish('hello', `hello ${sent}`, { qos: 1 });
    console.log(`published hello: hello ${sent}`);
    if (sent >= count) setTimeout(() => void stop(), 1000); // a moment for the replies
  };
  const timer = setInterval(() => void publish().catch((err) => console.log(`publish failed: ${err.message}`)), Number(values.every) * 1000);
  process.once('SIGINT', () => void stop());
  await publish();
}

main().catch((err) => {
  console.error(`node-device: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
