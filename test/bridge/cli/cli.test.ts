// `hookwire start` and the device commands, run as a user runs them: child processes,
// configuration by environment and flags, the admin token found in the data dir.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hookwire, startBridgeProcess, type BridgeProcess } from '../../helpers/spawn.ts';
import { connackCode } from '../../helpers/mqtt.ts';
import { until } from '../../helpers/bridge.ts';

let dataDir: string;
let bridge: BridgeProcess;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookwire-cli-'));
  bridge = await startBridgeProcess([], { HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_HTTP_PORT: '0', HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_TOKEN: '' });
  env = { HOOKWIRE_URL: bridge.url, HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_TOKEN: '' };
});

test.after(async () => {
  if (bridge && bridge.child.exitCode === null) bridge.child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

test('start: port 0 picks free ports, printed and logged; the admin token file is private', async () => {
  assert.ok(bridge.mqttPort > 0 && bridge.httpPort > 0);
  await until(() => bridge.stderr().includes('admin token'), 3000, 'the summary line');
  assert.ok(bridge.stderr().includes(`mqtt://127.0.0.1:${bridge.mqttPort}`));
  assert.ok(bridge.stderr().includes(`http://127.0.0.1:${bridge.httpPort}`));
  const info = await stat(join(dataDir, 'admin-token'));
  assert.is(info.mode & 0o777, 0o600);
  const health = await fetch(`${bridge.url}/health`);
  assert.is(health.status, 200);
  await stat(join(dataDir, 'hookwire.db'));
});

let added: { id: string; token: string };

test('devices add/list/get/remove through the CLI, token from the data dir', async () => {
  const add = await hookwire(['devices', 'add', '--name', 'porch', '--product', '12', '--json'], env);
  assert.is(add.code, 0, add.stderr);
  added = JSON.parse(add.stdout);
  assert.match(added.id, /^[0-9a-f]{24}$/);
  assert.match(added.token, /^hwd_/);
  assert.is(await connackCode(`mqtt://127.0.0.1:${bridge.mqttPort}`, { clientId: added.id, username: added.id, password: added.token }), 0);

  const list = await hookwire(['devices', 'list', '--json'], env);
  assert.is(list.code, 0);
  const listed = JSON.parse(list.stdout).find((d: { id: string }) => d.id === added.id);
  assert.equal({ name: listed.name, product_id: listed.product_id }, { name: 'porch', product_id: 12 });

  const table = await hookwire(['devices', 'list'], env);
  assert.ok(table.stdout.split('\n')[0]!.startsWith('ID'));
  assert.ok(table.stdout.includes('porch'));

  const text = await hookwire(['devices', 'add', '--name', 'shed'], env);
  assert.ok(text.stdout.includes('mosquitto_pub'), 'a human gets a ready-to-run example');

  const remove = await hookwire(['devices', 'remove', 'shed'], env);
  assert.is(remove.code, 0, remove.stderr);
  const gone = await hookwire(['devices', 'get', 'shed'], env);
  assert.is(gone.code, 1);
  assert.ok(gone.stderr.includes('DEVICE_NOT_FOUND'));
});

test('the CLI says clearly when it cannot reach the bridge or has no token', async () => {
  const down = await hookwire(['devices', 'list'], { HOOKWIRE_URL: 'http://127.0.0.1:1', HOOKWIRE_TOKEN: 'hwt_x' });
  assert.is(down.code, 1);
  assert.ok(down.stderr.includes('cannot reach the bridge'));
  const noToken = await hookwire(['devices', 'list'], { HOOKWIRE_URL: bridge.url, HOOKWIRE_TOKEN: '', HOOKWIRE_DATA_DIR: join(dataDir, 'nowhere') });
  assert.is(noToken.code, 1);
  assert.ok(noToken.stderr.includes('UNAUTHORIZED'));
  const wrong = await hookwire(['devices', 'list'], { HOOKWIRE_URL: bridge.url, HOOKWIRE_TOKEN: 'hwt_wrong' });
  assert.is(wrong.code, 1);
  assert.ok(wrong.stderr.includes('invalid'));
});

test('help, unknown commands and bad flags', async () => {
  const help = await hookwire(['help']);
  assert.is(help.code, 0);
  assert.ok(help.stdout.includes('devices') && help.stdout.includes('start'));
  assert.is((await hookwire(['frobnicate'])).code, 2);
  const bad = await hookwire(['devices', 'list', '--nope'], env);
  assert.is(bad.code, 2);
});

test('SIGTERM shuts down gracefully; a restart keeps devices and the admin token', async () => {
  const token = await readFile(join(dataDir, 'admin-token'), 'utf8');
  bridge.child.kill('SIGTERM');
  assert.is(await bridge.exited, 0);
  assert.ok(bridge.logs.some((l) => l.msg === 'stopped'));

  // Flags override the environment.
  bridge = await startBridgeProcess(['--mqtt-port', '0', '--http-port', '0', '--data-dir', dataDir], { HOOKWIRE_MQTT_PORT: '1', HOOKWIRE_HTTP_PORT: '1', HOOKWIRE_DATA_DIR: '/nonexistent' });
  assert.is(await readFile(join(dataDir, 'admin-token'), 'utf8'), token, 'the admin token is kept');
  await until(() => bridge.stderr().includes('admin token in'), 3000, 'the summary line');
  assert.not.ok(bridge.stderr().includes('created a new admin token'));
  const list = await hookwire(['devices', 'list', '--json'], { ...env, HOOKWIRE_URL: bridge.url });
  assert.ok(JSON.parse(list.stdout).some((d: { id: string }) => d.id === added.id));
  bridge.child.kill('SIGINT');
  assert.is(await bridge.exited, 0);
});

test('bad configuration names the field and exits non-zero', async () => {
  const res = await hookwire(['start'], { HOOKWIRE_MQTT_PORT: '70000', HOOKWIRE_DATA_DIR: dataDir });
  assert.is(res.code, 1);
  assert.ok(res.stderr.includes('mqttPort'), res.stderr);
  assert.ok(res.stderr.includes('CONFIG_INVALID'));
});

test.run();
