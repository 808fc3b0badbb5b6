// The thermometer's firmware. It publishes each temperature as the event `temperature`; the
// ThingSpeak integration (template.json) posts it to the channel, and ThingSpeak's answer,
// the new entry's ID, comes back to this device alone on <deviceID>/hook-response/temperature/0.
//
// Alone, against a running bridge that has the integration:
//   HOOKWIRE_MQTT_URL=mqtt://127.0.0.1:1883 DEVICE_ID=<id> DEVICE_TOKEN=<token> npx tsx examples/thingspeak/device.ts 21.4 21.9

import { connectDevice } from '../../firmware-sdk/index.ts';
import { deviceFromEnv, isMain, runExample } from '../lib/run.ts';

export interface ThermometerOptions {
  mqttUrl: string;
  deviceId: string;
  token: string;
  /** Temperatures to publish, °C: the stand-in for a sensor. */
  readings?: number[];
  /** Pause between readings, ms. Default 16 s: ThingSpeak's free plan stores one update per 15 s. */
  intervalMs?: number;
  /** How long to wait for each reading's answer, ms. Default 5 s. */
  replyTimeoutMs?: number;
  /** Where the device prints (its serial console). Default console.log. */
  print?: (line: string) => void;
}

/** What became of one reading: ThingSpeak's entry ID (0 = not stored), or why there is none. */
export interface Outcome {
  reading: string;
  entryId?: number;
  error?: string;
}

interface Reply {
  ok: boolean;
  topic: string;
  data: string;
}

export async function runThermometer(options: ThermometerOptions): Promise<Outcome[]> {
  const print = options.print ?? console.log;
  const readings = options.readings ?? [21.4, 21.9, 22.3];
  const intervalMs = options.intervalMs ?? 16_000;
  const replyTimeoutMs = options.replyTimeoutMs ?? 5_000;

  const device = await connectDevice({ url: options.mqttUrl, deviceId: options.deviceId, token: options.token });
  const me = device.deviceID();
  print(`connected as ${me}`);

  // One reading in flight at a time, so the next answer is this reading's.
  let answer: ((reply: Reply) => void) | undefined;
  // The answer comes to this device only, on its private <deviceID>/hook-response/<event>/<part>;
  // the body is one part here: ThingSpeak answers a few digits.
  await device.subscribe(`${me}/hook-response/temperature/`, (topic, data) => answer?.({ ok: true, topic, data: String(data) }));
  // A failure (a status other than 2xx, no connection) arrives on <deviceID>/hook-error/<event>/0.
  await device.subscribe(`${me}/hook-error/temperature/`, (topic, data) => answer?.({ ok: false, topic, data: String(data) }));
  print(`subscribed to ${me}/hook-response/temperature/ and ${me}/hook-error/temperature/`);

  function nextReply(): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), replyTimeoutMs);
      answer = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
    });
  }

  const outcomes: Outcome[] = [];
  try {
    for (const [i, celsius] of readings.entries()) {
      if (i > 0 && intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
      const reading = celsius.toFixed(1);
      const reply = nextReply(); // listen before publishing: the answer can be quick
      print(`publish temperature ${reading}`);
      // QoS 1: the publish settles once the bridge has stored the event.
      await device.publish('temperature', reading, { qos: 1 });
      const r = await reply;
      answer = undefined;
      if (!r) {
        print(`no answer within ${replyTimeoutMs / 1000} s`);
        outcomes.push({ reading, error: 'no answer' });
      } else if (!r.ok) {
        print(`${r.topic}: ${r.data}`);
        outcomes.push({ reading, error: r.data });
      } else {
        // ThingSpeak answers the new entry's ID, or 0 when it stored nothing.
        const entryId = Number(r.data);
        print(`${r.topic}: "${r.data}" → ${entryId > 0 ? `stored as entry ${entryId}` : 'not stored (wrong write key, or updates too frequent)'}`);
        outcomes.push({ reading, entryId });
      }
    }
  } finally {
    await device.disconnect();
  }
  return outcomes;
}

if (isMain(import.meta.url)) {
  runExample(async () => {
    // Readings from the command line (`device.ts 21.4 21.9`), else the default three.
    const readings = process.argv.slice(2).map(Number);
    const outcomes = await runThermometer({ ...deviceFromEnv(), ...(readings.length ? { readings } : {}) });
    if (!outcomes.every((o) => (o.entryId ?? 0) > 0)) throw new Error('not every reading was stored');
  }, null); // no deadline: the readings are 16 s apart, and each answer has its own timeout
}
