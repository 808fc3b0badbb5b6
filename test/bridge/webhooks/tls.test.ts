// TLS: a self-signed certificate fails with a TLS code under rejectUnauthorized (the
// default), and is accepted with rejectUnauthorized: false, as on Particle.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';

let b: TestBridge;
let server: Server;
let device: Device;
let dir: string;
const heard: { name: string; data: unknown }[] = [];

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookwire-tls-'));
  // A throwaway self-signed certificate for 127.0.0.1 (openssl is part of Debian's base).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  server = createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (_req, res) => res.end('secure hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b = await testBridge();
  const d = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: d.id, token: d.token });
  await device.subscribe(`${d.id}/hook-`, (name, data) => heard.push({ name, data }));
});

test.after(async () => {
  await device?.disconnect();
  await b?.stop();
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

const url = () => `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;

test('a self-signed certificate is refused by default, with its TLS code', async () => {
  const { body } = await b.call('POST', '/v1/integrations', { event: 'strict', url: url() });
  await device.publish('strict', 'x', { qos: 1 });
  await until(() => heard.some((h) => h.name === `${device.deviceID()}/hook-error/strict/0`));
  const counters = (await b.call('GET', `/v1/integrations/${body.id}`)).body.integration.counters;
  assert.is(counters.last_error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.match(String(heard.find((h) => h.name.endsWith('hook-error/strict/0'))!.data), /^TLS error from 127\.0\.0\.1/);
});

test('rejectUnauthorized: false accepts it', async () => {
  await b.call('POST', '/v1/integrations', { event: 'lenient', url: url(), rejectUnauthorized: false });
  await device.publish('lenient', 'x', { qos: 1 });
  await until(() => heard.some((h) => h.name === `${device.deviceID()}/hook-response/lenient/0`));
  assert.is(heard.find((h) => h.name.endsWith('hook-response/lenient/0'))!.data, 'secure hello');
});

test.run();
