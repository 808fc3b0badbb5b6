// The thermostat's firmware, the same on every device of the product. On boot it publishes
// the event `settings`; the product's integration (template.json) asks the fleet backend for
// this device's settings, and the answer comes back to this device alone, on
// <deviceID>/hook-response/settings/0. Every thermostat fires the same hook at the same time
// and each still hears only its own answer: the bridge publishes it in the device's private
// space, which no other device can subscribe to.
//
// Alone, against a running bridge with the product integration (and a device in that product):
//   HOOKWIRE_MQTT_URL=mqtt://127.0.0.1:1883 DEVICE_ID=<id> DEVICE_TOKEN=<token> npx tsx examples/product-hook/device.ts

import { connectDevice } from '../../firmware-sdk/index.ts';
import { deviceFromEnv, isMain, runExample } from '../lib/run.ts';

export interface ThermostatOptions {
  mqttUrl: string;
  deviceId: string;
  token: string;
  /** How long to wait for the settings, ms. Default 5 s. */
  replyTimeoutMs?: number;
  /** Where the device prints (its serial console). Default console.log. */
  print?: (line: string) => void;
}

/** The settings as the fleet backend sends them. */
export interface Settings {
  device: string;
  label: string;
  report_every_s: number;
  target_c: number;
}

export interface Thermostat {
  deviceId: string;
  /** The settings it booted with. */
  settings: Settings;
  /**
   * Every webhook response or error this device has received, whatever its topic: the device
   * also listens to every event name it may, to show that nothing else reaches it.
   */
  heard: string[];
  /** Disconnect. */
  stop(): Promise<void>;
}

interface Reply {
  ok: boolean;
  topic: string;
  data: string;
}

const isResponse = (topic: string) => /(^|\/)hook-(response|error)\//.test(topic);

/** Connect, ask for this device's settings, apply them; resolves once it has them, still connected. */
export async function bootThermostat(options: ThermostatOptions): Promise<Thermostat> {
  const print = options.print ?? console.log;
  const replyTimeoutMs = options.replyTimeoutMs ?? 5_000;

  const device = await connectDevice({ url: options.mqttUrl, deviceId: options.deviceId, token: options.token });
  const me = device.deviceID();
  print(`connected as ${me}`);

  // Not needed to get the settings: a subscription to every event name (prefix ""), to record
  // any webhook response this device is sent. Only its own can come; the broker keeps every
  // <otherDeviceID>/... event from it, whatever it subscribes to.
  const heard = new Set<string>();
  await device.subscribe('', (topic) => {
    if (isResponse(topic)) heard.add(topic);
  });

  let answer: ((reply: Reply) => void) | undefined;
  // What the firmware needs: its own response prefix, and its own error prefix.
  await device.subscribe(`${me}/hook-response/settings/`, (topic, data) => answer?.({ ok: true, topic, data: String(data) }));
  await device.subscribe(`${me}/hook-error/settings/`, (topic, data) => answer?.({ ok: false, topic, data: String(data) }));
  print(`subscribed to ${me}/hook-response/settings/ and ${me}/hook-error/settings/ (and to every event name)`);

  const reply = new Promise<Reply | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), replyTimeoutMs);
    answer = (r) => {
      clearTimeout(timer);
      answer = undefined;
      resolve(r);
    };
  });

  try {
    print('publish settings');
    await device.publish('settings', '', { qos: 1 }); // settles once the bridge has stored it
    const r = await reply;
    if (!r) throw new Error(`no settings within ${replyTimeoutMs / 1000} s`);
    if (!r.ok) throw new Error(`${r.topic}: ${r.data}`);
    // The backend's answer is short JSON: one part, /0. Check it is really for this device.
    const settings = JSON.parse(r.data) as Settings;
    if (settings.device !== me) throw new Error(`got settings for ${settings.device}, not for ${me}`);
    print(`${r.topic}: ${r.data}`);
    print(`applied: "${settings.label}", report every ${settings.report_every_s} s, hold ${settings.target_c} °C`);
    return {
      deviceId: me,
      settings,
      get heard() {
        return [...heard];
      },
      stop: async () => {
        await device.disconnect();
      },
    };
  } catch (err) {
    await device.disconnect();
    throw err;
  }
}

if (isMain(import.meta.url)) {
  runExample(async () => {
    const thermostat = await bootThermostat(deviceFromEnv());
    await thermostat.stop();
  }, null); // the answer has its own timeout
}
