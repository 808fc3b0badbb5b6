// The Dashboard page in a real browser. A new bridge says there is no traffic yet and what to
// do; then real traffic (a device publishing over MQTT to an integration whose receiver
// answers 200, then 500; API publishes, one refused) and older counts in the store give every
// period different figures, and every figure on the page is checked against GET
// /v1/dashboard for 24 hours, 7 and 30 days. The period switch keeps the period in the URL;
// a failure row leads to its integration; a read token sees it all; axe finds nothing
// serious at 1280 and 375 px.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { connectDevice, type Device } from '../../firmware-sdk/index.ts';
import type { StatsRow } from '../../bridge/store/index.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { INSTALL_CHROMIUM, accessibilityProblems, chromiumAvailable, launchBrowser, screenshot, signIn, watchedPage } from '../helpers/browser.ts';
import { receiver, type Receiver } from '../helpers/receiver.ts';

type Kind = 'outbound' | 'inbound' | 'device';
interface Counts { successes: number; failures: number }
interface Summary {
  period: string;
  from: string;
  types: Record<Kind, Counts & { change: { successes: number | null; failures: number | null } }>;
  failures_by_code: { code: string; count: number; title: string; check: string }[];
  trends: ({ at: string } & Record<Kind, Counts>)[];
  failures: { total: number; rows: { integration_id: string | null; event: string | null; code: string; description: string; count: number }[] };
}

/** Each type's tile, and its columns in the trend's table. */
const TYPES: [Kind, string, string][] = [['outbound', 'Outbound webhooks', 'Outbound'], ['inbound', 'Inbound (API publishes)', 'Inbound'], ['device', 'Device events', 'Device']];
const PERIODS: [string, string][] = [['1d', '24 hours'], ['7d', '7 days'], ['30d', '30 days']];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GONE = 'f'.repeat(24); // an integration deleted since its failures

let b: TestBridge;
let rx: Receiver;
let browser: Browser;
let device: Device | undefined;
let hookId = '';
let failing = false;

async function dashboard(period: string): Promise<Summary> {
  const res = await b.call('GET', `/v1/dashboard?period=${period}`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body as Summary;
}

/** Counts kept from before this run: an hour `ago` ms back, so each period sees different figures. */
function older(ago: number, type: Kind, integrationId: string, code: string, description: string, count: number): StatsRow {
  const at = Date.now() - ago;
  const hour = at - (at % HOUR);
  return { hour, type, integrationId, code, description, count, firstAt: hour + 60_000, lastAt: hour + 120_000 };
}

/** Real traffic: 4 deliveries answered 200, then 2 answered 500; API publishes, one refused. */
async function traffic(): Promise<void> {
  const d = await b.addDevice({ name: 'boiler' });
  // Retried an hour later: nothing moves while the page is compared with the API.
  const created = await b.call('POST', '/v1/integrations', { event: 'temp', url: `${rx.url}/hook`, requestType: 'POST', retryPolicy: [3600] });
  assert.is(created.status, 201, JSON.stringify(created.body));
  hookId = created.body.id;
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token, timeoutMs: 5000 });
  const calls = async (n: number) => {
    await until(async () => (await b.call('GET', `/v1/integrations/${hookId}`)).body.integration.counters.total_calls >= n, 5000, `${n} calls`);
  };
  for (let i = 0; i < 4; i++) await device.publish('temp', String(20 + i), { qos: 1 });
  await calls(4);
  failing = true;
  for (let i = 0; i < 2; i++) await device.publish('temp', String(30 + i), { qos: 1 });
  await calls(6);
  assert.is((await b.call('POST', '/v1/devices/events', { name: 'from-erp', data: 'go' })).status, 200);
  assert.is((await b.call('POST', '/v1/devices/events', { data: 'no name' })).status, 400);
  await b.webhooks.idle();

  await b.store.stats.add([
    older(30 * HOUR, 'outbound', hookId, '', '', 12), // 1d's previous period, 7d's and 30d's current
    older(3 * DAY, 'outbound', GONE, 'ECONNREFUSED', 'Connection refused', 7),
    older(20 * DAY, 'device', '', '', '', 100), // 30d only
    older(45 * DAY, 'device', '', '', '', 40), // 30d's previous period
  ]);
}

/** A change as the CLI prints it (docs/dashboard.md). */
const changeText = (change: number | null, now: number) => (change === null ? (now ? 'new' : '–') : `${change > 0 ? '+' : ''}${change}%`);
const number = (text: string | null) => Number((text ?? '').replace(/,/g, ''));

/** Wait until the page shows `period`'s answer (its window starts where the API's does). */
async function showing(page: Page, s: Summary): Promise<void> {
  await page.locator(`.window time[datetime="${s.from}"]`).first().waitFor();
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
}

/** Every figure on the page against the API's answer for the same period. */
async function sameFigures(page: Page, s: Summary): Promise<void> {
  for (const [kind, label] of TYPES) {
    const tile = page.getByRole('region', { name: label });
    const [successes, failures] = await tile.locator('dd .figure').allTextContents();
    const changes = (await tile.locator('dd .change').allTextContents()).map((t) => t.replace(/^[▲▼]\s*/, ''));
    const t = s.types[kind];
    assert.equal([number(successes!), number(failures!)], [t.successes, t.failures], `${s.period} ${kind}`);
    assert.equal(changes, [changeText(t.change.successes, t.successes), changeText(t.change.failures, t.failures)], `${s.period} ${kind} change`);
  }

  const byCode = page.getByRole('region', { name: 'Failures by code' }).locator('tbody tr');
  assert.is(await byCode.count(), s.failures_by_code.length, `${s.period} codes`);
  for (const [i, c] of s.failures_by_code.entries()) {
    const row = byCode.nth(i);
    assert.is(await row.locator('code').textContent(), c.code);
    assert.is(number(await row.locator('td[data-label="Failures"]').textContent()), c.count);
    assert.is(await row.locator('td[data-label="What to check"]').textContent(), c.check);
    assert.ok((await row.textContent())!.includes(c.title));
  }

  // The trend's figures, bucket by bucket.
  const buckets = page.getByRole('region', { name: 'Trend' }).locator('.trend-table tbody tr');
  assert.is(await buckets.count(), s.trends.length, `${s.period} buckets`);
  for (const [kind, , short] of TYPES) {
    for (const what of ['successes', 'failures'] as const) {
      const shown = (await page.locator(`td[data-label="${short} ${what}"]`).allTextContents()).map(number);
      assert.equal(shown, s.trends.map((t) => t[kind][what]), `${s.period} ${kind} ${what} trend`);
    }
  }

  const rows = page.getByRole('region', { name: 'Failures', exact: true }).locator('tbody tr');
  assert.is(await rows.count(), s.failures.rows.length, `${s.period} failure rows`);
  for (const [i, r] of s.failures.rows.entries()) {
    const row = rows.nth(i);
    assert.is(number(await row.locator('td[data-label="Count"]').textContent()), r.count);
    assert.ok((await row.locator('td[data-label="Failure"]').textContent())!.includes(r.description));
  }
}

if (!chromiumAvailable) {
  test(`chromium not installed: console tests skipped (${INSTALL_CHROMIUM})`, () => {});
} else {
  test.before(async () => {
    [b, rx, browser] = await Promise.all([testBridge(), receiver(), launchBrowser()]);
    rx.on('/hook', (_req, res) => {
      res.statusCode = failing ? 500 : 200;
      res.end(failing ? 'down' : 'ok');
    });
  });
  test.after(async () => {
    await device?.disconnect();
    await browser?.close();
    await b?.stop();
    await rx?.close();
  });

  test('a new bridge: no traffic yet, and what to do first', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/dashboard');
    await page.getByRole('heading', { name: 'No traffic yet' }).waitFor();
    assert.is(await page.getByRole('link', { name: 'Add a device' }).getAttribute('href'), '/console/devices');
    assert.is(await page.getByRole('link', { name: 'create an integration' }).getAttribute('href'), '/console/integrations/new');
    assert.equal(await accessibilityProblems(page), []);
    await screenshot(page, 'dashboard-empty');
    assert.equal(problems, []);
    await context.close();
  });

  test('every figure equals the API\'s for 24 hours, 7 and 30 days; the switch keeps the period in the URL', async () => {
    await traffic();
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/dashboard');

    // No ?period= is the API's default, 30 days.
    const thirty = await dashboard('30d');
    await showing(page, thirty);
    assert.is(await page.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed'), 'true');

    const seen: Record<string, number> = {};
    for (const [period, label] of PERIODS) {
      const s = await dashboard(period);
      await page.getByRole('button', { name: label }).click();
      assert.is(new URL(page.url()).searchParams.get('period'), period === '30d' ? null : period);
      await showing(page, s);
      assert.is(await page.getByRole('button', { name: label }).getAttribute('aria-pressed'), 'true');
      await sameFigures(page, s);
      seen[period] = s.types.outbound.successes + s.types.device.successes;
    }
    // The history in the store gives each period its own figures: the switch changed them.
    assert.equal(seen, { '1d': 4 + 6, '7d': 4 + 12 + 6, '30d': 4 + 12 + 106 });

    // What happened here, in figures a person reads: 500s explained, and the refused publish.
    const day = await dashboard('1d');
    assert.equal(day.failures_by_code.map((c) => [c.code, c.count]), [['500', 2], ['BAD_REQUEST', 1]]);
    assert.equal([day.types.outbound.failures, day.types.inbound.successes, day.types.inbound.failures], [2, 1, 1]);

    // A shared link opens the same period.
    await page.goto(`${b.url}/console/dashboard?period=7d`);
    await showing(page, await dashboard('7d'));
    assert.is(await page.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed'), 'true');
    assert.equal(problems, []);
    await context.close();
  });

  test('a failure row leads to its integration; a deleted integration\'s row leads nowhere', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await signIn(page, b.url, b.token, '/console/dashboard?period=7d');
    const failures = page.getByRole('region', { name: 'Failures', exact: true });
    const live = failures.getByRole('row', { name: /HTTP 500/ });
    const link = live.getByRole('link', { name: new RegExp(`temp ${hookId}`) });
    assert.is(await link.getAttribute('href'), `/console/integrations/${hookId}`);
    assert.is(await live.getByRole('link', { name: 'Ask the doctor' }).getAttribute('href'), `/console/doctor?integration=${hookId}`);
    const gone = failures.getByRole('row', { name: /Connection refused/ });
    assert.ok((await gone.textContent())!.includes('(deleted)'));
    assert.is(await gone.getByRole('link').count(), 0);

    await link.click();
    await page.waitForURL(`${b.url}/console/integrations/${hookId}`);
    assert.equal(problems, []);
    await context.close();
  });

  test('a read token sees the dashboard; no serious accessibility violation at 1280 and 375 px', async () => {
    const read = (await b.call('POST', '/v1/access_tokens', { name: 'wallboard', scope: 'read' })).body.token;
    for (const width of [1280, 375]) {
      const { page, problems, context } = await watchedPage(browser, { width });
      await signIn(page, b.url, read, '/console/dashboard?period=7d');
      await showing(page, await dashboard('7d'));
      // The period switch is the only thing to press: nothing here changes the bridge.
      assert.equal(await page.locator('main button').allTextContents(), PERIODS.map(([, label]) => label));
      await page.getByText('Figures per day').click(); // the trend table open too
      assert.equal(await accessibilityProblems(page), []);
      if (width === 375) {
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= 375, `the page is ${scrollWidth} px wide at 375`);
      }
      await screenshot(page, width === 375 ? 'dashboard-375' : 'dashboard');
      assert.equal(problems, []);
      await context.close();
    }
  });
}

test.run();
