// Every console page, on a bridge with something on it, as an admin and as a read token, at
// a desktop width and at 375 px: it loads with no console error, no exception and no failed
// request; axe-core finds no serious or critical violation; a read token sees no change
// button and none of the secrets the integrations hold. A screenshot of each is saved under
// test-results/console/ for a person to look at.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { connectDevice } from '../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';

/** Values only an admin may see: a header value, a basic-auth password, a query secret. */
const SECRETS = ['sk_live_header_7f3a9', 'basic-pass-4411', 'query-secret-99e2'];
/** Buttons and links that change something; a read token must not be offered any. */
const CHANGES = /^(Add device|Add a device|Rename|New token|Delete|New integration|Create one|Edit|Save|Save changes|Create integration|Fill the form|TEST|Test|Disable|Enable|Replay.*|Rotate.*|Make a signing secret|Stop signing|Create.*|Set the answer|Clear requests|Add bin|New bin)$/;

let b: TestBridge;
let browser: Browser;
let integrationId = '';
let bin = 'inbox';

async function seed(): Promise<void> {
  const kitchen = await b.addDevice({ name: 'kitchen', product_id: 7, firmware_version: 3 });
  await b.addDevice({ name: 'porch' });
  await b.call('PUT', `/v1/bins/${bin}`, { status: 200, body: 'ok' });
  const created = await b.call('POST', '/v1/integrations', {
    event: 'temp',
    url: `${b.url}/bin/${bin}?key=${SECRETS[2]}`,
    requestType: 'POST',
    json: { value: '{{{PARTICLE_EVENT_VALUE}}}' },
    headers: { 'X-Api-Key': SECRETS[0] },
    auth: { username: 'hook', password: SECRETS[1] },
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  integrationId = created.body.id;
  const device = await connectDevice({ url: b.mqttUrl, deviceId: kitchen.id, token: kitchen.token, timeoutMs: 5000 });
  await device.publish('temp', '21.5', { qos: 1 });
  await device.publish('temp', { celsius: 21.7 }, { qos: 1 });
  await until(async () => (await b.call('GET', `/v1/integrations/${integrationId}`)).body.integration.counters.total_calls >= 2, 5000, 'two deliveries');
  await device.disconnect();
}

const PAGES = (): [string, string][] => [
  ['dashboard', '/console/dashboard'],
  ['devices', '/console/devices'],
  ['events', '/console/events'],
  ['integrations', '/console/integrations'],
  ['integration', `/console/integrations/${integrationId}`],
  ['integration-edit', `/console/integrations/${integrationId}/edit`],
  ['integration-new', '/console/integrations/new'],
  ['doctor', '/console/doctor'],
  ['bins', '/console/bins'],
  ['bin', `/console/bins/${bin}`],
];

/** Wait until a page has rendered its content (no "Loading…" left). */
async function settled(page: Page): Promise<void> {
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), undefined, { timeout: 5000 });
}

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    b = await testBridge();
    browser = await launchBrowser();
    await seed();
  });
  test.after(async () => {
    await browser?.close();
    await b?.stop();
  });

  for (const width of [1280, 375]) {
    test(`every page as an admin at ${width} px: no errors, no serious accessibility violations`, async () => {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, b.token);
      for (const [name, path] of PAGES()) {
        await page.goto(b.url + path);
        await settled(page);
        const found = await accessibilityProblems(page);
        assert.equal(found, [], `${name}: ${JSON.stringify(found, null, 1)}`);
        await screenshot(page, `page-${name}${width === 375 ? '-375' : ''}`);
        // At 375 px nothing may force the page wider than the screen.
        if (width === 375) {
          const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(scrollWidth <= 375, `${name} is ${scrollWidth} px wide at 375`);
        }
      }
      assert.equal(problems, []);
      await context.close();
    });
  }

  test('a read token sees every page with no change buttons and no secrets', async () => {
    const read = (await b.call('POST', '/v1/access_tokens', { name: 'wallboard', scope: 'read' })).body.token;
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, read);
    for (const [name, path] of PAGES()) {
      if (name === 'integration-edit' || name === 'integration-new') continue; // changing pages: checked below
      await page.goto(b.url + path);
      await settled(page);
      const offered = await page.getByRole('button', { name: CHANGES }).or(page.getByRole('link', { name: CHANGES })).allTextContents();
      assert.equal(offered, [], `${name} offers ${offered.join(', ')} to a read token`);
      const html = await page.content();
      for (const secret of SECRETS) assert.not.ok(html.includes(secret), `${name} shows ${secret} to a read token`);
      await screenshot(page, `read-${name}`);
    }
    // The form is not for a read token: it says so instead of offering to save.
    await page.goto(`${b.url}/console/integrations/${integrationId}/edit`);
    await page.locator('main h1').first().waitFor();
    assert.is(await page.getByRole('button', { name: CHANGES }).count(), 0);
    for (const secret of SECRETS) assert.not.ok((await page.content()).includes(secret));
    assert.equal(problems, []);
    await context.close();
  });

  test('an admin sees the integration\'s secrets where it edits them', async () => {
    const { page, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${integrationId}/edit`);
    await settled(page);
    await page.waitForFunction((s) => document.body.innerHTML.includes(s) || [...document.querySelectorAll('input, textarea')].some((e) => (e as HTMLInputElement).value.includes(s)), SECRETS[0]!);
    await context.close();
  });

  test('a console URL opened while signed out comes back to that page after sign-in', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await page.goto(`${b.url}/console/integrations/${integrationId}`);
    await page.getByLabel('API token').fill(b.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${b.url}/console/integrations/${integrationId}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    // The cookie is gone with the session: reloading asks to sign in again.
    await page.reload();
    await page.getByLabel('API token').waitFor();
    assert.equal(problems, []);
    await context.close();
  });

  test('an unknown console URL says so and links back', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/nowhere');
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByRole('link', { name: 'Go to the dashboard' }).click();
    await page.waitForURL(`${b.url}/console/dashboard`);
    assert.equal(problems, []);
    await context.close();
  });
}

test.run();
