// The doctor's checks of the bridge itself (bridge/doctor/checks/listeners.ts), in memory:
// INSECURE_BIND when it listens in clear text on a network address (--insecure), with the
// next step that fits; TLS_CERT_EXPIRING when the certificate served is within 14 days of its
// end (a warning) or past it (an error); nothing on loopback or with a fresh certificate.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeConfig } from '../../../bridge/config.ts';
import { createDoctor, type DoctorReport } from '../../../bridge/doctor/index.ts';
import type { DoctorWebhooks } from '../../../bridge/doctor/context.ts';
import { createLogger } from '../../../bridge/log.ts';
import { exposureOf, type CertificateInfo } from '../../../bridge/tls/index.ts';

const webhooks = {
  list: () => [], get: () => { throw new Error('none'); }, status: () => { throw new Error('none'); },
  logs: async () => [], daily: async () => [], failures: async () => ({ total: 0, deliveries: [] }), sleepingHosts: () => [],
} as unknown as DoctorWebhooks;
const broker = { deviceSubscriptions: () => new Map<string, string[]>(), isDeviceConnected: () => false };
const logger = createLogger({ level: 'silent', pretty: false });

function certificate(daysLeft: number): CertificateInfo {
  return {
    subject: 'CN=hooks.example.com', issuer: 'CN=R11', serialNumber: '04AB', altNames: 'DNS:hooks.example.com', fingerprint256: 'AA',
    validFrom: new Date(Date.now() - 60 * 86_400_000).toISOString(), validTo: new Date(Date.now() + daysLeft * 86_400_000).toISOString(),
  };
}

async function run(config: Record<string, unknown>, daysLeft?: number): Promise<DoctorReport> {
  const exposure = exposureOf(makeConfig(config));
  const info = daysLeft === undefined ? undefined : certificate(daysLeft);
  return createDoctor({ webhooks, broker, logger, security: { exposure, certificate: info && (() => info) } }).run({ probe: false });
}

const checks = (r: DoctorReport) => r.findings.map((f) => `${f.check}:${f.severity}`);

test('INSECURE_BIND: plain MQTT and HTTP on 0.0.0.0 (a warning, with the way to TLS); plain MQTT beside TLS (turn it off)', async () => {
  const both = await run({ host: '0.0.0.0', insecure: true });
  assert.equal(checks(both), ['INSECURE_BIND:warning']);
  assert.equal(both.findings[0]!.evidence.plain, ['MQTT', 'HTTP']);
  assert.match(both.findings[0]!.next, 'HOOKWIRE_TLS_CERT');
  assert.is(both.ok, false);

  const mqttOnly = await run({ host: '192.168.1.20', insecure: true, tlsCert: '/c.pem', tlsKey: '/k.pem' }, 60);
  assert.equal(checks(mqttOnly), ['INSECURE_BIND:warning']);
  assert.equal(mqttOnly.findings[0]!.evidence.plain, ['MQTT']);
  assert.match(mqttOnly.findings[0]!.next, 'HOOKWIRE_MQTT_PORT=off');
});

test('no INSECURE_BIND on loopback, nor with TLS and plain MQTT off', async () => {
  assert.equal(checks(await run({ host: '127.0.0.1' })), []);
  assert.equal(checks(await run({ host: '0.0.0.0', mqttPort: 'off', tlsCert: '/c.pem', tlsKey: '/k.pem' }, 60)), []);
});

test('TLS_CERT_EXPIRING: a warning within 14 days, an error once expired, nothing with 60 days left', async () => {
  const tls = { tlsCert: '/c.pem', tlsKey: '/k.pem' };
  const soon = await run(tls, 5.5);
  assert.equal(checks(soon), ['TLS_CERT_EXPIRING:warning']);
  assert.is(soon.findings[0]!.evidence.daysLeft, 5);
  assert.equal(checks(await run(tls, -1)), ['TLS_CERT_EXPIRING:error']);
  assert.equal(checks(await run(tls, 60)), []);
});

test.run();
