// The product integration example in one command:  npx tsx examples/product-hook/run.ts
//
// A bridge (in this process, or the one at HOOKWIRE_URL with HOOKWIRE_TOKEN), a stand-in for
// the product's fleet backend, two thermostats registered in product 4242, and the integration
// from template.json created for the product (POST /v1/products/4242/integrations) with only
// its URL's origin pointed at the stand-in. Both thermostats boot at once and ask for their
// settings through the same hook. Exit code 0 when each got its own settings and heard no
// other device's response.

import { openBridge } from '../lib/bridge.ts';
import { printAs, runExample, say } from '../lib/run.ts';
import { readTemplate } from '../lib/template.ts';
import { bootThermostat } from './device.ts';
import { startFleet, type Settings } from './server.ts';

const PRODUCT_ID = 4242;
const FLEET: { name: string; settings: Settings }[] = [
  { name: 'greenhouse-a', settings: { label: 'Greenhouse A (tomatoes)', reportEveryS: 60, targetC: 24 } },
  { name: 'greenhouse-b', settings: { label: 'Greenhouse B (orchids)', reportEveryS: 300, targetC: 19.5 } },
];

runExample(async () => {
  console.log(`Product integration: two devices of product ${PRODUCT_ID} fire the same hook; each hears only its own response\n`);
  const bridge = await openBridge();
  const fleet = await startFleet({
    onExchange: (req, res) => say('[fleet backend]', `${req.method} ${req.path} → ${res.status} ${res.body}`),
  });
  const running: { stop(): Promise<void> }[] = [];
  try {
    say('bridge', bridge.description);
    say('stand-in', `fleet backend at ${fleet.url}`);

    const devices = [];
    for (const { name, settings } of FLEET) {
      const device = await bridge.addDevice(name, PRODUCT_ID);
      fleet.configure(PRODUCT_ID, device.id, settings); // what the backend holds for this device
      say('device', `${device.name} registered in product ${PRODUCT_ID}: ${device.id}`);
      devices.push(device);
    }

    const template = await readTemplate(new URL('./template.json', import.meta.url));
    const hook = await bridge.createIntegration(template, fleet.url, PRODUCT_ID);
    say('integration', `${hook.id} for product ${PRODUCT_ID} from template.json: ${template.requestType} ${hook.pastedUrl} on event "${template.event}"\n` +
      `URL origin replaced by the stand-in's: ${hook.url}`);
    console.log();

    // Both boot at once, so their requests and responses cross in flight.
    const thermostats = await Promise.all(devices.map(async (d) => {
      const t = await bootThermostat({ mqttUrl: bridge.mqttUrl, deviceId: d.id, token: d.token, print: printAs(d.name) });
      running.push(t);
      return t;
    }));
    // Both stay connected until both have their settings: either could have heard the other's.
    console.log();

    const problems: string[] = [];
    for (const [i, t] of thermostats.entries()) {
      const name = devices[i]!.name;
      const others = thermostats.filter((o) => o !== t).map((o) => o.deviceId);
      const foreign = t.heard.filter((topic) => others.some((id) => topic.startsWith(`${id}/`)));
      say(`[${name}]`, `got "${t.settings.label}"; responses heard while subscribed to every event name: ${t.heard.join(', ') || 'none'}`);
      if (t.settings.device !== t.deviceId || t.settings.label !== FLEET[i]!.settings.label) problems.push(`${name} got ${JSON.stringify(t.settings)}`);
      if (foreign.length) problems.push(`${name} heard another device's response: ${foreign.join(', ')}`);
      // Its own response reached the catch-all handler too: the subscription to everything works.
      if (!t.heard.includes(`${t.deviceId}/hook-response/settings/0`)) problems.push(`${name} did not record its own response`);
    }
    if (problems.length) throw new Error(problems.join('; '));
    const [a, b] = devices;
    say('result', `OK: ${a!.name} got A's settings and ${b!.name} got B's; neither heard the other's response`);
  } finally {
    for (const t of running) await t.stop();
    await bridge.close();
    await fleet.close();
  }
});
