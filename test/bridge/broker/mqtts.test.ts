// MQTT over TLS (bridge/broker/index.ts listenTls) with a third-party client: Debian's
// mosquitto_pub and mosquitto_sub with --cafile, against a bridge serving a certificate from a
// CA made by openssl at test time. An event published over TLS reaches a subscriber (itself
// over TLS) and a webhook; a client that does not trust the CA is refused by its own TLS
// check. With a client CA (HOOKWIRE_TLS_CA), a device without a certificate from it is refused
// at the handshake, on MQTTS and on MQTT over secure WebSocket, and one with it gets in.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import type { HookwireEvent } from '../../../bridge/events/index.ts';
import { until, type TestBridge } from '../../helpers/bridge.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { run } from '../../helpers/spawn.ts';
import { openssl, tempPki, tlsBridge, type TempPki } from '../../helpers/tls.ts';

const mosquitto = spawnSync('mosquitto_pub', ['--help']).error === undefined;
if (!mosquitto && process.env.HOOKWIRE_REQUIRE_MOSQUITTO === '1') {
  throw new Error('mosquitto_pub not found: apt-get install -y mosquitto-clients');
}

let pki: TempPki;
let b: TestBridge;
let strict: TestBridge; // requires device certificates
let rx: Receiver;
const events: HookwireEvent[] = [];
const strictEvents: HookwireEvent[] = [];

const as = (bridge: TestBridge, d: { id: string; token: string }) =>
  ['-h', '127.0.0.1', '-p', String(bridge.mqttsPort), '-i', d.id, '-u', d.id, '-P', d.token, '-V', 'mqttv311'];

/** An upgrade to MQTT over secure WebSocket: the HTTP status the bridge answered, 101 when it upgraded. */
async function upgrade(bridge: TestBridge, tls: { cert?: string; key?: string }): Promise<number> {
  const [ca, cert, key] = await Promise.all([pki.ca.cert, tls.cert, tls.key].map((f) => (f ? readFile(f) : undefined)));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${bridge.httpPort}/mqtt`, 'mqtt', { ca, cert, key });
    ws.once('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const ready = openssl && mosquitto;

test.before(async () => {
  if (!ready) return;
  pki = await tempPki();
  rx = await receiver();
  b = await tlsBridge(pki);
  b.bus.on('event', (e) => events.push(e));
  strict = await tlsBridge(pki, { tlsCa: pki.ca.cert });
  strict.bus.on('event', (e) => strictEvents.push(e));
});
test.after(async () => {
  await b?.stop();
  await strict?.stop();
  await rx?.close();
  await pki?.remove();
});

if (!ready) {
  test('mosquitto-clients or openssl not installed: MQTTS tests skipped (apt-get install -y mosquitto-clients openssl)', () => {});
} else {
  test('mosquitto_pub --cafile publishes over TLS as a device: a subscriber over TLS and a webhook get the event', async () => {
    const d = await b.addDevice();
    const created = await b.call('POST', '/v1/integrations', { event: 'tls-temp', url: `${rx.url}/tls`, requestType: 'POST', noDefaults: true, json: { v: '{{{PARTICLE_EVENT_VALUE}}}', from: '{{{PARTICLE_DEVICE_ID}}}' } });
    assert.is(created.status, 201, JSON.stringify(created.body));
    // The watcher: a service client (any username, the admin token), over TLS too.
    const sub = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(b.mqttsPort), '--cafile', pki.ca.cert, '-i', 'watcher', '-u', 'watcher', '-P', b.token,
      '-V', 'mqttv311', '-t', 'tls-temp', '-v', '-C', '1', '-W', '10']);
    const clients = (b.broker.aedes as unknown as { clients: Record<string, { subscriptions?: Record<string, unknown> }> }).clients;
    await until(() => clients.watcher?.subscriptions?.['tls-temp'] !== undefined, 5000, 'the watcher\'s subscription');
    const res = await run('mosquitto_pub', [...as(b, d), '--cafile', pki.ca.cert, '-t', 'tls-temp', '-m', '21.5', '-q', '1']);
    assert.is(res.code, 0, res.stderr);
    assert.equal((await sub).stdout.trim(), 'tls-temp 21.5');
    const request = await rx.next('/tls');
    assert.equal(JSON.parse(request.body.toString()), { v: '21.5', from: d.id });
    assert.ok(events.some((e) => e.name === 'tls-temp' && e.coreid === d.id && e.data === '21.5'));
  });

  test('mosquitto_pub trusting only the system\'s CAs refuses the bridge\'s certificate; nothing is published', async () => {
    const d = await b.addDevice();
    const res = await run('mosquitto_pub', [...as(b, d), '--tls-use-os-certs', '-t', 'untrusted', '-m', '1', '-q', '1']);
    assert.is.not(res.code, 0);
    assert.match(res.stderr, /TLS error|certificate verify failed/i);
    assert.not.ok(events.some((e) => e.name === 'untrusted'));
  });

  test('plain MQTT stays on beside MQTTS: the same device publishes on either', async () => {
    const d = await b.addDevice();
    const res = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(b.mqttPort), '-i', d.id, '-u', d.id, '-P', d.token, '-V', 'mqttv311', '-t', 'plain-too', '-m', '1', '-q', '1']);
    assert.is(res.code, 0, res.stderr);
    await until(() => events.some((e) => e.name === 'plain-too' && e.coreid === d.id));
  });

  test('client CA: a device without a certificate is refused at the handshake, and logged; with one from the CA it publishes', async () => {
    const d = await strict.addDevice();
    const refused = await run('mosquitto_pub', [...as(strict, d), '--cafile', pki.ca.cert, '-t', 'strict-temp', '-m', '1', '-q', '1']);
    assert.is.not(refused.code, 0);
    await until(() => strict.logs.some((l) => l.msg === 'TLS handshake refused' && l.use === 'mqtts'), 5000, 'the refusal in the log');
    assert.is(strict.logs.find((l) => l.msg === 'TLS handshake refused')!.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');

    const res = await run('mosquitto_pub', [...as(strict, d), '--cafile', pki.ca.cert, '--cert', pki.client.cert, '--key', pki.client.key, '-t', 'strict-temp', '-m', '2', '-q', '1']);
    assert.is(res.code, 0, res.stderr);
    await until(() => strictEvents.some((e) => e.name === 'strict-temp' && e.data === '2'));
    assert.not.ok(strictEvents.some((e) => e.name === 'strict-temp' && e.data === '1'));
  });

  test('client CA: MQTT over secure WebSocket needs the certificate too (403 without); the API does not', async () => {
    assert.is(await upgrade(strict, {}), 403);
    assert.is(await upgrade(strict, { cert: pki.client.cert, key: pki.client.key }), 101);
    assert.is(await upgrade(b, {}), 101, 'without a client CA, no certificate is asked for');
    assert.is((await strict.call('GET', '/health')).status, 200);
  });
}

test.run();
