// The README's console pictures (docs/img/console-*.png), made from a real bridge with a
// little traffic on it: devices connected through the SDK, three integrations pointing at
// the bridge's own request bins (one of which answers 500), events published for a few
// seconds. Run it again when the console's look changes: `npm run docs:screenshots`.
// Needs Chromium (HOOKWIRE_CHROMIUM, default /usr/bin/chromium).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { connectDevice, type Device } from '../firmware-sdk/index.ts';
import { startBridge } from '../bridge/index.ts';
import { createLogger } from '../bridge/log.ts';
import { ROOT, sleep } from './lib/bench.ts';

const OUT = join(ROOT, 'docs', 'img');
const CHROMIUM = process.env.HOOKWIRE_CHROMIUM ?? '/usr/bin/chromium';

const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-screens-'));
// Every bin is on this bridge's own host: the failing one must not put the others' host to sleep.
const bridge = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir, throttleMinErrors: 1_000_000 }, { logger: createLogger({ level: 'silent', pretty: false }) });
const token = bridge.adminToken!;

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(bridge.url + path, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Four weeks of earlier traffic, as the bridge would have counted it: a day's successes and
 * failures in the dashboard's hourly counts and in each integration's daily history.
 */
async function history([temp, alarm]: [string, string]): Promise<void> {
  const HOUR = 3_600_000;
  const rows = [];
  const daily = [];
  for (let d = 28; d >= 1; d--) {
    const hour = Date.now() - d * 24 * HOUR - ((Date.now() - d * 24 * HOUR) % HOUR);
    const wave = Math.round(400 + 120 * Math.sin(d / 3));
    const failures = d % 6 === 2 ? 40 : d % 4 === 0 ? 6 : 0;
    const at = { hour, firstAt: hour + 60_000, lastAt: hour + 3_000_000 };
    rows.push({ ...at, type: 'outbound' as const, integrationId: temp, code: '', description: '', count: wave });
    rows.push({ ...at, type: 'device' as const, integrationId: '', code: '', description: '', count: wave + 20 });
    if (failures) rows.push({ ...at, type: 'outbound' as const, integrationId: alarm, code: '500', description: 'HTTP 500 Internal Server Error', count: failures });
    if (d % 9 === 0) rows.push({ ...at, type: 'device' as const, integrationId: '', code: 'EVENT_TOO_LARGE', description: 'Event data too large', count: 3 });
    const day = new Date(hour).toISOString().slice(0, 10);
    daily.push({ integrationId: temp, day, success: wave, error: d % 10 === 3 ? 12 : 0, skipped: 0 });
  }
  await bridge.store.stats.add(rows);
  await bridge.store.deliveries.settle({ deliveries: [], statuses: [], daily, logs: [] }, 10);
}

try {
  await call('PUT', '/v1/bins/weather', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"stored":true}' });
  await call('PUT', '/v1/bins/alerts', { status: 500, body: 'pager service down' });
  const temp = await call('POST', '/v1/integrations', {
    name: 'Temperature to the weather log', event: 'temp', url: `${bridge.url}/bin/weather`, requestType: 'POST',
    json: { device: '{{{PARTICLE_DEVICE_ID}}}', celsius: '{{{PARTICLE_EVENT_VALUE}}}', at: '{{{PARTICLE_PUBLISHED_AT}}}' },
    headers: { Authorization: 'Bearer sk_live_weather' },
  });
  await call('POST', '/v1/integrations', { name: 'Humidity', event: 'humidity', url: `${bridge.url}/bin/weather?source=greenhouse`, requestType: 'GET' });
  const alarm = await call('POST', '/v1/integrations', { name: 'Door alarm to the pager', event: 'alarm', url: `${bridge.url}/bin/alerts`, requestType: 'POST', retryPolicy: [1] });

  await history([temp.id, alarm.id]);

  const devices: Device[] = [];
  for (const name of ['kitchen', 'porch', 'greenhouse', 'garage']) {
    const d = await call('POST', '/v1/devices', { name, product_id: 12, firmware_version: 4 });
    if (name !== 'garage') devices.push(await connectDevice({ url: bridge.mqttUrl, deviceId: d.id, token: d.token, timeoutMs: 5000 }));
  }
  for (let i = 0; i < 40; i++) {
    const d = devices[i % devices.length]!;
    await d.publish('temp', (20 + Math.sin(i / 5) * 2).toFixed(1), { qos: 1 });
    if (i % 2 === 0) await d.publish('humidity', String(55 + (i % 7)), { qos: 1 });
    if (i % 8 === 0) await d.publish('alarm', 'door open', { qos: 1 });
    await sleep(50);
  }
  await sleep(2000);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  await page.goto(`${bridge.url}/console/dashboard?period=7d`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.waitForSelector('[aria-busy="true"]', { state: 'detached' });
  await sleep(500);
  await page.screenshot({ path: join(OUT, 'console-dashboard.png') });
  await page.goto(`${bridge.url}/console/integrations/${temp.id}`);
  await page.waitForSelector('[aria-busy="true"]', { state: 'detached' });
  await sleep(500);
  await page.screenshot({ path: join(OUT, 'console-integration.png') });
  await browser.close();
  for (const d of devices) await d.disconnect();
  console.log(`wrote ${join(OUT, 'console-dashboard.png')} and console-integration.png`);
} finally {
  await bridge.close();
  await rm(dataDir, { recursive: true, force: true });
}
