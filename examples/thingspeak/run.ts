// The ThingSpeak example in one command:  npx tsx examples/thingspeak/run.ts
//
// A bridge (in this process, or the one at HOOKWIRE_URL with HOOKWIRE_TOKEN), a stand-in for
// ThingSpeak's update API, a thermometer device, and the integration from template.json with
// only its URL's origin pointed at the stand-in. The thermometer publishes three readings and
// gets each one's entry ID back. Exit code 0 when all three were stored and answered.

import { openBridge } from '../lib/bridge.ts';
import { clip, printAs, runExample, say } from '../lib/run.ts';
import { readTemplate } from '../lib/template.ts';
import { runThermometer } from './device.ts';
import { startThingSpeak } from './server.ts';

const READINGS = [21.4, 21.9, 22.3];

runExample(async () => {
  console.log('ThingSpeak: each temperature is a form POST to the channel; the entry ID comes back to the device\n');
  const bridge = await openBridge();
  const thingspeak = await startThingSpeak({
    onExchange: (req, res) => say('[ThingSpeak]', `${req.method} ${req.path} ${clip(req.body)} → ${res.status} "${res.body}"`),
  });
  try {
    say('bridge', bridge.description);
    say('stand-in', `ThingSpeak update API at ${thingspeak.url} (channel write key ${thingspeak.writeKey})`);

    const device = await bridge.addDevice('thermometer');
    say('device', `${device.name} registered: ${device.id}`);

    const template = await readTemplate(new URL('./template.json', import.meta.url));
    const hook = await bridge.createIntegration(template, thingspeak.url);
    say('integration', `${hook.id} from template.json: ${template.requestType} ${hook.pastedUrl} on event "${template.event}"\n` +
      `URL origin replaced by the stand-in's: ${hook.url}`);
    console.log();

    const outcomes = await runThermometer({
      mqttUrl: bridge.mqttUrl, deviceId: device.id, token: device.token,
      readings: READINGS,
      intervalMs: 0, // the stand-in has no rate limit; the real free plan stores one update per 15 s
      print: printAs(device.name),
    });
    console.log();

    say('[ThingSpeak]', `channel entries: ${thingspeak.entries.map((e) => `#${e.entry_id} field1=${e.field1}`).join(', ') || 'none'}`);
    const answered = outcomes.map((o) => o.entryId ?? o.error).join(', ');
    const stored = thingspeak.entries.map((e) => e.field1).join(', ');
    if (outcomes.some((o, i) => o.entryId !== i + 1) || stored !== READINGS.map((r) => r.toFixed(1)).join(', ')) {
      throw new Error(`expected entries 1-${READINGS.length} for ${READINGS.join(', ')}; the device got ${answered}, the channel holds ${stored || 'nothing'}`);
    }
    say('result', `OK: ${READINGS.length} readings stored, and the device got each entry ID back (${answered})`);
  } finally {
    await bridge.close();
    await thingspeak.close();
  }
});
