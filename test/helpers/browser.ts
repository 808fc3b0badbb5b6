// The console in a real browser: Debian's Chromium driven by playwright-core (no browser is
// ever downloaded). CI installs chromium (.ci/run) and sets HOOKWIRE_REQUIRE_CHROMIUM=1, so
// there a missing browser fails the suite; on a machine without it the console tests say they
// were skipped and how to install it. HOOKWIRE_CHROMIUM names another Chromium binary.
//
// Every page a test opens records console errors, failed requests and uncaught exceptions;
// `screenshot` saves a PNG under test-results/console/ (git-ignored) for a person to look at.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { root } from './spawn.ts';

export const CHROMIUM = process.env.HOOKWIRE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
export const INSTALL_CHROMIUM = 'sudo apt-get install -y chromium';

if (!chromiumAvailable && process.env.HOOKWIRE_REQUIRE_CHROMIUM === '1') {
  throw new Error(`Chromium not found at ${CHROMIUM}: ${INSTALL_CHROMIUM}`);
}

export const SHOTS = join(root, 'test-results', 'console');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
}

/** A page and what went wrong in it. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** console.error messages, uncaught exceptions, and HTTP answers ≥ 500 or failed requests. */
  problems: string[];
}

export interface PageOptions {
  /** Viewport width, CSS pixels (default 1280; 375 is a phone). */
  width?: number;
  height?: number;
}

/** A fresh browser context (its own cookies) with one page, watched for errors. */
export async function watchedPage(browser: Browser, options: PageOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  // A step that waits longer than this has failed; the default 30 s only slows the report.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (err) => problems.push(`exception: ${err.message}`));
  page.on('requestfailed', (r) => {
    // An event stream or poll cut off by leaving the page is not a failure of the page.
    const why = r.failure()?.errorText ?? '';
    if (!why.includes('ERR_ABORTED')) problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
  });
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
  return { page, context, problems };
}

/** Sign in through the console's own form with an API token. */
export async function signIn(page: Page, baseUrl: string, token: string, path = '/console/dashboard'): Promise<void> {
  await page.goto(baseUrl + path);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Save a full-page PNG as test-results/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** axe-core's script, run through the DevTools protocol: the console's CSP forbids inline scripts, rightly. */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
export async function accessibilityProblems(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  const rules = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } };
  const violations = await page.evaluate(`axe.run(document, ${JSON.stringify(rules)}).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
  })))`) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
