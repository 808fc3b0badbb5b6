// The Node SDK over TLS (firmware-sdk/src/node.ts): mqtts:// and wss:// with a private CA
// (`ca`), a device certificate (`cert`, `key`) for a bridge that requires one, and what a
// TLS failure means: before the first connection it is a configuration mistake (connect
// rejects with Node's TLS code, no retry loop); after it, the bridge's certificate went wrong
// and the device keeps retrying, so it comes back by itself once the certificate is fixed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTlsCode } from '../../bridge/codes.ts';
import type { HookwireEvent } from '../../bridge/events/index.ts';
import { connectDevice, createNodeDevice, type Device, type SdkError } from '../../firmware-sdk/index.ts';
import { makeCa, makeCert } from '../../scripts/lib/certs.ts';
import { until, type TestBridge } from '../helpers/bridge.ts';
import { openssl, tempPki, tlsBridge, type TempPki } from '../helpers/tls.ts';

let pki: TempPki;
let b: TestBridge;
let strict: TestBridge;
let ca: Buffer;
const events: HookwireEvent[] = [];
const devices: Device[] = [];

async function device(bridge: TestBridge, url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<Device> {
  const creds = await bridge.addDevice();
  const d = await connectDevice({ url, deviceId: creds.id, token: creds.token, ...tls });
  devices.push(d);
  return d;
}

/** connectDevice's rejection, or undefined when it connected. */
async function refusal(bridge: TestBridge, url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<SdkError | undefined> {
  try {
    await device(bridge, url, tls);
    return undefined;
  } catch (err) {
    return err as SdkError;
  }
}

const wss = (bridge: TestBridge) => `wss://localhost:${bridge.httpPort}/mqtt`;

test.before(async () => {
  if (!openssl) return;
  pki = await tempPki();
  ca = await readFile(pki.ca.cert);
  b = await tlsBridge(pki);
  b.bus.on('event', (e) => events.push(e));
  strict = await tlsBridge(pki, { tlsCa: pki.ca.cert });
});
test.after(async () => {
  await Promise.all(devices.map((d) => d.disconnect()));
  await b?.stop();
  await strict?.stop();
  await pki?.remove();
});

if (!openssl) {
  test('openssl not installed: SDK TLS tests skipped (apt-get install -y openssl)', () => {});
} else {
  test('mqtts:// with the CA: publishes (QoS 1) and receives', async () => {
    const d = await device(b, b.mqttsUrl!, { ca });
    const got: string[] = [];
    await d.subscribe('tls-news', (name, data) => got.push(`${name} ${String(data)}`));
    await d.publish('tls-news', 'over tls', { qos: 1 });
    await until(() => got.length === 1);
    assert.equal(got, ['tls-news over tls']);
    assert.ok(events.some((e) => e.name === 'tls-news' && e.coreid === d.deviceID()));
  });

  test('wss:// (MQTT over secure WebSocket on the HTTPS port) with the CA: publishes and receives', async () => {
    const d = await device(b, wss(b), { ca });
    const got: string[] = [];
    await d.subscribe(`${d.deviceID()}/`, (name) => got.push(name));
    await d.publish('wss-temp', '20', { qos: 1 });
    assert.ok(events.some((e) => e.name === 'wss-temp' && e.coreid === d.deviceID()));
    b.ingest.cloud(`${d.deviceID()}/hook-response/wss-temp/0`, Buffer.from('ok'), 0);
    await until(() => got.length === 1);
  });

  test('without the CA the bridge\'s certificate fails verification: connect rejects with Node\'s TLS code, not a retry loop', async () => {
    for (const url of [b.mqttsUrl!, wss(b)]) {
      const err = await refusal(b, url, {});
      assert.ok(err, url);
      assert.ok(isTlsCode(err!.code), `${url}: ${err!.code} ${err!.message}`);
    }
  });

  test('client CA: without a device certificate, connect rejects with a TLS code; with one from the CA it connects, on mqtts:// and wss://', async () => {
    const err = await refusal(strict, strict.mqttsUrl!, { ca });
    assert.ok(err && isTlsCode(err.code), JSON.stringify(err));
    const [cert, key] = await Promise.all([readFile(pki.client.cert), readFile(pki.client.key)]);
    const d = await device(strict, strict.mqttsUrl!, { ca, cert, key });
    await d.publish('with-cert', '1', { qos: 1 });
    const w = await device(strict, wss(strict), { ca, cert, key });
    await w.publish('with-cert', '2', { qos: 1 });
  });

  test('once connected, a certificate gone wrong on the bridge is retried until it is fixed', async () => {
    const cert = join(pki.dir, 'flaky.pem');
    const key = join(pki.dir, 'flaky.key');
    await copyFile(pki.server.cert, cert);
    await copyFile(pki.server.key, key);
    const bridge = await tlsBridge(pki, { tlsCert: cert, tlsKey: key, tlsWatchMs: 0 });
    const creds = await bridge.addDevice();
    const d = createNodeDevice({ url: bridge.mqttsUrl, deviceId: creds.id, token: creds.token, ca, reconnectMinMs: 20, reconnectMaxMs: 100 });
    const errors: SdkError[] = [];
    let connects = 0;
    d.on('error', (e) => errors.push(e as SdkError));
    d.on('connect', () => connects++);
    try {
      await d.connect();
      // The bridge now serves a certificate from a CA the device does not trust, and drops it.
      const rogue = makeCa(pki.dir, 'rogue-ca', 'Rogue CA');
      const wrong = makeCert(pki.dir, rogue, { name: 'rogue', cn: 'localhost', use: 'server' });
      await copyFile(wrong.cert, cert);
      await copyFile(wrong.key, key);
      assert.ok(await bridge.reloadTls('asked'));
      bridge.broker.disconnectDevice(creds.id);
      await until(() => bridge.logs.some((l) => l.msg === 'TLS handshake failed' && l.use === 'mqtts'), 5000, 'a refused reconnection');
      assert.not.ok(d.connected());
      // Fixed: the device is back without anyone calling connect.
      await copyFile(pki.server.cert, cert);
      await copyFile(pki.server.key, key);
      assert.ok(await bridge.reloadTls('asked'));
      await until(() => d.connected(), 5000, 'the device back');
      assert.is(connects, 2);
      assert.equal(errors, []);
    } finally {
      await d.disconnect();
      await bridge.stop();
    }
  });
}

test.run();
