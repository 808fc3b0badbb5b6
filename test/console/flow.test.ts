// One person's first session in the console, in one browser tab, start to finish: sign in →
// add a device → create an integration through the form → the device publishes (the SDK, with
// the token the page showed) → the event appears live → the integration shows Active with a
// success in its log → the receiver starts failing → the state turns Failing and the error
// appears with its code → replay → the dashboard's figures equal the API's. No console error,
// no failed request along the way.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { connectDevice } from '../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';
import { receiver, type Receiver } from '../helpers/receiver.ts';

let b: TestBridge;
let rx: Receiver;
let browser: Browser;
let status = 200;

/** Go to a page through the top navigation, as a person would. */
async function open(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
  await page.locator('main h1', { hasText: name }).waitFor();
}

const badge = (page: Page, state: string) => page.locator('.state-line .badge', { hasText: new RegExp(`^${state}$`) });
const number = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, ''));

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    // Particle's retry waits compressed (30 s → 30 ms) so a failure is given up at once; every
    // target here is 127.0.0.1, so the host throttle stays out of it.
    [b, rx, browser] = await Promise.all([testBridge({ timeScale: 0.001, throttleMinErrors: 1_000_000 }), receiver(), launchBrowser()]);
    rx.on('/hook', (_req, res) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(status < 300 ? '{"stored":true}' : '{"error":"database down"}');
    });
  });
  test.after(async () => {
    await browser?.close();
    await b?.stop();
    await rx?.close();
  });

  test('sign in, add a device, create an integration, see it work, fail, replay, and the dashboard agree with the API', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token);

    // Add a device; its token is on the page once.
    await open(page, 'Devices');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByLabel('Name (optional)').fill('kitchen');
    await page.getByRole('button', { name: 'Add device' }).last().click();
    await page.getByRole('heading', { name: 'Token for kitchen' }).waitFor();
    const token = (await page.locator('.notice pre').first().textContent())!;
    const deviceId = (await page.locator('.notice pre').nth(1).textContent())!.match(/-i ([0-9a-f]{24})/)![1]!;
    await page.getByRole('button', { name: 'Done' }).click();

    // An integration through the form, its preview on the way.
    await open(page, 'Integrations');
    await page.getByRole('link', { name: 'New integration' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Kitchen temperature');
    await page.getByLabel('Event', { exact: true }).fill('temp');
    await page.getByLabel('URL', { exact: true }).fill(`${rx.url}/hook`);
    await page.getByRole('radio', { name: 'JSON', exact: true }).check();
    await page.getByRole('textbox', { name: 'JSON', exact: true }).fill('{"reading": "{{{temp}}}"}');
    await page.getByLabel('Sample data').fill('{"temp": 20}');
    await page.locator('.preview pre', { hasText: '"reading": "20"' }).waitFor();
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.waitForURL(/\/console\/integrations\/[0-9a-f]{24}$/);
    const hookId = page.url().split('/').pop()!;

    // The device publishes with the token the page gave; the event shows live.
    await open(page, 'Events');
    await page.locator('.stream-live').waitFor();
    const device = await connectDevice({ url: b.mqttUrl, deviceId, token, timeoutMs: 5000 });
    try {
      await device.publish('temp', '{"temp": 21}', { qos: 1 });
      const row = page.locator('.event-row', { has: page.locator('.ev-name .mono', { hasText: /^temp$/ }) });
      await row.waitFor();
      assert.is(await row.locator('.ev-device').textContent(), 'kitchen');

      // Active, with the success in its log.
      await open(page, 'Integrations');
      await page.getByRole('link', { name: /Kitchen temperature/ }).click();
      await badge(page, 'Active').waitFor();
      const success = page.getByRole('region', { name: 'Last successes', exact: true }).locator('.log').first();
      await success.waitFor();
      assert.match((await success.locator('summary').textContent())!, /^200temp/);
      assert.is(rx.requests.filter((r) => r.url === '/hook').length, 1);

      // The receiver fails: Failing, and the error with its code.
      status = 500;
      await device.publish('temp', '{"temp": 30}', { qos: 1 });
      await badge(page, 'Failing').waitFor();
      const error = page.getByRole('region', { name: 'Last errors', exact: true }).locator('.log').first();
      await error.waitFor();
      assert.match((await error.locator('summary').textContent())!, /^500temp/);
      await screenshot(page, 'flow-failing');

      // Replay what failed once the receiver is back.
      const failures = page.getByRole('region', { name: 'Failed deliveries', exact: true });
      await failures.getByRole('row', { name: /^temp / }).waitFor();
      status = 200;
      const before = rx.requests.length;
      await failures.getByRole('button', { name: /^Replay delivery \d+$/ }).click();
      await failures.getByText('Replayed 1 delivery.').waitFor();
      await until(() => rx.requests.length > before, 5000, 'the replayed request');
      assert.is(JSON.parse(rx.requests.at(-1)!.body.toString()).reading, '30', 'the failed event, sent again');
      await badge(page, 'Active').waitFor();
    } finally {
      await device.disconnect();
    }

    // The dashboard shows what the API counts: 1 + 3 attempts that failed + the replay.
    await open(page, 'Dashboard');
    await page.getByRole('button', { name: '24 hours' }).click();
    await page.waitForURL(/period=1d/);
    await until(async () => (await b.call('GET', '/v1/dashboard?period=1d')).body.types.outbound.successes === 2, 5000, 'the replay counted');
    const api = (await b.call('GET', '/v1/dashboard?period=1d')).body;
    const tile = page.getByRole('region', { name: 'Outbound webhooks' });
    await page.waitForFunction((want) => {
      const figures = [...document.querySelectorAll('[aria-labelledby="type-outbound"] dd .figure')].map((e) => e.textContent);
      return figures.join('/') === want;
    }, `${api.types.outbound.successes}/${api.types.outbound.failures}`);
    const [successes, failed] = (await tile.locator('dd .figure').allTextContents()).map(number);
    assert.equal([successes, failed], [api.types.outbound.successes, api.types.outbound.failures]);
    assert.equal([successes, failed], [2, 3]);
    const code = page.getByRole('region', { name: 'Failures by code' }).locator('tbody tr', { hasText: '500' });
    assert.is(number(await code.locator('td[data-label="Failures"]').textContent()), api.failures_by_code.find((c: { code: string }) => c.code === '500').count);
    const failureRow = page.getByRole('region', { name: 'Failures', exact: true }).getByRole('row', { name: /500/ });
    assert.is(await failureRow.getByRole('link', { name: new RegExp(hookId) }).getAttribute('href'), `/console/integrations/${hookId}`);
    await screenshot(page, 'flow-dashboard');

    assert.equal(problems, []);
    await context.close();
  });
}

test.run();
