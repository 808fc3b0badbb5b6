// DEVICE_LOGIN_FAILED (bridge/doctor/checks/logins.ts): devices refused at login over real
// MQTT connections to a real bridge. The doctor said "No problems found" while they failed;
// now each device ID gets a finding: not registered, or a wrong token for a registered
// device, with counts, the last time and address, and the command that fixes it.
//
// The bridge's own doctor (GET /v1/doctor) sees the refusals on the bus; a doctor built over
// the same bridge with its device records (as startBridge gives them) tells the two apart.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectDevice, type Device } from '../../../firmware-sdk/index.ts';
import { createDoctor, type Doctor, type DoctorReport, type Finding } from '../../../bridge/doctor/index.ts';
import { createTracker } from '../../../bridge/doctor/tracker.ts';
import type { BrokerRefusal } from '../../../bridge/events/index.ts';
import { observe } from '../../../bridge/observers.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';
import { connackCode } from '../../helpers/mqtt.ts';

let b: TestBridge;
let doctor: Doctor;
let detach: () => void;
let known: { id: string; token: string };
let connected: { id: string; token: string };
let device: Device;
const UNKNOWN = 'f'.repeat(24);

const logins = (r: DoctorReport) => r.findings.filter((f) => f.check === 'DEVICE_LOGIN_FAILED');
const forDevice = (r: DoctorReport, id: string): Finding => {
  const found = logins(r).filter((f) => f.evidence.deviceId === id);
  assert.is(found.length, 1, `${id}: ${JSON.stringify(logins(r), null, 1)}`);
  return found[0]!;
};

test.before(async () => {
  b = await testBridge();
  doctor = createDoctor({ broker: b.broker, webhooks: b.webhooks, logger: b.logger, devices: b.store.devices });
  detach = observe([doctor.tracker], { bus: b.bus, webhooks: b.webhooks });
  known = await b.addDevice();
  connected = await b.addDevice();
  device = await connectDevice({ url: b.mqttUrl, deviceId: connected.id, token: connected.token });

  for (let k = 0; k < 3; k++) assert.is(await connackCode(b.mqttUrl, { clientId: known.id, username: known.id, password: 'wrong-token' }), 4);
  assert.is(await connackCode(b.mqttUrl, { clientId: UNKNOWN, username: UNKNOWN, password: known.token }), 4);
  assert.is(await connackCode(b.mqttUrl, { clientId: connected.id, username: connected.id, password: 'an-old-token' }), 4);
  assert.is(await connackCode(b.mqttUrl, { clientId: 'scanner', username: 'admin', password: 'admin' }), 4);
});

test.after(async () => {
  detach?.();
  await device?.disconnect();
  await b?.stop();
});

test('GET /v1/doctor: refused device logins are findings, not "No problems found"', async () => {
  const res = await b.call('GET', '/v1/doctor?probe=false');
  assert.is(res.status, 200);
  const report = res.body as DoctorReport;
  assert.is(report.ok, false);
  const f = forDevice(report, known.id);
  assert.equal([f.severity, f.evidence.failures, f.evidence.limited], ['warning', 3, 0]);
  assert.is(f.evidence.lastRemote, '127.0.0.1', 'the address the device came from');
  assert.ok(Date.parse(f.evidence.lastAt as string) >= Date.parse(report.observedSince));
  assert.match(f.next, 'hookwire devices');
  assert.equal(logins(report).map((l) => l.evidence.deviceId).sort(), [known.id, UNKNOWN, connected.id].sort(), 'a client that is no device is not one');
});

test('with the device records: an unknown device ID, and a wrong token for a registered device, each with its next step', async () => {
  const report = await doctor.run({ probe: false });
  const wrong = forDevice(report, known.id);
  assert.equal([wrong.evidence.kind, wrong.severity, wrong.evidence.failures, wrong.evidence.connected], ['wrong_token', 'warning', 3, false]);
  assert.match(wrong.next, `hookwire devices token ${known.id}`);
  assert.type(wrong.evidence.lastAt, 'string');

  const unknown = forDevice(report, UNKNOWN);
  assert.equal([unknown.evidence.kind, unknown.severity, unknown.evidence.failures], ['unknown_device', 'warning', 1]);
  assert.match(unknown.next, 'hookwire devices list');
  assert.not.match(unknown.next, 'devices token', 'no token to issue for a device that does not exist');
});

test('a wrong token for a device connected now: a note, and no advice to issue a new token that would cut it off', async () => {
  const f = forDevice(await doctor.run({ probe: false }), connected.id);
  assert.equal([f.evidence.kind, f.severity, f.evidence.connected], ['wrong_token', 'info', true]);
  assert.match(f.next, 'would also disconnect the device that works');
});

test('a wrong token, then a login with the right one (a typo, fixed): a note, no advice to replace the token that works', async () => {
  const typo = await b.addDevice();
  assert.is(await connackCode(b.mqttUrl, { clientId: typo.id, username: typo.id, password: 'a-typo' }), 4);
  assert.equal(forDevice(await doctor.run({ probe: false }), typo.id).severity, 'warning', 'before the right login');
  const right = await connectDevice({ url: b.mqttUrl, deviceId: typo.id, token: typo.token });
  await right.disconnect();
  const f = forDevice(await doctor.run({ probe: false }), typo.id);
  assert.is(f.severity, 'info');
  assert.match(f.message, `Device ${typo.id} logged in with its token at`);
  assert.not.match(f.next, 'devices token');
  assert.not.match(f.message, 'unknown device or wrong token', 'the broker\'s generic reason is not quoted once the doctor knows which');
});

test('the tracker keeps the last address, every address (bounded), and LOGIN_LIMITED refusals apart', () => {
  const tracker = createTracker({ maxLoginFailures: 2, devicesPerName: 2 });
  const refusal = (clientId: string, code: BrokerRefusal['code'], remote?: string) =>
    tracker.refused!({ at: new Date().toISOString(), clientId, code, message: 'unknown device or wrong token', ...(remote ? { remote } : {}) } as BrokerRefusal);
  const a = 'a'.repeat(24);
  refusal(a, 'AUTH_FAILED', '10.0.0.1');
  refusal(a, 'AUTH_FAILED', '10.0.0.2');
  refusal(a, 'AUTH_FAILED', '10.0.0.3');
  refusal(a, 'LOGIN_LIMITED', '10.0.0.3');
  refusal('not-a-device', 'AUTH_FAILED', '10.0.0.9');
  const [seen] = [...tracker.loginFailures()];
  assert.equal([seen!.failures, seen!.limited, seen!.lastRemote, seen!.remotes], [3, 1, '10.0.0.3', ['10.0.0.1', '10.0.0.2']]);
  for (const id of ['b', 'c', 'd']) refusal(id.repeat(24), 'AUTH_FAILED');
  assert.ok([...tracker.loginFailures()].length <= 2, 'bounded');
});

test.run();
