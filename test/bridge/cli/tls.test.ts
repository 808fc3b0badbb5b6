// The CLI and a bridge with a certificate, as users run them: `hookwire start` with
// HOOKWIRE_TLS_CERT/KEY reloads its certificate on SIGHUP (the real signal, to the real
// process) and keeps running; the CLI's API client reaches https:// trusting a private CA given
// by --ca or HOOKWIRE_CA, and without it fails with the TLS code, never silently.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTlsCode } from '../../../bridge/codes.ts';
import { makeCert } from '../../../scripts/lib/certs.ts';
import { until } from '../../helpers/bridge.ts';
import { hookwire, startBridgeProcess, type BridgeProcess } from '../../helpers/spawn.ts';
import { openssl, peerCertificate, tempPki, type TempPki } from '../../helpers/tls.ts';

let pki: TempPki;
let bridge: BridgeProcess;
let dataDir: string;
let cert: string;
let key: string;
let url: string;
let mqttsPort: number;
let token: string;

const serial = async (port: number) => (await peerCertificate(port, { ca: pki.ca.cert })).serialNumber;
/** The code the CLI ends its error line with: `error: ... (CODE)`. */
const codeOf = (stderr: string) => /\(([A-Z0-9_]+)\)\s*$/.exec(stderr)?.[1];

test.before(async () => {
  if (!openssl) return;
  pki = await tempPki();
  dataDir = await mkdtemp(join(tmpdir(), 'hookwire-cli-tls-'));
  cert = join(pki.dir, 'live-cert.pem');
  key = join(pki.dir, 'live-key.pem');
  await copyFile(pki.server.cert, cert);
  await copyFile(pki.server.key, key);
  bridge = await startBridgeProcess(['--mqtt-port', '0', '--mqtts-port', '0', '--http-port', '0', '--data-dir', dataDir, '--tls-cert', cert], {
    HOOKWIRE_LOG_LEVEL: 'info', HOOKWIRE_TLS_KEY: key, HOOKWIRE_TLS_WATCH_MS: '0', // only SIGHUP reloads here
  });
  const listening = bridge.logs.find((l) => typeof l.mqttsPort === 'number')!;
  mqttsPort = listening.mqttsPort as number;
  url = `https://127.0.0.1:${bridge.httpPort}`;
  token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
});

test.after(async () => {
  if (bridge) {
    bridge.child.kill('SIGTERM');
    await bridge.exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await pki?.remove();
});

if (!openssl) {
  test('openssl not installed: CLI TLS tests skipped (apt-get install -y openssl)', () => {});
} else {
  test('the CLI reaches an https:// bridge trusting the CA from --ca or HOOKWIRE_CA', async () => {
    const added = await hookwire(['--ca', pki.ca.cert, 'devices', 'add', '--name', 'tls-kitchen', '--json'], { HOOKWIRE_URL: url, HOOKWIRE_TOKEN: token });
    assert.is(added.code, 0, added.stderr);
    const id = JSON.parse(added.stdout).id as string;
    const listed = await hookwire(['devices', 'list', '--json'], { HOOKWIRE_URL: url, HOOKWIRE_TOKEN: token, HOOKWIRE_CA: pki.ca.cert });
    assert.is(listed.code, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as { id: string }[]).some((d) => d.id === id));
  });

  test('without the CA the CLI stops at the certificate, with its TLS code and what to set', async () => {
    const res = await hookwire(['devices', 'list'], { HOOKWIRE_URL: url, HOOKWIRE_TOKEN: token, HOOKWIRE_CA: '' });
    assert.is(res.code, 1);
    const code = codeOf(res.stderr);
    assert.ok(code && isTlsCode(code), res.stderr);
    assert.match(res.stderr, 'HOOKWIRE_CA');
  });

  test('SIGHUP: the running bridge reads its certificate files again; new handshakes get the new one; it keeps running', async () => {
    assert.is(await serial(mqttsPort), pki.server.serialNumber);
    const next = makeCert(pki.dir, pki.ca, { name: 'sighup', cn: 'after-sighup', use: 'server' });
    await copyFile(next.cert, cert);
    await copyFile(next.key, key);
    bridge.child.kill('SIGHUP');
    await until(() => bridge.logs.some((l) => l.msg === 'TLS certificate loaded' && l.trigger === 'SIGHUP'), 10_000, 'the reload');
    assert.is(await serial(mqttsPort), next.serialNumber);
    assert.is(await serial(bridge.httpPort), next.serialNumber);
    assert.is(bridge.child.exitCode, null, 'still running');
    const health = await hookwire(['devices', 'list', '--json'], { HOOKWIRE_URL: url, HOOKWIRE_TOKEN: token, HOOKWIRE_CA: pki.ca.cert });
    assert.is(health.code, 0, health.stderr);
  });
}

test.run();
