// A third-party MQTT client as a device: Debian's mosquitto_pub and mosquitto_sub.
// CI installs mosquitto-clients and sets HOOKWIRE_REQUIRE_MOSQUITTO=1, so there a missing
// binary fails the suite; on a laptop without it the tests say they were skipped.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { connectDevice } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { run } from '../../helpers/spawn.ts';

const available = spawnSync('mosquitto_pub', ['--help']).error === undefined;
if (!available && process.env.HOOKWIRE_REQUIRE_MOSQUITTO === '1') {
  throw new Error('mosquitto_pub not found: apt-get install -y mosquitto-clients');
}

let b: TestBridge;
const events: HookwireEvent[] = [];
const args = (d: { id: string; token: string }) => ['-h', '127.0.0.1', '-p', String(b.mqttPort), '-i', d.id, '-u', d.id, '-P', d.token, '-V', 'mqttv311'];

test.before(async () => {
  b = await testBridge();
  b.bus.on('event', (e) => events.push(e));
});
test.after(async () => { await b?.stop(); });

if (!available) {
  test('mosquitto-clients not installed: skipped (apt-get install -y mosquitto-clients)', () => {});
} else {
  test('mosquitto_pub publishes as a device; the bridge knows who published', async () => {
    const d = await b.addDevice({ product_id: 3 });
    const res = await run('mosquitto_pub', [...args(d), '-t', 'temp', '-m', '72', '-q', '1']);
    assert.is(res.code, 0, res.stderr);
    await until(() => events.some((e) => e.name === 'temp' && e.coreid === d.id));
    const e = events.find((x) => x.name === 'temp' && x.coreid === d.id)!;
    assert.is(e.data, '72');
    assert.is(e.product_id, 3);
  });

  test('mosquitto_pub with the wrong token is refused at CONNECT', async () => {
    const d = await b.addDevice();
    const res = await run('mosquitto_pub', [...args({ id: d.id, token: 'hwd_wrong' }), '-t', 'temp', '-m', '1']);
    assert.is.not(res.code, 0);
    assert.match(res.stderr, /refused|not authori[sz]ed|bad user/i);
  });

  test('mosquitto_sub on # as a device gets fleet-wide and its own events, never another device\'s', async () => {
    const [me, other] = [await b.addDevice(), await b.addDevice()];
    const online = new Promise<void>((resolve) => b.bus.on('device:online', (id) => { if (id === me.id) resolve(); }));
    const sub = run('mosquitto_sub', [...args(me), '-t', '#', '-v', '-C', '2', '-W', '10']);
    await online;
    await new Promise((r) => setTimeout(r, 100)); // the SUBSCRIBE follows the CONNECT
    const peer = await connectDevice({ url: b.mqttUrl, deviceId: other.id, token: other.token });
    await peer.publish(`${other.id}/secret`, 'not for you', { qos: 1 });
    await peer.publish('fleet/news', 'hello all', { qos: 1 });
    b.broker.aedes.publish({ cmd: 'publish', topic: `${me.id}/hook-response/x/0`, payload: Buffer.from('yours'), qos: 0, retain: false, dup: false }, () => {});
    const res = await sub;
    await peer.disconnect();
    assert.is(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim().split('\n').sort(), [`${me.id}/hook-response/x/0 yours`, 'fleet/news hello all']);
  });
}

test.run();
