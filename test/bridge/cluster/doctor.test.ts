// The doctor on bridges sharing a PostgreSQL store and a Redis: what one bridge saw (devices
// refused at login, event names published, responses too large for devices) is reported by
// the doctor of every bridge, as one bridge would report it had everything gone through it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import type { DoctorReport, Finding } from '../../../bridge/doctor/index.ts';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { connackCode } from '../../helpers/mqtt.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  let a: TestBridge;
  let b: TestBridge;
  let rx: Receiver;
  let device: Device | undefined;
  const UNKNOWN = 'f'.repeat(24);
  const ids: Record<string, string> = {};
  let known: { id: string; token: string };
  let online: { id: string; token: string };

  const doctor = async (on: TestBridge): Promise<DoctorReport> => {
    const res = await on.call('GET', '/v1/doctor?probe=false');
    assert.is(res.status, 200, JSON.stringify(res.body));
    return res.body as DoctorReport;
  };
  const find = (r: DoctorReport, check: string, match: (f: Finding) => boolean) => r.findings.filter((f) => f.check === check && match(f));
  const login = (r: DoctorReport, id: string) => find(r, 'DEVICE_LOGIN_FAILED', (f) => f.evidence.deviceId === id);

  test.before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.bridges as [TestBridge, TestBridge];
    rx = await receiver();
    rx.on('/big', (_req, res) => res.end('x'.repeat(6000))); // 12 parts of 512 bytes
    rx.on('/ok', (_req, res) => res.end('ok'));

    // Made through A; everything happens on B.
    ids.parts = (await a.call('POST', '/v1/integrations', { event: 'bigresp', url: `${rx.url}/big` })).body.id;
    ids.near = (await a.call('POST', '/v1/integrations', { event: 'temperature', url: `${rx.url}/ok` })).body.id;
    known = await a.addDevice();
    online = await a.addDevice();
    device = await connectDevice({ url: b.mqttUrl, deviceId: online.id, token: online.token });
    for (let k = 0; k < 3; k++) assert.is(await connackCode(b.mqttUrl, { clientId: known.id, username: known.id, password: 'wrong-token' }), 4);
    assert.is(await connackCode(b.mqttUrl, { clientId: UNKNOWN, username: UNKNOWN, password: known.token }), 4);
    assert.is(await connackCode(b.mqttUrl, { clientId: online.id, username: online.id, password: 'an-old-token' }), 4);
    // B knows the integrations once A's notices reached it.
    await until(() => [ids.parts, ids.near].every((id) => b.webhooks.list().some((i) => i.id === id)), 10_000, 'the integrations on B');
    await device.publish('bigresp', '', { qos: 1 });
    await device.publish('temp', '21.5', { qos: 1 });
    await until(() => rx.requests.some((r) => r.url === '/big'), 10_000, 'a call of bigresp');
  });
  test.after(async () => {
    await device?.disconnect();
    await rx?.close();
    await cluster?.stop();
  });

  test('devices refused at login on B are reported by the doctor on A, as on B', async () => {
    for (const on of [a, b]) {
      const r = await doctor(on);
      const [wrong] = login(r, known.id);
      assert.ok(wrong, `${on === a ? 'A' : 'B'}: no finding for ${known.id}: ${JSON.stringify(r.findings.map((f) => f.check))}`);
      assert.equal([wrong!.severity, wrong!.evidence.kind, wrong!.evidence.failures, wrong!.evidence.connected], ['warning', 'wrong_token', 3, false]);
      const [unknown] = login(r, UNKNOWN);
      assert.equal([unknown?.evidence.kind, unknown?.evidence.failures], ['unknown_device', 1]);
      // Connected to B: the doctor on A knows it from B's answer.
      const [connected] = login(r, online.id);
      assert.equal([connected?.severity, connected?.evidence.connected], ['info', true]);
    }
  });

  test('responses seen on B that are too many parts for devices, and names published on B, are reported by the doctor on A', async () => {
    for (const on of [a, b]) {
      await until(async () => find(await doctor(on), 'RESPONSE_TOO_MANY_PARTS', (f) => f.integrationId === ids.parts).length === 1, 10_000,
        `RESPONSE_TOO_MANY_PARTS on ${on === a ? 'A' : 'B'}`);
      const r = await doctor(on);
      const [parts] = find(r, 'RESPONSE_TOO_MANY_PARTS', (f) => f.integrationId === ids.parts);
      assert.equal([parts!.evidence.maxParts, parts!.evidence.maxBytes], [12, 6000]);
      const [near] = find(r, 'NEAR_MISS_NAME', (f) => f.integrationId === ids.near);
      assert.ok(near, `no NEAR_MISS_NAME: ${JSON.stringify(r.findings.filter((f) => f.integrationId === ids.near))}`);
      assert.match(JSON.stringify(near!.evidence), '"temp"');
    }
  });
}

test.run();
