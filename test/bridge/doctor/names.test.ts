// The near-miss hints agree with each other over time (bridge/doctor/checks/names.ts): a real
// device publishes "temprature" for an integration on "temperature"; the doctor suggests
// renaming the trigger; once that is done (or the device publishes the right name), no finding
// suggests the old change, or the opposite one, again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Device } from '../../../firmware-sdk/index.ts';
import type { DoctorReport, Finding } from '../../../bridge/doctor/index.ts';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import type { Receiver } from '../../helpers/receiver.ts';
import { useWebhookRig } from '../../helpers/rig.ts';

let b: TestBridge;
let rx: Receiver;
let device: Device;
useWebhookRig(test, (rig) => ({ b, rx, device } = rig));

async function findings(id: string): Promise<Finding[]> {
  await b.webhooks.idle();
  const res = await b.call('GET', `/v1/doctor?integration=${id}&probe=false`);
  assert.is(res.status, 200);
  return (res.body as DoctorReport).findings;
}
const create = async (event: string) => {
  const res = await b.call('POST', '/v1/integrations', { event, url: `${rx.url}/in` });
  assert.is(res.status, 201);
  return res.body.id as string;
};
/** Every trigger a finding suggests setting. */
const suggested = (fs: Finding[]) => fs.flatMap((f) => [...f.next.matchAll(/integrations update \S+ --event ([^\s,]+)/g)].map((m) => m[1]));

test('the trigger fixed to the name devices publish: the doctor stops suggesting the change, and never suggests the way back', async () => {
  const id = await create('temperature');
  await device.publish('temprature', '21', { qos: 1 });
  let fs = await findings(id);
  assert.equal(suggested(fs), ['temprature'], JSON.stringify(fs, null, 1));
  assert.match(fs[0]!.next, `hookwire integrations update ${id} --event temprature`);

  const fixed = await b.call('PATCH', `/v1/integrations/${id}`, { event: 'temprature' });
  assert.is(fixed.status, 200);
  fs = await findings(id);
  assert.equal(suggested(fs), [], 'no rename after the rename');
  const waiting = fs.find((f) => f.check === 'NEVER_FIRED')!;
  assert.is(waiting.evidence.kind, 'published_before_change', 'not "nothing like it was published": it was, before the change');
  assert.match(waiting.message, '"temprature"');

  // A device still on the other spelling: the devices are asked to change, not the trigger back.
  await device.publish('temperature', '21', { qos: 1 });
  fs = await findings(id);
  assert.equal(suggested(fs), [], JSON.stringify(fs, null, 1));
  const miss = fs.find((f) => f.check === 'NEAR_MISS_NAME')!;
  assert.match(miss.next, 'publish "temprature" instead');

  // The next event the trigger takes fires it: nothing left to say about its name.
  await device.publish('temprature', '22', { qos: 1 });
  await until(async () => (await b.call('GET', `/v1/integrations/${id}`)).body.integration.counters.total_calls === 1, 5000, 'a call');
  assert.equal((await findings(id)).filter((f) => f.check === 'NEAR_MISS_NAME' || f.check === 'NEVER_FIRED'), []);
});

test('the device fixed to publish the trigger\'s name: the suggestion goes', async () => {
  const id = await create('humidity');
  await device.publish('humdity', '40', { qos: 1 });
  assert.equal(suggested(await findings(id)), ['humdity']);
  await device.publish('humidity', '40', { qos: 1 });
  await until(async () => (await b.call('GET', `/v1/integrations/${id}`)).body.integration.counters.total_calls === 1, 5000, 'a call');
  const fs = await findings(id);
  assert.equal(suggested(fs), []);
  assert.equal(fs.filter((f) => f.check === 'NEAR_MISS_NAME'), []);
});

test('next steps are CLI commands, not raw HTTP', async () => {
  const id = await create('pressure');
  await device.publish('Pressure', '1', { qos: 1 });
  const fs = await findings(id);
  assert.ok(fs.length > 0);
  for (const f of fs) assert.not.match(f.next, /PATCH|\/v1\//, f.next);
});

test.run();
