// Every tool finds the bridge the way it was started (bridge/client/locate.ts): flags, then
// HOOKWIRE_URL / HOOKWIRE_MQTT_URL, then the bridge.json of the bridge running on the data
// directory, then the defaults. As a user meets it: a bridge on other ports is found by the CLI
// and the simulator with nothing but the data directory; something on the port that is not
// Hookwire, another bridge, or no bridge at all each get one line naming what to change.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateBridge } from '../../../bridge/client/index.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';
import { hookwire, run } from '../../helpers/spawn.ts';

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

/** The environment of a user who set nothing but where the data is. */
const only = (dataDir: string) => ({ HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_URL: '', HOOKWIRE_MQTT_URL: '', HOOKWIRE_TOKEN: '' });

test('in order: flags, the environment, the running bridge\'s bridge.json, the defaults', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'hookwire-locate-'));
  try {
    assert.equal(locateBridge(only(empty)), { http: 'http://127.0.0.1:8080', httpFrom: 'default', mqtt: 'mqtt://127.0.0.1:1883', mqttFrom: 'default', dataDir: empty });
    const found = locateBridge(only(b.config.dataDir));
    assert.equal([found.http, found.httpFrom, found.mqtt, found.mqttFrom], [b.url, 'bridge.json', b.mqttUrl, 'bridge.json']);
    const env = locateBridge({ ...only(b.config.dataDir), HOOKWIRE_URL: 'https://hooks.example.com/' });
    assert.equal([env.http, env.httpFrom, env.mqtt], ['https://hooks.example.com', 'HOOKWIRE_URL', 'mqtts://hooks.example.com:8883'], 'another bridge\'s API does not get this one\'s broker');
    const flags = locateBridge({ ...only(b.config.dataDir), HOOKWIRE_MQTT_URL: 'mqtt://env:1' }, { url: 'http://flag:2', mqtt: 'mqtt://flag:3' });
    assert.equal([flags.http, flags.mqtt, flags.mqttFrom], ['http://flag:2', 'mqtt://flag:3', 'flag']);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test('the CLI finds a bridge on other ports from its data directory alone', async () => {
  const res = await hookwire(['devices', 'list', '--json'], only(b.config.dataDir));
  assert.is(res.code, 0, res.stderr);
  assert.ok(Array.isArray(JSON.parse(res.stdout)));
});

test('the simulator too: its devices connect to that bridge\'s broker', async () => {
  const res = await run(process.execPath, ['--import', 'tsx', 'simulator/main.ts', '--devices', '2', '--rate', '4', '--duration', '1', '--json'], only(b.config.dataDir));
  assert.is(res.code, 0, res.stderr);
  const summary = JSON.parse(res.stdout.trim().split('\n').pop()!);
  assert.equal([summary.connected, summary.acknowledged > 0], [2, true], res.stdout);
});

test('something on the port that is not Hookwire: one line saying so, naming the setting', async () => {
  const other: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<html><body>not here</body></html>');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    const res = await hookwire(['devices', 'list'], { ...only(b.config.dataDir), HOOKWIRE_URL: url });
    assert.is(res.code, 1);
    assert.is(res.stderr.trim(), `error: ${url} answered HTTP 200 (text/html), not as a Hookwire bridge does: is HOOKWIRE_URL (or the port) right? (NOT_HOOKWIRE)`);
  } finally {
    other.close();
  }
});

test('another bridge refusing this data directory\'s admin token: the message says which token and asks which bridge', async () => {
  const another = await testBridge();
  try {
    const res = await hookwire(['devices', 'list'], { ...only(b.config.dataDir), HOOKWIRE_URL: another.url });
    assert.is(res.code, 1);
    assert.match(res.stderr, new RegExp(`the admin token of ${b.config.dataDir.replace(/[.]/g, '\\.')}; is ${another.url.replace(/[.]/g, '\\.')} the bridge that uses that data directory\\?`));
  } finally {
    await another.stop();
  }
});

test('no bridge running: unreachable, saying the address was the default one', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'hookwire-locate-'));
  try {
    // A port nothing listens on, spelled as the default would be.
    const res = await hookwire(['devices', 'list'], { ...only(empty), HOOKWIRE_TOKEN: 'hwt_x', HOOKWIRE_URL: 'http://127.0.0.1:1' });
    assert.match(res.stderr, /cannot reach the bridge at http:\/\/127\.0\.0\.1:1 \(HOOKWIRE_URL\): .*is it running\?.*\(UNREACHABLE\)/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test.run();
