// hookwire subscribe and publish, run as a user runs them (the real bin, a child process)
// against a real bridge, with a real MQTT device on the other side.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { sseParser, type SseMessage } from '../../../bridge/client/index.ts';
import { streamPath } from '../../../bridge/cli/commands/subscribe.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { cliBin, hookwire, root } from '../../helpers/spawn.ts';

let b: TestBridge;
let env: NodeJS.ProcessEnv;
let device: { id: string; token: string };
let mqtt: TestClient;
const children: ChildProcessWithoutNullStreams[] = [];

test.before(async () => {
  b = await testBridge();
  env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
  device = await b.addDevice({ name: 'cli-dev' });
  mqtt = await deviceClient(b.mqttUrl, device);
});

test.after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await mqtt?.end();
  await b?.stop();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  lines(): string[];
  stderr(): string;
  exited: Promise<number | null>;
}

/** `hookwire <args>` left running; its stdout split into lines. */
function running(args: string[], extraEnv: NodeJS.ProcessEnv = env): Running {
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: root, env: { ...process.env, ...extraEnv } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, lines: () => out.split('\n').filter(Boolean), stderr: () => err, exited };
}

const publish = (name: string, data?: string) => b.call('POST', '/v1/devices/events', data === undefined ? { name } : { name, data });

test('publish: the event reaches a subscribed device, as coreid "api"', async () => {
  await mqtt.client.subscribeAsync('cli/#', { qos: 1 });
  const seen: string[] = [];
  b.bus.on('event', (e) => { if (e.name === 'cli/pub') seen.push(e.coreid); });
  const res = await hookwire(['publish', 'cli/pub', 'hello world', '--private', '--ttl', '60'], env);
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.trim(), 'Published cli/pub (11 bytes of data)');
  await until(() => mqtt.topics().includes('cli/pub'), 3000, 'the device');
  assert.is(mqtt.received.find((m) => m.topic === 'cli/pub')!.payload.toString(), 'hello world');
  assert.equal(seen, ['api']);

  const json = await hookwire(['publish', 'cli/pub2', '--json'], env);
  assert.equal([json.code, JSON.parse(json.stdout)], [0, { ok: true }]);
});

test('publish: a refused name exits 1 with the code; a missing name is a usage error', async () => {
  const bad = await hookwire(['publish', 'bad name'], env);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /EVENT_NAME_INVALID/);
  const none = await hookwire(['publish'], env);
  assert.is(none.code, 2);
  assert.match(none.stderr, /usage: hookwire publish <name>/);
});

test('subscribe --json: one JSON object per event, device and API events alike; Ctrl-C ends it with 0', async () => {
  const sub = running(['subscribe', 'cli/sub', '--json']);
  await until(() => sub.stderr().includes('Subscribed to'), 10_000, 'the stream to open');
  await publish('cli/sub/one', '1');
  await mqtt.client.publishAsync('cli/sub/two', 'line\nbreak', { qos: 1 });
  await publish('cli/other', 'not mine');
  await publish('cli/sub/three');
  await until(() => sub.lines().length >= 3, 5000, 'three lines');
  const events = sub.lines().map((l) => JSON.parse(l));
  assert.equal(events.map((e) => [e.name, e.data, e.coreid, e.ttl]), [
    ['cli/sub/one', '1', 'api', 60],
    ['cli/sub/two', 'line\nbreak', device.id, 60],
    ['cli/sub/three', '', 'api', 60],
  ]);
  assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.published_at))));
  sub.child.kill('SIGINT');
  assert.is(await sub.exited, 0);
});

test('subscribe --device: human lines `time  name  coreid  data`, only that device', async () => {
  const sub = running(['subscribe', '--device', 'cli-dev']);
  await until(() => sub.stderr().includes(`/v1/devices/cli-dev/events`), 10_000, 'the stream to open');
  await publish('cli/dev/api', 'from the cloud');
  await mqtt.client.publishAsync('cli/dev/one', 'a b', { qos: 1 });
  await mqtt.client.publishAsync('cli/dev/two', 'x\ty', { qos: 1 });
  await until(() => sub.lines().length >= 2, 5000, 'two lines');
  const lines = sub.lines();
  assert.is(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  cli/dev/one  ${device.id}  a b$`));
  assert.ok(lines[1]!.endsWith(`  cli/dev/two  ${device.id}  "x\\ty"`), lines[1]);
  sub.child.kill('SIGINT');
  assert.is(await sub.exited, 0);
});

test('subscribe: a wrong token or an unknown device exits 1 with the reason', async () => {
  const wrong = await hookwire(['subscribe'], { ...env, HOOKWIRE_TOKEN: 'hwt_wrong' });
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /invalid_token|access token/);
  const unknown = await hookwire(['subscribe', '--device', 'no-such-device'], env);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /DEVICE_NOT_FOUND/);
});

test('the CLI\'s stream paths and SSE parser', () => {
  assert.is(streamPath(''), '/v1/devices/events');
  assert.is(streamPath('hook-sent/temp'), '/v1/devices/events/hook-sent/temp');
  assert.is(streamPath('a b', 'dev'), '/v1/devices/dev/events/a%20b');
  assert.is(streamPath('', undefined, '7'), '/v1/products/7/events');
  assert.is(streamPath('t', 'dev', '7'), '/v1/products/7/devices/dev/events/t');

  const got: SseMessage[] = [];
  const feed = sseParser((m) => got.push(m));
  // Split anywhere, CRLF split across chunks, comments and keep-alives skipped.
  for (const chunk of [':ok\n\nevent: a\r', '\ndata: {"x":1}\r\n', '\r\n:keepalive\n\nevent:b\ndata:1\ndata: 2\n', '\n']) feed(chunk);
  assert.equal(got, [{ event: 'a', data: '{"x":1}' }, { event: 'b', data: '1\n2' }]);
});

test.run();
