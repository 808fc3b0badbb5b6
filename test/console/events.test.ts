// The Events page in a real browser: events a real MQTT device publishes appear live with the
// device's name; typed data opens as pretty JSON; a private event and the cloud's webhook
// replies are marked; the prefix and device filters are kept in the URL and only matching
// events show; pause holds events (counted as "N new") and resume shows them; a burst of
// 2,000 events is counted in full while only the rows in view are in the DOM; axe finds
// nothing serious at 1280 and 375 px.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';
import { deviceClient, type TestClient } from '../helpers/mqtt.ts';

let b: TestBridge;
let browser: Browser;
let kitchen: { id: string; token: string };
let porch: { id: string; token: string };
let sdk: Device;
let porchClient: TestClient;

/** The page's count of events received. */
async function received(page: Page): Promise<number> {
  return Number((await page.locator('.received strong').textContent())!.replace(/,/g, ''));
}

/** The event names in the list, top (newest) first. */
async function names(page: Page): Promise<string[]> {
  const rows = await page.locator('.event-row').evaluateAll((lis) =>
    lis.map((li) => ({ top: parseFloat((li as HTMLElement).style.top), name: li.querySelector('.ev-name .mono')!.getAttribute('title')! })));
  return rows.sort((a, c) => a.top - c.top).map((r) => r.name);
}

async function live(page: Page): Promise<void> {
  await page.locator('.stream-live').waitFor();
}

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    b = await testBridge();
    browser = await launchBrowser();
    kitchen = await b.addDevice({ name: 'kitchen' });
    porch = await b.addDevice({ name: 'porch' });
    sdk = await connectDevice({ url: b.mqttUrl, deviceId: kitchen.id, token: kitchen.token, timeoutMs: 5000 });
    porchClient = await deviceClient(b.mqttUrl, porch);
    const hook = await b.call('POST', '/v1/integrations', { event: 'temp', url: `${b.url}/bin/events-test`, requestType: 'POST', json: { v: '{{{PARTICLE_EVENT_VALUE}}}' } });
    assert.is(hook.status, 201, JSON.stringify(hook.body));
  });
  test.after(async () => {
    await sdk?.disconnect();
    await porchClient?.end();
    await browser?.close();
    await b?.stop();
  });

  test('events appear live with the device name; typed data as JSON; private events and webhook replies marked', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/events');
    await live(page);

    await sdk.publish('temp', { celsius: 21.5, room: 'kitchen' }, { qos: 1 });
    // The cloud publishing into the kitchen's private space.
    assert.is((await b.call('POST', '/v1/devices/events', { name: `${kitchen.id}/relay/on`, data: '1' })).status, 200);

    const temp = page.locator('.event-row', { has: page.locator('.ev-name .mono', { hasText: /^temp$/ }) });
    await temp.waitFor();
    assert.is(await temp.locator('.ev-device').textContent(), 'kitchen');
    assert.match((await temp.locator('time').getAttribute('datetime'))!, /^\d{4}-\d\d-\d\dT/);

    // Shown with the owner's name for its ID; the full name on hover.
    const privateRow = page.locator('.event-row', { has: page.locator(`[title="${kitchen.id}/relay/on"]`) });
    await privateRow.locator('.mark-private').waitFor();
    assert.is(await privateRow.locator('.ev-name .mono').textContent(), 'kitchen/relay/on');
    assert.is(await privateRow.locator('.ev-device').textContent(), 'API');
    assert.is(await temp.locator('.mark-private').count(), 0, 'a public event is not marked private');

    // The integration's call and the bin's answer come back as the cloud's replies.
    await page.locator('.event-row .mark-hook-sent').waitFor();
    const response = page.locator('.event-row', { has: page.locator('.mark-hook-response') });
    await response.waitFor();
    assert.ok((await response.locator('.ev-name .mono').getAttribute('title'))!.startsWith(`${kitchen.id}/hook-response/temp/`));
    assert.is(await response.locator('.mark-private').count(), 1, 'a hook response is in the device\'s private space');

    await temp.getByRole('button').click();
    const detail = page.getByRole('complementary', { name: 'temp' });
    await detail.waitFor();
    assert.is(await detail.getByRole('heading', { name: 'Data (JSON)' }).count(), 1);
    const shown = (await detail.locator('pre').textContent())!;
    assert.equal(JSON.parse(shown), { celsius: 21.5, room: 'kitchen' });
    assert.ok(shown.includes('\n  "celsius": 21.5'), `pretty JSON expected: ${shown}`);
    await screenshot(page, 'events');
    assert.equal(problems, []);
    await context.close();
  });

  test('the prefix and device filters are kept in the URL, and only matching events show', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/events');
    await live(page);
    await page.getByLabel('Name starts with').fill('door');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/console\/events\?prefix=door$/);
    await live(page);
    await porchClient.client.publishAsync('window/open', 'x', { qos: 1 });
    await porchClient.client.publishAsync('door/open', 'porch', { qos: 1 });
    await sdk.publish('doorbell', 'ding', { qos: 1 });
    await until(async () => (await received(page)) === 2, 5000, 'two door events');
    assert.equal(await names(page), ['doorbell', 'door/open']);

    await page.getByLabel('Device').selectOption({ label: 'porch' });
    await page.waitForURL(new RegExp(`prefix=door&device=${porch.id}$`));
    await live(page);
    assert.is(await received(page), 0, 'a new filter starts an empty list');
    await sdk.publish('door/open', 'kitchen', { qos: 1 });
    await porchClient.client.publishAsync('door/closed', 'porch', { qos: 1 });
    await until(async () => (await received(page)) === 1, 5000, 'the porch event');
    assert.equal(await names(page), ['door/closed']);
    assert.is(await page.locator('.event-row .ev-device').first().textContent(), 'porch');

    // The URL alone gives the same view: it can be shared.
    const { page: other, problems: otherProblems, context: otherContext } = await watchedPage(browser);
    await signIn(other, b.url, b.token, `/console/events?prefix=door&device=${porch.id}`);
    assert.is(await other.getByLabel('Name starts with').inputValue(), 'door');
    assert.is(await other.getByLabel('Device').inputValue(), porch.id);
    await live(other);
    await porchClient.client.publishAsync('door/open', 'again', { qos: 1 });
    await until(async () => (await received(other)) === 1, 5000, 'the shared view\'s event');
    assert.equal(otherProblems, []);
    await otherContext.close();
    assert.equal(problems, []);
    await context.close();
  });

  test('pause holds what arrives and says how many; resume shows them; clear empties the list', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/events?prefix=held');
    await live(page);
    await porchClient.client.publishAsync('held/1', 'a', { qos: 1 });
    await until(async () => (await names(page)).length === 1, 5000, 'the first event');

    await page.getByRole('button', { name: 'Pause' }).click();
    for (const n of [2, 3, 4]) await porchClient.client.publishAsync(`held/${n}`, 'b', { qos: 1 });
    await page.getByRole('button', { name: /Resume.*3 new/ }).waitFor();
    assert.equal(await names(page), ['held/1'], 'nothing moves while paused');
    await screenshot(page, 'events-paused');

    await page.getByRole('button', { name: /Resume/ }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    assert.equal(await names(page), ['held/4', 'held/3', 'held/2', 'held/1']);
    assert.is(await received(page), 4);

    await page.getByRole('button', { name: 'Clear list' }).click();
    assert.equal(await names(page), []);
    await porchClient.client.publishAsync('held/5', 'c', { qos: 1 });
    await until(async () => (await names(page)).length === 1, 5000, 'the event after clearing');
    assert.equal(problems, []);
    await context.close();
  });

  test('a burst of 2,000 events: every one counted, only the rows in view in the DOM', async () => {
    const BURST = 2000;
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/events?prefix=burst');
    await live(page);
    const rowsSeen: number[] = [];
    const sampling = setInterval(() => void page.locator('.event-row').count().then((n) => rowsSeen.push(n), () => {}), 20);
    for (let i = 0; i < BURST; i++) porchClient.client.publish('burst', JSON.stringify({ i }), { qos: 0 });
    await until(async () => (await received(page)) >= BURST, 20_000, `${BURST} events received`);
    clearInterval(sampling);
    assert.is(await received(page), BURST);

    // All of them are in the list (its height is every row's), few of them in the DOM.
    const rows = await page.locator('.event-row').count();
    const listHeight = await page.locator('.event-scroll ul').evaluate((ul) => (ul as HTMLElement).offsetHeight);
    assert.is(listHeight, BURST * 34);
    assert.ok(rows > 0 && rows < 60, `${rows} rows in the DOM`);
    assert.ok(Math.max(...rowsSeen) < 60, `at most ${Math.max(...rowsSeen)} rows at any time`);
    assert.is(await page.locator('.event-row .ev-data').first().textContent(), JSON.stringify({ i: BURST - 1 }), 'the newest on top');

    // Scrolled to the end, the oldest is there, and the DOM is still small.
    await page.locator('.event-scroll').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.locator('.event-row .ev-data', { hasText: JSON.stringify({ i: 0 }) }).waitFor();
    assert.ok((await page.locator('.event-row').count()) < 60);
    assert.equal(problems, []);
    await context.close();
  });

  test('a stream that ends is reopened by itself, and the page says so meanwhile', async () => {
    const { page, problems, context } = await watchedPage(browser);
    // The first stream is cut short after one event, as a restarting bridge would cut it;
    // the next one goes to the bridge.
    let opened = 0;
    await page.route('**/v1/events/again', (route) => {
      if (opened++ > 0) return route.continue();
      const frame = { data: 'before', ttl: 60, published_at: new Date().toISOString(), coreid: porch.id };
      return route.fulfill({ status: 200, contentType: 'text/event-stream', body: `:ok\n\nevent: again\ndata: ${JSON.stringify(frame)}\n\n` });
    });
    await signIn(page, b.url, b.token, '/console/events?prefix=again');
    await page.locator('.stream-reconnecting').waitFor();
    assert.match((await page.locator('.stream-state').textContent())!, /the stream ended; trying again in 1 s/);
    await live(page);
    await porchClient.client.publishAsync('again', 'after', { qos: 1 });
    await until(async () => (await received(page)) === 2, 5000, 'an event after reconnecting');
    assert.equal(await page.locator('.event-row .ev-data').allTextContents(), ['after', 'before']);
    assert.is(opened, 2);
    assert.equal(problems, []);
    await context.close();
  });

  for (const width of [1280, 375]) {
    test(`at ${width} px with events and the detail open: no serious accessibility violations, nothing wider than the screen`, async () => {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, b.token, '/console/events');
      await live(page);
      await sdk.publish('temp', { celsius: 19 }, { qos: 1 });
      await porchClient.client.publishAsync('door/open', 'porch', { qos: 1 });
      await page.locator('.event-row .mark-hook-response').waitFor();
      await page.locator('.event-row', { has: page.locator('.ev-name .mono', { hasText: /^temp$/ }) }).getByRole('button').click();
      await page.getByRole('complementary', { name: 'temp' }).waitFor();
      assert.equal(await accessibilityProblems(page), []);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(scrollWidth <= width, `${scrollWidth} px wide at ${width}`);
      await screenshot(page, width === 375 ? 'events-375' : 'events-detail');
      assert.equal(problems, []);
      await context.close();
    });
  }
}

test.run();
