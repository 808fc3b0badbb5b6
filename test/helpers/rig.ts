// What most webhook tests start from: a bridge, an HTTP receiver for its integrations, and one
// device connected with the SDK.

import type { Test } from 'uvu';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import { testBridge, type TestBridge } from './bridge.ts';
import { receiver, type Receiver } from './receiver.ts';

export interface Rig {
  b: TestBridge;
  rx: Receiver;
  device: Device;
  stop(): Promise<void>;
}

export async function webhookRig(): Promise<Rig> {
  const b = await testBridge();
  const rx = await receiver();
  const d = await b.addDevice();
  const device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  return {
    b, rx, device,
    async stop() {
      await device.disconnect();
      await b.stop();
      await rx.close();
    },
  };
}

/** Start a rig before the suite's tests and stop it after; `got` hands its parts to the suite. */
export function useWebhookRig(suite: Test, got: (rig: Rig) => void): void {
  let rig: Rig | undefined;
  suite.before(async () => {
    rig = await webhookRig();
    got(rig);
  });
  suite.after(async () => {
    await rig?.stop();
  });
}
