// The Doctor page in a real browser. A bridge with nothing wrong is "all good"; then an
// integration whose trigger never fires while a device publishes a near name, and one whose
// target refuses connections: each finding shows under its severity with its message, next
// step and check code as GET /v1/doctor gives them, and links to its integration. Re-run
// checks again and says when; one integration is picked in the URL; a read token sees it all;
// axe finds nothing serious at 1280 and 375 px.

import { createServer, type AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import { testBridge, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';

interface Finding { check: string; severity: string; integrationId?: string; message: string; next: string }

let b: TestBridge;
let browser: Browser;
let device: Device | undefined;
let nearMiss = '';
let unreachable = '';

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function findings(query = ''): Promise<Finding[]> {
  const res = await b.call('GET', `/v1/doctor${query}`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body.findings as Finding[];
}

/** When the page last checked (the report's checkedAt, from its <time>). */
const checkedAt = (page: Page) => page.locator('.checked time').first().getAttribute('datetime');

/** The card that shows finding `f`: its check code and its message. */
const card = (page: Page, f: Finding) => page.locator('article.finding').filter({ has: page.getByText(f.check, { exact: true }) }).filter({ hasText: f.message });

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    [b, browser] = await Promise.all([testBridge(), launchBrowser()]);
  });
  test.after(async () => {
    await device?.disconnect();
    await browser?.close();
    await b?.stop();
  });

  test('nothing wrong: all good, with how many integrations were checked', async () => {
    assert.equal(await findings(), []);
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/doctor');
    await page.getByRole('heading', { name: 'All good' }).waitFor();
    await page.getByText('No problems found (0 integrations checked).').waitFor();
    assert.equal(await accessibilityProblems(page), []);
    await screenshot(page, 'doctor-all-good');
    assert.equal(problems, []);
    await context.close();
  });

  test('a near-miss name and a refused target: each finding under its severity with its next step, code and integration', async () => {
    const d = await b.addDevice({ name: 'greenhouse' });
    nearMiss = (await b.call('POST', '/v1/integrations', { event: 'temperature', url: `${b.url}/bin/greenhouse` })).body.id;
    unreachable = (await b.call('POST', '/v1/integrations', { event: 'door', url: `http://127.0.0.1:${await closedPort()}/hook` })).body.id;
    device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token, timeoutMs: 5000 });
    await device.publish('temp', '21', { qos: 1 }); // "temperature" never fires: the name is shorter
    await b.webhooks.idle();

    const api = await findings();
    const miss = api.find((f) => f.check === 'NEAR_MISS_NAME' && f.integrationId === nearMiss);
    const refused = api.find((f) => f.check === 'TARGET_UNREACHABLE' && f.integrationId === unreachable);
    assert.ok(miss && refused, JSON.stringify(api, null, 1));

    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/doctor');
    for (const [f, group, event] of [[miss, 'Warnings', 'temperature'], [refused, 'Errors', 'door']] as const) {
      const section = page.getByRole('region', { name: new RegExp(`^${group} \\(\\d+\\)$`) });
      const shown = card(page, f);
      await shown.waitFor();
      assert.is(await section.locator('article.finding').filter({ hasText: f.message }).count(), 1, `${f.check} under ${group}`);
      assert.is(await shown.locator('.message').textContent(), f.message);
      assert.is(await shown.locator('.next').textContent(), `Next step: ${f.next}`);
      assert.is(await shown.locator('.badge').textContent(), f.severity);
      const link = shown.getByRole('link', { name: `Integration "${event}"` });
      assert.is(await link.getAttribute('href'), `/console/integrations/${f.integrationId}`);
    }
    // Worst first: errors above warnings.
    const headings = await page.locator('main h2').allTextContents();
    assert.ok(headings.findIndex((h) => h.startsWith('Errors')) < headings.findIndex((h) => h.startsWith('Warnings')), headings.join(', '));
    assert.match(miss.next, 'hookwire integrations update');

    // The evidence is one click away, as the API has it.
    await card(page, miss).getByText('Evidence').click();
    assert.match((await card(page, miss).locator('.evidence').textContent())!, '"published": "temp"');

    await card(page, miss).getByRole('link', { name: 'Integration "temperature"' }).click();
    await page.waitForURL(`${b.url}/console/integrations/${nearMiss}`);
    assert.equal(problems, []);
    await context.close();
  });

  test('Re-run checks again and shows when; one integration is picked in the URL', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/doctor');
    await page.locator('.checked time').first().waitFor();
    const first = await checkedAt(page);
    await page.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForFunction((before) => {
      const at = document.querySelector('.checked time')?.getAttribute('datetime');
      return at && at !== before;
    }, first);
    assert.ok(Date.parse((await checkedAt(page))!) > Date.parse(first!), 'checked later');
    await page.getByRole('button', { name: 'Re-run' }).waitFor(); // enabled again, not "Checking…"

    // Only the refused target's integration.
    await page.getByLabel('Check').selectOption(unreachable);
    await page.waitForURL(`${b.url}/console/doctor?integration=${unreachable}`);
    const only = await findings(`?integration=${unreachable}`);
    await page.getByText('1 integration', { exact: false }).first().waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('article.finding').length === n, only.length);
    const checks = await page.locator('article.finding code.check').allTextContents();
    assert.equal(checks, only.map((f) => f.check));
    assert.not.ok(checks.includes('NEAR_MISS_NAME'), 'the other integration is left out');

    // A shared link opens the same filter; every integration again.
    await page.goto(`${b.url}/console/doctor?integration=${nearMiss}`);
    assert.is(await page.getByLabel('Check').inputValue(), nearMiss);
    await card(page, (await findings(`?integration=${nearMiss}`)).find((f) => f.check === 'NEAR_MISS_NAME')!).waitFor();
    await page.getByLabel('Check').selectOption('');
    await page.waitForURL(`${b.url}/console/doctor`);
    await page.getByRole('region', { name: /^Errors/ }).waitFor();
    assert.equal(problems, []);
    await context.close();
  });

  test('an integration ID the bridge does not know: the API\'s answer, and a way back', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/doctor?integration=${'0'.repeat(24)}`);
    await page.getByRole('alert').filter({ hasText: 'INTEGRATION_NOT_FOUND' }).waitFor();
    await page.getByLabel('Check').selectOption('');
    await page.getByRole('region', { name: /^Errors/ }).waitFor();
    // The 404 is the answer the page expects here, not an error of the page.
    assert.equal(problems.filter((p) => !p.includes('404')), []);
    await context.close();
  });

  test('a read token sees the findings and may re-run; no serious accessibility violation at 1280 and 375 px', async () => {
    const read = (await b.call('POST', '/v1/access_tokens', { name: 'oncall', scope: 'read' })).body.token;
    for (const width of [1280, 375]) {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, read, '/console/doctor');
      await page.getByRole('region', { name: /^Errors/ }).waitFor();
      await page.getByRole('region', { name: /^Warnings/ }).waitFor();
      assert.equal(await page.locator('main button').allTextContents(), ['Re-run']);
      await page.locator('article.finding summary').first().click(); // evidence open too
      assert.equal(await accessibilityProblems(page), []);
      if (width === 375) {
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= 375, `the page is ${scrollWidth} px wide at 375`);
      }
      await screenshot(page, width === 375 ? 'doctor-375' : 'doctor');
      assert.equal(problems, []);
      await context.close();
    }
  });
}

test.run();
