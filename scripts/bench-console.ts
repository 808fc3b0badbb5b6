// The console in headless Chromium (Debian's, driven by playwright-core):
//
//  (a) first load of /console, signed in, until the dashboard is rendered and the main thread
//      is idle: bytes transferred (every request's encoded size, headers included, from the
//      DevTools protocol) and time to interactive, median of --runs. Three cases: a cold
//      bridge (a fresh process: its first /console request builds the bundle in memory), a
//      warm bridge with an empty browser cache, and a reload with the browser's cache warm.
//  (b) the Events page under a stream of --rate events/s for --duration s, published by one
//      real MQTT device (mqtt.js, QoS 0, paced every 10 ms): long tasks (count, total ms),
//      animation frames drawn against those drawn by the same page with no events (the
//      baseline, measured first), the page's JS heap and DOM size at the end, and the events
//      the page counted against those sent.
//
//   npx tsx scripts/bench-console.ts [--runs 3] [--rate 1000] [--duration 30] [--skip-load] [--skip-stream]
//
// HOOKWIRE_CHROMIUM names another Chromium binary (default /usr/bin/chromium). Time to
// interactive here: navigation start until the page shows its content (main h1 present, no
// aria-busy), or, when later, the end of the last long task (> 50 ms) within the 1 s after
// that. Results also go to .bench/console.json.

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  fmt, fmtKb, intFlag, machineInfo, median, numberFlag, onCleanup, printMachine, printTable, runBench, sleep,
  startBridgeProcess, UsageError, writeResults, type BridgeProcess,
} from './lib/bench.ts';

const CHROMIUM = process.env.HOOKWIRE_CHROMIUM ?? '/usr/bin/chromium';
/** After the content shows, how long to watch for long tasks before calling the page interactive. */
const QUIET_MS = 1000;
/** The baseline's length: frames an idle Events page draws. */
const BASELINE_MS = 3000;

const usage = `usage: npx tsx scripts/bench-console.ts [options]
  --runs N          page loads per case, median shown (3)
  --rate N          events/s published during the stream test (1000)
  --duration S      length of the stream test, seconds (30)
  --skip-load       only the stream test
  --skip-stream     only the first-load test`;

interface Options {
  runs: number;
  rate: number;
  durationSec: number;
  load: boolean;
  stream: boolean;
}

/** Watches the page from its first script on: long tasks, and frames once counting starts. */
const PAGE_PROBES = `
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  window.__frames = 0;
  const tick = () => { window.__frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
`;

type LongTask = [start: number, duration: number];

/** The little of the page's globals the probes read (this file is type-checked without the DOM's types). */
interface InPage {
  document: {
    querySelector(selector: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): { length: number };
    getElementsByTagName(name: string): { length: number };
  };
  __frames: number;
}

async function newContext(browser: Browser, bridge: BridgeProcess): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(PAGE_PROBES);
  // Signed in as the console signs in: the session cookie lands in this context.
  const res = await context.request.post(`${bridge.url}/console/session`, { data: { token: bridge.adminToken } });
  if (!res.ok()) throw new Error(`sign-in: HTTP ${res.status()}`);
  return context;
}

/** Sum of every response's encoded length (body and headers) while the page loads. */
async function countBytes(context: BrowserContext, page: Page): Promise<{ total: () => number; requests: () => number }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    requests++;
  });
  return { total: () => bytes, requests: () => requests };
}

interface Load {
  bytes: number;
  requests: number;
  /** Navigation start until content shown, ms. */
  renderedMs: number;
  /** Navigation start until rendered and the main thread idle, ms. */
  interactiveMs: number;
}

/** Load the dashboard in `page` (navigating, or reloading when it is there already). */
async function measureLoad(context: BrowserContext, page: Page, bridge: BridgeProcess, reload: boolean): Promise<Load> {
  const bytes = await countBytes(context, page);
  if (reload) await page.reload({ waitUntil: 'commit' });
  else await page.goto(`${bridge.url}/console/dashboard`, { waitUntil: 'commit' });
  const rendered = await page.waitForFunction(() => {
    const { document } = globalThis as unknown as InPage;
    return document.querySelector('main h1') && !document.querySelector('[aria-busy="true"]') && performance.now();
  }, undefined, { polling: 'raf', timeout: 60_000 });
  const renderedMs = (await rendered.jsonValue()) as number;
  await sleep(QUIET_MS);
  const tasks = (await page.evaluate('window.__longTasks')) as LongTask[];
  const lastEnd = Math.max(0, ...tasks.filter(([start]) => start < renderedMs + QUIET_MS).map(([s, d]) => s + d));
  return { bytes: bytes.total(), requests: bytes.requests(), renderedMs, interactiveMs: Math.max(renderedMs, lastEnd) };
}

interface LoadCase {
  name: string;
  loads: Load[];
}

async function firstLoads(browser: Browser, options: Options): Promise<LoadCase[]> {
  const cold: Load[] = [];
  for (let i = 0; i < options.runs; i++) {
    const bridge = await startBridgeProcess({ name: `bridge (cold ${i + 1})` });
    const context = await newContext(browser, bridge);
    cold.push(await measureLoad(context, await context.newPage(), bridge, false));
    await context.close();
    await bridge.stop();
  }

  const bridge = await startBridgeProcess({ name: 'bridge (warm)' });
  const warmUp = await newContext(browser, bridge);
  await measureLoad(warmUp, await warmUp.newPage(), bridge, false);
  await warmUp.close();
  const warm: Load[] = [];
  const cached: Load[] = [];
  for (let i = 0; i < options.runs; i++) {
    const context = await newContext(browser, bridge);
    const page = await context.newPage();
    warm.push(await measureLoad(context, page, bridge, false));
    cached.push(await measureLoad(context, page, bridge, true));
    await context.close();
  }
  await bridge.stop();
  return [
    { name: 'cold bridge (builds the bundle), empty browser cache', loads: cold },
    { name: 'warm bridge, empty browser cache', loads: warm },
    { name: 'warm bridge, browser cache warm (reload)', loads: cached },
  ];
}

function printLoads(cases: LoadCase[]): void {
  printTable(['first load of /console/dashboard, signed in', 'requests', 'transferred', 'rendered', 'interactive', 'interactive (min-max)'],
    cases.map(({ name, loads }) => {
      const tti = loads.map((l) => l.interactiveMs);
      return [
        name,
        fmt(median(loads.map((l) => l.requests))),
        fmtKb(median(loads.map((l) => l.bytes)) / 1024),
        `${fmt(median(loads.map((l) => l.renderedMs)))} ms`,
        `${fmt(median(tti))} ms`,
        `${fmt(Math.min(...tti))}-${fmt(Math.max(...tti))} ms`,
      ];
    }));
}

// ---------------------------------------------------------------------------------------
// The Events page under a stream

/** Publish `rate` events/s for `ms`, paced every 10 ms so the rate holds at any speed. */
async function publishPaced(client: mqtt.MqttClient, rate: number, ms: number): Promise<number> {
  let sent = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; sent < due; sent++) client.publish('bench/reading', JSON.stringify({ n: sent, celsius: 21.5 }), { qos: 0 });
    await sleep(10);
  }
  return sent;
}

interface PageCounts {
  /** Events the page says it received. */
  received: number;
  rows: number;
  domNodes: number;
  state: string;
  frames: number;
  now: number;
}

/** What the Events page shows and has drawn. */
function pageCounts(page: Page): Promise<PageCounts> {
  return page.evaluate(() => {
    const { document, __frames } = globalThis as unknown as InPage;
    return {
      received: Number((document.querySelector('.received strong')?.textContent ?? '').replace(/,/g, '')),
      rows: document.querySelectorAll('.event-row').length,
      domNodes: document.getElementsByTagName('*').length,
      state: document.querySelector('.stream-state .badge')?.textContent ?? '',
      frames: __frames,
      now: performance.now(),
    };
  });
}

interface StreamResult {
  rate: number;
  durationSec: number;
  sent: number;
  received: number;
  longTasks: { count: number; totalMs: number; maxMs: number };
  frames: { drawn: number; baselinePerSec: number; expected: number; dropped: number };
  heapMb: { before: number; after: number };
  domNodes: number;
  rowsInDom: number;
  streamState: string;
}

async function eventsUnderLoad(browser: Browser, options: Options): Promise<StreamResult> {
  const bridge = await startBridgeProcess({ name: 'bridge (stream)' });
  const device = (await bridge.api<{ id: string; token: string }>('POST', '/v1/devices', { name: 'bench' })).body;
  const client = await mqtt.connectAsync(bridge.mqttUrl, { clientId: device.id, username: device.id, password: device.token, protocolVersion: 4, reconnectPeriod: 0 });
  onCleanup(() => client.endAsync(true));

  const context = await newContext(browser, bridge);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const heapMb = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN) / 2 ** 20;
  };
  await page.goto(`${bridge.url}/console/events?prefix=bench`);
  await page.locator('.stream-live').waitFor({ timeout: 30_000 });

  // The baseline: frames the same page draws with nothing arriving.
  const idle0 = await pageCounts(page);
  await sleep(BASELINE_MS);
  const idle1 = await pageCounts(page);
  const baselinePerSec = ((idle1.frames - idle0.frames) / (idle1.now - idle0.now)) * 1000;

  const heapBefore = await heapMb();
  const start = await pageCounts(page);
  console.log(`publishing ${fmt(options.rate)} events/s for ${options.durationSec} s…`);
  const sent = await publishPaced(client, options.rate, options.durationSec * 1000);
  const end = await pageCounts(page);

  // What is still on its way is counted, not timed.
  let last = await pageCounts(page);
  for (let i = 0; i < 50 && last.received < sent; i++) {
    await sleep(100);
    last = await pageCounts(page);
  }
  const tasks = ((await page.evaluate('window.__longTasks')) as LongTask[]).filter(([s]) => s >= start.now && s <= end.now);
  const heapAfter = await heapMb();
  const drawn = end.frames - start.frames;
  const expected = ((end.now - start.now) / 1000) * baselinePerSec;
  await context.close();
  await client.endAsync(true);
  await bridge.stop();
  return {
    rate: options.rate,
    durationSec: options.durationSec,
    sent,
    received: last.received,
    longTasks: { count: tasks.length, totalMs: tasks.reduce((n, [, d]) => n + d, 0), maxMs: Math.max(0, ...tasks.map(([, d]) => d)) },
    frames: { drawn, baselinePerSec, expected, dropped: Math.max(0, expected - drawn) },
    heapMb: { before: heapBefore, after: heapAfter },
    domNodes: last.domNodes,
    rowsInDom: last.rows,
    streamState: last.state,
  };
}

function printStream(r: StreamResult): void {
  const pct = (n: number, of: number) => `${fmt((n / of) * 100, 1)} %`;
  printTable(['Events page under load', 'value'], [
    ['events sent / counted by the page', `${fmt(r.sent)} / ${fmt(r.received)} (${pct(r.received, r.sent)})`],
    ['long tasks (> 50 ms) while streaming', `${fmt(r.longTasks.count)}, ${fmt(r.longTasks.totalMs)} ms in all, longest ${fmt(r.longTasks.maxMs)} ms`],
    ['frames drawn / expected (idle page: frames/s)', `${fmt(r.frames.drawn)} / ${fmt(r.frames.expected)} (${fmt(r.frames.baselinePerSec, 1)}/s)`],
    ['frames dropped', `${fmt(r.frames.dropped)} (${pct(r.frames.dropped, r.frames.expected)})`],
    ['JS heap before / after', `${fmt(r.heapMb.before, 1)} MB / ${fmt(r.heapMb.after, 1)} MB`],
    ['DOM elements / event rows at the end', `${fmt(r.domNodes)} / ${fmt(r.rowsInDom)}`],
    ['stream at the end', r.streamState],
  ]);
}

await runBench(async () => {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '30' },
      'skip-load': { type: 'boolean', default: false },
      'skip-stream': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return console.log(usage);
  const options: Options = {
    runs: intFlag('runs', values.runs),
    rate: intFlag('rate', values.rate),
    durationSec: numberFlag('duration', values.duration),
    load: !values['skip-load'],
    stream: !values['skip-stream'],
  };
  if (!existsSync(CHROMIUM)) throw new UsageError(`Chromium not found at ${CHROMIUM}: sudo apt-get install -y chromium (or set HOOKWIRE_CHROMIUM)`);
  const machine = machineInfo();
  printMachine(machine);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  onCleanup(() => browser.close());
  const results: { loads?: LoadCase[]; stream?: StreamResult } = {};
  if (options.load) {
    console.log(`loading the console ${options.runs} times per case…`);
    results.loads = await firstLoads(browser, options);
    console.log('');
    printLoads(results.loads);
  }
  if (options.stream) {
    results.stream = await eventsUnderLoad(browser, options);
    console.log('');
    printStream(results.stream);
  }
  const path = await writeResults('console', { machine, options, results });
  console.log(`\nresults: ${path}`);
});
