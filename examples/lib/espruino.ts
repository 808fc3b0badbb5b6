// What the Espruino examples' run.ts share: the board's app (app.js, exactly as flashed) runs
// on the Espruino-like sandbox (simulator/espruino.ts) with the SDK's module in its Storage, as
// `hookwire flash` leaves a board, and stand-ins for what only a board has (Wifi, pins, the
// sensor, an ESP8266 on a serial port). Against a bridge (started here, or HOOKWIRE_URL), the
// forecast integration (examples/espruino-esp32/template.json) and the OpenWeatherMap stand-in.
// The app's settings (Wifi, bridge, device) are set the way a user edits them: the `var NAME =`
// lines at its top.

import { readFile } from 'node:fs/promises';
import { buildEspruino } from '../../scripts/build-espruino.ts';
import { espruinoSandbox, type EspruinoSandbox, type StringKind } from '../../simulator/espruino.ts';
import { startWeather } from '../weather/server.ts';
import { openBridge } from './bridge.ts';
import { clip, say } from './run.ts';
import { readTemplate } from './template.ts';

/** A board's stand-ins: its kind of strings, globals, and the modules it has built in. */
interface BoardStandIn {
  strings: StringKind;
  globals: Record<string, unknown>;
  /** Source of stand-in modules, loaded with Modules.addCached before the app. */
  modules: Record<string, string>;
}

// The `Wifi` module of ESP32 and ESP8266 builds: joins at once; `drop()` is the access point
// going away (the runner also cuts the board's sockets).
const WIFI = `
  var listeners = {};
  exports.connect = function (ssid, options, callback) { setTimeout(function () { callback(null); }, 20); };
  exports.getIP = function () { return { ip: "192.168.1.42" }; };
  exports.on = function (event, fn) { (listeners[event] = listeners[event] || []).push(fn); };
  exports.drop = function () { (listeners.disconnected || []).forEach(function (fn) { fn({}); }); };`;

// EspruinoDocs' ESP8266WiFi_0v25 module, as far as an app sees it: connect(serial, callback)
// resets the ESP8266; then connect(ssid, key, callback) joins, and require("net") goes through it.
const ESP8266_AT = `
  exports.connect = function (serial, callback) {
    setTimeout(function () { callback(null); }, 20);
    return { connect: function (ssid, key, callback) { setTimeout(function () { callback(null); }, 20); },
             getIP: function (callback) { callback(null, "192.168.1.43"); } };
  };`;

const pin = (name: string) => ({ toString: () => name });
let reading = 0;
/** A sensor that drifts a little from one reading to the next. */
const sensor = (base: number, step: number) => () => base + step * (reading++ % 5);

export const BOARDS: Record<'esp32' | 'esp8266' | 'pico-at', BoardStandIn> = {
  esp32: { strings: 'bytes', globals: { E: { getTemperature: sensor(36.5, 0.3) } }, modules: { Wifi: WIFI } },
  esp8266: { strings: 'bytes', globals: { A0: pin('A0'), analogRead: sensor(0.42, 0.01) }, modules: { Wifi: WIFI } },
  'pico-at': {
    strings: 'bytes',
    globals: {
      E: { getTemperature: sensor(24.1, 0.2) },
      A2: pin('A2'), A3: pin('A3'), B9: pin('B9'), digitalWrite: () => {}, Serial2: { setup: () => {} },
    },
    modules: { ESP8266WiFi_0v25: ESP8266_AT },
  },
};

/** `source` with each `var NAME = ...;` line at the top set to `settings[NAME]`. */
export function withSettings(source: string, settings: Record<string, string | number>): string {
  let out = source;
  for (const [name, value] of Object.entries(settings)) {
    const line = new RegExp(`^var ${name} = .*;$`, 'm');
    if (!line.test(out)) throw new Error(`the app has no "var ${name} = ...;" setting`);
    out = out.replace(line, `var ${name} = ${JSON.stringify(value)};`);
  }
  return out;
}

export interface EspruinoExample {
  /** Its directory name under examples/ (and the device's name). */
  name: 'espruino-esp32' | 'espruino-esp8266' | 'espruino-pico-at';
  board: keyof typeof BOARDS;
  /** The event the app publishes its readings on. */
  reading: string;
  /** Drop the Wifi once the first reading is acknowledged, and expect the app to come back. */
  dropWifi?: boolean;
}

/** Lines printed after `from` that match `pattern`. */
const count = (lines: string[], pattern: RegExp, from = 0) => lines.slice(from).filter((l) => pattern.test(l)).length;

async function waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runEspruinoExample(example: EspruinoExample): Promise<void> {
  const standIn = BOARDS[example.board];
  const label = `[${example.board}]`;
  console.log(`${example.name}: the app as flashed, on the Espruino sandbox (${standIn.strings === 'bytes' ? '8-bit strings, as the board' : 'Unicode strings'}), with stand-ins for Wifi and the sensor\n`);
  const bridge = await openBridge();
  const owm = await startWeather({
    onExchange: (req, res) => say('[OpenWeather]', `${req.method} ${req.url} → ${res.status} ${clip(res.body, 60)}`),
  });
  let board: EspruinoSandbox | undefined;
  try {
    say('bridge', bridge.description);
    const device = await bridge.addDevice(example.name);
    say('device', `${device.name} registered: ${device.id}`);
    const template = await readTemplate(new URL('../espruino-esp32/template.json', import.meta.url));
    const hook = await bridge.createIntegration(template, owm.url);
    say('integration', `${hook.id} from espruino-esp32/template.json: GET ${hook.pastedUrl}, URL origin replaced by the stand-in's`);

    const { code, bytes } = await buildEspruino(false);
    const mqtt = new URL(bridge.mqttUrl);
    const app = withSettings(await readFile(new URL(`../${example.name}/app.js`, import.meta.url), 'utf8'), {
      WIFI_NAME: 'example-wifi', WIFI_PASSWORD: 'example-password',
      BRIDGE_HOST: mqtt.hostname, BRIDGE_PORT: Number(mqtt.port), DEVICE_ID: device.id, DEVICE_TOKEN: device.token,
      EVERY_MS: 1000,
    });
    say('board', `hookwire.js (${bytes} bytes) in Storage; app.js with this bridge and device, a reading every 1 s instead of 10 s`);
    console.log();

    board = espruinoSandbox({ strings: standIn.strings, globals: standIn.globals, onOutput: (line) => say(label, line) });
    board.writeFile('hookwire', code);
    for (const [name, source] of Object.entries(standIn.modules)) board.run(`Modules.addCached(${JSON.stringify(name)}, ${JSON.stringify(source)});`, `${name} stand-in`);
    board.run(app, `${example.name}/app.js`);

    const out = board.output;
    const acknowledged = /acknowledged$/;
    await waitFor('the bridge connection', () => count(out, /^connected to the bridge/) >= 1);
    await waitFor('the forecast', () => count(out, /^Forecast for London/) >= 1);
    await waitFor('two readings acknowledged', () => count(out, acknowledged) >= 2);
    if (example.dropWifi) {
      const from = out.length;
      say('stand-in', 'the Wifi access point goes away for a moment');
      board.evaluate('require("Wifi").drop()');
      for (const s of board.sockets()) s.destroy();
      await waitFor('the bridge connection again', () => count(out, /^connected to the bridge/, from) >= 1);
      await waitFor('a reading after the Wifi came back', () => count(out, acknowledged, from) >= 1);
    }
    board.close();
    console.log();

    const problems: string[] = [];
    const forecastStart = out.findIndex((l) => l.startsWith('Forecast for London'));
    const lines = out.slice(forecastStart + 1, forecastStart + 17);
    if (lines.length !== 16 || !lines.every((l) => /^2026-11-\d\d \d\d:00:00 -?\d+(\.\d+)?C [a-z ]+$/.test(l))) {
      problems.push(`expected 16 forecast lines, got ${JSON.stringify(lines)}`);
    }
    if (lines[0] !== '2026-11-28 00:00:00 14.8C light rain') problems.push(`first forecast line: ${lines[0]}`);
    if (board.errors.length) problems.push(`uncaught errors: ${board.errors.map(String).join('; ')}`);
    const { integration } = await bridge.api<{ integration: { counters: { total_calls: number; total_errors: number } } }>('GET', `/v1/integrations/${hook.id}`);
    say('integration', `counters: ${integration.counters.total_calls} call, ${integration.counters.total_errors} errors`);
    if (integration.counters.total_calls < 1 || integration.counters.total_errors !== 0) problems.push('the forecast call did not succeed');
    if (problems.length) throw new Error(problems.join('; '));
    const readings = count(out, acknowledged);
    say('result', `OK: the forecast came back in parts and printed whole (16 lines); ${readings} ${example.reading} readings acknowledged at QoS 1` +
      (example.dropWifi ? '; the app joined the Wifi again and the SDK reconnected' : ''));
  } finally {
    board?.close();
    await bridge.close();
    await owm.close();
  }
}
