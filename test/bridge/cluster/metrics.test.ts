// /metrics with several bridges: each bridge serves its own process's series, every one
// labelled with its bridge name (bridgeName), so a Prometheus scraping them all tells them apart.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceClient } from '../../helpers/mqtt.ts';
import { until } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  test.before(async () => {
    cluster = await startCluster(0);
    await cluster.addBridge({ bridgeName: 'east' });
    await cluster.addBridge(); // the default name: host name and data directory
  });
  test.after(async () => { await cluster?.stop(); });

  /** The value of one series without other labels than `bridge`. */
  async function sample(url: string, token: string, name: string): Promise<number | undefined> {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{bridge=`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  /** The `bridge` label of every sample line (comments skipped). */
  async function bridgeLabels(url: string, token: string): Promise<Set<string | undefined>> {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const labels = new Set<string | undefined>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      labels.add(/[{,]bridge="((?:[^"\\]|\\.)*)"/.exec(line)?.[1]);
    }
    return labels;
  }

  test('two bridges\' /metrics carry their own bridge label on every series', async () => {
    const [east, other] = cluster.bridges;
    assert.is(east!.config.bridgeName, 'east');
    assert.ok(other!.config.bridgeName.endsWith(`:${other!.config.dataDir}`));
    assert.equal([...await bridgeLabels(east!.url, east!.token)], ['east']);
    assert.equal([...await bridgeLabels(other!.url, east!.token)], [other!.config.bridgeName], 'the other\'s own (one token store for both)');
    const started = other!.logs.find((l) => String(l.msg).startsWith('Hookwire') && l.httpPort);
    assert.is(started?.bridge, other!.config.bridgeName, 'named in the line logged at start');
  });

  test('each bridge\'s devices_connected counts its own connections: the sum over bridges is the fleet', async () => {
    const [east, other] = cluster.bridges;
    const d = await east!.addDevice();
    const device = await deviceClient(east!.mqttUrl, d);
    try {
      await until(() => other!.broker.isDeviceConnected(d.id), 10_000, 'the other bridge sees it online');
      await until(async () => await sample(east!.url, east!.token, 'hookwire_devices_connected') === 1, 10_000, 'counted where it is connected');
      assert.is(await sample(other!.url, east!.token, 'hookwire_devices_connected'), 0, 'not counted again where it is not connected');
    } finally {
      await device.end();
    }
  });
}

test.run();
