// The simulator against a bridge with a certificate from a private CA, as a user runs it: the
// API over https:// and the devices over mqtts://, trusting the CA from --ca (or HOOKWIRE_CA);
// without it, it fails on the certificate and says so.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HookwireEvent } from '../../bridge/events/index.ts';
import type { Summary } from '../../simulator/fleet.ts';
import type { TestBridge } from '../helpers/bridge.ts';
import { run, type RunResult } from '../helpers/spawn.ts';
import { openssl, tempPki, tlsBridge, type TempPki } from '../helpers/tls.ts';

let pki: TempPki;
let b: TestBridge;
let dataDir: string;
const received: HookwireEvent[] = [];

test.before(async () => {
  if (!openssl) return;
  pki = await tempPki();
  b = await tlsBridge(pki, { mqttsPort: 0 });
  b.bus.on('event', (e) => received.push(e));
  dataDir = await mkdtemp(join(tmpdir(), 'hookwire-sim-tls-'));
});
test.after(async () => {
  await b?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await pki?.remove();
});

function simulate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', 'simulator/main.ts', '--url', b.url, '--token', b.token, '--json', ...args],
    { HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_URL: '', HOOKWIRE_MQTT_URL: '', HOOKWIRE_TOKEN: '', HOOKWIRE_CA: '', ...env });
}

if (!openssl) {
  test('openssl not installed: simulator TLS tests skipped (apt-get install -y openssl)', () => {});
} else {
  test('--ca: registers over https:// and publishes over mqtts://; the bridge gets every acknowledged event', async () => {
    const res = await simulate(['--mqtt', b.mqttsUrl!, '--ca', pki.ca.cert, '--devices', '2', '--rate', '20', '--duration', '1', '--event', 'sim-tls']);
    assert.is(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout.trim()) as Summary;
    assert.ok(summary.acknowledged > 0, res.stdout);
    assert.is(received.filter((e) => e.name === 'sim-tls').length, summary.acknowledged);
  });

  test('HOOKWIRE_CA works as --ca; without any CA it stops at the certificate', async () => {
    const withEnv = await simulate(['--mqtt', b.mqttsUrl!, '--devices', '1', '--rate', '5', '--duration', '1', '--event', 'sim-env'], { HOOKWIRE_CA: pki.ca.cert });
    assert.is(withEnv.code, 0, withEnv.stderr);
    const without = await simulate(['--mqtt', b.mqttsUrl!, '--devices', '1', '--rate', '5', '--duration', '1']);
    assert.is(without.code, 1);
    assert.match(without.stderr, /certificate/i);
  });
}

test.run();
