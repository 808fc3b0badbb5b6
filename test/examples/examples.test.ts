// The examples as users run them: each run.ts in a child process (its own bridge, stand-in
// and devices), checked by exit code and the transcript lines that prove the round trip; and
// a device.ts run alone against a bridge, as the READMEs describe.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { replaceOrigin } from '../../examples/lib/template.ts';
import { startWeather, type WeatherStandIn } from '../../examples/weather/server.ts';
import { testBridge, type TestBridge } from '../helpers/bridge.ts';
import { run, type RunResult } from '../helpers/spawn.ts';

/** `node --import tsx <script>`, always on a bridge of its own (never one from the environment). */
function runScript(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', script, ...args], { HOOKWIRE_URL: '', HOOKWIRE_TOKEN: '', ...env });
}

/**
 * The bridge's own log lines in a transcript (pino JSON; an example's bridge logs at warn): a
 * run that went well has none, not even after its result line (a device going away as an
 * event reaches it once showed up there as PROTOCOL_ERROR).
 */
function bridgeLogLines(stdout: string): { level: number; code?: string; msg: string }[] {
  return stdout.split('\n').filter((l) => l.startsWith('{"level":')).map((l) => JSON.parse(l) as { level: number; code?: string; msg: string });
}

function expectSuccess(r: RunResult): string[] {
  assert.is(r.code, 0, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.is(r.stderr, '', 'nothing on stderr');
  assert.equal(bridgeLogLines(r.stdout), [], 'the bridge logged no warning or error');
  return r.stdout.split('\n');
}

/** The one line matching `pattern`; fails listing the output when there is none. */
function line(lines: string[], pattern: RegExp): RegExpExecArray {
  for (const l of lines) {
    const m = pattern.exec(l);
    if (m) return m;
  }
  assert.unreachable(`no line matches ${pattern}:\n${lines.join('\n')}`);
  throw new Error('unreachable');
}

const ID = '([0-9a-f]{24})';

test('thingspeak: three readings stored, each entry ID back on the device\'s hook-response', async () => {
  const lines = expectSuccess(await runScript('examples/thingspeak/run.ts'));
  line(lines, /^integration +\w+ from template\.json: POST https:\/\/api\.thingspeak\.com\/update on event "temperature"$/);
  line(lines, /^ +URL origin replaced by the stand-in's: http:\/\/127\.0\.0\.1:\d+\/update$/);
  const [, id] = line(lines, new RegExp(`^device +thermometer registered: ${ID}$`));
  for (const [n, reading] of ['21.4', '21.9', '22.3'].entries()) {
    line(lines, new RegExp(`^\\[ThingSpeak\\] +POST /update api_key=YOUR_WRITE_KEY&field1=${reading.replace('.', '\\.')} → 200 "${n + 1}"$`));
    line(lines, new RegExp(`^\\[thermometer\\] +${id}/hook-response/temperature/0: "${n + 1}" → stored as entry ${n + 1}$`));
  }
  line(lines, /^result +OK: 3 readings stored, and the device got each entry ID back \(1, 2, 3\)$/);
});

test('weather: the responseTemplate\'s two fields on hook-response; an unknown city a 404 on hook-error', async () => {
  const lines = expectSuccess(await runScript('examples/weather/run.ts'));
  line(lines, /^ +URL origin replaced by the stand-in's: http:\/\/127\.0\.0\.1:\d+\/data\/2\.5\/weather$/);
  const [, id] = line(lines, new RegExp(`^device +weather-display registered: ${ID}$`));
  line(lines, /^\[OpenWeather\] +GET \/data\/2\.5\/weather\?q=London&units=metric&appid=YOUR_KEY → 200 \{"coord"/);
  line(lines, new RegExp(`^\\[weather-display\\] +${id}/hook-response/weather/0: "14\\.8~light rain" → London: 14\\.8 °C, light rain$`));
  line(lines, new RegExp(`^\\[weather-display\\] +${id}/hook-response/weather/0: "23\\.5~clear sky" → Tokyo: 23\\.5 °C, clear sky$`));
  line(lines, /^\[OpenWeather\] +GET \/data\/2\.5\/weather\?q=Atlantis&units=metric&appid=YOUR_KEY → 404 \{"cod":"404","message":"city not found"\}$/);
  line(lines, new RegExp(`^\\[weather-display\\] +${id}/hook-error/weather/0: "error status 404 from 127\\.0\\.0\\.1:\\d+" → no weather for Atlantis$`));
  line(lines, /^integration +counters: 2 successes, 1 error \(state Failing\)$/);
  line(lines, /^result +OK: /);
});

test('product-hook: two devices of the product fire one hook; each gets its own settings and hears no other response', async () => {
  const lines = expectSuccess(await runScript('examples/product-hook/run.ts'));
  line(lines, /^integration +\w+ for product 4242 from template\.json: GET https:\/\/fleet\.example\.com\/api\/products\/\{\{\{PRODUCT_ID\}\}\}\/devices\/\{\{\{PARTICLE_DEVICE_ID\}\}\}\/settings on event "settings"$/);
  const [, a] = line(lines, new RegExp(`^device +greenhouse-a registered in product 4242: ${ID}$`));
  const [, b] = line(lines, new RegExp(`^device +greenhouse-b registered in product 4242: ${ID}$`));
  line(lines, new RegExp(`^\\[fleet backend\\] +GET /api/products/4242/devices/${a}/settings → 200 \\{"device":"${a}","label":"Greenhouse A \\(tomatoes\\)"`));
  line(lines, new RegExp(`^\\[fleet backend\\] +GET /api/products/4242/devices/${b}/settings → 200 \\{"device":"${b}","label":"Greenhouse B \\(orchids\\)"`));
  line(lines, new RegExp(`^\\[greenhouse-a\\] +${a}/hook-response/settings/0: \\{"device":"${a}","label":"Greenhouse A \\(tomatoes\\)"`));
  line(lines, new RegExp(`^\\[greenhouse-b\\] +${b}/hook-response/settings/0: \\{"device":"${b}","label":"Greenhouse B \\(orchids\\)"`));
  line(lines, new RegExp(`^\\[greenhouse-a\\] +got "Greenhouse A \\(tomatoes\\)"; responses heard while subscribed to every event name: ${a}/hook-response/settings/0$`));
  line(lines, new RegExp(`^\\[greenhouse-b\\] +got "Greenhouse B \\(orchids\\)"; responses heard while subscribed to every event name: ${b}/hook-response/settings/0$`));
  // Nothing a device printed mentions the other device.
  assert.not.ok(lines.some((l) => l.startsWith('[greenhouse-a]') && l.includes(b!)), 'greenhouse-a saw nothing of B');
  assert.not.ok(lines.some((l) => l.startsWith('[greenhouse-b]') && l.includes(a!)), 'greenhouse-b saw nothing of A');
  line(lines, /^result +OK: greenhouse-a got A's settings and greenhouse-b got B's; neither heard the other's response$/);
});

for (const [name, board, reading] of [['esp32', 'esp32', 'temperature'], ['esp8266', 'esp8266', 'light'], ['pico-at', 'pico-at', 'temperature']] as const) {
  test(`espruino-${name}: the app as flashed, on the Espruino sandbox: forecast parts joined and printed, readings acknowledged`, async () => {
    const lines = expectSuccess(await runScript(`examples/espruino-${name}/run.ts`));
    const [, id] = line(lines, new RegExp(`^device +espruino-${name} registered: ${ID}$`));
    line(lines, /^\[OpenWeather\] +GET \/data\/2\.5\/forecast\?q=London&units=metric&cnt=16&appid=YOUR_KEY → 200 /);
    line(lines, new RegExp(`^\\[${board}\\] +connected to the bridge`));
    line(lines, new RegExp(`^\\[${board}\\] +Forecast for London`));
    line(lines, new RegExp(`^\\[${board}\\] +2026-11-28 00:00:00 14\\.8C light rain$`));
    line(lines, new RegExp(`^\\[${board}\\] +2026-11-29 21:00:00 17\\.6C scattered clouds$`));
    assert.ok(lines.filter((l) => new RegExp(`^\\[${board}\\] .*acknowledged$`).test(l)).length >= 2, 'readings acknowledged');
    line(lines, new RegExp(`^result +OK: the forecast came back in parts and printed whole \\(16 lines\\); \\d+ ${reading} readings acknowledged at QoS 1`));
    assert.ok(id);
    if (name === 'esp32') {
      line(lines, /^\[esp32\] +Wifi lost; joining again$/);
      line(lines, /^result .*the app joined the Wifi again and the SDK reconnected$/);
    }
  });
}

test('a bridge warning in a transcript is found, after the result line too', () => {
  const transcript = [
    'result            OK: greenhouse-a got A\'s settings and greenhouse-b got B\'s; neither heard the other\'s response',
    '{"level":40,"time":1795842775360,"name":"hookwire","component":"broker","deviceId":"b868665d563f143cec0cc21e","code":"PROTOCOL_ERROR","reason":"connection closed","msg":"connection refused or dropped"}',
    '',
  ].join('\n');
  assert.equal(bridgeLogLines(transcript).map((l) => l.code), ['PROTOCOL_ERROR']);
  assert.equal(bridgeLogLines('result            OK\n[device]  {"level": "not a log line"}\n'), []);
});

test('replaceOrigin swaps scheme, host and port only, leaving template tags as they are', () => {
  assert.is(replaceOrigin('https://api.thingspeak.com/update', 'http://127.0.0.1:4000'), 'http://127.0.0.1:4000/update');
  assert.is(replaceOrigin('https://fleet.example.com:8443/p/{{{PRODUCT_ID}}}?d={{{PARTICLE_DEVICE_ID}}}', 'http://127.0.0.1:4000/'),
    'http://127.0.0.1:4000/p/{{{PRODUCT_ID}}}?d={{{PARTICLE_DEVICE_ID}}}');
  assert.is(replaceOrigin('https://example.com', 'http://127.0.0.1:4000'), 'http://127.0.0.1:4000');
  assert.throws(() => replaceOrigin('ftp://example.com/x', 'http://127.0.0.1:4000'), /not an http\(s\) URL/);
});

test('a device.ts runs alone against a running bridge with HOOKWIRE_MQTT_URL, DEVICE_ID, DEVICE_TOKEN', async () => {
  let bridge: TestBridge | undefined;
  let owm: WeatherStandIn | undefined;
  try {
    bridge = await testBridge();
    owm = await startWeather();
    const device = await bridge.addDevice({ name: 'alone' });
    const created = await bridge.call('POST', '/v1/integrations', {
      integration_type: 'Webhook', event: 'weather', url: `${owm.url}/data/2.5/weather`, requestType: 'GET', noDefaults: true,
      query: { q: '{{{PARTICLE_EVENT_VALUE}}}', units: 'metric', appid: 'YOUR_KEY' }, responseTemplate: '{{main.temp}}~{{weather.0.description}}',
    });
    assert.is(created.status, 201);
    const env = { HOOKWIRE_MQTT_URL: bridge.mqttUrl, DEVICE_ID: device.id, DEVICE_TOKEN: device.token };

    const lines = expectSuccess(await runScript('examples/weather/device.ts', ['Paris'], env));
    line(lines, new RegExp(`^${device.id}/hook-response/weather/0: "18\\.2~scattered clouds" → Paris: 18\\.2 °C, scattered clouds$`));

    const refused = await runScript('examples/weather/device.ts', ['Paris'], { ...env, DEVICE_TOKEN: 'hwd_wrong' });
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /^FAILED: .*(Bad username or password|refused)/m);

    const unset = await runScript('examples/weather/device.ts', [], { HOOKWIRE_MQTT_URL: bridge.mqttUrl, DEVICE_ID: '', DEVICE_TOKEN: '' });
    assert.is(unset.code, 1);
    assert.match(unset.stderr, /^FAILED: set DEVICE_ID and DEVICE_TOKEN/m);
  } finally {
    await owm?.close();
    await bridge?.stop();
  }
});

test.run();
