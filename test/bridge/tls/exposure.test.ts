// The bind rule (bridge/tls/exposure.ts): a listener on a non-loopback address must encrypt.
// In memory: which addresses are loopback, which listeners a configuration opens and which
// of them the network would see in clear text. As users run it: `hookwire start --host
// 0.0.0.0` refuses with INSECURE_BIND; with --insecure it starts, warns in its log, and the
// doctor reports it; with a certificate and plain MQTT off it starts without a word.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetch } from 'undici';
import { makeConfig } from '../../../bridge/config.ts';
import { ConfigError } from '../../../bridge/errors.ts';
import { checkExposure, exposureOf, isLoopback } from '../../../bridge/tls/index.ts';
import { testBridge } from '../../helpers/bridge.ts';
import { hookwire, startBridgeProcess } from '../../helpers/spawn.ts';
import { openssl, tempPki, tlsBridge, trusting, type TempPki } from '../../helpers/tls.ts';

let pki: TempPki | undefined;
test.before(async () => {
  if (openssl) pki = await tempPki();
});
test.after(async () => { await pki?.remove(); });

test('loopback addresses: 127.0.0.0/8, ::1 (any spelling), localhost; everything else is the network', () => {
  const loopback = ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'];
  const network = ['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', 'fe80::1', '::ffff:10.0.0.1', 'hooks.example.com', 'localhost.example.com', '128.0.0.1'];
  assert.equal(loopback.filter((h) => !isLoopback(h)), []);
  assert.equal(network.filter((h) => isLoopback(h)), []);
});

test('exposure: which listeners are plain on the network; the rule throws INSECURE_BIND naming host, unless insecure', () => {
  const tls = { tlsCert: '/x/cert.pem', tlsKey: '/x/key.pem' };
  const cases: [Record<string, unknown>, string[], string[]][] = [
    [{ host: '127.0.0.1' }, ['MQTT', 'HTTP'], []],
    [{ host: '0.0.0.0' }, ['MQTT', 'HTTP'], ['MQTT', 'HTTP']],
    [{ host: '0.0.0.0', ...tls }, ['MQTT', 'MQTTS', 'HTTPS'], ['MQTT']],
    [{ host: '::', ...tls, mqttPort: 'off' }, ['MQTTS', 'HTTPS'], []],
    [{ host: 'localhost', mqttPort: 'OFF' }, ['HTTP'], []],
  ];
  for (const [overrides, listeners, plain] of cases) {
    const config = makeConfig(overrides);
    const e = exposureOf(config);
    assert.equal([e.listeners.map((l) => l.name), e.plain], [listeners, plain], JSON.stringify(overrides));
    if (plain.length === 0) {
      assert.is(checkExposure(config).insecure, false);
      continue;
    }
    try {
      checkExposure(config);
      assert.unreachable(JSON.stringify(overrides));
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.equal([(err as ConfigError).code, (err as ConfigError).field], ['INSECURE_BIND', 'host']);
    }
    assert.is(checkExposure({ ...config, insecure: true }).insecure, true);
  }
});

test('hookwire start --host 0.0.0.0 without TLS refuses to start: INSECURE_BIND, exit 1, nothing listening', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-bind-'));
  try {
    const res = await hookwire(['start', '--host', '0.0.0.0', '--mqtt-port', '0', '--http-port', '0', '--data-dir', dataDir], { HOOKWIRE_LOG_LEVEL: 'info' });
    assert.is(res.code, 1, res.stderr);
    assert.match(res.stderr, /\(INSECURE_BIND\)$/m);
    assert.not.match(res.stdout, /listening/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('hookwire start --host 0.0.0.0 --insecure starts, and warns in its log with the code', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-bind-'));
  const bridge = await startBridgeProcess(['--host', '0.0.0.0', '--insecure', '--mqtt-port', '0', '--http-port', '0', '--data-dir', dataDir], { HOOKWIRE_LOG_LEVEL: 'info' });
  try {
    const warning = bridge.logs.find((l) => l.code === 'INSECURE_BIND');
    assert.ok(warning, JSON.stringify(bridge.logs));
    assert.equal([warning!.level, warning!.plain], [40, ['MQTT', 'HTTP']]);
  } finally {
    bridge.child.kill('SIGTERM');
    await bridge.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('HOOKWIRE_INSECURE=1: the doctor reports INSECURE_BIND (a warning: it needs attention) with the plain listeners', async () => {
  const b = await testBridge({ host: '0.0.0.0', insecure: '1' });
  try {
    const report = (await b.call('GET', '/v1/doctor?probe=false')).body;
    const finding = report.findings.find((f: { check: string }) => f.check === 'INSECURE_BIND');
    assert.ok(finding, JSON.stringify(report.findings));
    assert.equal([finding.severity, finding.evidence.host, finding.evidence.plain, report.ok], ['warning', '0.0.0.0', ['MQTT', 'HTTP'], false]);
    assert.ok(b.logs.some((l) => l.code === 'INSECURE_BIND' && l.level === 40));
  } finally {
    await b.stop();
  }
});

test('on loopback the doctor says nothing about listeners', async () => {
  const b = await testBridge();
  try {
    const report = (await b.call('GET', '/v1/doctor?probe=false')).body;
    assert.equal(report.findings.filter((f: { check: string }) => f.check === 'INSECURE_BIND'), []);
    assert.not.ok(b.logs.some((l) => l.code === 'INSECURE_BIND'));
  } finally {
    await b.stop();
  }
});

if (openssl) {
  test('with a certificate and plain MQTT off, a network address needs no --insecure: MQTTS and HTTPS only', async () => {
    const b = await tlsBridge(pki!, { host: '0.0.0.0', mqttPort: 'off' });
    try {
      assert.equal([b.mqttPort, b.mqttUrl], [0, '']);
      assert.ok(b.mqttsPort! > 0);
      // The certificate names 127.0.0.1, not 0.0.0.0: ask there.
      const dispatcher = await trusting(pki!.ca.cert);
      const res = await fetch(`https://127.0.0.1:${b.httpPort}/v1/doctor?probe=false`, { headers: { authorization: `Bearer ${b.token}` }, dispatcher });
      const report = await res.json() as { findings: { check: string }[] };
      await dispatcher.close();
      assert.is(res.status, 200);
      assert.equal(report.findings.filter((f) => f.check === 'INSECURE_BIND'), []);
      assert.not.ok(b.logs.some((l) => l.code === 'INSECURE_BIND'));
      const listening = b.logs.find((l) => l.msg.startsWith('Hookwire'))!;
      assert.is(listening.mqttPort, null);
      assert.not.match(listening.msg, /MQTT mqtt:/);
    } finally {
      await b.stop();
    }
  });
}

test.run();
