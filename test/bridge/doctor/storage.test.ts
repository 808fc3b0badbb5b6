// STORE_MISSING (bridge/doctor/storage.ts, checks/storage.ts): a real bridge's data
// directory deleted, or its store file replaced, while it runs. Nothing noticed it: the bridge
// kept working on the files it had open, and the next start opened an empty or an old store.
// The doctor is built over the bridge as startBridge builds it, told where the data is.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createDoctor, type DoctorReport, type Finding } from '../../../bridge/doctor/index.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';

const bridges: TestBridge[] = [];

async function bridgeWithDoctor() {
  const b = await testBridge();
  bridges.push(b);
  const storePath = join(b.config.dataDir, 'hookwire.db');
  const doctor = createDoctor({ broker: b.broker, webhooks: b.webhooks, logger: b.logger, storage: { dataDir: b.config.dataDir, storePath } });
  return { b, doctor, storePath };
}
const missing = (r: DoctorReport): Finding[] => r.findings.filter((f) => f.check === 'STORE_MISSING');

test.after(async () => {
  for (const b of bridges) await b.stop();
});

test('the data directory as opened: nothing to report', async () => {
  const { doctor } = await bridgeWithDoctor();
  assert.equal(missing(await doctor.run({ probe: false })), []);
});

test('the data directory deleted under the running bridge: an error, and how to keep what the bridge still holds', async () => {
  const { b, doctor, storePath } = await bridgeWithDoctor();
  await b.addDevice(); // something a restart would lose
  await rm(b.config.dataDir, { recursive: true, force: true });
  const report = await doctor.run({ probe: false });
  const [f] = missing(report);
  assert.ok(f, JSON.stringify(report.findings));
  assert.equal([f!.severity, f!.evidence.kind, f!.evidence.role], ['error', 'deleted', 'data directory']);
  assert.is(report.ok, false);
  assert.match(f!.message, 'a restart would open an empty store');
  assert.match(f!.next, 'Do not restart yet');
  if (process.platform === 'linux') {
    // The store is still open: the next step copies it back from /proc.
    assert.match(f!.next, new RegExp(`cp /proc/${process.pid}/fd/\\d+ ${storePath}( |;|$)`));
  }
  // The bridge kept working on what it had open: the doctor says so, it does not break.
  assert.is((await b.call('GET', '/v1/devices')).status, 200);
});

test('the store file replaced (a backup restored under the running bridge): an error saying a restart takes the new one', async () => {
  const { doctor, storePath } = await bridgeWithDoctor();
  await copyFile(storePath, `${storePath}.copy`);
  await rename(`${storePath}.copy`, storePath);
  const before = await stat(storePath);
  const [f] = missing(await doctor.run({ probe: false }));
  assert.ok(f);
  assert.equal([f!.evidence.kind, f!.evidence.role, f!.evidence.path], ['replaced', 'store', storePath]);
  assert.match(f!.next, 'Restart the bridge to use the files there now');
  assert.is((await stat(storePath)).ino, before.ino, 'the doctor only looks');
});

test.run();
