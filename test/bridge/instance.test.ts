// The running bridge as a file in its data directory (bridge/instance.ts): the tools find it
// there, a second bridge on the same directory is refused naming the PID that holds it, a file
// left by a killed bridge is taken over, a port in use is one line naming the setting, and a
// data directory deleted under a running bridge makes /health fail.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '../../bridge/index.ts';
import { createLogger } from '../../bridge/log.ts';
import { runningBridge } from '../../bridge/instance.ts';
import { testBridge } from '../helpers/bridge.ts';
import { hookwire, startBridgeProcess } from '../helpers/spawn.ts';

const quiet = createLogger({ level: 'silent', pretty: false });
const tempDir = () => mkdtemp(join(tmpdir(), 'hookwire-instance-'));

test('bridge.json holds the PID and every URL once listening (0600), and is gone after a clean stop', async () => {
  const b = await testBridge();
  const path = join(b.config.dataDir, 'bridge.json');
  const info = JSON.parse(await readFile(path, 'utf8'));
  assert.equal([info.pid, info.http, info.mqtt, info.ws], [process.pid, b.url, b.mqttUrl, `ws://127.0.0.1:${b.httpPort}/mqtt`]);
  assert.is((await stat(path)).mode & 0o777, 0o600);
  assert.equal(runningBridge(b.config.dataDir)?.http, b.url);
  const dir = b.config.dataDir;
  await b.api.close(); // keep the directory: stop without the helper's cleanup
  await b.close();
  assert.is(await stat(path).then(() => 'there', () => 'gone'), 'gone');
  await rm(dir, { recursive: true, force: true });
});

test('a second bridge on the same data directory refuses to start, naming the PID that holds it; the first is untouched', async () => {
  const dataDir = await tempDir();
  const first = await startBridgeProcess(['--mqtt-port', '0', '--http-port', '0', '--data-dir', dataDir], { HOOKWIRE_LOG_LEVEL: 'info' });
  try {
    const second = await hookwire(['start', '--mqtt-port', '0', '--http-port', '0', '--data-dir', dataDir]);
    assert.is(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by the bridge with PID ${first.child.pid} \\(${first.url.replace(/\./g, '\\.')}\\).*\\(DATA_DIR_IN_USE\\)`));
    assert.is(second.stderr.trim().split('\n').length, 1, 'one line, no stack');
    assert.is((await fetch(`${first.url}/health`)).status, 200, 'the first bridge still serves');
    // In the same process too.
    try {
      await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir }, { logger: quiet });
      assert.unreachable('a second bridge started');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'DATA_DIR_IN_USE');
    }
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a bridge killed with SIGKILL leaves its file; the next one takes the directory over and says so', async () => {
  const dataDir = await tempDir();
  const killed = await startBridgeProcess(['--mqtt-port', '0', '--http-port', '0', '--data-dir', dataDir], { HOOKWIRE_LOG_LEVEL: 'info' });
  killed.child.kill('SIGKILL');
  await killed.exited;
  assert.is(JSON.parse(await readFile(join(dataDir, 'bridge.json'), 'utf8')).pid, killed.child.pid, 'the file stayed');
  assert.is(runningBridge(dataDir), undefined, 'but names no running bridge');
  const next = await testBridge({ dataDir });
  try {
    assert.ok(next.logs.some((l) => String(l.msg).startsWith('a bridge that did not stop cleanly') && l.pid === killed.child.pid));
    assert.is(JSON.parse(await readFile(join(dataDir, 'bridge.json'), 'utf8')).pid, process.pid);
  } finally {
    await next.stop();
  }
});

test('a PID now used by something that is not a bridge does not hold the directory', async () => {
  const dataDir = await tempDir();
  const sleeper = spawnSync('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
  const pid = Number(sleeper.stdout.trim());
  try {
    await writeFile(join(dataDir, 'bridge.json'), JSON.stringify({ pid, startedAt: new Date().toISOString() }));
    const b = await testBridge({ dataDir });
    await b.stop();
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test('a port in use: one line naming the port and the setting to change; the directory is free again', async () => {
  const dataDir = await tempDir();
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const res = await hookwire(['start', '--mqtt-port', '0', '--http-port', String(port), '--data-dir', dataDir]);
    assert.is(res.code, 1);
    assert.is(res.stderr.trim(), `error (field httpPort): the HTTP port ${port} is in use (another program, or another bridge): choose another with HOOKWIRE_HTTP_PORT or --http-port (PORT_IN_USE)`);
    const mqtt = await hookwire(['start', '--mqtt-port', String(port), '--http-port', '0', '--data-dir', dataDir]);
    assert.match(mqtt.stderr, /the MQTT port \d+ is in use .* HOOKWIRE_MQTT_PORT or --mqtt-port \(PORT_IN_USE\)/);
    assert.is(runningBridge(dataDir), undefined, 'the failed starts left no claim');
  } finally {
    taken.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('the data directory deleted under a running bridge: /health answers 503 STORE_MISSING', async () => {
  const b = await testBridge();
  try {
    assert.is((await b.call('GET', '/health')).status, 200);
    await rm(b.config.dataDir, { recursive: true, force: true });
    const res = await b.call('GET', '/health');
    assert.equal([res.status, res.body.ok, res.body.code], [503, false, 'STORE_MISSING']);
    assert.match(res.body.error, /was deleted while the bridge was running: run hookwire doctor/);
  } finally {
    await b.stop();
  }
});

test.run();
