// The weather example in one command:  npx tsx examples/weather/run.ts
//
// A bridge (in this process, or the one at HOOKWIRE_URL with HOOKWIRE_TOKEN), a stand-in for
// OpenWeatherMap, a weather display device, and the integration from template.json with only
// its URL's origin pointed at the stand-in. The device looks up two known cities (answers on
// hook-response, cut down by the responseTemplate) and one unknown city (a 404, on hook-error).
// Exit code 0 when all three answers came back as expected.

import { openBridge } from '../lib/bridge.ts';
import { clip, printAs, runExample, say } from '../lib/run.ts';
import { readTemplate } from '../lib/template.ts';
import { runWeatherDisplay } from './device.ts';
import { startWeather } from './server.ts';

runExample(async () => {
  console.log('Weather: a GET with a query; a responseTemplate sends the device two fields; an unknown city is a hook-error\n');
  const bridge = await openBridge();
  const owm = await startWeather({
    onExchange: (req, res) => say('[OpenWeather]', `${req.method} ${req.url} → ${res.status} ${clip(res.body, 72)}`),
  });
  try {
    say('bridge', bridge.description);
    say('stand-in', `OpenWeatherMap at ${owm.url} (API key ${owm.apiKey}; knows ${owm.cities.join(', ')})`);

    const device = await bridge.addDevice('weather-display');
    say('device', `${device.name} registered: ${device.id}`);

    const template = await readTemplate(new URL('./template.json', import.meta.url));
    const hook = await bridge.createIntegration(template, owm.url);
    say('integration', `${hook.id} from template.json: ${template.requestType} ${hook.pastedUrl} on event "${template.event}"\n` +
      `URL origin replaced by the stand-in's: ${hook.url}\n` +
      `responseTemplate: ${String(template.responseTemplate)}`);
    console.log();

    const forecasts = await runWeatherDisplay({
      mqttUrl: bridge.mqttUrl, deviceId: device.id, token: device.token,
      cities: ['London', 'Tokyo', 'Atlantis'],
      print: printAs(device.name),
    });
    console.log();

    // What the bridge recorded for the integration (the API every Hookwire user has).
    const { integration } = await bridge.api<{ integration: { state: string; counters: { total_calls: number; total_errors: number } } }>('GET', `/v1/integrations/${hook.id}`);
    const { total_calls: calls, total_errors: errors } = integration.counters;
    say('integration', `counters: ${calls - errors} successes, ${errors} error (state ${integration.state})`);

    const [london, tokyo, atlantis] = forecasts;
    const problems: string[] = [];
    if (london?.temp !== 14.8 || london.description !== 'light rain') problems.push(`London: expected 14.8 °C, light rain, got ${JSON.stringify(london)}`);
    if (tokyo?.temp !== 23.5 || tokyo.description !== 'clear sky') problems.push(`Tokyo: expected 23.5 °C, clear sky, got ${JSON.stringify(tokyo)}`);
    if (!atlantis?.error?.startsWith('error status 404')) problems.push(`Atlantis: expected a hook-error "error status 404 ...", got ${JSON.stringify(atlantis)}`);
    if (problems.length) throw new Error(problems.join('; '));
    say('result', 'OK: London and Tokyo answered on hook-response as "<temp>~<description>", Atlantis as a 404 on hook-error');
  } finally {
    await bridge.close();
    await owm.close();
  }
});
