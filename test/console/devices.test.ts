// The Devices page in a real browser: add a device (its token shown once, with lines that
// connect it), see it come online and go offline as a real device connects, rename it, give
// it a new token, delete it; a read token sees the list and no change buttons.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'playwright-core';
import { connectDevice } from '../../firmware-sdk/index.ts';
import { testBridge, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';
import { connackCode } from '../helpers/mqtt.ts';

let b: TestBridge;
let browser: Browser;

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    b = await testBridge();
    browser = await launchBrowser();
  });
  test.after(async () => {
    await browser?.close();
    await b?.stop();
  });

  test('add a device: its token once, with a mosquitto_pub line and SDK snippets that connect it; it shows online, then offline', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/devices');
    await page.getByText('No devices yet').waitFor();
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByLabel('Name (optional)').fill('porch');
    await page.getByRole('button', { name: 'Add device' }).last().click();

    await page.getByRole('heading', { name: 'Token for porch' }).waitFor();
    const token = (await page.locator('.notice pre').first().textContent())!;
    assert.match(token, /^hwd_/);
    const [device] = (await b.call('GET', '/v1/devices')).body;
    const mosquitto = (await page.locator('.notice pre').nth(1).textContent())!;
    assert.ok(mosquitto.includes(`-u ${device.id} -P '${token}'`) && mosquitto.includes(`-p ${b.mqttPort}`), mosquitto);
    assert.ok((await page.locator('.notice pre').nth(2).textContent())!.includes(`url: '${b.mqttUrl}'`));
    await screenshot(page, 'devices-token');

    // The token on the page is the one that works.
    const sdk = await connectDevice({ url: b.mqttUrl, deviceId: device.id, token, timeoutMs: 5000 });
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByText('1 of 1 online').waitFor();
    await page.getByRole('cell', { name: /online/ }).waitFor();
    await sdk.disconnect();
    await page.getByText('0 of 1 online').waitFor();

    // Once dismissed, the token is nowhere on the page.
    assert.not.ok((await page.content()).includes(token));
    assert.equal(problems, []);
    await context.close();
  });

  test('rename, a new token (the old one stops working), delete', async () => {
    const d = await b.addDevice({ name: 'shed' });
    const { page, problems, context } = await watchedPage(browser);
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, b.url, b.token, '/console/devices');
    const row = page.getByRole('row', { name: /shed/ });
    await row.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name').fill('barn');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /barn/ }).waitFor();
    assert.is((await b.call('GET', `/v1/devices/${d.id}`)).body.name, 'barn');

    await page.getByRole('row', { name: /barn/ }).getByRole('button', { name: 'New token' }).click();
    await page.getByRole('heading', { name: 'Token for barn' }).waitFor();
    const fresh = (await page.locator('.notice pre').first().textContent())!;
    assert.is.not(fresh, d.token);
    assert.is(await connackCode(b.mqttUrl, { clientId: d.id, username: d.id, password: d.token }), 4, 'the old token is refused');
    await page.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('row', { name: /barn/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('row', { name: /barn/ }).waitFor({ state: 'detached' });
    assert.is((await b.call('GET', `/v1/devices/${d.id}`)).status, 404);
    assert.equal(problems, []);
    await context.close();
  });

  test('a name the API refuses is shown under the name field, and nothing is added', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/devices');
    const before = (await b.call('GET', '/v1/devices')).body.length;
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByLabel('Name (optional)').fill('no spaces allowed');
    await page.getByRole('button', { name: 'Add device' }).last().click();
    await page.locator('#device-name-error').waitFor();
    assert.match((await page.locator('#device-name-error').textContent())!, /1-64 characters/);
    assert.is((await b.call('GET', '/v1/devices')).body.length, before);
    // A 400 is the answer the page expects here, not an error of the page.
    assert.equal(problems.filter((p) => !p.includes('400')), []);
    await context.close();
  });

  test('a read token sees the devices and no change buttons; the page passes axe at 1280 and 375 px', async () => {
    await b.addDevice({ name: 'garage' });
    const read = (await b.call('POST', '/v1/access_tokens', { name: 'viewer', scope: 'read' })).body.token;
    for (const width of [1280, 375]) {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, read, '/console/devices');
      await page.getByText('garage').waitFor();
      assert.is(await page.getByRole('button', { name: /Add device|Rename|New token|Delete/ }).count(), 0);
      await page.getByText('read-only').waitFor();
      assert.equal(await accessibilityProblems(page), []);
      await screenshot(page, width === 375 ? 'devices-375' : 'devices');
      assert.equal(problems, []);
      await context.close();
    }
  });
}

test.run();
