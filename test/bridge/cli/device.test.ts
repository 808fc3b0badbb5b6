// hookwire device: a terminal acting as a device, on one MQTT connection that both publishes
// and prints what the device receives. Run as users run it (the real bin) against a real
// bridge, with a real webhook target answering.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { hookwire } from '../../helpers/spawn.ts';
import { killAll, running } from './running.ts';

let b: TestBridge;
let target: Receiver;
let env: NodeJS.ProcessEnv;
let device: { id: string; token: string };

test.before(async () => {
  b = await testBridge();
  target = await receiver();
  target.on('/weather', (req, res) => res.end(`sunny in ${req.body.toString()}`));
  env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token, HOOKWIRE_MQTT_URL: b.mqttUrl };
  device = await b.addDevice({ name: 'terminal' });
  const hook = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'weather', url: `${target.url}/weather`, requestType: 'POST', body: '{{{PARTICLE_EVENT_VALUE}}}' });
  assert.is(hook.status, 201);
});

test.after(async () => {
  killAll();
  await target?.close();
  await b?.stop();
});

/** The printed lines' names and data, without the time. */
const received = (lines: string[]) => lines.map((l) => l.split('  ').slice(1).join('  '));

test('publish: the event goes out as the device, and the webhook\'s response comes back on the same connection', async () => {
  const cli = running(['device', device.id, '--token', device.token, 'publish', 'weather', 'london', '--listen', '60'], env);
  await until(() => received(cli.lines()).includes(`${device.id}/hook-response/weather/0  sunny in london`), 15_000, `the hook-response line (stdout ${cli.stdout()} stderr ${cli.stderr()})`);
  assert.ok(received(cli.lines()).includes('hook-sent/weather'), cli.stdout());
  assert.match(cli.stderr(), `Connected as device ${device.id}`);
  assert.match(cli.stderr(), 'Published weather (6 bytes of data)');
  const sent = await target.next('/weather');
  assert.is(sent.body.toString(), 'london');
  cli.child.kill('SIGINT');
  assert.is(await cli.exited, 0);
});

test('listen: prints what the device receives, its subscriptions included; the token and broker from the environment; a name works as the ID', async () => {
  const cli = running(['device', 'terminal', 'listen', 'cmd/'], { ...env, HOOKWIRE_DEVICE_TOKEN: device.token });
  await until(() => cli.stderr().includes('Listening to'), 15_000, `listening (${cli.stderr()})`);
  assert.match(cli.stderr(), `"${device.id}/", "hook-sent/", "cmd/"`);
  await b.call('POST', '/v1/devices/events', { name: 'cmd/open', data: 'door' });
  await b.call('POST', '/v1/devices/events', { name: 'other/thing', data: 'not for it' });
  await b.call('POST', '/v1/devices/events', { name: `${device.id}/hello`, data: 'just you' });
  await until(() => received(cli.lines()).includes(`${device.id}/hello  just you`), 10_000, 'its own space');
  assert.equal(received(cli.lines()), ['cmd/open  door', `${device.id}/hello  just you`], 'each once, nothing it did not subscribe to');
  cli.child.kill('SIGINT');
  assert.is(await cli.exited, 0);
});

test('interactive: lines publish and subscribe on the one connection; quit ends it', async () => {
  const cli = running(['device', device.id, '--token', device.token, '--mqtt', b.mqttUrl], { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token });
  await until(() => cli.stderr().includes('Type: publish'), 15_000, `the prompt (${cli.stderr()})`);
  cli.child.stdin.write('subscribe alerts/\n');
  await until(() => cli.stderr().includes('Subscribed to "alerts/"'), 10_000, 'subscribed');
  cli.child.stdin.write('publish weather paris in spring\n');
  await until(() => received(cli.lines()).includes(`${device.id}/hook-response/weather/0  sunny in paris in spring`), 10_000, 'the response');
  await b.call('POST', '/v1/devices/events', { name: 'alerts/fire', data: 'drill' });
  await until(() => received(cli.lines()).includes('alerts/fire  drill'), 10_000, 'the subscribed event');
  cli.child.stdin.write('pubish x\n');
  await until(() => cli.stderr().includes('unknown command "pubish"; did you mean "publish"?'), 10_000, 'the typo named');
  cli.child.stdin.write('quit\n');
  assert.is(await cli.exited, 0);
});

test('refusals: a wrong token, a reserved name, no token at all', async () => {
  const wrong = await hookwire(['device', device.id, '--token', 'hwd_wrong', 'publish', 'x', '--listen', '0'], env);
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /wrong device ID or token \(hookwire devices list shows the IDs\) \(CONNECT_REFUSED\)\s*$/);
  const byName = await hookwire(['device', 'terminal', '--token', 'hwd_wrong', 'publish', 'x', '--listen', '0'], env);
  assert.match(byName.stderr, /wrong token; hookwire devices token terminal makes a new one .*\(CONNECT_REFUSED\)\s*$/, 'found by its name, the device exists');
  const reserved = await hookwire(['device', device.id, '--token', device.token, 'publish', 'hook-response/x', '--listen', '0'], env);
  assert.is(reserved.code, 1);
  assert.match(reserved.stderr, /\(EVENT_NAME_RESERVED\)/);
  const none = await hookwire(['device', device.id, 'listen'], env);
  assert.is(none.code, 2);
  assert.match(none.stderr, 'HOOKWIRE_DEVICE_TOKEN');
  const typo = await hookwire(['device', device.id, '--token', device.token, 'lsten'], env);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, 'unknown subcommand "lsten" for device; did you mean "listen"?');
});

test.run();
