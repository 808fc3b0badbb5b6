// The bridge's certificate (bridge/tls/index.ts): served on MQTTS and HTTPS from PEM files,
// renewed without a restart (a Let's Encrypt-style symlink swap seen on disk; the reload SIGHUP
// calls), a renewal that does not load logged and the old certificate kept, a certificate that
// does not load stopping the start, and the key never in a log line. Certificates are made by
// openssl at test time; every check is a new TLS handshake on a real socket.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { startBridge } from '../../../bridge/index.ts';
import { ConfigError } from '../../../bridge/errors.ts';
import { connectDevice } from '../../../firmware-sdk/index.ts';
import { makeCert, type Issued } from '../../../scripts/lib/certs.ts';
import { until } from '../../helpers/bridge.ts';
import { openssl, peerCertificate, tempPki, tlsBridge, type TempPki } from '../../helpers/tls.ts';

let pki: TempPki;
const serial = async (port: number) => (await peerCertificate(port, { ca: pki.ca.cert })).serialNumber;

/** A new server certificate from the test CA, written as `<name>.pem` / `<name>.key`. */
const renew = (name: string, cn = `renewed-${name}`): Issued => makeCert(pki.dir, pki.ca, { name, cn, use: 'server' });

/** Point `link` at `target` in one step, as certbot does (a new link renamed over the old one). */
async function repoint(link: string, target: string): Promise<void> {
  await symlink(target, `${link}.new`);
  await rename(`${link}.new`, link);
}

test.before(async () => {
  if (openssl) pki = await tempPki();
});
test.after(async () => { await pki?.remove(); });

if (!openssl) {
  test('openssl not installed: TLS tests skipped (apt-get install -y openssl)', () => {});
} else {
  test('the certificate is served on MQTTS and HTTPS; the bridge reports where, and what it serves', async () => {
    const b = await tlsBridge(pki);
    try {
      assert.ok(b.mqttsPort! > 0);
      assert.is(b.mqttsUrl, `mqtts://127.0.0.1:${b.mqttsPort}`);
      assert.ok(b.url.startsWith('https://127.0.0.1:'), b.url);
      assert.is(await serial(b.mqttsPort!), pki.server.serialNumber);
      assert.is(await serial(b.httpPort), pki.server.serialNumber);
      assert.is(b.tls!.certificate().serialNumber, pki.server.serialNumber);
      const listening = b.logs.find((l) => l.msg.startsWith('Hookwire'))!;
      assert.equal([listening.mqttsPort, listening.httpPort, listening.tls], [b.mqttsPort, b.httpPort, true]);
      assert.match(listening.msg, `MQTTS mqtts://127.0.0.1:${b.mqttsPort}`);
      assert.match(listening.msg, `MQTT over WebSocket wss://127.0.0.1:${b.httpPort}/mqtt`);
      const loaded = b.logs.find((l) => l.msg === 'TLS certificate loaded')!;
      assert.equal([loaded.serialNumber, loaded.subject], [pki.server.serialNumber, 'CN=localhost']);
      assert.is((await b.call('GET', '/health')).status, 200);
    } finally {
      await b.stop();
    }
  });

  test('a renewal on disk (the live/ symlinks pointed at new files, as certbot does) reaches new connections; open ones stay', async () => {
    const live = join(pki.dir, 'live');
    await mkdir(live);
    await repoint(join(live, 'fullchain.pem'), pki.server.cert);
    await repoint(join(live, 'privkey.pem'), pki.server.key);
    const b = await tlsBridge(pki, { tlsCert: join(live, 'fullchain.pem'), tlsKey: join(live, 'privkey.pem'), tlsWatchMs: 50 });
    try {
      const d = await b.addDevice();
      const device = await connectDevice({ url: b.mqttsUrl, deviceId: d.id, token: d.token, ca: await readFile(pki.ca.cert) });
      assert.is(await serial(b.mqttsPort!), pki.server.serialNumber);

      const next = renew('archive-2');
      assert.is.not(next.serialNumber, pki.server.serialNumber);
      await repoint(join(live, 'fullchain.pem'), next.cert);
      await repoint(join(live, 'privkey.pem'), next.key);
      await until(async () => (await serial(b.mqttsPort!)) === next.serialNumber, 10_000, 'the renewed certificate on MQTTS');
      assert.is(await serial(b.httpPort), next.serialNumber);
      const loaded = b.logs.filter((l) => l.msg === 'TLS certificate loaded').at(-1)!;
      assert.equal([loaded.trigger, loaded.serialNumber, loaded.previousSerial, loaded.subject], ['files changed', next.serialNumber, pki.server.serialNumber, 'CN=renewed-archive-2']);

      // The device connected before the renewal still publishes on its connection.
      await device.publish('after-renewal', 'x', { qos: 1 });
      assert.ok(device.connected());
      await device.disconnect();
    } finally {
      await b.stop();
    }
  });

  test('reload (what SIGHUP calls): new handshakes get the new certificate; a key that does not match is logged and the old certificate kept', async () => {
    const cert = join(pki.dir, 'reload.pem');
    const key = join(pki.dir, 'reload.key');
    await copyFile(pki.server.cert, cert);
    await copyFile(pki.server.key, key);
    const b = await tlsBridge(pki, { tlsCert: cert, tlsKey: key, tlsWatchMs: 0 });
    try {
      const next = renew('reload-2');
      await copyFile(next.cert, cert);
      await copyFile(next.key, key);
      assert.is(await serial(b.mqttsPort!), pki.server.serialNumber, 'nothing watches the files: not reloaded yet');
      assert.is(await b.reloadTls('SIGHUP'), true);
      assert.is(await serial(b.mqttsPort!), next.serialNumber);
      assert.is(await serial(b.httpPort), next.serialNumber);

      // A certificate whose key was not written (yet): refused, logged, the previous one served.
      const orphan = renew('reload-3');
      await copyFile(orphan.cert, cert);
      assert.is(await b.reloadTls('SIGHUP'), false);
      assert.is(await serial(b.mqttsPort!), next.serialNumber);
      assert.is(b.tls!.certificate().serialNumber, next.serialNumber);
      const refused = b.logs.find((l) => l.msg.startsWith('TLS certificate not reloaded'))!;
      assert.equal([refused.level, refused.code, refused.field, refused.trigger, refused.serving], [50, 'TLS_CERT_INVALID', 'tlsKey', 'SIGHUP', next.serialNumber]);

      // The key follows: the pair loads.
      await copyFile(orphan.key, key);
      assert.is(await b.reloadTls('SIGHUP'), true);
      assert.is(await serial(b.mqttsPort!), orphan.serialNumber);
    } finally {
      await b.stop();
    }
  });

  test('the private key never reaches a log line', async () => {
    const b = await tlsBridge(pki, { tlsWatchMs: 0 });
    await b.reloadTls('SIGHUP');
    await b.stop();
    const body = (await readFile(pki.server.key, 'utf8')).split('\n').filter((l) => l && !l.startsWith('-----'));
    const text = JSON.stringify(b.logs);
    assert.ok(b.logs.length > 3);
    for (const line of body) assert.not.ok(text.includes(line), 'a line of the key is in the log');
  });

  test('a certificate that does not load stops the start: TLS_CERT_INVALID naming the file at fault', async () => {
    const other = renew('other');
    const cases: [Record<string, unknown>, string][] = [
      [{ tlsCert: join(pki.dir, 'missing.pem'), tlsKey: pki.server.key }, 'tlsCert'],
      [{ tlsCert: pki.server.key, tlsKey: pki.server.key }, 'tlsCert'],
      [{ tlsCert: pki.server.cert, tlsKey: other.key }, 'tlsKey'],
      [{ tlsCert: pki.server.cert, tlsKey: pki.server.key, tlsCa: join(pki.dir, 'missing-ca.pem') }, 'tlsCa'],
    ];
    for (const [files, field] of cases) {
      const dataDir = join(pki.dir, 'never-created');
      try {
        await startBridge({ host: '127.0.0.1', mqttPort: 0, mqttsPort: 0, httpPort: 0, dataDir, logLevel: 'silent', ...files });
        assert.unreachable(JSON.stringify(files));
      } catch (err) {
        assert.instance(err, ConfigError);
        assert.equal([(err as ConfigError).code, (err as ConfigError).field], ['TLS_CERT_INVALID', field], (err as Error).message);
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

test.run();
