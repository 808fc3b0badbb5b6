// A subscriber that stops reading during a flood: it is disconnected after the drain
// timeout, the bridge survives (with a global in-flight queue it overflowed the stack when
// the queue unwound, mcollina/mqemitter#204), and everyone else carries on.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { deviceClient, mqttClient, sleep, type TestClient } from '../../helpers/mqtt.ts';

let b: TestBridge;
test.before(async () => { b = await testBridge({ mqttDrainTimeoutMs: 500 }); });
test.after(async () => { await b?.stop(); });

test('a frozen # subscriber under a QoS 0 flood is cut off; the bridge keeps serving', async () => {
  const [p, q] = [await b.addDevice(), await b.addDevice()];
  const frozen = await mqttClient(b.mqttUrl, { clientId: 'frozen', username: 'svc', password: b.token });
  await frozen.client.subscribeAsync('#');
  (frozen.client as unknown as { stream: { pause(): void } }).stream.pause(); // reads nothing from now on

  const publishers: TestClient[] = await Promise.all([deviceClient(b.mqttUrl, p), deviceClient(b.mqttUrl, q)]);
  const started = Date.now();
  while (Date.now() - started < 1500) {
    for (const pub of publishers) for (let i = 0; i < 200; i++) pub.client.publish('flood', '21.37', { qos: 0 });
    await new Promise((r) => setImmediate(r));
  }
  (frozen.client as unknown as { stream: { destroy(): void } }).stream.destroy();
  await sleep(1000); // whatever was queued drains now

  const healthy = await deviceClient(b.mqttUrl, await b.addDevice());
  const listener = await deviceClient(b.mqttUrl, await b.addDevice());
  await listener.client.subscribeAsync('after-flood');
  await healthy.client.publishAsync('after-flood', 'ok', { qos: 1 });
  await until(() => listener.topics().includes('after-flood'), 5000, 'delivery after the flood');
  assert.ok(b.logs.some((l) => l.deviceId === 'frozen'), 'the frozen subscriber was disconnected');
  await Promise.all([...publishers, healthy, listener, frozen].map((c) => c.end()));
});

test.run();
