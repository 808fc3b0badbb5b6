// The weather display's firmware. It publishes the event `weather` with a city name; the
// integration (template.json) asks OpenWeatherMap, and its responseTemplate cuts the answer
// down to `<temperature>~<description>`, which comes back to this device alone on
// <deviceID>/hook-response/weather/0. An unknown city is a 404: that comes back on
// <deviceID>/hook-error/weather/0 instead.
//
// Alone, against a running bridge that has the integration:
//   HOOKWIRE_MQTT_URL=mqtt://127.0.0.1:1883 DEVICE_ID=<id> DEVICE_TOKEN=<token> npx tsx examples/weather/device.ts London Tokyo

import { connectDevice } from '../../firmware-sdk/index.ts';
import { deviceFromEnv, isMain, runExample } from '../lib/run.ts';

export interface WeatherDisplayOptions {
  mqttUrl: string;
  deviceId: string;
  token: string;
  /** Cities to look up, in turn. Default London. */
  cities?: string[];
  /** How long to wait for each answer, ms. Default 5 s. */
  replyTimeoutMs?: number;
  /** Where the device prints (its serial console). Default console.log. */
  print?: (line: string) => void;
}

/** What the device made of one lookup. */
export interface Forecast {
  city: string;
  /** °C, from the response. */
  temp?: number;
  description?: string;
  /** The hook-error text, or "no answer". */
  error?: string;
}

interface Reply {
  ok: boolean;
  topic: string;
  data: string;
}

export async function runWeatherDisplay(options: WeatherDisplayOptions): Promise<Forecast[]> {
  const print = options.print ?? console.log;
  const cities = options.cities ?? ['London'];
  const replyTimeoutMs = options.replyTimeoutMs ?? 5_000;

  const device = await connectDevice({ url: options.mqttUrl, deviceId: options.deviceId, token: options.token });
  const me = device.deviceID();
  print(`connected as ${me}`);

  // One lookup in flight at a time, so the next answer is this lookup's.
  let answer: ((reply: Reply) => void) | undefined;
  // Particle firmware does the same: subscribe(System.deviceID() + "/hook-response/weather/", handler).
  await device.subscribe(`${me}/hook-response/weather/`, (topic, data) => answer?.({ ok: true, topic, data: String(data) }));
  await device.subscribe(`${me}/hook-error/weather/`, (topic, data) => answer?.({ ok: false, topic, data: String(data) }));
  print(`subscribed to ${me}/hook-response/weather/ and ${me}/hook-error/weather/`);

  function nextReply(): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), replyTimeoutMs);
      answer = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
    });
  }

  const forecasts: Forecast[] = [];
  try {
    for (const city of cities) {
      const reply = nextReply(); // listen before publishing: the answer can be quick
      print(`publish weather "${city}"`);
      await device.publish('weather', city, { qos: 1 }); // settles once the bridge has stored it
      const r = await reply;
      answer = undefined;
      if (!r) {
        print(`no answer within ${replyTimeoutMs / 1000} s`);
        forecasts.push({ city, error: 'no answer' });
      } else if (!r.ok) {
        print(`${r.topic}: "${r.data}" → no weather for ${city}`);
        forecasts.push({ city, error: r.data });
      } else {
        // The responseTemplate made it "<temp>~<description>": two fields, one cheap split.
        const [temp = '', description = ''] = r.data.split('~');
        print(`${r.topic}: "${r.data}" → ${city}: ${temp} °C, ${description}`);
        forecasts.push({ city, temp: Number(temp), description });
      }
    }
  } finally {
    await device.disconnect();
  }
  return forecasts;
}

if (isMain(import.meta.url)) {
  runExample(async () => {
    const cities = process.argv.slice(2);
    const forecasts = await runWeatherDisplay({ ...deviceFromEnv(), ...(cities.length ? { cities } : {}) });
    if (forecasts.some((f) => f.error === 'no answer')) throw new Error('some lookups got no answer');
  }, null); // each answer has its own timeout
}
