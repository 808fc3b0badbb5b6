// The simulator against a real bridge: the CLI as a user runs it (a child process), its
// counts checked against what the bridge itself received, device reuse across runs, flag
// validation; and the module API for what a child process cannot show (responses, abort).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HookwireEvent } from '../../bridge/events/index.ts';
import { credentialsPath } from '../../simulator/devices.ts';
import { runSimulation, type Status, type Summary } from '../../simulator/fleet.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { run, type RunResult } from '../helpers/spawn.ts';

let b: TestBridge;
let dataDir: string;
/** Every event the bridge accepted. */
const received: HookwireEvent[] = [];

test.before(async () => {
  b = await testBridge();
  dataDir = await mkdtemp(join(tmpdir(), 'hookwire-sim-'));
  b.bus.on('event', (e) => received.push(e));
});

test.after(async () => {
  await b?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `node --import tsx simulator/main.ts <args>`, against the test bridge. */
function simulate(args: string[]): Promise<RunResult> {
  // The simulator must take its bridge from the flags, not from the environment.
  return run(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...args],
    { HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_URL: '', HOOKWIRE_MQTT_URL: '', HOOKWIRE_TOKEN: '' });
}

const against = () => ['--url', b.url, '--mqtt', b.mqttUrl, '--token', b.token];

/** Run the CLI with --json; the summary and the `event` events the bridge accepted meanwhile. */
async function simulateJson(args: string[], event: string): Promise<{ summary: Summary; events: HookwireEvent[] }> {
  const before = received.length;
  const run = await simulate([...args, '--json', ...against()]);
  assert.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.is(lines.length, 1, `stdout holds the summary line only: ${run.stdout}`);
  return { summary: JSON.parse(lines[0]!), events: received.slice(before).filter((e) => e.name === event) };
}

async function storedIds(): Promise<Record<string, string>> {
  const file = JSON.parse(await readFile(credentialsPath(dataDir), 'utf8'));
  return Object.fromEntries(Object.entries(file[b.url] as Record<string, { id: string }>).map(([name, c]) => [name, c.id]));
}

let firstIds: Record<string, string>;

test('CLI: its counts match what the bridge received (QoS 1)', async () => {
  const { summary: s, events } = await simulateJson(['--devices', '3', '--rate', '30', '--duration', '1', '--qos', '1'], 'temp');
  assert.is(s.devices, 3);
  assert.is(s.connected, 3);
  assert.is(s.errors, 0, JSON.stringify(s.errorsByCode));
  assert.ok(s.published > 0);
  // Every event due in the second is published or skipped; a handful skipped at most.
  assert.is(s.published + s.skipped, 30);
  assert.ok(s.published >= 20, `published ${s.published}`);
  // A PUBACK goes out only after the bridge accepted the event.
  assert.is(s.acknowledged, s.published);
  assert.is(events.length, s.acknowledged);

  firstIds = await storedIds();
  assert.equal(Object.keys(firstIds).sort(), ['sim-0001', 'sim-0002', 'sim-0003']);
  assert.equal(new Set(events.map((e) => e.coreid)), new Set(Object.values(firstIds)), 'spread over all three devices');
  for (const e of events) assert.match(e.data, /^\d\d\.\d\d$/, 'a temperature as text');
  assert.is((await stat(credentialsPath(dataDir))).mode & 0o777, 0o600);
});

test('CLI: a second run reuses the same devices; --typed sends objects', async () => {
  const { summary: s, events } = await simulateJson(['--devices', '3', '--rate', '30', '--duration', '1', '--typed'], 'temp');
  assert.is(s.connected, 3);
  assert.is(s.errors, 0, JSON.stringify(s.errorsByCode));
  assert.is(events.length, s.acknowledged);

  const { body: devices } = await b.call<{ id: string; name: string }[]>('GET', '/v1/devices');
  const sims = devices.filter((d) => d.name.startsWith('sim-'));
  assert.is(sims.length, 3, 'reused, not created again');
  assert.equal(Object.fromEntries(sims.map((d) => [d.name, d.id])), firstIds);
  assert.equal(await storedIds(), firstIds);
  for (const e of events) {
    assert.is(e.type, 'typed');
    const value = e.value as { temp: unknown; humidity: unknown };
    assert.type(value.temp, 'number');
    assert.type(value.humidity, 'number');
  }
});

test('CLI: a bad flag exits non-zero with a message naming it', async () => {
  const cases: [string[], string][] = [
    [['--rate', '-1'], '--rate'],
    [['--rate=-1'], '--rate'],
    [['--qos', '2'], '--qos'],
    [['--devices', 'many'], '--devices'],
  ];
  const runs = await Promise.all(cases.map(([args]) => simulate([...args, ...against()])));
  runs.forEach((run, i) => {
    const flag = cases[i]![1];
    assert.is(run.code, 2, `${cases[i]![0].join(' ')}: exit code`);
    assert.ok(run.stderr.includes(flag), `${flag} named in: ${run.stderr}`);
    assert.is(run.stdout, '');
  });
});

test('runSimulation: counts hook-responses; abort stops cleanly with a summary', async () => {
  // Stand in for a webhook: answer each `ping` on the device's own response topic.
  const respond = (e: HookwireEvent) => {
    if (e.name !== 'ping') return;
    b.broker.aedes.publish({
      cmd: 'publish', topic: `${e.coreid}/hook-response/ping/0`, payload: Buffer.from('pong'),
      qos: 0, retain: false, dup: false,
    }, () => {});
  };
  b.bus.on('event', respond);
  const controller = new AbortController();
  const phases = new Set<string>();
  try {
    const s = await runSimulation({
      apiUrl: b.url, mqttUrl: b.mqttUrl, token: b.token, dataDir,
      devices: 2, rate: 50, event: 'ping', namePrefix: 'pinger',
    }, {
      signal: controller.signal,
      onStatus: (status: Status) => {
        phases.add(status.phase);
        if (status.acknowledged >= 10) controller.abort();
      },
    });
    assert.is(s.devices, 2);
    assert.is(s.connected, 2);
    assert.is(s.errors, 0, JSON.stringify(s.errorsByCode));
    assert.ok(s.acknowledged >= 10);
    assert.is(s.acknowledged, s.published, 'in-flight acknowledgements awaited');
    assert.ok(s.responses > 0 && s.responses <= s.acknowledged, `responses ${s.responses}`);
    assert.ok(s.durationS > 0);
    assert.ok(phases.has('publishing') && phases.has('done'));
    const id = (await storedIds())['pinger-0001']!;
    await until(() => !b.broker.isDeviceConnected(id), 3000, 'the device to disconnect');
  } finally {
    b.bus.off('event', respond);
  }
});

test.run();
