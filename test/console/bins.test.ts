// The request bin pages in a real browser: create a bin by name; a request posted to its
// capture URL appears live with its method, path, query, headers and body (pretty JSON);
// setting the answer changes what /bin/<name> answers; clearing forgets the requests; the
// list shows each bin's count and answer; a read token sees no change buttons; axe finds
// nothing serious at 1280 and 375 px.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { testBridge, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';

const CHANGES = /^(Create bin|Set the answer|Clear requests)$/;

let b: TestBridge;
let browser: Browser;

/** A request card by the request's path. */
const card = (page: Page, path: string) => page.locator('.bin-request', { has: page.locator('h2 code', { hasText: path }) });

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

  test('create a bin: its capture URL is shown, and a request posted to it appears live with its body as JSON', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/bins');
    await page.getByText('No bins yet').waitFor();
    await page.getByLabel('New bin name').fill('orders');
    await page.getByRole('button', { name: 'Create bin' }).click();
    await page.waitForURL(`${b.url}/console/bins/orders`);
    await page.getByText('No requests yet').waitFor();
    assert.is(await page.locator('.copy pre').first().textContent(), `${b.url}/bin/orders`);
    assert.is((await b.call('GET', '/v1/bins/orders')).status, 200, 'the bin exists');

    const res = await fetch(`${b.url}/bin/orders/new?src=shop`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 'abc' }, body: '{"order":42,"items":["tea"]}' });
    assert.is(res.status, 200);
    const request = card(page, '/bin/orders/new?src=shop');
    await request.waitFor();
    assert.is(await request.locator('.badge.method').textContent(), 'POST');
    assert.match((await request.locator('.request-head').textContent())!, /from 127\.0\.0\.1/);
    assert.equal(await request.getByRole('definition').first().textContent(), 'shop', 'the query');
    assert.ok((await request.getByLabel(/Headers of request/).textContent())!.includes('x-traceabc'));
    const body = (await request.getByLabel(/Body of request/).textContent())!;
    assert.equal(JSON.parse(body), { order: 42, items: ['tea'] });
    assert.ok(body.includes('\n  "order": 42'), `pretty JSON expected: ${body}`);
    assert.match((await request.locator('h3', { hasText: 'Body' }).textContent())!, /JSON, 28 bytes/);

    // A second one goes on top, as it comes.
    await fetch(`${b.url}/bin/orders`, { method: 'PUT', body: 'plain text' });
    await card(page, '/bin/orders').filter({ hasText: 'plain text' }).waitFor();
    assert.equal(await page.locator('.bin-request .badge.method').allTextContents(), ['PUT', 'POST']);
    await screenshot(page, 'bin-detail');
    assert.equal(problems, []);
    await context.close();
  });

  test('setting the answer changes what the bin answers', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/bins/orders');
    await page.getByLabel('Status', { exact: true }).fill('503');
    await page.getByLabel('Headers', { exact: true }).fill('Retry-After: 120\nX-Reason: maintenance');
    await page.getByLabel('Body', { exact: true }).fill('down for maintenance');
    await page.getByRole('button', { name: 'Set the answer' }).click();
    await page.getByText('Answer set.').waitFor();

    const res = await fetch(`${b.url}/bin/orders`);
    assert.is(res.status, 503);
    assert.is(res.headers.get('retry-after'), '120');
    assert.is(res.headers.get('x-reason'), 'maintenance');
    assert.is(await res.text(), 'down for maintenance');

    // A JSON body is sent as JSON; what the API refuses shows under its field.
    await page.getByLabel('Status', { exact: true }).fill('201');
    await page.getByLabel('Headers', { exact: true }).fill('');
    await page.getByLabel('Body', { exact: true }).fill('{"stored": true}');
    await page.getByRole('button', { name: 'Set the answer' }).click();
    await page.getByText('Answer set.').waitFor();
    const json = await fetch(`${b.url}/bin/orders`);
    assert.is(json.status, 201);
    assert.match(json.headers.get('content-type')!, /^application\/json/);
    assert.equal(await json.json(), { stored: true });

    await page.getByLabel('Headers', { exact: true }).fill('Content-Length: 5');
    await page.getByRole('button', { name: 'Set the answer' }).click();
    await page.locator('#answer-headers-error').waitFor();
    assert.match((await page.locator('#answer-headers-error').textContent())!, /not a header a bin may set/);
    assert.is((await fetch(`${b.url}/bin/orders`)).status, 201, 'a refused answer changes nothing');
    // The 400 is the answer the form expects, not an error of the page.
    assert.equal(problems.filter((p) => !p.includes('400')), []);
    await context.close();
  });

  test('clear forgets the requests and keeps the answer', async () => {
    const { page, problems, context } = await watchedPage(browser);
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, b.url, b.token, '/console/bins/orders');
    await page.locator('.bin-request').first().waitFor();
    await page.getByRole('button', { name: 'Clear requests' }).click();
    await page.getByText('No requests yet').waitFor();
    assert.is((await b.call('GET', '/v1/bins/orders')).body.count, 0);
    // Still live after clearing.
    await fetch(`${b.url}/bin/orders/after-clear`, { method: 'POST', body: 'x' });
    await card(page, '/bin/orders/after-clear').waitFor();
    assert.is(await page.locator('.bin-request').count(), 1);
    assert.is((await fetch(`${b.url}/bin/orders`)).status, 201);
    assert.equal(problems, []);
    await context.close();
  });

  test('the list: each bin with its request count, answer and capture URL; a bin made by its first request is there too', async () => {
    await fetch(`${b.url}/bin/made-by-post`, { method: 'POST', body: 'hi' });
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/bins');
    const row = page.getByRole('row', { name: /made-by-post/ });
    await row.waitFor();
    assert.is(await row.locator('td[data-label="Requests"]').textContent(), '1');
    assert.match((await row.locator('td[data-label="Answer"]').textContent())!, /200.*\{"ok":true\}/);
    assert.is(await row.locator('pre').textContent(), `${b.url}/bin/made-by-post`);
    const orders = page.getByRole('row', { name: /orders/ });
    const { count, total } = (await b.call('GET', '/v1/bins/orders')).body;
    assert.ok(total > count, 'orders was cleared');
    assert.is(await orders.locator('td[data-label="Requests"]').textContent(), `${count} of ${total}`);
    assert.match((await orders.locator('td[data-label="Answer"]').textContent())!, /^201/);
    await row.getByRole('link', { name: 'made-by-post' }).click();
    await page.waitForURL(`${b.url}/console/bins/made-by-post`);
    await card(page, '/bin/made-by-post').waitFor();
    assert.equal(problems, []);
    await context.close();
  });

  test('a read token sees bins and requests, with no change buttons and no answer form', async () => {
    const read = (await b.call('POST', '/v1/access_tokens', { name: 'viewer', scope: 'read' })).body.token;
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, read, '/console/bins');
    await page.getByRole('row', { name: /orders/ }).waitFor();
    assert.is(await page.getByRole('button', { name: CHANGES }).count(), 0);
    assert.is(await page.getByLabel('New bin name').count(), 0);
    await page.goto(`${b.url}/console/bins/orders`);
    await page.locator('.bin-request').first().waitFor();
    await page.getByRole('heading', { name: 'Answer' }).waitFor();
    assert.is(await page.getByRole('button', { name: CHANGES }).count(), 0);
    assert.is(await page.getByLabel('Status', { exact: true }).count(), 0);
    assert.match((await page.locator('.answer').textContent())!, /Status201/);
    // Live for a reader too.
    await fetch(`${b.url}/bin/orders/read`, { method: 'POST', body: 'seen' });
    await card(page, '/bin/orders/read').waitFor();
    assert.equal(problems, []);
    await context.close();
  });

  for (const width of [1280, 375]) {
    test(`at ${width} px: no serious accessibility violations, nothing wider than the screen`, async () => {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, b.token, '/console/bins');
      await page.getByRole('row', { name: /orders/ }).waitFor();
      for (const [path, name] of [['/console/bins', 'bins'], ['/console/bins/orders', 'bin-detail']] as const) {
        await page.goto(b.url + path);
        await page.locator(name === 'bins' ? 'table.bins' : '.bin-request').first().waitFor();
        assert.equal(await accessibilityProblems(page), [], path);
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= width, `${path} is ${scrollWidth} px wide at ${width}`);
        if (width === 375 || name === 'bins') await screenshot(page, width === 375 ? `${name}-375` : name);
      }
      assert.equal(problems, []);
      await context.close();
    });
  }
}

test.run();
