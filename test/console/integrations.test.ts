// The integration pages in a real browser, against a real bridge, a real device publishing
// over MQTT and a real receiver: create through the form (a bad URL refused under its field,
// broken JSON said at once, the live preview rendering the sample event); the integration's
// page turning Active with the success in its log, then Failing with the error's code and
// guidance when the receiver answers 500; replay reaching the receiver; TEST; disable with a
// reason; a signing secret shown once; edit and delete; the list; a read token seeing no
// change button and no secret. Every page passes axe at 1280 and 375 px.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';
import { receiver, type Receiver } from '../helpers/receiver.ts';

/** The template's secret: a header value a read token must never see. */
const SECRET = 's3cr3t-header-value';
/** Every button or link that changes something. */
const CHANGES = /^(New integration|Edit|Delete|TEST|Enable|Disable|Replay.*|Rotate secret|Make a signing secret|Stop signing|Create integration|Save changes)$/;

let b: TestBridge;
let rx: Receiver;
let browser: Browser;
let device: Device;
let deviceId: string;
/** What the receiver answers now. */
let status = 200;
/** The integration the form creates; the later tests work on it. */
let hookId: string;

const toHook = () => rx.requests.filter((r) => r.url === '/hook');
const stateBadge = (page: Page, state: string) => page.locator('.state-line .badge', { hasText: new RegExp(`^${state}$`) });
const section = (page: Page, name: string) => page.getByRole('region', { name, exact: true });
/** A 400 (or 409) is an answer the page expects and shows; anything else is a problem. */
const unexpected = (problems: string[]) => problems.filter((p) => !/status of 400/.test(p));

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    // Retries compressed (Particle's 30 s and 60 s become 30 and 60 ms) so a failure is given
    // up and kept for replay at once; every target is 127.0.0.1, so keep the host throttle out of it.
    b = await testBridge({ timeScale: 0.001, throttleMinErrors: 1_000_000 });
    rx = await receiver();
    rx.on('/hook', (req, res) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(status < 300 ? '{"stored":true}' : '{"error":"database down"}');
    });
    const creds = await b.addDevice({ name: 'kitchen' });
    deviceId = creds.id;
    device = await connectDevice({ url: b.mqttUrl, deviceId, token: creds.token, timeoutMs: 5000 });
    browser = await launchBrowser();
  });
  test.after(async () => {
    await device?.disconnect();
    await browser?.close();
    await b?.stop();
    await rx?.close();
  });

  test('create through the form: a bad URL under its field, broken JSON at once, the preview renders the sample event; saved, its page opens', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/integrations');
    await page.getByText('No integrations yet').waitFor();
    await page.getByRole('link', { name: 'New integration' }).click();
    await page.waitForURL(`${b.url}/console/integrations/new`);

    await page.getByLabel('Event', { exact: true }).fill('temp');
    await page.getByLabel('URL', { exact: true }).fill('ftp://example.com/in');
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.locator('#hook-url-error').waitFor();
    assert.match((await page.locator('#hook-url-error').textContent())!, /^Must start with http:\/\/ or https:\/\//);
    assert.is(await page.getByLabel('URL', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal((await b.call('GET', '/v1/integrations')).body, [], 'nothing was created');
    // The preview names the field too.
    assert.match((await page.locator('.preview-error').textContent())!, /^URL: Must start with http/);

    // JSON that does not parse is said under its field before anything is sent.
    await page.getByLabel('Headers', { exact: true }).fill(`{"X-Secret": "${SECRET}"`);
    await page.locator('#hook-headers-error').waitFor();
    assert.match((await page.locator('#hook-headers-error').textContent())!, /^Not valid JSON/);
    await page.getByLabel('Headers', { exact: true }).fill(`{"X-Secret": "${SECRET}"}`);
    await page.locator('#hook-headers-error').waitFor({ state: 'detached' });

    await page.getByLabel('Name', { exact: true }).fill('Kitchen temperature');
    await page.getByLabel('URL', { exact: true }).fill(`${rx.url}/hook`);
    await page.getByRole('radio', { name: 'JSON', exact: true }).check();
    await page.getByRole('textbox', { name: 'JSON', exact: true }).fill('{"reading": "{{{temp}}}", "device": "{{{PARTICLE_DEVICE_ID}}}"}');
    await page.getByLabel('Sample data').fill('{"temp": 23.5}');
    await page.getByLabel('Sample device ID').fill(deviceId);

    // The preview: the request this template sends for that sample, with nothing sent.
    const body = page.getByLabel('Preview: request body');
    await page.locator('.preview pre', { hasText: '"reading": "23.5"' }).waitFor();
    const sent = JSON.parse((await body.textContent())!);
    assert.equal([sent.event, sent.data, sent.coreid, sent.reading, sent.device], ['temp', '{"temp": 23.5}', deviceId, '23.5', deviceId]);
    assert.is(await page.locator('.preview .request-line').textContent(), `POST ${rx.url}/hook`);
    const headers = (await page.getByLabel('Preview: request headers').textContent())!;
    assert.ok(headers.includes('content-typeapplication/json') && headers.includes(`x-secret${SECRET}`), headers);
    assert.is(rx.requests.length, 0, 'a preview sends nothing');

    // A sample name the template would never fire for is refused, naming the field.
    await page.getByLabel('Sample event name').fill('humidity');
    await page.locator('.preview-error', { hasText: 'Sample event name:' }).waitFor();
    await page.getByLabel('Sample event name').fill('');
    await page.locator('.preview pre', { hasText: '"reading": "23.5"' }).waitFor();

    assert.equal(await accessibilityProblems(page), []);
    await screenshot(page, 'integration-new');

    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.waitForURL(/\/console\/integrations\/[0-9a-f]{24}$/);
    hookId = page.url().split('/').pop()!;
    await page.getByRole('heading', { name: 'Kitchen temperature' }).waitFor();
    await stateBadge(page, 'Unknown').waitFor();
    const saved = (await b.call('GET', `/v1/integrations/${hookId}`)).body.integration;
    assert.equal([saved.event, saved.url, saved.json, saved.headers], ['temp', `${rx.url}/hook`, { reading: '{{{temp}}}', device: '{{{PARTICLE_DEVICE_ID}}}' }, { 'X-Secret': SECRET }]);
    assert.equal(unexpected(problems), []);
    await context.close();
  });

  test('a device publishes: the page turns Active, with the success, its request and response in the log', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    await stateBadge(page, 'Unknown').waitFor();
    await device.publish('temp', '{"temp": 21}', { qos: 1 });

    await stateBadge(page, 'Active').waitFor();
    const successes = section(page, 'Last successes');
    const entry = successes.locator('.log').first();
    await entry.waitFor();
    assert.match((await entry.locator('summary').textContent())!, /^200temp/);
    assert.is(await entry.locator('.request-line').textContent(), `POST ${rx.url}/hook`);
    assert.equal(JSON.parse((await entry.getByLabel(/: request body$/).textContent())!).reading, '21');
    assert.equal(JSON.parse((await entry.getByLabel(/: response body$/).textContent())!), { stored: true });
    assert.is(toHook().length, 1);
    assert.equal(JSON.parse(toHook()[0]!.body.toString()).device, deviceId);
    await section(page, 'Counters').getByText('Calls1').waitFor();
    assert.equal(problems, []);
    await context.close();
  });

  test('the receiver answers 500: Failing, the error with its code and guidance, and the delivery kept for replay', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    await stateBadge(page, 'Active').waitFor();
    status = 500;
    await device.publish('temp', '{"temp": 30}', { qos: 1 });

    await stateBadge(page, 'Failing').waitFor();
    const error = section(page, 'Last errors').locator('.log').first();
    await error.waitFor();
    assert.match((await error.locator('summary').textContent())!, /^500temp/);
    assert.match((await error.locator('.error-text').textContent())!, new RegExp(`^500 error status 500 from 127\\.0\\.0\\.1:${rx.port}`));
    assert.match((await error.locator('.guidance').textContent())!, /Check:/);
    assert.equal(JSON.parse((await error.getByLabel(/: response body$/).textContent())!), { error: 'database down' });

    // Particle's policy: tried 3 times, then given up and kept for replay.
    const row = section(page, 'Failed deliveries').getByRole('row', { name: new RegExp(`^temp ${deviceId}`) });
    await row.waitFor();
    assert.is(await row.locator('td[data-label="Attempts"]').textContent(), '3');
    assert.match((await row.locator('td[data-label="Last error"]').textContent())!, /^500/);
    // The 30-day chart follows the counters: today's success and the three failed attempts.
    await section(page, 'Last 30 days').getByText('1 success, 3 errors, 0 skipped (UTC days).').waitFor();
    await screenshot(page, 'integration-failing');
    assert.equal(problems, []);
    await context.close();
  });

  test('replay one failed delivery: the receiver gets it again, it is delivered and no longer listed', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    const failures = section(page, 'Failed deliveries');
    await failures.getByRole('row', { name: new RegExp(`^temp ${deviceId}`) }).waitFor();
    status = 200;
    const before = toHook().length;
    const replayed = JSON.parse(toHook().at(-1)!.body.toString());
    await failures.getByRole('button', { name: /^Replay delivery \d+$/ }).click();
    await failures.getByText('Replayed 1 delivery.').waitFor();
    await until(() => toHook().length > before, 5000, 'the replayed request');
    assert.equal(JSON.parse(toHook().at(-1)!.body.toString()), replayed, 'the same event, sent again');
    await stateBadge(page, 'Active').waitFor();
    await failures.getByText('No failed deliveries.').waitFor();
    assert.equal(problems, []);
    await context.close();
  });

  test('TEST: a pass with its request and response, a failure with its code and guidance; counters untouched', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    const calls = (await b.call('GET', `/v1/integrations/${hookId}`)).body.integration.counters.total_calls;
    const panel = section(page, 'Test');
    await panel.getByLabel('Event data').fill('{"temp": 19}');
    await panel.getByRole('button', { name: 'TEST' }).click();
    const result = panel.locator('.test-result');
    await result.getByText('Passed', { exact: true }).waitFor();
    assert.equal(JSON.parse((await result.getByLabel('Test: request body').textContent())!).reading, '19');
    // No device named: the placeholder device, whose topic nothing was published on.
    assert.match((await result.textContent())!, /The device would hear this on 000000000000000000000000\/hook-response\/temp in 1 part \(nothing was published\)/);

    status = 503;
    await panel.getByRole('button', { name: 'TEST' }).click();
    await result.getByText('Failed', { exact: true }).waitFor();
    assert.match((await result.locator('p').first().textContent())!, /Failed 503 error status 503/);
    assert.match((await result.locator('.guidance').textContent())!, /^503 .*Check:/);
    status = 200;
    assert.is((await b.call('GET', `/v1/integrations/${hookId}`)).body.integration.counters.total_calls, calls, 'a test is not a delivery');
    assert.equal(problems, []);
    await context.close();
  });

  test('disable with a reason: Disabled, by whom and why, here and in the list; enable brings it back', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    await page.getByLabel('Reason (optional)').fill('receiver moving to a new host');
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await stateBadge(page, 'Disabled').waitFor();
    const api = (await b.call('GET', `/v1/integrations/${hookId}`)).body.integration;
    assert.equal([api.disabled, api.disabled_reason], [true, 'receiver moving to a new host']);
    const why = `Disabled by ${api.disabled_by}: receiver moving to a new host`;
    assert.is(await page.locator('.state-reason').textContent(), why);

    await page.getByRole('link', { name: 'All integrations' }).click();
    const row = page.getByRole('row', { name: /Kitchen temperature/ });
    await row.locator('.state-why', { hasText: why }).waitFor();
    await row.getByRole('link', { name: 'Kitchen temperature' }).click();
    await page.getByRole('button', { name: 'Enable' }).click();
    await stateBadge(page, 'Unknown').waitFor();
    assert.is((await b.call('GET', `/v1/integrations/${hookId}`)).body.integration.disabled, false);
    assert.equal(problems, []);
    await context.close();
  });

  test('a signing secret is shown once with Copy; rotating makes another; stop signing', async () => {
    const { page, problems, context } = await watchedPage(browser);
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    const signing = section(page, 'Signing');
    await signing.getByRole('button', { name: 'Make a signing secret' }).click();
    const shown = signing.locator('.notice-box pre');
    await shown.waitFor();
    const first = (await shown.textContent())!;
    assert.match(first, /^whsec_/);
    await signing.getByRole('button', { name: 'Copy the signing secret' }).waitFor();
    await signing.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    assert.not.ok((await page.content()).includes(first), 'once dismissed, the secret is nowhere on the page');

    // The secret shown is the one that signs.
    const before = toHook().length;
    await device.publish('temp', '{"temp": 22}', { qos: 1 });
    await until(() => toHook().length > before, 5000, 'a signed request');
    assert.match(String(toHook().at(-1)!.headers['webhook-signature']), /^v1,/);

    await signing.getByRole('button', { name: 'Rotate secret' }).click();
    await shown.waitFor();
    assert.is.not(await shown.textContent(), first);
    await signing.getByText('The previous secret also signs until').waitFor();
    await signing.getByRole('button', { name: 'Done' }).click();
    await signing.getByRole('button', { name: 'Stop signing' }).click();
    await signing.getByText('Requests are not signed.').waitFor();
    assert.is((await b.call('GET', `/v1/integrations/${hookId}`)).body.integration.signing.enabled, false);
    assert.equal(problems, []);
    await context.close();
  });

  test('edit: the form holds the saved template; a change is saved and shown', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, `/console/integrations/${hookId}`);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL(`${b.url}/console/integrations/${hookId}/edit`);
    assert.is(await page.getByLabel('URL', { exact: true }).inputValue(), `${rx.url}/hook`);
    assert.equal(JSON.parse(await page.getByLabel('Headers', { exact: true }).inputValue()), { 'X-Secret': SECRET });
    assert.ok(await page.getByRole('radio', { name: 'JSON', exact: true }).isChecked());
    await page.getByLabel('Name', { exact: true }).fill('Kitchen temperature log');
    await page.getByRole('radio', { name: 'Durable (for 79 hours, then disabled)' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(`${b.url}/console/integrations/${hookId}`);
    await page.getByRole('heading', { name: 'Kitchen temperature log' }).waitFor();
    const saved = (await b.call('GET', `/v1/integrations/${hookId}`)).body.integration;
    assert.equal([saved.name, saved.retryPolicy, saved.headers, saved.json.reading], ['Kitchen temperature log', 'durable', { 'X-Secret': SECRET }, '{{{temp}}}']);
    assert.equal(problems, []);
    await context.close();
  });

  test('a pasted Particle template fills the form (its aliases understood); created, then deleted', async () => {
    const { page, problems, context } = await watchedPage(browser);
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, b.url, b.token, '/console/integrations/new');
    await page.getByText('Paste a Particle template').click();
    await page.getByLabel('Template JSON').fill(JSON.stringify({
      eventName: 'door', url: `${rx.url}/door`, requestType: 'get', deviceid: deviceId, query: { state: '{{{PARTICLE_EVENT_VALUE}}}' }, noDefaults: true, mydevices: true,
    }));
    await page.getByRole('button', { name: 'Fill the form' }).click();
    assert.is(await page.getByLabel('Event', { exact: true }).inputValue(), 'door');
    assert.is(await page.getByLabel('Method').inputValue(), 'GET');
    assert.is(await page.getByLabel('Device ID', { exact: true }).inputValue(), deviceId);
    assert.ok(await page.getByLabel('No default fields').isChecked());
    await page.getByLabel('Sample data').fill('open');
    await page.locator('.preview .request-line', { hasText: `GET ${rx.url}/door?state=open` }).waitFor();

    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.waitForURL(/\/console\/integrations\/[0-9a-f]{24}$/);
    const id = page.url().split('/').pop()!;
    await page.getByRole('heading', { name: 'Integration door' }).waitFor();
    assert.is((await b.call('GET', `/v1/integrations/${id}`)).body.integration.deviceID, deviceId);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${b.url}/console/integrations`);
    await page.getByRole('row', { name: /Kitchen temperature/ }).waitFor();
    assert.is(await page.getByRole('row', { name: /door/ }).count(), 0);
    assert.is((await b.call('GET', `/v1/integrations/${id}`)).status, 404);
    assert.equal(problems, []);
    await context.close();
  });

  test('the list: state, event, target host, counters, last success and a 7-day trend, each leading to its page', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/integrations');
    const row = page.getByRole('row', { name: /Kitchen temperature/ });
    await row.waitFor();
    const counters = (await b.call('GET', `/v1/integrations/${hookId}`)).body.integration.counters;
    const cell = async (label: string) => (await row.locator(`td[data-label="${label}"]`).textContent())!.trim();
    assert.is(await cell('Event'), 'temp');
    assert.is(await cell('Target'), `POST 127.0.0.1:${rx.port}`);
    assert.is(await cell('Calls'), String(counters.total_calls));
    assert.is(await cell('Errors'), String(counters.total_errors));
    assert.match(await cell('Last success'), /ago|now/);
    assert.match((await row.getByRole('img').getAttribute('aria-label'))!, new RegExp(`^Last 7 days: ${counters.total_calls} attempts, ${counters.total_errors} errors$`));
    await row.getByRole('link', { name: 'Kitchen temperature log' }).click();
    await page.waitForURL(`${b.url}/console/integrations/${hookId}`);
    assert.equal(problems, []);
    await context.close();
  });

  test('a read token: no change buttons on any integration page, and the template\'s secret nowhere', async () => {
    const read = (await b.call('POST', '/v1/access_tokens', { name: 'wallboard', scope: 'read' })).body.token;
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, read, '/console/integrations');
    await page.getByRole('row', { name: /Kitchen temperature/ }).waitFor();
    assert.is(await page.getByRole('button', { name: CHANGES }).count(), 0);
    assert.is(await page.getByRole('link', { name: CHANGES }).count(), 0);

    await page.goto(`${b.url}/console/integrations/${hookId}`);
    await section(page, 'Last successes').locator('.log').first().waitFor();
    await section(page, 'Failed deliveries').getByText('No failed deliveries.').waitFor();
    assert.is(await page.getByRole('button', { name: CHANGES }).count(), 0);
    assert.is(await page.getByRole('link', { name: CHANGES }).count(), 0);
    await page.getByText('The template as JSON').click();
    const template = JSON.parse((await page.getByLabel('The template as JSON').textContent())!);
    assert.is(template.headers['X-Secret'], '[redacted]');
    assert.not.ok((await page.content()).includes(SECRET), 'the secret header value is not on the page');

    await page.goto(`${b.url}/console/integrations/${hookId}/edit`);
    await page.getByText('A read-only token cannot change integrations.').waitFor();
    assert.is(await page.getByRole('button', { name: CHANGES }).count(), 0);
    assert.equal(problems, []);
    await context.close();
  });

  for (const width of [1280, 375]) {
    test(`at ${width} px: every integration page passes axe and is no wider than the screen`, async () => {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, b.token, '/console/integrations');
      const pages: [string, string, string][] = [
        ['/console/integrations', 'table.integrations', 'integrations'],
        [`/console/integrations/${hookId}`, '.log', 'integration-detail'],
        ['/console/integrations/new', '.preview', 'integration-new'],
        [`/console/integrations/${hookId}/edit`, '.preview .request-line', 'integration-edit'],
      ];
      for (const [path, ready, name] of pages) {
        await page.goto(b.url + path);
        await page.locator(ready).first().waitFor();
        if (name === 'integration-detail') await page.locator('.chart canvas').first().waitFor();
        assert.equal(await accessibilityProblems(page), [], path);
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= width, `${path} is ${scrollWidth} px wide at ${width}`);
        await screenshot(page, width === 375 ? `${name}-375` : name);
      }
      assert.equal(problems, []);
      await context.close();
    });
  }
}

test.run();
