// The login limit over bridges sharing a Redis (bridge/cluster/logins.ts): wrong tokens from
// one address spread over three bridges count together, and an address refused on one bridge
// is refused on all, over HTTP and MQTT, with the right token too. The default limit holds:
// 20 wrong tokens within a minute.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { connackCode } from '../../helpers/mqtt.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  test.before(async () => { cluster = await startCluster(3); });
  test.after(async () => { await cluster?.stop(); });

  /** GET /v1/devices on `b` from `address` with `token`: the status and error code. */
  async function get(b: TestBridge, address: string, token: string): Promise<[number, string | undefined]> {
    const res = await b.api.inject({ method: 'GET', url: '/v1/devices', remoteAddress: address, headers: { authorization: `Bearer ${token}` } });
    return [res.statusCode, res.statusCode === 200 ? undefined : (res.json() as { code?: string }).code];
  }
  const refusedEverywhere = async (address: string) =>
    (await Promise.all(cluster.bridges.map((b) => get(b, address, b.token)))).every(([status, code]) => status === 429 && code === 'LOGIN_LIMITED');

  test('20 wrong tokens from one address spread over three bridges: the address is refused on every one, even with the right token', async () => {
    const address = '203.0.113.7';
    for (let i = 0; i < 20; i++) {
      const b = cluster.bridges[i % 3]!;
      assert.equal(await get(b, address, `hwt_wrong${i}`), [401, undefined], `wrong token ${i + 1} refused as such (7, 7 and 6 per bridge: none at the limit alone)`);
    }
    await until(() => refusedEverywhere(address), 10_000, 'the address refused on all three bridges');
    assert.equal(await get(cluster.bridges[1]!, '203.0.113.99', cluster.bridges[1]!.token), [200, undefined], 'another address is not');
    for (const b of cluster.bridges) {
      assert.ok(b.logs.some((l) => String(l.msg).startsWith('too many failed logins') && l.remote === address), 'each bridge says which address it refuses');
    }
  });

  test('an address refused on one bridge is refused on the others', async () => {
    const [first, ...others] = cluster.bridges;
    const address = '198.51.100.4';
    for (let i = 0; i < 20; i++) await get(first!, address, `hwt_wrong${i}`);
    assert.equal(await get(first!, address, first!.token), [429, 'LOGIN_LIMITED'], 'refused where it failed');
    await until(async () => (await Promise.all(others.map((b) => get(b, address, b.token)))).every(([status]) => status === 429), 10_000, 'refused on the others');
  });

  // Last: the test's own address (127.0.0.1) is refused from here on.
  test('wrong passwords over MQTT and wrong tokens over HTTP, spread over the bridges, count together; MQTT is refused everywhere too', async () => {
    const device = await cluster.bridges[0]!.addDevice();
    for (let i = 0; i < 20; i++) {
      const b = cluster.bridges[i % 3]!;
      if (i % 2 === 0) assert.is(await connackCode(b.mqttUrl, { clientId: device.id, username: device.id, password: `wrong-${i}` }), 4);
      else assert.equal((await b.call('GET', '/v1/devices', undefined, `hwt_wrong${i}`)).status, 401);
    }
    // One bridge at a time: connections with one client ID on several bridges at once would take each other over.
    await until(async () => {
      const codes: number[] = [];
      for (const b of cluster.bridges) codes.push(await connackCode(b.mqttUrl, { clientId: device.id, username: device.id, password: device.token }));
      return codes.every((c) => c === 4);
    }, 10_000, 'the right device token refused on every bridge');
    for (const b of cluster.bridges) {
      assert.equal((await b.call('GET', '/v1/devices')).status, 429);
      await until(() => b.logs.some((l) => l.code === 'LOGIN_LIMITED'), 5000, 'the MQTT refusal logged');
    }
  });
}

test.run();
